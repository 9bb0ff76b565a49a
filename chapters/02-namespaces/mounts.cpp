#include "mounts.hpp"

#include "error.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace fs = std::filesystem;

namespace dockling {

namespace {

/// mkdir(2) that accepts an existing directory.
void make_directory(const fs::path& path, mode_t mode)
{
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
        throw_errno("mkdir", path.string());
    }
}

void make_symlink(const char* target, const fs::path& link)
{
    check(::symlink(target, link.c_str()), "symlink", link.string());
}

/// /dev/NAME as a real character device.
void make_device_node(const fs::path& dev, const DeviceNode& node)
{
    fs::path path = dev / node.name;
    check(::mknod(path.c_str(), S_IFCHR | 0666, makedev(node.major, node.minor)), "mknod", path.string());
    check(::chmod(path.c_str(), 0666), "chmod", path.string());  // mknod's mode went through the umask
}

/// /dev/NAME as the host's node, bind-mounted onto an empty file.
void bind_host_device(const fs::path& dev, const DeviceNode& node)
{
    fs::path path = dev / node.name;
    UniqueFd placeholder(check(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666), "create", path.string()));
    bind_mount(fs::path("/dev") / node.name, path);
}

}  // namespace

void mount_filesystem(const char* type, const fs::path& target, unsigned long flags, const char* options)
{
    if (::mount(type, target.c_str(), type, flags, options) != 0) {
        throw_errno(std::string("mount ") + type + " on", target.string());
    }
}

void bind_mount(const fs::path& source, const fs::path& target, unsigned long flags)
{
    if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | flags, nullptr) != 0) {
        throw_errno("bind-mount " + source.string() + " on", target.string());
    }
}

void remount_read_only(const fs::path& target)
{
    // A remount replaces the mount's flags: keep the ones it has (in a user namespace
    // the kernel even refuses to drop them), and add read-only.
    struct statvfs now {};
    check(::statvfs(target.c_str(), &now), "statvfs", target.string());
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
    for (auto [has, keep] : {std::pair{ST_NOSUID, MS_NOSUID}, {ST_NODEV, MS_NODEV}, {ST_NOEXEC, MS_NOEXEC}}) {
        if (now.f_flag & has) {
            flags |= keep;
        }
    }
    if (::mount(nullptr, target.c_str(), nullptr, flags, nullptr) != 0) {
        throw_errno("remount read-only", target.string());
    }
}

void make_mounts_private()
{
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        throw_errno("make private the mounts under", "/");
    }
}

fs::path mount_point(const fs::path& rootfs, const char* name)
{
    fs::path path = rootfs / name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno != ENOENT) {
            throw_errno("stat", path.string());
        }
        make_directory(path, 0755);
    } else if (S_ISLNK(st.st_mode)) {
        throw Error("rootfs " + path.string() + " is a symbolic link: dockling mounts only on what is inside the rootfs");
    }
    return path;
}

//! [mount-proc]
void mount_proc(const fs::path& target)
{
    // A new procfs belongs to the PID namespace of the process that mounts it: this
    // one lists the container's processes only, numbered as the container sees them.
    mount_filesystem("proc", target, MS_NOSUID | MS_NODEV | MS_NOEXEC);
}
//! [mount-proc]

//! [mount-dev]
void mount_dev(const fs::path& dev, DeviceNodes how)
{
    mount_filesystem("tmpfs", dev, MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
    for (const DeviceNode& node : docker_device_nodes) {
        how == DeviceNodes::create ? make_device_node(dev, node) : bind_host_device(dev, node);
    }
    // A devpts of its own ("newinstance"): the container sees only its own terminals.
    // Group 5 is "tty" in most images; it only exists when the user namespace maps it.
    make_directory(dev / "pts", 0755);
    mount_filesystem("devpts", dev / "pts", MS_NOSUID | MS_NOEXEC,
                     how == DeviceNodes::create ? "newinstance,ptmxmode=0666,mode=0620,gid=5"
                                                : "newinstance,ptmxmode=0666,mode=0620");
    make_symlink("pts/ptmx", dev / "ptmx");
    make_directory(dev / "shm", 01777);
    mount_filesystem("tmpfs", dev / "shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
    make_directory(dev / "mqueue", 0755);
    mount_filesystem("mqueue", dev / "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC);
    make_symlink("/proc/self/fd", dev / "fd");
    make_symlink("/proc/self/fd/0", dev / "stdin");
    make_symlink("/proc/self/fd/1", dev / "stdout");
    make_symlink("/proc/self/fd/2", dev / "stderr");
}
//! [mount-dev]

void copy_host_devices(const fs::path& dev)
{
    std::error_code ec;
    auto options = fs::directory_options::skip_permission_denied;
    for (auto it = fs::recursive_directory_iterator("/dev", options, ec); !ec && it != fs::end(it); it.increment(ec)) {
        fs::path relative = it->path().lexically_relative("/dev");
        if (relative == "pts" || relative == "shm" || relative == "mqueue") {
            it.disable_recursion_pending();  // filesystems of their own, mounted above
            continue;
        }
        struct stat st {};
        fs::path inside = dev / relative;
        if (::lstat(it->path().c_str(), &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) ||
            ::access(inside.c_str(), F_OK) == 0) {
            continue;  // not a device, or one the container already has
        }
        fs::create_directories(inside.parent_path());
        check(::mknod(inside.c_str(), st.st_mode, st.st_rdev), "mknod", inside.string());
        check(::chmod(inside.c_str(), st.st_mode & 07777), "chmod", inside.string());
        check(::chown(inside.c_str(), st.st_uid, st.st_gid), "chown", inside.string());
    }
    if (ec) {
        throw Error("read the host's devices in /dev", "", ec.value());
    }
}

void mount_sys(const fs::path& target, bool read_only)
{
    mount_filesystem("sysfs", target, MS_NOSUID | MS_NODEV | MS_NOEXEC | (read_only ? MS_RDONLY : 0));
}

//! [mask]
void mask_path(const fs::path& path)
{
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            return;  // this kernel has no such file: nothing to hide
        }
        throw_errno("stat", path.string());
    }
    if (S_ISDIR(st.st_mode)) {
        mount_filesystem("tmpfs", path, MS_RDONLY);  // an empty directory, forever
    } else {
        bind_mount("/dev/null", path);  // reads nothing, and writes go nowhere
    }
}

void make_read_only(const fs::path& path)
{
    if (::access(path.c_str(), F_OK) != 0) {
        return;
    }
    bind_mount(path, path, MS_REC);  // a mount of its own, whose flags we may change...
    remount_read_only(path);         // ...to read-only
}
//! [mask]

}  // namespace dockling
