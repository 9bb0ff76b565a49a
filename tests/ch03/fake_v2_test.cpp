// The cgroup v2 code against a fake cgroup2 tree (tests/ch03/fake_cgroup2.hpp) that
// plays the kernel's part. On a unified host the same code also runs for real in
// cgroup_test.cpp and run_test.cpp; on a hybrid host such as this project's CI, whose
// cgroup2 tree has no controllers, this is where the v2 limits are tested.
#include "support.hpp"

#include "cgroup.hpp"
#include "cgroup_limits.hpp"
#include "error.hpp"
#include "fake_cgroup2.hpp"
#include "spec.hpp"

#include <CLI/CLI.hpp>

#include <signal.h>

#include <cerrno>

using namespace dockling;
using namespace dockling::test;
namespace fs = std::filesystem;

namespace {

/// True when this machine's own cgroup v2 can limit memory, CPU and tasks.
bool host_has_v2_controllers()
{
    const auto& layout = host_layout();
    return layout.mode() == CgroupMode::unified && layout.find("memory") && layout.find("cpu") && layout.find("pids");
}

/// Says in the test output why the v2 code runs against a fake here.
void say_where_v2_runs()
{
    if (!host_has_v2_controllers()) {
        WARN("cgroup v2: tested against a fake cgroupfs, because this host has no cgroup v2 controllers ("
             << host_layout().describe() << ")");
    }
}

/// A fake cgroup2 mount in a temporary directory, and the layout pointing at it.
struct FakeHost {
    explicit FakeHost(FakeCgroup2::Options options = {})
        : fake(dir.path(), std::move(options)), layout(unified_layout(dir.path(), fake))
    {
    }
    TempDir dir;
    FakeCgroup2 fake;
    CgroupLayout layout;
};

/// The errno of the Error that `action` throws (0 if it does not throw).
template <typename Action>
int errno_of(Action action)
{
    try {
        action();
    } catch (const Error& error) {
        return error.error_number();
    }
    return 0;
}

std::string value(const fs::path& file) { return cgroup_value(file); }

}  // namespace

TEST_CASE("the fake cgroup2 tree refuses what the kernel refuses", "[ch03][v2][fake]")
{
    FakeHost host;
    FakeCgroup2& fake = host.fake;
    fs::path root = fake.root();
    CHECK(value(root / "cgroup.controllers") == "cpuset cpu io memory pids");
    REQUIRE(fake.make_directory(root / "a"));
    CHECK_FALSE(fake.make_directory(root / "a"));
    CHECK_FALSE(fs::exists(root / "a/memory.max"));  // not enabled by the parent yet
    CHECK(errno_of([&] { fake.write(root / "cgroup.subtree_control", "+nosuch"); }) == ENOENT);
    fake.write(root / "cgroup.subtree_control", "+memory +cpu");
    CHECK(value(root / "cgroup.subtree_control") == "cpu memory");  // the kernel's order
    CHECK(value(root / "a/memory.max") == "max");
    CHECK(value(root / "a/cgroup.controllers") == "cpu memory");

    // No internal processes: a cgroup with a process cannot hand on a domain controller...
    pid_t pid = fake.spawn(root / "a");
    CHECK(errno_of([&] { fake.write(root / "a/cgroup.subtree_control", "+memory"); }) == EBUSY);
    // ...and a cgroup that hands one on cannot take a process.
    REQUIRE(fake.make_directory(root / "b"));
    REQUIRE(fake.make_directory(root / "b/c"));
    fake.write(root / "b/cgroup.subtree_control", "+memory");
    CHECK(errno_of([&] { fake.write(root / "b/cgroup.procs", std::to_string(pid)); }) == EBUSY);
    fake.write(root / "b/c/cgroup.procs", std::to_string(pid));
    CHECK(value(root / "b/c/cgroup.procs") == std::to_string(pid));
    CHECK(value(root / "a/cgroup.procs").empty());
    CHECK(value(root / "b/cgroup.events") == "populated 1\nfrozen 0");
    CHECK(errno_of([&] { fake.write(root / "b/c/cgroup.procs", "999999"); }) == ESRCH);

    // rmdir: not while populated or with children.
    CHECK(errno_of([&] { fake.remove_directory(root / "b/c"); }) == EBUSY);
    CHECK(errno_of([&] { fake.remove_directory(root / "b"); }) == EBUSY);
    fake.write(root / "b/c/cgroup.kill", "1");
    CHECK_FALSE(fake.alive(pid));
    CHECK(value(root / "b/cgroup.events") == "populated 0\nfrozen 0");
    CHECK(fake.remove_directory(root / "b/c"));
    CHECK(fake.remove_directory(root / "b"));
    CHECK_FALSE(fake.remove_directory(root / "b"));

    // Values as the kernel checks and shows them.
    fake.write(root / "a/memory.max", "64M");
    CHECK(value(root / "a/memory.max") == "67108864");
    fake.write(root / "a/memory.max", "10000");
    CHECK(value(root / "a/memory.max") == "8192");  // rounded down to whole pages
    CHECK(errno_of([&] { fake.write(root / "a/memory.max", "lots"); }) == EINVAL);
    CHECK(errno_of([&] { fake.write(root / "a/cpu.max", "500 100000"); }) == EINVAL);  // quota below 1 ms
    fake.write(root / "a/cpu.max", "50000");
    CHECK(value(root / "a/cpu.max") == "50000 100000");  // the period stays
    CHECK(errno_of([&] { fake.write(root / "a/cpu.weight", "0"); }) == ERANGE);
    CHECK(errno_of([&] { fake.write(root / "a/memory.current", "0"); }) == EINVAL);  // read-only
    CHECK(errno_of([&] { fake.write(root / "a/no.such.file", "1"); }) == ENOENT);
    CHECK(errno_of([&] { fake.make_directory(root / "x/y"); }) == ENOENT);
}

TEST_CASE("the fake's core files look like a real cgroup2 directory", "[ch03][v2][fake]")
{
    DOCKLING_REQUIRE_ROOT();
    const auto& v2 = host_layout().v2;
    if (!v2) {
        DOCKLING_SKIP("no cgroup2 mount on this host to compare the fake with");
    }
    // A real, empty cgroup2 directory and a fake one, side by side.
    Cgroup real = Cgroup::create(host_layout().unified_only(), container_cgroup_path(new_container_id()));
    FakeHost host;
    Cgroup fake = Cgroup::create(host.layout, "dockling/compare", host.fake);
    fs::path real_dir = real.directories().at(0), fake_dir = fake.directories().at(0);
    for (const auto& entry : fs::directory_iterator(fake_dir)) {
        std::string name = entry.path().filename().string();
        if (name.rfind("cgroup.", 0) == 0 || name == "cpu.stat") {
            INFO(name);
            CHECK(fs::exists(real_dir / name));  // the fake invents no core file
        }
    }
    CHECK(value(fake_dir / "cgroup.events") == value(real_dir / "cgroup.events"));
    CHECK(value(fake_dir / "cgroup.freeze") == value(real_dir / "cgroup.freeze"));
    CHECK(value(fake_dir / "cgroup.type") == value(real_dir / "cgroup.type"));
}

TEST_CASE("on v2 a container's cgroup goes below dockling/, its controllers enabled on the way", "[ch03][v2][fake]")
{
    say_where_v2_runs();
    FakeHost host;
    fs::path root = host.fake.root();
    {
        Cgroup cgroup = Cgroup::create(host.layout, "dockling/abc", host.fake);
        CHECK(cgroup.version() == CgroupVersion::v2);
        CHECK(cgroup.directories() == std::vector<fs::path>{root / "dockling/abc"});
        CHECK(value(root / "cgroup.subtree_control") == "cpuset cpu memory pids");  // not io: unused
        CHECK(value(root / "dockling/cgroup.subtree_control") == "cpuset cpu memory pids");
        CHECK(value(root / "dockling/abc/cgroup.controllers") == "cpuset cpu memory pids");
        CHECK(value(root / "dockling/abc/cgroup.subtree_control").empty());  // a leaf, for processes
        CHECK(fs::exists(root / "dockling/abc/memory.max"));
    }
    CHECK_FALSE(fs::exists(root / "dockling/abc"));
    CHECK_FALSE(fs::exists(root / "dockling"));
}

TEST_CASE("on v2 memory, swap, cpu weight, cpuset and pids limits land in their files", "[ch03][v2][fake]")
{
    say_where_v2_runs();
    FakeHost host;
    Cgroup cgroup = Cgroup::create(host.layout, "dockling/abc", host.fake);
    cgroup.apply(cgroup_writes(
        Resources{.memory = 64 << 20, .cpu_shares = 512, .cpuset_cpus = "1,2", .pids_limit = 20}, CgroupVersion::v2));
    fs::path dir = cgroup.directories().at(0);
    CHECK(value(dir / "memory.max") == "67108864");
    CHECK(value(dir / "memory.swap.max") == "67108864");  // Docker's default: as much swap as memory
    CHECK(value(dir / "cpu.weight") == "59");
    CHECK(value(dir / "cpuset.cpus") == "1-2");
    CHECK(value(dir / "cpuset.cpus.effective") == "1-2");
    CHECK(value(dir / "pids.max") == "20");
    CHECK(value(dir / "cpu.max") == "max 100000");  // untouched without --cpus

    // What the kernel refuses comes back as an error naming the flag.
    try {
        cgroup.apply({{"--cpuset-cpus", "cpuset", "cpuset.cpus", "7"}});
        FAIL("the fake kernel accepted a CPU it does not have");
    } catch (const Error& error) {
        CHECK(std::string(error.what()).find("--cpuset-cpus: write \"7\" to") == 0);
        CHECK(std::string(error.what()).find("Invalid argument") != std::string::npos);
    }
}

TEST_CASE("on v2 --cpus lands in cpu.max", "[ch03][v2][fake][ex3.2]")
{
    say_where_v2_runs();
    FakeHost host;
    Cgroup cgroup = Cgroup::create(host.layout, "dockling/abc", host.fake);
    cgroup.apply(cgroup_writes(Resources{.nano_cpus = 500'000'000}, CgroupVersion::v2));
    CHECK(value(cgroup.directories().at(0) / "cpu.max") == "50000 100000");
}

TEST_CASE("on v2 a container's process joins the leaf, where the no-internal-process rule allows it",
          "[ch03][v2][fake]")
{
    say_where_v2_runs();
    FakeHost host;
    fs::path root = host.fake.root();
    Cgroup cgroup = Cgroup::create(host.layout, "dockling/abc", host.fake);
    pid_t pid = host.fake.spawn(root);
    cgroup.add_process(pid);
    CHECK(value(root / "dockling/abc/cgroup.procs") == std::to_string(pid));
    CHECK(cgroup.processes() == std::vector<pid_t>{pid});
    // dockling/ hands memory on to its children, so it may hold no process itself.
    CHECK(errno_of([&] { host.fake.write(root / "dockling/cgroup.procs", std::to_string(pid)); }) == EBUSY);
}

TEST_CASE("on v2 usage, freezing and OOM kills are read from the kernel's files", "[ch03][v2][fake]")
{
    say_where_v2_runs();
    FakeHost host;
    Cgroup cgroup = Cgroup::create(host.layout, "dockling/abc", host.fake);
    cgroup.apply(cgroup_writes(Resources{.memory = 64 << 20, .pids_limit = 20}, CgroupVersion::v2));
    fs::path dir = cgroup.directories().at(0);
    cgroup.add_process(host.fake.spawn(host.fake.root()));
    cgroup.add_process(host.fake.spawn(host.fake.root()));
    host.fake.set_usage(dir, 5 << 20, 1500);

    CgroupUsage usage = cgroup.usage();
    CHECK(usage.memory_bytes == 5u << 20);
    CHECK(usage.memory_limit_bytes == 64u << 20);
    CHECK(usage.cpu_nanoseconds == 1'500'000u);
    CHECK(usage.pids == 2u);
    CHECK(usage.pids_limit == 20u);

    cgroup.freeze();
    CHECK(value(dir / "cgroup.freeze") == "1");
    CHECK(cgroup.frozen());
    cgroup.thaw();
    CHECK_FALSE(cgroup.frozen());

    CHECK(cgroup.oom_kills() == 0);
    host.fake.oom_kill(dir);
    CHECK(cgroup.oom_kills() == 1);
    CHECK(cgroup.usage().pids == 1u);
}

TEST_CASE("on v2 removing a cgroup kills what is left, with cgroup.kill or without it", "[ch03][v2][fake]")
{
    say_where_v2_runs();
    for (bool has_kill_file : {true, false}) {
        INFO((has_kill_file ? "Linux 5.14+: cgroup.kill" : "older kernel: freeze, kill each, thaw"));
        FakeCgroup2::Options options;
        options.cgroup_kill = has_kill_file;
        FakeHost host(options);
        fs::path root = host.fake.root();
        std::vector<pid_t> pids;
        {
            Cgroup cgroup = Cgroup::create(host.layout, "dockling/abc", host.fake);
            cgroup.add_process(host.fake.spawn(root));
            pids = {host.fake.spawn(root / "dockling/abc"), host.fake.spawn(root / "dockling/abc")};  // its children
            pids.push_back(cgroup.processes().front());
        }
        for (pid_t pid : pids) {
            CHECK_FALSE(host.fake.alive(pid));
        }
        CHECK(host.fake.killed().size() == 3);
        CHECK_FALSE(fs::exists(root / "dockling"));
        CHECK(host.fake.alive(1));  // nothing outside the cgroup was touched
    }
}

TEST_CASE("on v2 the shared parent stays while another container's cgroup is below it", "[ch03][v2][fake]")
{
    say_where_v2_runs();
    FakeHost host;
    fs::path root = host.fake.root();
    std::optional<Cgroup> first(Cgroup::create(host.layout, "dockling/first", host.fake));
    std::optional<Cgroup> second(Cgroup::create(host.layout, "dockling/second", host.fake));
    first.reset();
    CHECK(fs::exists(root / "dockling/second"));
    second.reset();
    CHECK_FALSE(fs::exists(root / "dockling"));
}

TEST_CASE("on v2 a missing controller is an error naming the flag, and leaves nothing", "[ch03][v2][fake]")
{
    say_where_v2_runs();
    FakeCgroup2::Options options;
    options.controllers = {"cpu", "io"};  // no memory, no pids
    FakeHost host(options);
    Cgroup cgroup = Cgroup::create(host.layout, "dockling/abc", host.fake);
    CHECK(value(host.fake.root() / "cgroup.subtree_control") == "cpu");
    try {
        cgroup.apply(cgroup_writes(Resources{.pids_limit = 20}, CgroupVersion::v2));
        FAIL("a pids limit without a pids controller was accepted");
    } catch (const Error& error) {
        std::string message = error.what();
        CHECK(message.find("--pids-limit") == 0);
        CHECK(message.find("pids") != std::string::npos);
    }
    // Docker's default swap limit is skipped where it cannot apply; an explicit one is not.
    FakeCgroup2::Options no_swap;
    FakeHost memory_only(no_swap);
    Cgroup limited = Cgroup::create(memory_only.layout, "dockling/abc", memory_only.fake);
    std::filesystem::remove(limited.directories().at(0) / "memory.swap.max");  // a kernel without swap accounting
    CHECK_NOTHROW(limited.apply(cgroup_writes(Resources{.memory = 64 << 20}, CgroupVersion::v2)));
    CHECK_THROWS_AS(limited.apply(cgroup_writes(Resources{.memory = 64 << 20, .memory_swap = 128 << 20},
                                                CgroupVersion::v2)),
                    Error);
}

TEST_CASE("the mechanism runs a container's whole life on a v2 tree", "[ch03][v2][fake]")
{
    say_where_v2_runs();
    FakeHost host;
    fs::path root = host.fake.root();
    CgroupLimits limits(host.layout, host.fake);
    CLI::App run;
    ContainerSpec spec;
    spec.id = new_container_id();
    limits.add_run_options(run, spec);
    run.parse("--cpu-shares 2048 --pids-limit 50", false);

    limits.prepare(spec);
    fs::path dir = root / "dockling" / spec.id;
    REQUIRE(fs::exists(dir));
    CHECK(value(dir / "cpu.weight") == "174");
    CHECK(value(dir / "pids.max") == "50");

    pid_t child = host.fake.spawn(root);  // the paused child, still in dockling's cgroup
    limits.after_clone(spec, child);
    CHECK(value(dir / "cgroup.procs") == std::to_string(child));

    ExitInfo ended{.wait_status = SIGKILL, .exit_code = 137, .reason = ""};
    host.fake.oom_kill(dir);
    limits.after_exit(spec, ended);
    CHECK(ended.reason == "OOMKilled");
    CHECK(ended.exit_code == 137);

    limits.cleanup(spec);
    CHECK_FALSE(fs::exists(dir));
    CHECK_FALSE(fs::exists(root / "dockling"));
}

TEST_CASE("the mechanism leaves nothing behind when its flags or the kernel say no", "[ch03][v2][fake]")
{
    say_where_v2_runs();
    FakeCgroup2::Options options;
    options.controllers = {"cpu", "memory"};  // no pids
    FakeHost host(options);
    ContainerSpec spec;
    spec.id = new_container_id();
    {
        CgroupLimits limits(host.layout, host.fake);
        limits.flags().pids_limit = "many";
        CHECK_THROWS_AS(limits.prepare(spec), Error);  // refused before anything is made
    }
    {
        CgroupLimits limits(host.layout, host.fake);
        limits.flags().pids_limit = "20";
        CHECK_THROWS_WITH(limits.prepare(spec), Catch::Contains("--pids-limit"));  // refused by the "kernel"
        CHECK(limits.cgroup() == nullptr);
    }
    CHECK_FALSE(fs::exists(host.fake.root() / "dockling"));
}
