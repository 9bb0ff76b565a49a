// Chapter 02: the container's root. pivot_root closes chapter 01's escape; /proc, /dev
// and /sys are the container's own; Docker's masked and read-only paths.
#include "container.hpp"

#include "mounts.hpp"

#include <set>

using namespace dockling::test;
using namespace dockling::test::ch02;
namespace fs = std::filesystem;


TEST_CASE("pivot_root closes chapter 01's escape: the same program stays inside", "[ch02][escape][ex2.1]")
{
    DOCKLING_REQUIRE_ROOT();
    TempDir dir;
    fs::path rootfs = copy_of_busybox_rootfs(dir);
    fs::copy_file(build_file("bin/dockling-escape"), rootfs / "escape");
    fs::path secret = dir.path() / "host-secret";
    write_file(secret, "the host's secret 8c1f\n");

    Outcome ran = run_dockling({"run", "--rootfs", rootfs.string(), "/escape", secret.string()});
    INFO(ran.out << ran.err);
    CHECK(ran.exit_code == 1);
    CHECK(ran.out.empty());
    CHECK(ran.err == "escape: still inside: cannot open " + secret.string() + ": No such file or directory\n");
}

TEST_CASE("the rootfs is the root of the container's mount namespace", "[ch02][root][ex2.1]")
{
    DOCKLING_REQUIRE_ROOT();
    RunningContainer container;
    // Under chroot the kernel would name the root as a directory of the host's tree
    // (chapter 01 checks that); after pivot_root it is the root of a tree of its own.
    CHECK(fs::read_symlink("/proc/" + std::to_string(container.pid()) + "/root") == "/");
    // The old root was stacked on the new one and unmounted: no directory was made for it.
    CHECK(names_in(container.rootfs()) == names_in(busybox_rootfs()));
}

TEST_CASE("/proc is the container's own", "[ch02][root][proc]")
{
    DOCKLING_REQUIRE_ROOT();
    Outcome ran = run_in_busybox({}, {"/bin/sh", "-c", "ls /proc | grep '^[0-9]*$'; cat /proc/1/cmdline | tr '\\0' ' '"});
    CHECK(ran.exit_code == 0);
    // Only the container's processes: sh (1), and the pipeline's ls, grep, cat and tr.
    std::istringstream lines(ran.out);
    std::string line;
    std::getline(lines, line);
    CHECK(line == "1");
    CHECK(ran.out.find("/bin/sh -c ls /proc") != std::string::npos);
    for (; std::getline(lines, line);) {
        if (line.find_first_not_of("0123456789") == std::string::npos) {
            CHECK(std::stoi(line) < 10);
        }
    }
}

TEST_CASE("/dev is Docker's minimal /dev", "[ch02][root][dev]")
{
    DOCKLING_REQUIRE_ROOT();
    Outcome list = run_in_busybox({}, {"/bin/ls", "-1", "/dev"});
    CHECK(list.out == "fd\nfull\nmqueue\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n");

    std::vector<std::string> stat{"/bin/stat", "-c", "%n %F %t:%T %a"};
    for (const auto& node : dockling::docker_device_nodes) {
        stat.push_back(std::string("/dev/") + node.name);
    }
    Outcome nodes = run_in_busybox({}, stat);
    CHECK(nodes.out ==
          "/dev/null character special file 1:3 666\n/dev/zero character special file 1:5 666\n"
          "/dev/full character special file 1:7 666\n/dev/random character special file 1:8 666\n"
          "/dev/urandom character special file 1:9 666\n/dev/tty character special file 5:0 666\n");

    Outcome use = run_in_busybox({}, {"/bin/sh", "-c",
                                      "head -c 3 /dev/zero | od -An -tx1; echo x > /dev/null && echo null ok; "
                                      "echo x > /dev/full || echo full is full; readlink /dev/ptmx; readlink /dev/stdout; "
                                      "ls /dev/pts; test -c /dev/pts/ptmx && echo own devpts"});
    CHECK(use.out == " 00 00 00\nnull ok\nfull is full\npts/ptmx\n/proc/self/fd/1\nptmx\nown devpts\n");

    RunningContainer container;
    std::string inside = read_file("/proc/" + std::to_string(container.pid()) + "/mountinfo");
    CHECK(mount_at(inside, "/dev").find(" - tmpfs ") != std::string::npos);
    CHECK(mount_at(inside, "/dev/pts").find(" - devpts ") != std::string::npos);
    CHECK(mount_at(inside, "/dev/shm").find(" - tmpfs ") != std::string::npos);
    CHECK(mount_at(inside, "/dev/mqueue").find(" - mqueue ") != std::string::npos);
}

TEST_CASE("/sys is read-only", "[ch02][root][sys]")
{
    DOCKLING_REQUIRE_ROOT();
    Outcome ran = run_in_busybox({}, {"/bin/sh", "-c", "ls /sys/kernel > /dev/null && touch /sys/kernel/x"});
    CHECK(ran.exit_code == 1);
    CHECK(ran.err == "touch: /sys/kernel/x: Read-only file system\n");
}

TEST_CASE("Docker's masked paths read as empty, its read-only paths cannot be written", "[ch02][root][masked]")
{
    DOCKLING_REQUIRE_ROOT();
    RunningContainer container;
    std::string inside = read_file("/proc/" + std::to_string(container.pid()) + "/mountinfo");
    int masked = 0;
    for (std::string_view path : dockling::docker_masked_paths) {
        if (!fs::exists(path)) {
            continue;  // this kernel has no such file: nothing to mask
        }
        INFO(path);
        ++masked;
        CHECK(mount_at(inside, std::string(path)) != "");
        std::string show = fs::is_directory(path) ? "ls -A " : "cat ";
        Outcome read = run_in_busybox({}, {"/bin/sh", "-c", show + std::string(path) + " | wc -c"});
        CHECK(read.out == "0\n");
    }
    CHECK(masked > 0);
    for (std::string_view path : dockling::docker_read_only_paths) {
        if (!fs::exists(path)) {
            continue;
        }
        INFO(path);
        CHECK(has_option(mount_options(mount_at(inside, std::string(path))), "ro"));
    }
    // /proc/sys holds the kernel's settings: the UTS namespace's hostname is one of them.
    Outcome write = run_in_busybox({}, {"/bin/sh", "-c", "echo renamed > /proc/sys/kernel/hostname"});
    CHECK(write.exit_code != 0);
    CHECK(write.err.find("Read-only file system") != std::string::npos);
}

TEST_CASE("--privileged: nothing masked, /sys and /proc/sys writable, the host's devices", "[ch02][root][privileged]")
{
    DOCKLING_REQUIRE_ROOT();
    RunningContainer container({"--privileged"});
    std::string inside = read_file("/proc/" + std::to_string(container.pid()) + "/mountinfo");
    for (std::string_view path : dockling::docker_masked_paths) {
        CHECK(mount_at(inside, std::string(path)) == "");
    }
    CHECK(has_option(mount_options(mount_at(inside, "/sys")), "rw"));
    Outcome write = run_in_busybox({"--privileged"},
                                   {"/bin/sh", "-c", "echo renamed > /proc/sys/kernel/hostname; hostname"});
    CHECK(write.out == "renamed\n");

    // A device of the host's that Docker's minimal /dev does not have.
    std::set<std::string> minimal_dev{"fd",     "full",  "mqueue", "null", "ptmx", "pts",     "random",
                                      "shm",    "stderr", "stdin", "stdout", "tty", "urandom", "zero"};
    std::string device;
    for (const auto& entry : fs::directory_iterator("/dev")) {
        std::string name = entry.path().filename().string();
        if (fs::is_character_file(entry.symlink_status()) && minimal_dev.count(name) == 0) {
            Outcome listed = run_in_busybox({"--privileged"}, {"/bin/stat", "-c", "%t:%T", "/dev/" + name});
            Outcome absent = run_in_busybox({}, {"/bin/stat", "-c", "%t:%T", "/dev/" + name});
            INFO("/dev/" << name);
            CHECK(listed.exit_code == 0);
            CHECK(absent.exit_code != 0);
            device = name;
            break;
        }
    }
    CHECK(!device.empty());
}

TEST_CASE("a failed mount inside is one line, exit 125, and leaves nothing mounted", "[ch02][root][errors]")
{
    DOCKLING_REQUIRE_ROOT();
    TempDir dir;
    fs::path rootfs = copy_of_busybox_rootfs(dir);
    fs::remove(rootfs / "proc");
    write_file(rootfs / "proc", "not a directory\n");
    Outcome file = run_dockling({"run", "--rootfs", rootfs.string(), "/bin/true"});
    CHECK(file.exit_code == 125);
    CHECK(file.err.find(": mount proc on " + (rootfs / "proc").string() + ": Not a directory\n") != std::string::npos);
    CHECK(one_line(file.err));
    CHECK(host_mounts_under(dir.path()).empty());

    fs::remove(rootfs / "proc");
    fs::create_directory_symlink("/etc", rootfs / "proc");
    Outcome link = run_dockling({"run", "--rootfs", rootfs.string(), "/bin/true"});
    CHECK(link.exit_code == 125);
    CHECK(link.err.find((rootfs / "proc").string() + " is a symbolic link") != std::string::npos);
    CHECK(one_line(link.err));
    CHECK(host_mounts_under(dir.path()).empty());

    // A missing mount point is made, as Docker does.
    fs::remove(rootfs / "proc");
    CHECK(run_dockling({"run", "--rootfs", rootfs.string(), "/bin/true"}).exit_code == 0);
    CHECK(fs::is_directory(rootfs / "proc"));
}
