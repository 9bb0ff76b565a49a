#include "pivot_root.hpp"

#include "chroot_root.hpp"
#include "doctor.hpp"
#include "error.hpp"
#include "mounts.hpp"
#include "namespaces.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace dockling {

void PivotRoot::prepare(ContainerSpec& spec) { spec.rootfs = checked_rootfs(spec.rootfs); }

//! [pivot-root-in-child]
void PivotRoot::in_child(const ContainerSpec& spec)
{
    // The new mount namespace is a copy of the host's, propagation included: were the
    // host's / shared (systemd makes it so), our mounts would appear on the host.
    make_mounts_private();
    // pivot_root(2) wants the new root to be a mount point: bind the rootfs onto itself.
    bind_mount(spec.rootfs, spec.rootfs, MS_REC);
    mount_proc(mount_point(spec.rootfs, "proc"));
    fs::path dev = mount_point(spec.rootfs, "dev");
    mount_dev(dev, options_.user_namespace ? DeviceNodes::bind_from_host : DeviceNodes::create);
    if (options_.privileged) {
        copy_host_devices(dev);
    }
    mount_sys(mount_point(spec.rootfs, "sys"), !options_.privileged);

    switch_root(spec.rootfs);

    if (!options_.privileged) {
        for (std::string_view path : docker_masked_paths) {
            mask_path(path);
        }
        for (std::string_view path : docker_read_only_paths) {
            make_read_only(path);
        }
    }
}
//! [pivot-root-in-child]

void switch_root(const fs::path& rootfs)
{
    // EXERCISE 2.1 BEGIN: pivot_root into the rootfs
    //   hint: chdir into rootfs; pivot_root(".", ".") (syscall(SYS_pivot_root, ...)) stacks the old root on top of the new one;
    //   hint: umount2(".", MNT_DETACH) takes the old root away; chdir("/") to stand in the new root.
    check(::chdir(rootfs.c_str()), "chdir", rootfs.string());
    // With both arguments ".", the old root ends up mounted on top of the new one, at
    // "/". No directory for it is needed inside the rootfs, so none is left behind.
    check(::syscall(SYS_pivot_root, ".", "."), "pivot_root", rootfs.string());
    // Detach the old root: from now on nothing of the host's tree is reachable here.
    check(::umount2(".", MNT_DETACH), "unmount the old root at", rootfs.string());
    check(::chdir("/"), "chdir", "/");
    // EXERCISE 2.1 STUB
    //: // Chapter 01's way, kept so that containers still start: their root moves, but the
    //: // host's root is still mounted in their namespace, and chapter 01's escape reaches it.
    //: check(::chroot(rootfs.c_str()), "chroot", rootfs.string());
    //: check(::chdir("/"), "chdir", "/");
    // EXERCISE 2.1 END
}

namespace {

/// The propagation of the host's "/" mount, from its optional fields in mountinfo.
std::string root_propagation()
{
    std::istringstream mounts(read_small_file("/proc/self/mountinfo"));
    for (std::string line; std::getline(mounts, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, mount_point;
        fields >> id >> parent >> device >> root >> mount_point;
        if (mount_point == "/") {
            return line.find(" shared:") != std::string::npos ? "shared" : "private";
        }
    }
    return "unknown";
}

/// Tries, in a throwaway child, a private mount namespace: what in_child() does first.
bool private_mounts_work()
{
    return succeeds_in_child([] {
        return ::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
    });
}

/// Tries, in a throwaway child, what switch_root() does: pivot_root into a tmpfs
/// mounted in a private mount namespace, and the old root detached.
bool pivot_root_works()
{
    char dir[] = "/tmp/dockling-doctor-XXXXXX";
    if (::mkdtemp(dir) == nullptr) {
        return false;
    }
    bool ok = succeeds_in_child([&dir] {
        return ::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
               ::mount("tmpfs", dir, "tmpfs", 0, nullptr) == 0 && ::chdir(dir) == 0 &&
               ::syscall(SYS_pivot_root, ".", ".") == 0 && ::umount2(".", MNT_DETACH) == 0;
    });
    ::rmdir(dir);  // the tmpfs on it lived in the child's namespace only
    return ok;
}

}  // namespace

std::vector<PreflightCheck> PivotRoot::preflight() const
{
    auto pivot = [] {
        bool ok = pivot_root_works();
        return CheckResult{ok, ok ? "works in a private mount namespace" : "failed in a private mount namespace",
                           "run as root (CAP_SYS_ADMIN), on a kernel with mount namespaces"};
    };
    auto propagation = [] {
        bool ok = private_mounts_work();
        return CheckResult{ok, "/ is " + root_propagation() + " here; a container's copy can be made private",
                           "run as root (CAP_SYS_ADMIN), on a kernel with mount namespaces"};
    };
    return {{2, "pivot_root", pivot}, {2, "mount propagation", propagation}};
}

}  // namespace dockling
