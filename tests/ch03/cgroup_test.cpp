// The cgroup library on this machine's real cgroups (v1 on a legacy or hybrid host, v2
// on a unified one), with real child processes of the test.
#include "support.hpp"

#include "cgroup.hpp"
#include "cgroup_limits.hpp"
#include "error.hpp"
#include "spec.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <thread>

using namespace dockling;
using namespace dockling::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

/// Skips the test unless it runs as root on a machine with cgroups.
#define REQUIRE_CGROUPS()                                                      \
    do {                                                                       \
        DOCKLING_REQUIRE_ROOT();                                               \
        if (host_layout().mode() == CgroupMode::none) {                        \
            DOCKLING_SKIP("no cgroup filesystem is mounted on this machine"); \
        }                                                                      \
    } while (false)

/// A fresh relative path for a test cgroup, named like a container's.
fs::path fresh_cgroup_path() { return container_cgroup_path(new_container_id()); }

/// The controllers a container's process is placed with, on this machine.
std::vector<std::string> placed_controllers()
{
    if (!host_is_v1()) {
        return {"memory"};  // on v2, one directory for all
    }
    std::vector<std::string> found;
    for (const char* controller : {"memory", "cpu", "cpuacct", "cpuset", "pids", "freezer"}) {
        if (host_layout().find(controller) != nullptr) {
            found.emplace_back(controller);
        }
    }
    return found;
}

bool has_subdirectories(const fs::path& dir)
{
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
        if (entry.is_directory()) {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("a cgroup is made in every hierarchy a container needs, and removed", "[ch03][cgroup]")
{
    REQUIRE_CGROUPS();
    fs::path relative = fresh_cgroup_path();
    std::vector<fs::path> dirs;
    {
        Cgroup cgroup = Cgroup::create(host_layout(), relative);
        dirs = cgroup.directories();
        CHECK(dirs.size() == host_layout().container_hierarchies().size());
        for (const auto& dir : dirs) {
            CHECK(fs::is_directory(dir));
            CHECK(dir.parent_path().filename() == "dockling");
        }
        if (auto cpuset = cgroup.directory_of("cpuset"); cpuset && host_is_v1()) {
            CHECK_FALSE(cgroup_value(*cpuset / "cpuset.cpus").empty());  // given its parent's, or no one could join
            CHECK_FALSE(cgroup_value(*cpuset / "cpuset.mems").empty());
        }
        if (!host_is_v1()) {
            CHECK(cgroup_value(dirs.front() / "cgroup.controllers").find("memory") != std::string::npos);
        }
    }
    for (const auto& dir : dirs) {
        CHECK_FALSE(fs::exists(dir));
        // The shared parent goes too, unless another container is still below it.
        CHECK((!fs::exists(dir.parent_path()) || has_subdirectories(dir.parent_path())));
    }
}

TEST_CASE("a process added to a cgroup is in it in every hierarchy", "[ch03][cgroup]")
{
    REQUIRE_CGROUPS();
    Cgroup cgroup = Cgroup::create(host_layout(), fresh_cgroup_path());
    TestChild child([] {});
    cgroup.add_process(child.pid());
    CHECK(cgroup.processes() == std::vector<pid_t>{child.pid()});
    for (const auto& controller : placed_controllers()) {
        INFO(controller);
        CHECK(process_cgroup_dir(host_layout(), child.pid(), controller) == cgroup.directory_of(controller));
    }
}

TEST_CASE("limits written through the library read back from the kernel", "[ch03][cgroup]")
{
    REQUIRE_CGROUPS();
    Cgroup cgroup = Cgroup::create(host_layout(), fresh_cgroup_path());
    cgroup.apply(cgroup_writes(Resources{.memory = 32 << 20, .cpu_shares = 512, .pids_limit = 10},
                               host_layout().version()));
    fs::path memory = *cgroup.directory_of("memory");
    fs::path cpu = *cgroup.directory_of("cpu");
    if (host_is_v1()) {
        CHECK(cgroup_value(memory / "memory.limit_in_bytes") == "33554432");
        if (fs::exists(memory / "memory.memsw.limit_in_bytes")) {
            CHECK(cgroup_value(memory / "memory.memsw.limit_in_bytes") == "67108864");  // Docker: swap = memory
        }
        CHECK(cgroup_value(cpu / "cpu.shares") == "512");
    } else {
        CHECK(cgroup_value(memory / "memory.max") == "33554432");
        if (fs::exists(memory / "memory.swap.max")) {
            CHECK(cgroup_value(memory / "memory.swap.max") == "33554432");
        }
        CHECK(cgroup_value(cpu / "cpu.weight") == "59");
    }
    CHECK(cgroup_value(*cgroup.directory_of("pids") / "pids.max") == "10");
    CgroupUsage usage = cgroup.usage();
    CHECK(usage.memory_limit_bytes == 32u << 20);
    CHECK(usage.pids_limit == 10u);
}

TEST_CASE("usage reports the memory, CPU time and tasks of the processes in a cgroup", "[ch03][cgroup]")
{
    REQUIRE_CGROUPS();
    Cgroup cgroup = Cgroup::create(host_layout(), fresh_cgroup_path());
    CgroupUsage before = cgroup.usage();
    CHECK(before.pids == 0u);
    CHECK_FALSE(before.memory_limit_bytes.has_value());  // no limit set
    TestChild child([] {
        touch_memory(16 << 20);
        burn_cpu(300ms);
    });
    cgroup.add_process(child.pid());
    child.go();
    CHECK(eventually([&] { return cgroup.usage().cpu_nanoseconds.value_or(0) >= 250'000'000; }));
    CgroupUsage now = cgroup.usage();
    CHECK(now.memory_bytes.value_or(0) >= 16u << 20);
    CHECK(now.pids == 1u);
    INFO("memory " << now.memory_bytes.value_or(0) << " bytes, CPU " << now.cpu_nanoseconds.value_or(0) << " ns");
}

TEST_CASE("a frozen cgroup's processes stop until it is thawed", "[ch03][cgroup]")
{
    REQUIRE_CGROUPS();
    Cgroup cgroup = Cgroup::create(host_layout(), fresh_cgroup_path());
    TestChild burner([] { burn_cpu(); });
    cgroup.add_process(burner.pid());
    burner.go();
    auto cpu = [&] { return cgroup.usage().cpu_nanoseconds.value_or(0); };
    REQUIRE(eventually([&] { return cpu() > 50'000'000; }));

    cgroup.freeze();
    CHECK(cgroup.frozen());
    auto frozen_at = cpu();
    std::this_thread::sleep_for(300ms);
    CHECK(cpu() == frozen_at);  // not one more nanosecond of CPU while frozen

    cgroup.thaw();
    CHECK_FALSE(cgroup.frozen());
    CHECK(eventually([&] { return cpu() > frozen_at + 50'000'000; }));
}

TEST_CASE("the OOM killer's kills in a cgroup are counted", "[ch03][cgroup]")
{
    REQUIRE_CGROUPS();
    Cgroup cgroup = Cgroup::create(host_layout(), fresh_cgroup_path());
    cgroup.apply(cgroup_writes(Resources{.memory = 16 << 20}, host_layout().version()));
    CHECK(cgroup.oom_kills() == 0);
    TestChild hog([] { touch_memory(256 << 20); });
    cgroup.add_process(hog.pid());
    hog.go();
    int status = hog.wait();
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    CHECK(cgroup.oom_kills() >= 1);
}

TEST_CASE("removing a cgroup kills what is in it, a fork bomb included", "[ch03][cgroup]")
{
    REQUIRE_CGROUPS();
    if (host_layout().find("pids") == nullptr) {
        DOCKLING_SKIP("no pids controller: a fork bomb test needs one to stay contained");
    }
    Cgroup cgroup = Cgroup::create(host_layout(), fresh_cgroup_path());
    cgroup.apply(cgroup_writes(Resources{.pids_limit = 30}, host_layout().version()));
    REQUIRE(cgroup_value(*cgroup.directory_of("pids") / "pids.max") == "30");  // or the bomb is not contained
    TestChild bomb([] {
        for (;;) {
            ::fork();  // parent and child both go on forking, until pids.max says no
        }
    });
    cgroup.add_process(bomb.pid());
    bomb.go();
    REQUIRE(eventually([&] { return cgroup.processes().size() >= 30; }));
    auto dirs = cgroup.directories();
    auto pids = cgroup.processes();

    cgroup.remove();
    for (const auto& dir : dirs) {
        CHECK_FALSE(fs::exists(dir));
    }
    for (pid_t pid : pids) {
        CHECK(has_exited(pid));
    }
    int status = bomb.wait();
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
}

TEST_CASE("open() looks at an existing cgroup and leaves it in place", "[ch03][cgroup]")
{
    REQUIRE_CGROUPS();
    fs::path relative = fresh_cgroup_path();
    Cgroup owner = Cgroup::create(host_layout(), relative);
    {
        Cgroup view = Cgroup::open(host_layout(), relative);
        CHECK(view.directories() == owner.directories());
        CHECK(view.usage().pids == 0u);
    }
    for (const auto& dir : owner.directories()) {
        CHECK(fs::exists(dir));
    }
    CHECK_THROWS_AS(Cgroup::open(host_layout(), fresh_cgroup_path()), Error);
}

TEST_CASE("a cgroup path must stay below its hierarchy", "[ch03][cgroup]")
{
    REQUIRE_CGROUPS();
    CHECK_THROWS_AS(Cgroup::create(host_layout(), "/dockling/x"), Error);
    CHECK_THROWS_AS(Cgroup::create(host_layout(), "dockling/../../x"), Error);
}

TEST_CASE("on a hybrid host's cgroup2 tree, v2 cgroups are made, joined, frozen, killed and removed for real",
          "[ch03][cgroup][v2]")
{
    REQUIRE_CGROUPS();
    if (host_layout().mode() != CgroupMode::hybrid) {
        DOCKLING_SKIP("not a hybrid host: the tests above already run on "
                      << (host_is_v1() ? "cgroup v1 only" : "cgroup v2"));
    }
    WARN("cgroup v2 on this host: " << host_layout().v2->mount_point.string()
                                    << " has no memory, cpu or pids controller (hybrid mode): the v2 code runs "
                                       "here for real without limits, and the v2 limits against a fake cgroupfs");
    CgroupLayout v2 = host_layout().unified_only();
    Cgroup cgroup = Cgroup::create(v2, fresh_cgroup_path());
    REQUIRE(cgroup.version() == CgroupVersion::v2);
    fs::path dir = cgroup.directories().at(0);
    CHECK(dir.parent_path().parent_path() == v2.v2->mount_point);

    TestChild burner([] { burn_cpu(); });
    cgroup.add_process(burner.pid());
    burner.go();
    CHECK(process_cgroup_dir(v2, burner.pid(), "") == dir);  // the kernel's "0::/dockling/<id>"
    CHECK(cgroup.processes() == std::vector<pid_t>{burner.pid()});
    auto cpu = [&] { return cgroup.usage().cpu_nanoseconds.value_or(0); };
    REQUIRE(eventually([&] { return cpu() > 20'000'000; }));  // cpu.stat exists without the cpu controller

    cgroup.freeze();
    CHECK(cgroup_value(dir / "cgroup.freeze") == "1");
    CHECK(cgroup.frozen());
    auto frozen_at = cpu();
    std::this_thread::sleep_for(200ms);
    CHECK(cpu() == frozen_at);
    cgroup.thaw();
    CHECK_FALSE(cgroup.frozen());

    cgroup.remove();  // the kernel's cgroup.kill, then rmdir
    CHECK_FALSE(fs::exists(dir));
    int status = burner.wait();
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
}
