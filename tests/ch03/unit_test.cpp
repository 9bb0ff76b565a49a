// Chapter 03 unit tests: the pure functions of the cgroup code.
#include "harness.hpp"

#include "cgroup.hpp"
#include "cgroup_layout.hpp"
#include "error.hpp"
#include "resources.hpp"

#include <limits>

using namespace dockling;

namespace {

/// The message of the Error that `resources_from_flags(flags)` throws ("" if none).
std::string complaint(const ResourceFlags& flags, HostCpus host = {2, "0-1"})
{
    try {
        (void)resources_from_flags(flags, host);
    } catch (const Error& error) {
        CHECK(error.exit_code() == 125);
        return error.what();
    }
    return "";
}

bool mentions(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("parse_size reads Docker's sizes", "[ch03][unit][ex3.1]")
{
    CHECK(parse_size("64m") == 64 * 1024 * 1024);
    CHECK(parse_size("64M") == 64 * 1024 * 1024);
    CHECK(parse_size("64mb") == 64 * 1024 * 1024);
    CHECK(parse_size("64MiB") == 64 * 1024 * 1024);
    CHECK(parse_size("1g") == 1024LL * 1024 * 1024);
    CHECK(parse_size("512k") == 512 * 1024);
    CHECK(parse_size("2t") == 2LL << 40);
    CHECK(parse_size("1p") == 1LL << 50);
    CHECK(parse_size("1.5g") == 1536LL * 1024 * 1024);
    CHECK(parse_size("100") == 100);
    CHECK(parse_size("100b") == 100);
    CHECK(parse_size("64 m") == 64 * 1024 * 1024);
    CHECK(parse_size("0") == 0);
}

TEST_CASE("parse_size rejects what is not a size", "[ch03][unit][ex3.1]")
{
    for (const char* bad : {"", "m", "64x", "-1", "-64m", "64mm", "1.2.3g", ".5g", "5.g", "1e3", " 64m", "64m ",
                            "64  m", "64bi", "9999999999p"}) {
        INFO("parse_size(\"" << bad << "\")");
        CHECK_FALSE(parse_size(bad).has_value());
    }
}

TEST_CASE("cfs_quota_for turns --cpus into quota and period", "[ch03][unit][ex3.2]")
{
    CHECK(cfs_quota_for(500'000'000) == CfsQuota{50'000, 100'000});
    CHECK(cfs_quota_for(1'000'000'000) == CfsQuota{100'000, 100'000});
    CHECK(cfs_quota_for(1'500'000'000) == CfsQuota{150'000, 100'000});
    CHECK(cfs_quota_for(10'000'000) == CfsQuota{1'000, 100'000});  // 0.01, the smallest Docker allows
    CHECK(cfs_quota_for(2'000'000'000) == CfsQuota{200'000, 100'000});
}

TEST_CASE("parse_cpu_list reads cpuset lists", "[ch03][unit][ex3.3]")
{
    CHECK(parse_cpu_list("0") == std::vector<int>{0});
    CHECK(parse_cpu_list("0-3") == std::vector<int>{0, 1, 2, 3});
    CHECK(parse_cpu_list("0,2") == std::vector<int>{0, 2});
    CHECK(parse_cpu_list("4,0-2") == std::vector<int>{0, 1, 2, 4});
    CHECK(parse_cpu_list("1,1,0-1") == std::vector<int>{0, 1});
    CHECK(parse_cpu_list("7-7") == std::vector<int>{7});
    for (const char* bad : {"", ",", "0,", ",0", "a", "1-", "-1", "3-1", "0-1-2", "1 ", "0;1", "+1", "0--1"}) {
        INFO("parse_cpu_list(\"" << bad << "\")");
        CHECK_FALSE(parse_cpu_list(bad).has_value());
    }
}

TEST_CASE("cpu.weight keeps the default and the ends of cpu.shares' range", "[ch03][unit]")
{
    CHECK(cpu_weight_from_shares(0) == 0);  // unset stays unset
    CHECK(cpu_weight_from_shares(2) == 1);
    CHECK(cpu_weight_from_shares(1024) == 100);
    CHECK(cpu_weight_from_shares(262144) == 10000);
    CHECK(cpu_weight_from_shares(512) == 59);
    CHECK(cpu_weight_from_shares(2048) == 174);
    CHECK(cpu_weight_from_shares(1) == 1);             // below the range: clamped
    CHECK(cpu_weight_from_shares(1'000'000) == 10000);  // above it: clamped
    std::uint64_t previous = 0;
    for (std::uint64_t shares = 2; shares <= 262144; shares *= 2) {
        CHECK(cpu_weight_from_shares(shares) > previous);  // more shares, more weight
        previous = cpu_weight_from_shares(shares);
    }
}

TEST_CASE("the resource flags are checked as Docker checks them", "[ch03][unit][errors]")
{
    CHECK(mentions(complaint({.cpus = "abc"}), "invalid value \"abc\" for --cpus"));
    CHECK(mentions(complaint({.cpus = "-1"}), "--cpus"));
    CHECK(mentions(complaint({.cpus = "1.0000000001"}), "--cpus"));
    CHECK(mentions(complaint({.cpus = "0.001"}), "the range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs"));
    CHECK(mentions(complaint({.cpus = "3"}), "the range of CPUs is from 0.01 to 2.00"));
    CHECK(mentions(complaint({.cpu_shares = "many"}), "invalid value \"many\" for --cpu-shares"));
    CHECK(mentions(complaint({.cpu_shares = "1"}), "--cpu-shares 1: the weight must be between 2 and 262144"));
    CHECK(mentions(complaint({.cpu_shares = "300000"}), "--cpu-shares"));
    CHECK(mentions(complaint({.pids_limit = "lots"}), "invalid value \"lots\" for --pids-limit"));
    CHECK(mentions(complaint({.pids_limit = "1.5"}), "--pids-limit"));
}

TEST_CASE("valid flags become numbers", "[ch03][unit]")
{
    Resources r = resources_from_flags({.cpus = "1.25", .cpu_shares = "512", .pids_limit = "20"}, {2, "0-1"});
    CHECK(r.nano_cpus == 1'250'000'000);
    CHECK(r.cpu_shares == 512);
    CHECK(r.pids_limit == 20);
    CHECK(r.memory == 0);
    CHECK(resources_from_flags({.cpus = "0"}, {2, "0-1"}).nano_cpus == 0);  // 0: no limit, as in Docker
    CHECK(resources_from_flags({.cpus = ".5"}, {2, "0-1"}).nano_cpus == 500'000'000);
    CHECK(resources_from_flags({.pids_limit = "-1"}, {2, "0-1"}).pids_limit == -1);
}

TEST_CASE("memory flags are checked as Docker checks them", "[ch03][unit][errors][ex3.1]")
{
    CHECK(mentions(complaint({.memory = "64x"}), "invalid value \"64x\" for --memory: not a size"));
    CHECK(mentions(complaint({.memory = "1m"}), "--memory 1m: the minimum memory limit allowed is 6MB"));
    CHECK(mentions(complaint({.memory_swap = "64m"}), "--memory-swap needs --memory"));
    CHECK(mentions(complaint({.memory = "64m", .memory_swap = "32m"}), "memory plus swap must be at least --memory"));
    CHECK(mentions(complaint({.memory = "64m", .memory_swap = "lots"}), "invalid value \"lots\" for --memory-swap"));
    Resources r = resources_from_flags({.memory = "64m", .memory_swap = "-1"}, {2, "0-1"});
    CHECK(r.memory == 64 << 20);
    CHECK(r.memory_swap == -1);
    CHECK(resources_from_flags({.memory = "64m", .memory_swap = "128m"}, {2, "0-1"}).memory_swap == 128 << 20);
}

TEST_CASE("--cpuset-cpus must name CPUs this machine has", "[ch03][unit][errors][ex3.3]")
{
    CHECK(mentions(complaint({.cpuset_cpus = "x"}), "invalid value \"x\" for --cpuset-cpus"));
    CHECK(mentions(complaint({.cpuset_cpus = "0-3"}),
                   "requested CPUs are not available - requested 0-3, available: 0-1"));
    CHECK(resources_from_flags({.cpuset_cpus = "1"}, {2, "0-1"}).cpuset_cpus == "1");
}

TEST_CASE("memory, swap and pids flags map to v1 and v2 files", "[ch03][unit]")
{
    Resources r{.memory = 64 << 20, .pids_limit = 20};
    CHECK(cgroup_writes(r, CgroupVersion::v1) ==
          std::vector<CgroupWrite>{{"--memory", "memory", "memory.limit_in_bytes", "67108864"},
                                   {"--memory-swap", "memory", "memory.memsw.limit_in_bytes", "134217728", true},
                                   {"--pids-limit", "pids", "pids.max", "20"}});
    CHECK(cgroup_writes(r, CgroupVersion::v2) ==
          std::vector<CgroupWrite>{{"--memory", "memory", "memory.max", "67108864"},
                                   {"--memory-swap", "memory", "memory.swap.max", "67108864", true},
                                   {"--pids-limit", "pids", "pids.max", "20"}});
    // An explicit --memory-swap is the total on v1, the swap alone on v2; -1 is unlimited.
    r.memory_swap = 96 << 20;
    CHECK(cgroup_writes(r, CgroupVersion::v1)[1].value == "100663296");
    CHECK(cgroup_writes(r, CgroupVersion::v2)[1].value == "33554432");
    CHECK_FALSE(cgroup_writes(r, CgroupVersion::v2)[1].optional);
    r.memory_swap = -1;
    CHECK(cgroup_writes(r, CgroupVersion::v1)[1].value == "-1");
    CHECK(cgroup_writes(r, CgroupVersion::v2)[1].value == "max");
    // Unlimited pids and no limits at all write nothing.
    CHECK(cgroup_writes(Resources{.pids_limit = -1}, CgroupVersion::v1).empty());
    CHECK(cgroup_writes(Resources{}, CgroupVersion::v2).empty());
}

TEST_CASE("cpu shares and cpuset map to v1 and v2 files", "[ch03][unit]")
{
    Resources r{.cpu_shares = 512, .cpuset_cpus = "0-1"};
    CHECK(cgroup_writes(r, CgroupVersion::v1) ==
          std::vector<CgroupWrite>{{"--cpu-shares", "cpu", "cpu.shares", "512"},
                                   {"--cpuset-cpus", "cpuset", "cpuset.cpus", "0-1"}});
    CHECK(cgroup_writes(r, CgroupVersion::v2) ==
          std::vector<CgroupWrite>{{"--cpu-shares", "cpu", "cpu.weight", "59"},
                                   {"--cpuset-cpus", "cpuset", "cpuset.cpus", "0-1"}});
}

TEST_CASE("--cpus maps to the CFS files of v1 and to cpu.max of v2", "[ch03][unit][ex3.2]")
{
    Resources r{.nano_cpus = 500'000'000};
    CHECK(cgroup_writes(r, CgroupVersion::v1) ==
          std::vector<CgroupWrite>{{"--cpus", "cpu", "cpu.cfs_period_us", "100000"},
                                   {"--cpus", "cpu", "cpu.cfs_quota_us", "50000"}});
    CHECK(cgroup_writes(r, CgroupVersion::v2) ==
          std::vector<CgroupWrite>{{"--cpus", "cpu", "cpu.max", "50000 100000"}});
}

namespace {

// Real mountinfo lines (from Debian 12 hosts), one layout each.
const char* hybrid_mountinfo =
    "23 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

const char* unified_mountinfo =
    "22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

const char* legacy_mountinfo =
    "30 25 0:26 / /sys/fs/cgroup/systemd rw,nosuid shared:9 - cgroup cgroup rw,xattr,name=systemd\n"
    "33 25 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:10 - cgroup cgroup rw,cpu,cpuacct\n"
    "34 25 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:11 - cgroup cgroup rw,memory\n"
    "35 25 0:31 / /sys/fs/cgroup/pids rw,nosuid shared:12 - cgroup cgroup rw,pids\n"
    "36 25 0:29 / /mnt/cpu\\040again rw,nosuid shared:10 - cgroup cgroup rw,cpu,cpuacct\n";

}  // namespace

TEST_CASE("the cgroup layout is read from mountinfo: hybrid", "[ch03][unit]")
{
    CgroupLayout layout = parse_cgroup_mounts(hybrid_mountinfo);
    CHECK(layout.mode() == CgroupMode::hybrid);
    CHECK(layout.version() == CgroupVersion::v1);
    REQUIRE(layout.v1.size() == 7);  // name=systemd holds no controller
    REQUIRE(layout.find("memory") != nullptr);
    CHECK(layout.find("memory")->mount_point == "/sys/fs/cgroup/memory");
    CHECK(layout.find("cpuacct")->mount_point == "/sys/fs/cgroup/cpuacct");
    CHECK(layout.find("blkio") == nullptr);
    REQUIRE(layout.v2.has_value());
    CHECK(layout.v2->mount_point == "/sys/fs/cgroup/unified");
    auto used = layout.container_hierarchies();
    CHECK(used.size() == 6);  // cpu, cpuacct, cpuset, memory, freezer, pids: not devices
    CgroupLayout v2 = layout.unified_only();
    CHECK(v2.mode() == CgroupMode::unified);
    CHECK(v2.container_hierarchies().at(0).mount_point == "/sys/fs/cgroup/unified");
}

TEST_CASE("the cgroup layout is read from mountinfo: unified and legacy", "[ch03][unit]")
{
    CgroupLayout unified = parse_cgroup_mounts(unified_mountinfo);
    CHECK(unified.mode() == CgroupMode::unified);
    CHECK(unified.version() == CgroupVersion::v2);
    REQUIRE(unified.v2.has_value());
    CHECK(unified.v2->mount_point == "/sys/fs/cgroup");
    unified.v2->controllers = {"cpuset", "cpu", "io", "memory", "pids"};
    CHECK(unified.find("memory") == &*unified.v2);
    CHECK(unified.find("freezer") == nullptr);

    CgroupLayout legacy = parse_cgroup_mounts(legacy_mountinfo);
    CHECK(legacy.mode() == CgroupMode::legacy);
    REQUIRE(legacy.v1.size() == 3);  // the second mount of cpu,cpuacct is the same hierarchy
    CHECK(legacy.find("cpu") == legacy.find("cpuacct"));
    CHECK(legacy.find("cpu")->mount_point == "/sys/fs/cgroup/cpu,cpuacct");
    CHECK(parse_cgroup_mounts("").mode() == CgroupMode::none);
}

TEST_CASE("mountinfo escapes in paths are decoded", "[ch03][unit]")
{
    auto layout = parse_cgroup_mounts("36 25 0:29 /sub /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n");
    REQUIRE(layout.v2.has_value());
    CHECK(layout.v2->mount_point == "/mnt/my cgroups");
    CHECK(layout.v2->root == "/sub");
}

TEST_CASE("/proc/PID/cgroup lines are split into controllers and paths", "[ch03][unit]")
{
    auto entries = parse_proc_cgroup("9:name=systemd:/\n4:memory:/process_api/38fb\n1:cpu,cpuacct:/\n0::/\n");
    REQUIRE(entries.size() == 4);
    CHECK(entries[1].controllers == std::vector<std::string>{"memory"});
    CHECK(entries[1].path == "/process_api/38fb");
    CHECK(entries[2].controllers == std::vector<std::string>{"cpu", "cpuacct"});
    CHECK(entries[3].controllers.empty());
    CHECK(entries[3].path == "/");
}

TEST_CASE("flat-keyed cgroup files are read by key", "[ch03][unit]")
{
    std::string oom_control = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
    CHECK(flat_keyed_value(oom_control, "oom_kill") == 3u);
    CHECK(flat_keyed_value(oom_control, "under_oom") == 0u);
    CHECK_FALSE(flat_keyed_value(oom_control, "oom").has_value());
    CHECK(flat_keyed_value("usage_usec 1234\nuser_usec 1000\n", "usage_usec") == 1234u);
}

TEST_CASE("sizes are shown in binary units", "[ch03][unit]")
{
    CHECK(human_size(64 << 20) == "64MiB");
    CHECK(human_size(1536LL << 20) == "1.5GiB");
    CHECK(human_size(100) == "100B");
    CHECK(human_size(512 << 10) == "512KiB");
}
