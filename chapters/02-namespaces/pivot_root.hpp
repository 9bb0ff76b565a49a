#pragma once
/// \file
/// Chapter 02's root: pivot_root(2) into the rootfs inside the container's own mount
/// namespace, with a /proc, /dev and /sys of its own. Replaces chapter 01's ChrootRoot.

#include "isolation.hpp"
#include "mechanism.hpp"

#include <filesystem>

namespace dockling {

/// Makes `--rootfs DIR` the container's `/` with pivot_root(2).
///
/// chroot(2) only changed where one process's "/" starts, and a root process could
/// climb out again (chapter 01's escape). Here the container has its own mount
/// namespace; the rootfs becomes the root *mount* of that namespace, and the host's
/// root is unmounted from it: there is no path left that leads out. Before the switch
/// the container gets /proc, /dev and /sys; after it, Docker's masked and read-only
/// paths (none for `--privileged`).
class PivotRoot : public Mechanism {
public:
    /// `options` is shared with the other chapter-02 mechanisms; it must outlive this.
    explicit PivotRoot(const IsolationOptions& options) : options_(options) {}

    [[nodiscard]] std::string_view name() const override { return "pivot_root"; }
    /// Checks that the rootfs is given and is a directory (chapter 01's checked_rootfs()).
    void prepare(ContainerSpec& spec) override;
    /// Makes the mounts private, mounts /proc, /dev and /sys into the rootfs, switches
    /// to it, then masks and write-protects Docker's paths.
    void in_child(const ContainerSpec& spec) override;
    /// Can this machine pivot_root in a private mount namespace?
    [[nodiscard]] std::vector<PreflightCheck> preflight() const override;

private:
    const IsolationOptions& options_;
};

/// Makes `rootfs` (a mount point) this process's `/` with pivot_root(2) and detaches the
/// old root, so that nothing of the host's filesystem stays reachable. Must run in a
/// mount namespace of the container's own, whose mounts are private.
void switch_root(const std::filesystem::path& rootfs);

}  // namespace dockling
