// Chapter 02: the container's namespaces, seen from outside (/proc/PID/ns, the host's
// hostname and mount table) and from inside (hostname, ps, ip).
#include "container.hpp"

#include <signal.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <sstream>

using namespace dockling::test;
using namespace dockling::test::ch02;
namespace fs = std::filesystem;

namespace {

std::string host_hostname()
{
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    return name;
}

/// A bind mount of a directory onto itself with shared propagation, on the host, for as
/// long as the test runs: what systemd makes of every mount.
class SharedMount {
public:
    explicit SharedMount(const fs::path& dir) : dir_(dir)
    {
        REQUIRE(::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) == 0);
        REQUIRE(::mount(nullptr, dir.c_str(), nullptr, MS_SHARED, nullptr) == 0);
    }
    ~SharedMount() { ::umount2(dir_.c_str(), MNT_DETACH); }
    SharedMount(const SharedMount&) = delete;
    SharedMount& operator=(const SharedMount&) = delete;

private:
    fs::path dir_;
};

/// A System V shared memory segment of the host's, removed when the test ends.
class SharedMemorySegment {
public:
    SharedMemorySegment() : id_(::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600)) { REQUIRE(id_ >= 0); }
    ~SharedMemorySegment() { ::shmctl(id_, IPC_RMID, nullptr); }
    SharedMemorySegment(const SharedMemorySegment&) = delete;
    SharedMemorySegment& operator=(const SharedMemorySegment&) = delete;
    [[nodiscard]] int id() const { return id_; }

private:
    int id_;
};

/// The shmids listed in a /proc/sysvipc/shm text.
std::vector<std::string> shm_ids(const std::string& table)
{
    std::istringstream lines(table);
    std::vector<std::string> ids;
    std::string line;
    std::getline(lines, line);  // the header
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string key, id;
        fields >> key >> id;
        ids.push_back(id);
    }
    return ids;
}

}  // namespace

TEST_CASE("the container has mount, UTS, IPC, PID and network namespaces of its own", "[ch02][namespaces]")
{
    DOCKLING_REQUIRE_ROOT();
    RunningContainer container;
    for (const char* ns : {"mnt", "uts", "ipc", "pid", "net"}) {
        INFO("namespace " << ns);
        CHECK(namespace_of(container.pid(), ns) != namespace_of(::getpid(), ns));
    }
    // Without --userns it stays in the host's user namespace: its root is the host's.
    CHECK(namespace_of(container.pid(), "user") == namespace_of(::getpid(), "user"));
}

TEST_CASE("the hostname is the container's own: its short id, or --hostname", "[ch02][namespaces][uts]")
{
    DOCKLING_REQUIRE_ROOT();
    std::string before = host_hostname();
    Outcome by_default = run_in_busybox({}, {"/bin/hostname"});
    CHECK(by_default.exit_code == 0);
    CHECK(std::regex_match(by_default.out, std::regex("[0-9a-f]{12}\n")));

    Outcome named = run_in_busybox({"--hostname", "box"}, {"/bin/sh", "-c", "hostname; echo $HOSTNAME"});
    CHECK(named.exit_code == 0);
    CHECK(named.out == "box\nbox\n");

    // Even a container allowed to rename its machine renames only its UTS namespace.
    Outcome renamed = run_in_busybox({"--privileged"}, {"/bin/sh", "-c", "hostname renamed-inside; hostname"});
    CHECK(renamed.out == "renamed-inside\n");
    CHECK(host_hostname() == before);
}

TEST_CASE("ps inside shows only the container's processes, the command as PID 1", "[ch02][namespaces][pid]")
{
    DOCKLING_REQUIRE_ROOT();
    Outcome ps = run_in_busybox({}, {"/bin/ps", "-o", "pid,args"});
    CHECK(ps.exit_code == 0);
    CHECK(ps.out == "PID   COMMAND\n    1 /bin/ps -o pid,args\n");

    Outcome shell = run_in_busybox({}, {"/bin/sh", "-c", "echo $$"});
    CHECK(shell.out == "1\n");

    // From outside, the kernel shows both numbers of the same process.
    RunningContainer container;
    CHECK(status_field(container.pid(), "NSpid") == std::to_string(container.pid()) + "\t1");
}

TEST_CASE("the container's mounts stay in its mount namespace", "[ch02][namespaces][mounts]")
{
    DOCKLING_REQUIRE_ROOT();
    RunningContainer container;
    // Inside: its root, /proc, /dev, /sys... (read from outside, through /proc/PID).
    std::string inside = read_file("/proc/" + std::to_string(container.pid()) + "/mountinfo");
    for (const char* mount_point : {"/", "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"}) {
        INFO(mount_point << " in\n" << inside);
        CHECK(mount_at(inside, mount_point) != "");
    }
    // Outside: nothing of it, while it runs and after.
    CHECK(host_mounts_under(container.rootfs()).empty());
    ::kill(container.pid(), SIGKILL);
    CHECK(container.wait().exit_code == 137);
    CHECK(host_mounts_under(container.rootfs()).empty());
}

TEST_CASE("mounts do not propagate to the host even from a shared mount", "[ch02][namespaces][mounts]")
{
    DOCKLING_REQUIRE_ROOT();
    // The rootfs lies in a shared mount: without making its mounts private first, the
    // container's bind mount of its rootfs, /proc, /dev... would all appear here.
    TempDir dir;
    SharedMount shared(dir.path());
    fs::path rootfs = copy_of_busybox_rootfs(dir);
    Outcome ran = run_dockling({"run", "--rootfs", rootfs.string(), "/bin/sh", "-c",
                                "grep -c shared: /proc/self/mountinfo || true"});
    CHECK(ran.exit_code == 0);
    CHECK(ran.out == "0\n");  // no shared mount inside
    CHECK(host_mounts_under(rootfs).empty());
}

TEST_CASE("System V IPC objects of the host are not visible inside", "[ch02][namespaces][ipc]")
{
    DOCKLING_REQUIRE_ROOT();
    SharedMemorySegment segment;
    auto on_host = shm_ids(read_file("/proc/sysvipc/shm"));
    REQUIRE(std::find(on_host.begin(), on_host.end(), std::to_string(segment.id())) != on_host.end());
    Outcome inside = run_in_busybox({}, {"/bin/cat", "/proc/sysvipc/shm"});
    CHECK(inside.exit_code == 0);
    CHECK(shm_ids(inside.out).empty());
}

TEST_CASE("--network none: a network namespace with only lo, and it is up", "[ch02][namespaces][network]")
{
    DOCKLING_REQUIRE_ROOT();
    // (In this chapter "none" is also the default; chapter 06 gives containers more.)
    Outcome links = run_in_busybox({"--network", "none"}, {"/sbin/ip", "-o", "link"});
    CHECK(links.exit_code == 0);
    CHECK(std::regex_match(links.out, std::regex("1: lo: <LOOPBACK,UP,LOWER_UP> [^\n]*\n")));

    Outcome ping = run_in_busybox({"--network", "none"}, {"/bin/ping", "-c", "1", "-W", "5", "127.0.0.1"});
    CHECK(ping.exit_code == 0);
    CHECK(ping.out.find("1 packets received") != std::string::npos);
}

TEST_CASE("--network host keeps the host's network namespace and hostname", "[ch02][namespaces][network]")
{
    DOCKLING_REQUIRE_ROOT();
    RunningContainer container({"--network", "host"});
    CHECK(namespace_of(container.pid(), "net") == namespace_of(::getpid(), "net"));
    CHECK(namespace_of(container.pid(), "uts") != namespace_of(::getpid(), "uts"));
    CHECK(run_in_busybox({"--network", "host"}, {"/bin/hostname"}).out == host_hostname() + "\n");
}

TEST_CASE("bad --network and --hostname values are one-line errors, exit 125", "[ch02][namespaces][errors]")
{
    DOCKLING_REQUIRE_ROOT();
    Outcome network = run_in_busybox({"--network", "bogus"}, {"/bin/true"});
    CHECK(network.exit_code == 125);
    CHECK(network.err.find("network bogus not found") != std::string::npos);
    CHECK(one_line(network.err));

    // The kernel refuses a hostname of more than 64 bytes: the child fails, and its error
    // reaches the user through the parent.
    TempDir dir;
    fs::path rootfs = copy_of_busybox_rootfs(dir);
    std::string long_name(65, 'x');
    Outcome hostname = run_dockling({"run", "--rootfs", rootfs.string(), "--hostname", long_name, "/bin/true"});
    CHECK(hostname.exit_code == 125);
    CHECK(hostname.err.find(": sethostname " + long_name + ": Invalid argument\n") != std::string::npos);
    CHECK(one_line(hostname.err));
    CHECK(host_mounts_under(rootfs).empty());
}
