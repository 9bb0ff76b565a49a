// Chapter 04: a container exists from `run` until `rm`; its mount lives only while it runs.
#include "cgroup_layout.hpp"
#include "cgroup_limits.hpp"
#include "ch04_support.hpp"

#include <signal.h>
#include <sys/mount.h>

using namespace ch04;
using dockling::test::Background;
using dockling::test::busybox_rootfs;
using dockling::test::dockling_binary;
using dockling::test::read_file;
using dockling::test::wait_for_file;

namespace {

/// The container's process: the child of the dockling process `dockling`.
pid_t container_process(pid_t dockling)
{
    std::string children = read_file("/proc/" + std::to_string(dockling) + "/task/" + std::to_string(dockling) +
                                     "/children");
    REQUIRE(!children.empty());
    return static_cast<pid_t>(std::stol(children));
}

/// Detaches a mount this test may have left behind, whatever happens.
struct UnmountAtEnd {
    fs::path path;
    ~UnmountAtEnd() { ::umount2(path.c_str(), MNT_DETACH); }
};

/// Starts `dockling --data-root ... run --name NAME --layer busybox` with a command
/// that marks itself started (/started, in its upper layer) and sleeps.
std::vector<std::string> sleeping_container(const Storage& storage, const std::string& name)
{
    return {dockling_binary().string(), "--data-root", storage.root().string(), "run", "--name", name, "--layer",
            busybox_rootfs().string(), "/bin/sh", "-c", "echo yes > /started; exec sleep 60"};
}

}  // namespace

TEST_CASE("a container's files outlive its process until rm", "[ch04][lifecycle]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    Outcome ran = storage.run({"run", "--name", "keep", "--layer", busybox_rootfs().string(), "/bin/sh", "-c",
                               "echo kept > /kept; exit 3"});
    CHECK(ran.exit_code == 3);
    fs::path dir = storage.only_container();
    CHECK(dir.filename().string().size() == 64);
    CHECK(read_file(dir / "upper/kept") == "kept\n");
    CHECK(read_file(dir / "config.json").find("\"name\": \"keep\"") != std::string::npos);
    CHECK_FALSE(mountinfo_mentions(dir.string()));  // exited: its root is unmounted, its files stay

    Outcome removed = storage.run({"rm", "keep"});
    CHECK(removed.exit_code == 0);
    CHECK(removed.out == "keep\n");
    CHECK_FALSE(fs::exists(dir));
    Outcome again = storage.run({"rm", "keep"});
    CHECK(again.exit_code == 125);
    CHECK(again.err.find("no such container: keep") != std::string::npos);
}

TEST_CASE("--rm removes the container when it exits, also when its command fails", "[ch04][lifecycle]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    std::string base = busybox_rootfs().string();
    CHECK(storage.run({"run", "--rm", "--layer", base, "/bin/sh", "-c", "echo x > /x"}).exit_code == 0);
    CHECK(storage.containers().empty());
    CHECK(storage.run({"run", "--rm", "--layer", base, "/no/such/command"}).exit_code == 127);
    CHECK(storage.containers().empty());
    CHECK_FALSE(mountinfo_mentions(storage.root().string()));
}

TEST_CASE("--cidfile records the id; rm takes an id or a unique prefix of one", "[ch04][lifecycle]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    fs::path cidfile = storage.scratch() / "cid";
    REQUIRE(storage.run({"run", "--cidfile", cidfile.string(), "--layer", busybox_rootfs().string(), "/bin/true"})
                .exit_code == 0);
    std::string id = read_file(cidfile);
    REQUIRE(id.size() == 65);
    id.pop_back();
    CHECK(storage.only_container().filename() == id);

    Outcome exists = storage.run({"run", "--cidfile", cidfile.string(), "--layer", busybox_rootfs().string(), "/bin/true"});
    CHECK(exists.exit_code == 125);
    CHECK(exists.err.find("container ID file " + cidfile.string() + " exists") != std::string::npos);
    CHECK(storage.containers().size() == 1);  // the refused run left nothing

    CHECK(storage.run({"rm", id.substr(0, 12)}).exit_code == 0);
    CHECK(storage.containers().empty());
}

TEST_CASE("a killed container leaves no mount behind, and rm refuses a running one", "[ch04][lifecycle]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    Background dockling(sleeping_container(storage, "victim"));
    fs::path dir = wait_for_container(storage);
    UnmountAtEnd guard{dir / "merged"};
    wait_for_file(dir / "upper/started");
    CHECK(mountinfo_mentions((dir / "merged").string()));  // running: its root is an overlay mount

    Outcome refused = storage.run({"rm", "victim"});
    CHECK(refused.exit_code == 125);
    CHECK(refused.err.find("is running: stop it before removing it") != std::string::npos);
    CHECK(fs::exists(dir / "upper/started"));

    ::kill(container_process(dockling.pid()), SIGKILL);
    CHECK(dockling.wait().exit_code == 137);
    CHECK_FALSE(mountinfo_mentions(dir.string()));
    CHECK(storage.run({"rm", "victim"}).exit_code == 0);
    CHECK(storage.containers().empty());
}

TEST_CASE("when dockling itself is killed, rm takes down the mount it left", "[ch04][lifecycle]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    Background dockling(sleeping_container(storage, "orphan"));
    fs::path dir = wait_for_container(storage);
    UnmountAtEnd guard{dir / "merged"};
    wait_for_file(dir / "upper/started");
    pid_t container = container_process(dockling.pid());

    dockling.signal(SIGKILL);  // no chance to clean up
    dockling.wait();
    ::kill(container, SIGKILL);
    for (int i = 0; i < 500 && ::kill(container, 0) == 0; ++i) {
        ::usleep(10000);  // the orphan is reaped by init, not by us
    }
    CHECK(mountinfo_mentions((dir / "merged").string()));

    Outcome removed = storage.run({"rm", "orphan"});
    INFO(removed.err);
    CHECK(removed.exit_code == 0);
    CHECK_FALSE(mountinfo_mentions(dir.string()));
    CHECK(storage.containers().empty());
    // Chapter 03's cgroup, which the killed dockling could not remove, went with it.
    std::string id = dir.filename().string();
    for (const auto& hierarchy : dockling::detect_cgroup_layout().container_hierarchies()) {
        CHECK_FALSE(fs::exists(hierarchy.mount_point / dockling::container_cgroup_path(id)));
    }
}
