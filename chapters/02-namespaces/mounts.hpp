#pragma once
/// \file
/// The mounts a container's root gets: /proc, /dev, /sys, and Docker's masked and
/// read-only paths. All of them are made in the container's own mount namespace.

#include <array>
#include <filesystem>
#include <string_view>

namespace dockling {

/// mount(2) of a filesystem of `type` (proc, tmpfs, sysfs...) on `target`, with
/// MS_* `flags` and filesystem `options` ("mode=755"); throws Error
/// ("mount proc on /srv/rootfs/proc: No such file or directory").
void mount_filesystem(const char* type, const std::filesystem::path& target, unsigned long flags,
                      const char* options = nullptr);

/// Makes `source` visible at `target` too (MS_BIND, plus `flags` such as MS_REC).
void bind_mount(const std::filesystem::path& source, const std::filesystem::path& target,
                unsigned long flags = 0);

/// Makes the bind mount at `target` read-only, keeping its nosuid, nodev and noexec.
void remount_read_only(const std::filesystem::path& target);

/// Makes every mount of this mount namespace private, so that nothing mounted or
/// unmounted here propagates to the host (or from it).
void make_mounts_private();

/// `rootfs/name`, created as a directory when it is missing. Refuses a symbolic link:
/// the rootfs is the container's, and a link there could aim a mount anywhere.
std::filesystem::path mount_point(const std::filesystem::path& rootfs, const char* name);

/// A fresh procfs on `target`: it shows the processes of the PID namespace of the
/// process that mounts it, so this must run in the container's process.
void mount_proc(const std::filesystem::path& target);

/// How /dev gets its device nodes.
enum class DeviceNodes {
    create,          ///< mknod(2), as root on the host may
    bind_from_host,  ///< bind-mount the host's nodes: in a user namespace mknod is refused
};

/// A device node of Docker's minimal /dev: /dev/NAME is character device MAJOR:MINOR.
struct DeviceNode {
    const char* name;  ///< its name in /dev
    unsigned major;    ///< the driver
    unsigned minor;    ///< the device of that driver
};

/// The character devices every Docker container gets.
inline constexpr std::array<DeviceNode, 6> docker_device_nodes{{
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}}};

/// Docker's minimal /dev on `dev`: a small tmpfs with docker_device_nodes, a private
/// devpts on /dev/pts (and /dev/ptmx pointing into it), tmpfs /dev/shm, /dev/mqueue,
/// and the links fd, stdin, stdout and stderr into /proc/self/fd.
void mount_dev(const std::filesystem::path& dev, DeviceNodes how);

/// For `--privileged`: gives /dev (at `dev`) a node for every device of the host's /dev.
void copy_host_devices(const std::filesystem::path& dev);

/// sysfs on `target`, read-only unless `read_only` is false (`--privileged`).
void mount_sys(const std::filesystem::path& target, bool read_only);

/// The paths Docker hides from a container: kernel memory, keys, timers, firmware.
inline constexpr std::array<std::string_view, 12> docker_masked_paths{
    "/proc/acpi",      "/proc/asound",     "/proc/interrupts", "/proc/kcore",
    "/proc/keys",      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
    "/proc/sched_debug", "/proc/scsi",     "/sys/firmware",    "/sys/devices/virtual/powercap"};

/// The paths Docker leaves readable but not writable: the kernel's knobs.
inline constexpr std::array<std::string_view, 5> docker_read_only_paths{
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

/// Hides `path`: a file gets /dev/null mounted over it, a directory an empty read-only
/// tmpfs. A path this kernel does not have is left alone.
void mask_path(const std::filesystem::path& path);

/// Makes `path` (and what is mounted below it) read-only with a bind mount onto itself.
/// A path this kernel does not have is left alone.
void make_read_only(const std::filesystem::path& path);

}  // namespace dockling
