#pragma once
/// \file
/// `--userns`: the container's root is root only inside its own user namespace.

#include "isolation.hpp"
#include "mechanism.hpp"
#include "settings.hpp"

#include <sys/types.h>

#include <string>

namespace dockling {

/// One line of a uid_map or gid_map: ids `inside` .. `inside + count - 1` of the new
/// user namespace are ids `outside` .. `outside + count - 1` of the parent's.
struct IdMapping {
    unsigned inside = 0;   ///< the first id as the container sees it
    unsigned outside = 0;  ///< the same id as the host sees it
    unsigned count = 1;    ///< how many consecutive ids the line maps
};

/// The line for /proc/PID/uid_map or gid_map: "INSIDE OUTSIDE COUNT\n".
[[nodiscard]] std::string id_map_line(const IdMapping& mapping);

/// The host ids a `--userns` container started by root gets, from the config file's
/// `"userns-range": "START:COUNT"` (default 100000:65536): container id 0 is host id
/// START. Throws Error for a malformed value or one that would include host id 0.
[[nodiscard]] IdMapping userns_range(const Settings& settings);

/// Writes the uid and gid maps of the paused child `pid`, which is in a new user
/// namespace. `deny_setgroups` first writes "deny" to /proc/PID/setgroups, which the
/// kernel demands before an unprivileged caller may write a gid map.
void write_id_maps(pid_t pid, const IdMapping& uids, const IdMapping& gids, bool deny_setgroups);

/// `--userns`: a new user namespace in which the container's root is an unprivileged
/// id of the host.
///
/// Run by root, the container's ids 0-65535 are the host's 100000-165535 (see
/// userns_range()); run by another user, the container's root is that user. Root in
/// the container then has every capability, but only over what its namespaces own:
/// files of the host still see an unprivileged user. Docker does the same with its
/// daemon's `userns-remap` setting. The rootfs, and the directories above it, must be
/// reachable by that user.
class UserNamespace : public Mechanism {
public:
    /// `options` is shared with the other chapter-02 mechanisms; `settings` gives the
    /// configured id range. Both must outlive this.
    UserNamespace(IsolationOptions& options, const Settings& settings) : options_(options), settings_(settings) {}

    [[nodiscard]] std::string_view name() const override { return "user namespace"; }
    /// Adds `--userns`.
    void add_run_options(CLI::App& run, ContainerSpec& spec) override;
    /// Refuses what Docker refuses with user namespaces; chooses the id maps.
    void prepare(ContainerSpec& spec) override;
    /// CLONE_NEWUSER with `--userns`.
    [[nodiscard]] unsigned long clone_flags(const ContainerSpec& spec) const override;
    /// Writes the paused child's uid and gid maps.
    void after_clone(const ContainerSpec& spec, pid_t child) override;
    /// Becomes uid 0 and gid 0 of the new namespace. Must come before the other
    /// mechanisms' in_child(): the kernel lets a process create files (in /dev, say) in
    /// the namespace's filesystems only once its own ids are mapped there.
    void in_child(const ContainerSpec& spec) override;
    /// Can this machine create user namespaces?
    [[nodiscard]] std::vector<PreflightCheck> preflight() const override;

private:
    IsolationOptions& options_;
    const Settings& settings_;
    IdMapping uids_, gids_;
    bool deny_setgroups_ = false;
};

}  // namespace dockling
