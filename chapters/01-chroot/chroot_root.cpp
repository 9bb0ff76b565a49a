#include "chroot_root.hpp"

#include "doctor.hpp"
#include "error.hpp"

#include <linux/capability.h>
#include <unistd.h>

#include <system_error>

namespace dockling {

std::filesystem::path checked_rootfs(const std::filesystem::path& rootfs)
{
    if (rootfs.empty()) {
        throw Error("no root filesystem: give one with --rootfs DIR");
    }
    std::error_code ec;
    auto status = std::filesystem::status(rootfs, ec);
    if (ec) {
        throw Error("rootfs", rootfs.string(), ec.value());
    }
    if (!std::filesystem::is_directory(status)) {
        throw Error("rootfs " + rootfs.string() + ": not a directory");
    }
    return std::filesystem::absolute(rootfs).lexically_normal();
}

void ChrootRoot::prepare(ContainerSpec& spec) { spec.rootfs = checked_rootfs(spec.rootfs); }

//! [chroot]
void ChrootRoot::in_child(const ContainerSpec& spec)
{
    check(::chroot(spec.rootfs.c_str()), "chroot", spec.rootfs.string());
    // chroot does not move the current directory: without this chdir the process
    // would still stand in the host's tree, outside its new root.
    check(::chdir("/"), "chdir", "/");
}
//! [chroot]

std::vector<PreflightCheck> ChrootRoot::preflight() const
{
    auto probe = [] {
        bool ok = has_effective_capability(CAP_SYS_CHROOT);
        return CheckResult{ok, ok ? "CAP_SYS_CHROOT is effective" : "CAP_SYS_CHROOT is missing",
                           "run as root, outside a container that dropped CAP_SYS_CHROOT"};
    };
    return {{1, "chroot", probe}};
}

}  // namespace dockling
