#pragma once
/// \file
/// Chapter 03's mechanism: every container runs in its own cgroup, limited by
/// Docker's resource flags.

#include "cgroup.hpp"
#include "cgroup_layout.hpp"
#include "mechanism.hpp"
#include "resources.hpp"

#include <filesystem>
#include <optional>

namespace dockling {

/// Puts each container in a cgroup of its own and enforces `--memory`,
/// `--memory-swap`, `--cpus`, `--cpu-shares`, `--cpuset-cpus` and `--pids-limit` there.
///
/// - prepare(): checks the flags as Docker does, creates the cgroup
///   `dockling/<container id>` in every hierarchy (v1) or in the unified tree (v2), and
///   writes the limits into it.
/// - after_clone(): moves the paused child into the cgroup, so the command's first
///   instruction already runs under the limits.
/// - after_exit(): asks the kernel whether its OOM killer struck; if so, the exit is
///   marked "OOMKilled" and a one-line note says so on stderr.
/// - cleanup(): kills whatever the container left running and removes the cgroup,
///   however the container ended.
class CgroupLimits : public Mechanism {
public:
    /// Uses this machine's cgroups, detected when a container starts.
    CgroupLimits();
    /// Uses `layout` through `fs`: how tests run the mechanism on a fake cgroup v2 tree.
    CgroupLimits(CgroupLayout layout, CgroupFs& fs);

    [[nodiscard]] std::string_view name() const override { return "cgroups"; }
    /// Adds -m/--memory, --memory-swap, --cpus, -c/--cpu-shares, --cpuset-cpus, --pids-limit.
    void add_run_options(CLI::App& run, ContainerSpec& spec) override;
    /// Checks the flags, creates the container's cgroup and writes its limits.
    void prepare(ContainerSpec& spec) override;
    /// Moves the paused child into the cgroup.
    void after_clone(const ContainerSpec& spec, pid_t child) override;
    /// Marks an exit caused by the OOM killer: reason "OOMKilled", and a note on stderr.
    void after_exit(const ContainerSpec& spec, ExitInfo& exit) override;
    /// Kills what is left in the cgroup and removes it.
    void cleanup(const ContainerSpec& spec) noexcept override;
    /// The cgroup filesystems, their controllers, and write access to them.
    [[nodiscard]] std::vector<PreflightCheck> preflight() const override;

    /// The flags as given on the command line (tests may set them directly).
    ResourceFlags& flags() noexcept { return flags_; }
    /// The running container's cgroup (for `stats` and `pause`); nullptr outside a run.
    [[nodiscard]] Cgroup* cgroup() noexcept { return cgroup_ ? &*cgroup_ : nullptr; }

private:
    [[nodiscard]] CgroupLayout layout() const;

    std::optional<CgroupLayout> layout_;  // given to the constructor, else detected
    CgroupFs* fs_;
    ResourceFlags flags_;
    Resources resources_;
    std::optional<Cgroup> cgroup_;
};

/// Where container `id`'s cgroup goes below each hierarchy's root: "dockling/<id>".
/// The full id, so that parallel containers never share a cgroup.
[[nodiscard]] std::filesystem::path container_cgroup_path(const std::string& id);

/// Removes what is left of container `id`'s cgroup, if anything is: when dockling itself
/// was killed (SIGKILL) it could not clean up, and removing the container (`rm`) must.
/// Kills whatever still runs in it first. Does nothing when there is no such cgroup.
void remove_leftover_cgroup(const std::string& id);

}  // namespace dockling
