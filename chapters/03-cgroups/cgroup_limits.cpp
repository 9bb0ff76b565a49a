#include "cgroup_limits.hpp"

#include "doctor.hpp"
#include "error.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>

namespace dockling {

std::filesystem::path container_cgroup_path(const std::string& id) { return std::filesystem::path("dockling") / id; }

void remove_leftover_cgroup(const std::string& id)
{
    CgroupLayout layout = detect_cgroup_layout();
    if (layout.mode() == CgroupMode::none || ::geteuid() != 0) {
        return;  // no cgroups here, or none we could have made
    }
    bool exists = false;
    for (const auto& hierarchy : layout.container_hierarchies()) {
        exists = exists || std::filesystem::exists(hierarchy.mount_point / container_cgroup_path(id));
    }
    if (exists) {
        Cgroup::open(layout, container_cgroup_path(id)).remove();
    }
}

CgroupLimits::CgroupLimits() : fs_(&kernel_cgroupfs()) {}

CgroupLimits::CgroupLimits(CgroupLayout layout, CgroupFs& fs) : layout_(std::move(layout)), fs_(&fs) {}

CgroupLayout CgroupLimits::layout() const { return layout_ ? *layout_ : detect_cgroup_layout(*fs_); }

void CgroupLimits::add_run_options(CLI::App& run, ContainerSpec& /*spec*/)
{
    run.add_option("-m,--memory", flags_.memory, "Memory limit (e.g. 64m, 1g)");
    run.add_option("--memory-swap", flags_.memory_swap,
                   "Memory plus swap limit, or -1 for unlimited swap (default: twice --memory)");
    run.add_option("--cpus", flags_.cpus, "Number of CPUs (e.g. 0.5)");
    run.add_option("-c,--cpu-shares", flags_.cpu_shares, "CPU shares: a relative weight (default 1024)");
    run.add_option("--cpuset-cpus", flags_.cpuset_cpus, "CPUs the container may run on (e.g. 0-1, 0,2)");
    run.add_option("--pids-limit", flags_.pids_limit, "Most tasks at once (0 or -1: unlimited)");
}

//! [prepare]
void CgroupLimits::prepare(ContainerSpec& spec)
{
    CgroupLayout here = layout();
    if (here.mode() == CgroupMode::none) {
        throw Error("no cgroup filesystem is mounted, so limits cannot be enforced (see 'doctor')");
    }
    resources_ = resources_from_flags(flags_, host_cpus(here, *fs_));  // bad flags: nothing created yet
    if (::geteuid() != 0) {
        // An ordinary user (chapter 02's rootless --userns) may not create cgroups unless
        // a cgroup was delegated to it. Without limits it runs without a cgroup of its
        // own, as rootless podman does on cgroup v1; a limit it cannot enforce is an error.
        if (resources_ != Resources{}) {
            throw Error("resource limits need root: uid " + std::to_string(::geteuid()) + " cannot create cgroups");
        }
        return;
    }
    Cgroup cgroup = Cgroup::create(here, container_cgroup_path(spec.id), *fs_);
    cgroup.apply(cgroup_writes(resources_, here.version()));  // if this throws, `cgroup` is removed
    cgroup_.emplace(std::move(cgroup));
}
//! [prepare]

//! [after-clone]
void CgroupLimits::after_clone(const ContainerSpec& /*spec*/, pid_t child)
{
    // The child is still waiting for the runtime's "go": it runs its first instruction
    // of its own only once it is inside the cgroup, so it is never unlimited.
    if (cgroup_) {
        cgroup_->add_process(child);
    }
}
//! [after-clone]

//! [after-exit]
void CgroupLimits::after_exit(const ContainerSpec& spec, ExitInfo& exit)
{
    if (!cgroup_ || cgroup_->oom_kills() == 0) {
        return;
    }
    // Like Docker's State.OOMKilled: some process of the container was killed for memory.
    // The exit code stays what it is (137 when the OOM killer hit the main process).
    exit.reason = "OOMKilled";
    std::string limit = resources_.memory > 0 ? " (--memory " + human_size(resources_.memory) + ")" : "";
    std::cerr << fmt::format("{}: container {} ran out of memory{}: the kernel's OOM killer ended it (OOMKilled)\n",
                             program_invocation_short_name, spec.short_id(), limit);
}
//! [after-exit]

void CgroupLimits::cleanup(const ContainerSpec& /*spec*/) noexcept
{
    cgroup_.reset();  // ~Cgroup kills what is left, removes the directories, reports failures
}

namespace {

CheckResult check_cgroup_mounts(const CgroupLayout& layout)
{
    bool ok = layout.mode() != CgroupMode::none;
    return {ok, layout.describe(),
            "mount cgroup2 on /sys/fs/cgroup (or the v1 controllers below it), as systemd does at boot"};
}

CheckResult check_controllers(const CgroupLayout& layout)
{
    std::vector<std::string> present, missing;
    bool v1 = layout.version() == CgroupVersion::v1;
    for (std::string_view controller : {"memory", "cpu", "cpuacct", "cpuset", "pids", "freezer"}) {
        bool needed_here = v1 || (controller != "cpuacct" && controller != "freezer");  // built into v2
        if (needed_here) {
            (layout.find(controller) ? present : missing).emplace_back(controller);
        }
    }
    std::string detail = fmt::format("cgroup {} controllers: {}", v1 ? "v1" : "v2", fmt::join(present, " "));
    if (!missing.empty()) {
        detail += fmt::format("; missing: {}", fmt::join(missing, " "));
    }
    return {missing.empty(), detail,
            v1 ? "mount the missing v1 controllers under /sys/fs/cgroup"
               : "enable them in /sys/fs/cgroup/cgroup.subtree_control (or boot without cgroup_no_v1=...)"};
}

CheckResult check_write_access(const CgroupLayout& layout)
{
    for (const auto& hierarchy : layout.container_hierarchies()) {
        if (::access(hierarchy.mount_point.c_str(), W_OK) != 0) {
            return {false, fmt::format("{} is not writable ({})", hierarchy.mount_point.string(), std::strerror(errno)),
                    "run as root, with /sys/fs/cgroup mounted read-write"};
        }
    }
    return {true, "dockling can create cgroups below each hierarchy", ""};
}

}  // namespace

std::vector<PreflightCheck> CgroupLimits::preflight() const
{
    // Each probe detects the layout itself: doctor must report, not throw.
    auto with_layout = [this](CheckResult (*check)(const CgroupLayout&)) {
        return [this, check] {
            try {
                return check(layout());
            } catch (const std::exception& error) {
                return CheckResult{false, error.what(), "check that /sys/fs/cgroup is mounted"};
            }
        };
    };
    return {{3, "cgroup filesystem", with_layout(check_cgroup_mounts)},
            {3, "cgroup controllers", with_layout(check_controllers)},
            {3, "cgroup write access", with_layout(check_write_access)}};
}

}  // namespace dockling
