// Chapter 03 integration tests: run the real binary as root and look at the container's
// cgroup from outside, in the files the kernel shows.
#include "support.hpp"

#include "cgroup.hpp"
#include "cgroup_limits.hpp"
#include "chroot_root.hpp"
#include "runtime.hpp"
#include "spec.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <set>
#include <thread>

using namespace dockling;
using namespace dockling::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

#define REQUIRE_CGROUPS()                                                      \
    do {                                                                       \
        DOCKLING_REQUIRE_ROOT();                                               \
        if (host_layout().mode() == CgroupMode::none) {                        \
            DOCKLING_SKIP("no cgroup filesystem is mounted on this machine"); \
        }                                                                      \
    } while (false)

/// v1 shows "no limit" as the largest page-aligned 63-bit number, v2 as "max".
const std::string unlimited_v1 = "9223372036854771712";

/// The CPU time a container's cgroup has used, in nanoseconds.
std::uint64_t cpu_used_ns(const RunningContainer& container)
{
    if (host_is_v1()) {
        return std::stoull(cgroup_value(container.cgroup("cpuacct") / "cpuacct.usage"));
    }
    return flat_keyed_value(read_file(container.cgroup("cpu") / "cpu.stat"), "usage_usec").value_or(0) * 1000;
}

/// The cgroups below each hierarchy's dockling/ right now (to see that a run made none).
std::set<fs::path> dockling_cgroups()
{
    std::set<fs::path> found;
    for (const auto& hierarchy : host_layout().container_hierarchies()) {
        std::error_code error;
        for (const auto& entry : fs::directory_iterator(hierarchy.mount_point / "dockling", error)) {
            if (entry.is_directory()) {
                found.insert(entry.path());
            }
        }
    }
    return found;
}

/// A mechanism that records, as the first thing the container's process does after the
/// runtime releases it, which cgroups it is in.
class CgroupProbe : public Mechanism {
public:
    explicit CgroupProbe(fs::path record) : record_(std::move(record)) {}
    [[nodiscard]] std::string_view name() const override { return "probe"; }
    void in_child(const ContainerSpec& /*spec*/) override
    {
        std::ofstream(record_) << read_file("/proc/self/cgroup");
    }

private:
    fs::path record_;
};

}  // namespace

TEST_CASE("each container runs in a cgroup of its own, named after its id", "[ch03][run]")
{
    REQUIRE_CGROUPS();
    RunningContainer container({}, "exec sleep 60");
    auto dirs = container.cgroup_dirs();
    CHECK(dirs.size() == (host_is_v1() ? host_layout().container_hierarchies().size() : 1));
    for (const auto& dir : dirs) {
        CHECK(dir.parent_path().filename() == "dockling");
        CHECK(std::regex_match(dir.filename().string(), std::regex("[0-9a-f]{64}")));
        CHECK(pids_in(dir / "cgroup.procs") == std::vector<pid_t>{container.main_pid()});
    }
    Outcome stopped = container.kill();
    CHECK(stopped.exit_code == 137);
    for (const auto& dir : dirs) {
        CHECK_FALSE(fs::exists(dir));
    }
}

TEST_CASE("the container's process is in its cgroup before it runs code of its own", "[ch03][run]")
{
    REQUIRE_CGROUPS();
    TempDir dir;
    Runtime runtime;
    runtime.add<CgroupProbe>(dir.path() / "cgroup");  // first: its in_child runs before any other
    runtime.add<CgroupLimits>();
    ContainerSpec spec;
    spec.id = new_container_id();
    spec.argv = {"/bin/true"};
    ExitInfo exit = runtime.run(spec);
    CHECK(exit.exit_code == 0);

    std::string seen = read_file(dir.path() / "cgroup");
    INFO("/proc/self/cgroup of the child, before exec:\n" << seen);
    std::string ours = "/dockling/" + spec.id;
    size_t in_ours = 0;
    for (const auto& entry : parse_proc_cgroup(seen)) {
        in_ours += entry.path.size() >= ours.size() &&
                   entry.path.compare(entry.path.size() - ours.size(), ours.size(), ours) == 0;
    }
    CHECK(in_ours == host_layout().container_hierarchies().size());
    for (const auto& hierarchy : host_layout().container_hierarchies()) {
        CHECK_FALSE(fs::exists(hierarchy.mount_point / "dockling" / spec.id));  // and removed after the run
    }
}

TEST_CASE("--memory and --memory-swap land in the memory controller's files", "[ch03][run][ex3.1]")
{
    REQUIRE_CGROUPS();
    std::string limit = host_is_v1() ? "memory.limit_in_bytes" : "memory.max";
    std::string swap = host_is_v1() ? "memory.memsw.limit_in_bytes" : "memory.swap.max";
    {
        RunningContainer container({"--memory", "64m"}, "exec sleep 60");
        fs::path memory = container.cgroup("memory");
        CHECK(cgroup_value(memory / limit) == "67108864");
        if (fs::exists(memory / swap)) {  // Docker's default: as much swap as memory
            CHECK(cgroup_value(memory / swap) == (host_is_v1() ? "134217728" : "67108864"));
        }
    }
    bool swap_accounting = fs::exists(host_layout().find("memory")->mount_point / "memory.memsw.limit_in_bytes") ||
                           !host_is_v1();
    if (!swap_accounting) {
        WARN("this kernel does not account swap in cgroups: --memory-swap is not tested here");
        return;
    }
    {
        RunningContainer container({"-m", "32m", "--memory-swap", "96m"}, "exec sleep 60");
        fs::path memory = container.cgroup("memory");
        CHECK(cgroup_value(memory / limit) == "33554432");
        CHECK(cgroup_value(memory / swap) == (host_is_v1() ? "100663296" : "67108864"));  // v2 counts swap alone
    }
    {
        RunningContainer container({"--memory", "32m", "--memory-swap", "-1"}, "exec sleep 60");
        CHECK(cgroup_value(container.cgroup("memory") / swap) == (host_is_v1() ? unlimited_v1 : "max"));
    }
}

TEST_CASE("a memory hog is OOM-killed at its limit: exit 137 and a one-line note", "[ch03][run][ex3.1]")
{
    REQUIRE_CGROUPS();
    // The shell waits for SIGUSR1, then doubles a string until the OOM killer ends it.
    RunningContainer container({"--memory", "32m"}, "hog() { x=x; while :; do x=$x$x; done; }; trap hog USR1; "
                                                    "while :; do sleep 1; done");
    auto dirs = container.cgroup_dirs();
    CHECK(cgroup_value(container.cgroup("memory") / (host_is_v1() ? "memory.limit_in_bytes" : "memory.max")) ==
          "33554432");
    // Once the shell sleeps in its loop, its trap is set.
    REQUIRE(eventually([&] { return container.processes().size() == 2; }));
    ::kill(container.main_pid(), SIGUSR1);
    Outcome ended = container.wait();
    CHECK(ended.exit_code == 137);
    CHECK(contains(ended.err, "ran out of memory (--memory 32MiB)"));
    CHECK(contains(ended.err, "OOMKilled"));
    CHECK(one_line(ended.err));
    for (const auto& dir : dirs) {
        CHECK_FALSE(fs::exists(dir));
    }
}

TEST_CASE("a container killed from outside exits 137, is not called OOM-killed, and its cgroup goes",
          "[ch03][run]")
{
    REQUIRE_CGROUPS();
    RunningContainer container({}, "sleep 60 | sleep 61");
    auto dirs = container.cgroup_dirs();
    REQUIRE(eventually([&] { return container.processes().size() == 3; }));  // the shell and its two sleeps
    auto pids = container.processes();
    Outcome ended = container.kill();  // the shell only: the sleeps are left behind
    CHECK(ended.exit_code == 137);
    CHECK_FALSE(contains(ended.err, "memory"));
    for (const auto& dir : dirs) {
        CHECK_FALSE(fs::exists(dir));  // rmdir succeeds only once every process in it is gone
    }
    for (pid_t pid : pids) {
        CHECK(has_exited(pid));
    }
}

TEST_CASE("processes a container leaves behind are killed when it ends", "[ch03][run]")
{
    REQUIRE_CGROUPS();
    unsigned int random = 0;
    REQUIRE(::getrandom(&random, sizeof random, 0) == sizeof random);
    std::string seconds = std::to_string(100000 + random % 800000);  // a number no other sleep uses
    // The shell starts a sleep in the background, checks that it runs, and exits.
    Outcome ran = run_dockling({"run", "--rootfs", busybox_rootfs().string(), "/bin/sh", "-c",
                                "sleep " + seconds + " | sleep " + seconds + " & sleep 0.2; kill -0 $! && "
                                "echo left running; exit 3"});
    CHECK(ran.exit_code == 3);
    CHECK(ran.out == "left running\n");
    size_t survivors = 0;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        std::string cmdline = read_file(entry.path() / "cmdline");
        if (cmdline == "sleep" + std::string(1, '\0') + seconds + std::string(1, '\0')) {
            pid_t pid = std::stoi(entry.path().filename().string());
            if (!has_exited(pid)) {
                ++survivors;
                ::kill(pid, SIGKILL);  // leave the machine clean even when the test fails
            }
        }
    }
    CHECK(survivors == 0);
}

TEST_CASE("--cpus lands in the CFS quota and period", "[ch03][run][ex3.2]")
{
    REQUIRE_CGROUPS();
    RunningContainer container({"--cpus", "1.5"}, "exec sleep 60");
    fs::path cpu = container.cgroup("cpu");
    if (host_is_v1()) {
        CHECK(cgroup_value(cpu / "cpu.cfs_period_us") == "100000");
        CHECK(cgroup_value(cpu / "cpu.cfs_quota_us") == "150000");
    } else {
        CHECK(cgroup_value(cpu / "cpu.max") == "150000 100000");
    }
}

TEST_CASE("a CPU burner under --cpus 0.5 gets about half a CPU", "[ch03][run][ex3.2]")
{
    REQUIRE_CGROUPS();
    RunningContainer container({"--cpus", "0.5"}, "while :; do :; done");
    std::this_thread::sleep_for(300ms);
    auto used_before = cpu_used_ns(container);
    auto wall_before = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(2s);
    auto used = cpu_used_ns(container) - used_before;
    auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - wall_before);
    double share = static_cast<double>(used) / static_cast<double>(wall.count());
    std::string stat = read_file(container.cgroup("cpu") / "cpu.stat");
    INFO("the burner used " << share << " of a CPU over " << wall.count() / 1e9 << " s; cpu.stat:\n" << stat);
    CHECK(share > 0.1);   // it ran (a generous band: the machine is shared)
    CHECK(share < 0.65);  // and was held to half a CPU, not the whole one it would take
    // The kernel's own account: it enforces a quota on the group, period by period...
    CHECK(flat_keyed_value(stat, "nr_periods").value_or(0) > 0);
    // ...and when the burner got near its quota (other load on the machine may keep it
    // below), the scheduler throttled it until the next period.
    if (share > 0.4) {
        CHECK(flat_keyed_value(stat, "nr_throttled").value_or(0) > 0);
    }
}

TEST_CASE("--cpu-shares and --pids-limit land in their files", "[ch03][run]")
{
    REQUIRE_CGROUPS();
    RunningContainer container({"--cpu-shares", "512", "--pids-limit", "20"}, "exec sleep 60");
    if (host_is_v1()) {
        CHECK(cgroup_value(container.cgroup("cpu") / "cpu.shares") == "512");
    } else {
        CHECK(cgroup_value(container.cgroup("cpu") / "cpu.weight") == "59");
    }
    CHECK(cgroup_value(container.cgroup("pids") / "pids.max") == "20");
}

TEST_CASE("--cpuset-cpus pins the container to those CPUs", "[ch03][run][ex3.3]")
{
    REQUIRE_CGROUPS();
    RunningContainer container({"--cpuset-cpus", "0"}, "exec sleep 60");
    CHECK(cgroup_value(container.cgroup("cpuset") / "cpuset.cpus") == "0");
    std::string status = read_file("/proc/" + std::to_string(container.main_pid()) + "/status");
    CHECK(contains(status, "Cpus_allowed_list:\t0\n"));
}

TEST_CASE("a fork bomb under --pids-limit 20 never has more than 20 tasks, and is cleaned up", "[ch03][run]")
{
    REQUIRE_CGROUPS();
    if (host_layout().find("pids") == nullptr) {
        DOCKLING_SKIP("no pids controller on this machine");
    }
    // Each bomb forks two more and waits for them; when a fork fails, that shell dies.
    // The first sleep keeps the container's main process busy but out of the fray.
    RunningContainer container({"--pids-limit", "20"}, "bomb() { bomb | bomb; sleep 600; }; sleep 600 | bomb");
    fs::path pids = container.cgroup("pids");
    auto dirs = container.cgroup_dirs();
    REQUIRE(cgroup_value(pids / "pids.max") == "20");
    unsigned long most = 0;
    std::set<pid_t> seen;
    for (int i = 0; i < 400; ++i) {
        most = std::max(most, std::stoul(cgroup_value(pids / "pids.current")));
        auto procs = container.processes();
        CHECK(procs.size() <= 20);
        seen.insert(procs.begin(), procs.end());
        std::this_thread::sleep_for(5ms);
    }
    INFO("at most " << most << " tasks seen; " << seen.size() << " different processes");
    CHECK(most <= 20);
    CHECK(flat_keyed_value(read_file(pids / "pids.events"), "max").value_or(0) > 0);  // it did hit the limit

    REQUIRE(container.processes().size() > 2);  // bombs still hold PIDs: the cleanup has work to do
    Outcome stopped = container.kill();
    CHECK(stopped.exit_code == 137);
    for (const auto& dir : dirs) {
        CHECK_FALSE(fs::exists(dir));  // rmdir succeeds only once every task is gone
    }
    for (pid_t pid : seen) {
        CHECK(has_exited(pid));
    }
}

TEST_CASE("bad resource flags exit 125 with one line and make no cgroup", "[ch03][run][errors]")
{
    struct Case {
        std::vector<std::string> flags;
        std::string says;
    };
    std::vector<Case> cases{
        {{"--cpus", "half"}, "invalid value \"half\" for --cpus"},
        {{"--cpus", "0.001"}, "--cpus 0.001: the range of CPUs is from 0.01 to"},
        {{"--cpus", "1000"}, "the range of CPUs"},
        {{"--cpu-shares", "-5"}, "--cpu-shares"},
        {{"-c", "1"}, "--cpu-shares 1: the weight must be between 2 and 262144"},
        {{"--pids-limit", "twenty"}, "invalid value \"twenty\" for --pids-limit"},
    };
    auto before = dockling_cgroups();
    for (const auto& c : cases) {
        std::vector<std::string> args{"run", "--rootfs", busybox_rootfs().string()};
        args.insert(args.end(), c.flags.begin(), c.flags.end());
        args.push_back("/bin/true");
        INFO(c.flags.at(0) << " " << c.flags.at(1));
        Outcome ran = run_dockling(args);
        CHECK(ran.exit_code == 125);
        CHECK(contains(ran.err, c.says));
        CHECK(one_line(ran.err));
    }
    CHECK(dockling_cgroups() == before);
}

TEST_CASE("bad memory flags exit 125 with one line and make no cgroup", "[ch03][run][errors][ex3.1]")
{
    std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--memory", "64x"}, "invalid value \"64x\" for --memory: not a size"},
        {{"-m", "1m"}, "--memory 1m: the minimum memory limit allowed is 6MB"},
        {{"--memory-swap", "64m"}, "--memory-swap needs --memory"},
        {{"--memory", "64m", "--memory-swap", "32m"}, "memory plus swap must be at least --memory"},
    };
    auto before = dockling_cgroups();
    for (const auto& [flags, says] : cases) {
        std::vector<std::string> args{"run", "--rootfs", busybox_rootfs().string()};
        args.insert(args.end(), flags.begin(), flags.end());
        args.push_back("/bin/true");
        INFO(flags.at(0) << " " << flags.at(1));
        Outcome ran = run_dockling(args);
        CHECK(ran.exit_code == 125);
        CHECK(contains(ran.err, says));
        CHECK(one_line(ran.err));
    }
    CHECK(dockling_cgroups() == before);
}

TEST_CASE("--cpuset-cpus must name CPUs the machine has", "[ch03][run][errors][ex3.3]")
{
    Outcome ran = run_dockling({"run", "--rootfs", busybox_rootfs().string(), "--cpuset-cpus", "0-4095", "/bin/true"});
    CHECK(ran.exit_code == 125);
    CHECK(contains(ran.err, "requested CPUs are not available - requested 0-4095, available: "));
    CHECK(one_line(ran.err));
    Outcome bad = run_dockling({"run", "--rootfs", busybox_rootfs().string(), "--cpuset-cpus", "1-0", "/bin/true"});
    CHECK(bad.exit_code == 125);
    CHECK(contains(bad.err, "invalid value \"1-0\" for --cpuset-cpus"));
}

TEST_CASE("run --help lists the resource flags", "[ch03][cli]")
{
    Outcome help = run_dockling({"run", "--help"});
    CHECK(help.exit_code == 0);
    for (const char* flag : {"--memory", "--memory-swap", "--cpus", "--cpu-shares", "--cpuset-cpus", "--pids-limit"}) {
        CHECK(contains(help.out, flag));
    }
}

TEST_CASE("doctor checks the cgroup filesystems and controllers", "[ch03][cli]")
{
    Outcome doctor = run_dockling({"doctor"});
    CHECK(contains(doctor.out, "chapter 03\n"));
    CHECK(contains(doctor.out, "cgroup filesystem"));
    CHECK(contains(doctor.out, "cgroup controllers"));
    CHECK(contains(doctor.out, "cgroup write access"));
    if (running_as_root() && host_layout().mode() != CgroupMode::none) {
        CHECK(contains(doctor.out, "ok    cgroup filesystem      " + host_layout().describe()));
        CHECK(doctor.exit_code == 0);
    }
}

TEST_CASE("an ordinary user runs without a cgroup, and is refused limits it cannot enforce", "[ch03][run][errors]")
{
    REQUIRE_CGROUPS();
    if (!fs::exists("/usr/bin/setpriv")) {
        DOCKLING_SKIP("needs setpriv (util-linux) to run dockling as an ordinary user");
    }
    TempDir dir;
    fs::permissions(dir.path(), fs::perms::all & ~fs::perms::group_write & ~fs::perms::others_write);
    fs::path rootfs = copy_of_busybox_rootfs(dir);
    REQUIRE(run_program({"chown", "-R", "65534:65534", rootfs.string()}).exit_code == 0);
    auto as_nobody = [&](std::vector<std::string> flags) {
        std::vector<std::string> argv{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                      dockling_binary().string(), "--config", (dir.path() / "none.json").string(),
                                      "run", "--rootfs", rootfs.string(), "--userns"};
        argv.insert(argv.end(), flags.begin(), flags.end());
        argv.push_back("/bin/true");
        return run_program(argv);
    };
    auto before = dockling_cgroups();
    Outcome plain = as_nobody({});
    INFO(plain.err);
    CHECK(plain.exit_code == 0);

    Outcome limited = as_nobody({"--pids-limit", "20"});
    CHECK(limited.exit_code == 125);
    CHECK(contains(limited.err, "resource limits need root: uid 65534 cannot create cgroups"));
    CHECK(one_line(limited.err));
    CHECK(dockling_cgroups() == before);
}
