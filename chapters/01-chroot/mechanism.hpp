#pragma once
/// \file
/// The runtime's extension point: how each chapter plugs its mechanism in.

#include "spec.hpp"

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace dockling {

struct PreflightCheck;

//! [mechanism]
/// One kernel mechanism a chapter adds to the runtime (chroot, namespaces, cgroups...).
///
/// The runtime calls the hooks of every mechanism, in the order they were added, at
/// fixed points of a container's life:
///
///     parent: add_run_options -> prepare -> clone_flags -> [clone] -> after_clone
///     child:                                  in_child ... in_child -> exec
///     parent:                                 [wait] -> after_exit -> cleanup (reverse order)
///
/// The child is created paused: it runs in_child() only after every mechanism's
/// after_clone() returned, so the parent can place it in a cgroup or write its uid map
/// before it runs a single instruction of its own. Every hook has a do-nothing default;
/// a mechanism overrides only the points it needs.
class Mechanism {
public:
    virtual ~Mechanism() = default;

    /// A short name for messages ("chroot", "namespaces").
    [[nodiscard]] virtual std::string_view name() const = 0;

    /// Adds the `run` flags this mechanism owns (chapter 03 adds `--memory`).
    virtual void add_run_options(CLI::App& run, ContainerSpec& spec);

    /// Parent, before the child exists: check flags, fill in the spec, create resources.
    virtual void prepare(ContainerSpec& spec);

    /// The clone(2) flags this mechanism needs (chapter 02: CLONE_NEWPID and friends).
    [[nodiscard]] virtual unsigned long clone_flags(const ContainerSpec& spec) const;

    /// Parent, once the paused child exists: act on it by PID.
    virtual void after_clone(const ContainerSpec& spec, pid_t child);

    /// Child, before exec: change what the process sees (its root, its mounts...).
    virtual void in_child(const ContainerSpec& spec);

    /// Parent, after the child ended: inspect or amend how it ended.
    virtual void after_exit(const ContainerSpec& spec, ExitInfo& exit);

    /// Parent, always, after prepare() succeeded: undo whatever prepare() created.
    /// Runs in reverse order, also when the run failed; must not throw.
    virtual void cleanup(const ContainerSpec& spec) noexcept;

    /// What this mechanism needs from the machine, for `dockling doctor`.
    [[nodiscard]] virtual std::vector<PreflightCheck> preflight() const;
};
//! [mechanism]

}  // namespace dockling
