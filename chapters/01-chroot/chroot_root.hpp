#pragma once
/// \file
/// Chapter 01's mechanism: the container's root is a directory, entered with chroot(2).

#include "mechanism.hpp"

namespace dockling {

/// Makes `--rootfs DIR` the container's `/` with chroot(2).
///
/// chroot changes only how this process resolves "/": the rest of the machine (other
/// processes, mounts, the network, the hostname) stays fully visible, and a root process
/// can leave the chroot again (this chapter's lab shows how). Chapter 02 replaces it with
/// pivot_root(2) inside a mount namespace.
class ChrootRoot : public Mechanism {
public:
    [[nodiscard]] std::string_view name() const override { return "chroot"; }
    /// Checks that the rootfs is given and is a directory; makes its path absolute.
    void prepare(ContainerSpec& spec) override;
    /// chroot(2) into the rootfs and chdir(2) to its "/".
    void in_child(const ContainerSpec& spec) override;
    /// Needs CAP_SYS_CHROOT.
    [[nodiscard]] std::vector<PreflightCheck> preflight() const override;
};

/// Checks that `rootfs` names an existing directory and returns its absolute path;
/// throws Error (exit 125) naming the problem otherwise.
std::filesystem::path checked_rootfs(const std::filesystem::path& rootfs);

}  // namespace dockling
