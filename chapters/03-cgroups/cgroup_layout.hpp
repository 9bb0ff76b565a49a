#pragma once
/// \file
/// Which cgroup filesystems this machine has mounted, and where: v1, v2 or both.

#include "cgroupfs.hpp"

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockling {

/// The two cgroup interfaces of the Linux kernel.
enum class CgroupVersion {
    v1,  ///< one hierarchy per controller (or per group of co-mounted controllers)
    v2,  ///< one unified hierarchy for every controller
};

/// How a machine mounts its cgroups, in systemd's terms.
enum class CgroupMode {
    none,     ///< no cgroup filesystem with controllers is mounted
    legacy,   ///< only v1 hierarchies
    hybrid,   ///< v1 hierarchies for the controllers, plus a cgroup2 tree without them
    unified,  ///< only cgroup v2
};

/// One mounted cgroup hierarchy.
struct CgroupHierarchy {
    /// Which interface it speaks.
    CgroupVersion version = CgroupVersion::v1;
    /// Where it is mounted, e.g. /sys/fs/cgroup/memory, or /sys/fs/cgroup for v2.
    std::filesystem::path mount_point;
    /// Which cgroup of the hierarchy the mount shows at mount_point ("/" unless the
    /// mount is of a subtree, as inside some containers): /proc/PID/cgroup paths are
    /// relative to the hierarchy's root, so they are translated through this.
    std::string root = "/";
    /// The controllers it holds: v1 from the mount options ("cpu", "cpuacct"), v2 from
    /// the root's cgroup.controllers.
    std::vector<std::string> controllers;

    /// True when `controller` is attached to this hierarchy.
    [[nodiscard]] bool has(std::string_view controller) const;
};

/// The cgroup filesystems of this machine, as /proc/self/mountinfo lists them.
struct CgroupLayout {
    /// The v1 hierarchies that hold at least one controller (named hierarchies such as
    /// systemd's `name=systemd` hold none and are left out).
    std::vector<CgroupHierarchy> v1;
    /// The cgroup2 mount, if there is one.
    std::optional<CgroupHierarchy> v2;

    /// legacy, hybrid, unified or none.
    [[nodiscard]] CgroupMode mode() const;
    /// The interface Dockling uses here: v1 whenever v1 hierarchies hold the controllers
    /// (legacy and hybrid, as runc and Docker do), v2 on a unified machine.
    [[nodiscard]] CgroupVersion version() const;
    /// The hierarchy in use (see version()) that holds `controller`; nullptr if none.
    [[nodiscard]] const CgroupHierarchy* find(std::string_view controller) const;
    /// The hierarchies a container's cgroup is created in: on v1, each hierarchy holding
    /// one of the controllers Dockling uses; on v2, the unified one.
    [[nodiscard]] std::vector<CgroupHierarchy> container_hierarchies() const;
    /// Only the cgroup2 part of this layout, as if the machine were unified (used to test
    /// the v2 code on the cgroup2 tree of a hybrid machine).
    [[nodiscard]] CgroupLayout unified_only() const;
    /// One line for people: "hybrid: v1 controllers cpu cpuacct ... ; cgroup2 at ...".
    [[nodiscard]] std::string describe() const;
};

/// The v1 controllers Dockling places a container in. Each is a hierarchy of its own
/// unless they are co-mounted (cpu,cpuacct often are).
inline constexpr std::string_view v1_controllers[] = {"memory", "cpu", "cpuacct", "cpuset", "pids", "freezer"};
/// The v2 controllers Dockling enables for its containers (freezing is built into v2).
inline constexpr std::string_view v2_controllers[] = {"cpuset", "cpu", "memory", "pids"};

/// Reads the cgroup mounts out of the text of a mountinfo file (proc(5)). The v2
/// controllers are left empty: they are not in mountinfo (see detect_cgroup_layout()).
[[nodiscard]] CgroupLayout parse_cgroup_mounts(std::string_view mountinfo);

/// The layout of this machine: parse_cgroup_mounts() of /proc/self/mountinfo, with the
/// controllers of the cgroup2 mount read from its cgroup.controllers through `fs`.
[[nodiscard]] CgroupLayout detect_cgroup_layout(CgroupFs& fs = kernel_cgroupfs());

/// A layout with only a cgroup v2 hierarchy mounted at `mount_point` (controllers read
/// from its cgroup.controllers through `fs`): how tests point the code at a fake tree.
[[nodiscard]] CgroupLayout unified_layout(const std::filesystem::path& mount_point, CgroupFs& fs);

/// One line of /proc/PID/cgroup (cgroups(7)), "ID:CONTROLLERS:PATH": where the process
/// is in one hierarchy.
struct ProcessCgroup {
    std::vector<std::string> controllers;  ///< e.g. {"cpu", "cpuacct"}; empty on the v2 line
    std::string path;                      ///< e.g. "/dockling/3f2a..." (from the hierarchy's root)
};

/// Parses the text of /proc/PID/cgroup into one ProcessCgroup per line.
[[nodiscard]] std::vector<ProcessCgroup> parse_proc_cgroup(std::string_view text);

/// The directory of process `pid`'s cgroup in the hierarchy holding `controller` (in the
/// unified hierarchy when the layout is v2), as the kernel reports it in /proc/PID/cgroup.
/// Throws Error when the process or the controller is not there.
[[nodiscard]] std::filesystem::path process_cgroup_dir(const CgroupLayout& layout, pid_t pid,
                                                       std::string_view controller);

/// The words of `text`, split at whitespace: cgroup files list controllers and PIDs
/// that way ("cpu io memory\n" gives {"cpu", "io", "memory"}).
[[nodiscard]] std::vector<std::string> split_words(std::string_view text);

}  // namespace dockling
