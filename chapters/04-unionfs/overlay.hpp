#pragma once
/// \file
/// overlayfs: read-only layers and one writable layer, mounted as one directory tree.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace dockling {

/// overlayfs stacks at most this many read-only layers (OVL_MAX_STACK in the kernel).
inline constexpr size_t max_overlay_layers = 500;

/// The directories of one overlay mount.
struct OverlayDirs {
    /// The read-only layers, lowest first (the order `--layer` flags and image
    /// manifests give them in; overlayfs wants the opposite order).
    std::vector<std::filesystem::path> lower;
    /// The writable layer: every change lands here.
    std::filesystem::path upper;
    /// overlayfs's scratch directory, on the same filesystem as `upper`.
    std::filesystem::path work;
};

/// `path` escaped for overlayfs's option parser: a backslash before every ',', ':'
/// and '\', which would otherwise separate options or layers.
[[nodiscard]] std::string escape_overlay_path(std::string_view path);

/// The mount options for `dirs`: "lowerdir=TOP:...:BOTTOM,upperdir=UPPER,workdir=WORK".
[[nodiscard]] std::string overlay_options(const OverlayDirs& dirs);

/// The longest option string mount(2) accepts: it copies at most one page, and the
/// string needs its terminating NUL in it.
[[nodiscard]] size_t mount_options_limit();

/// Mount options for `dirs` short enough for many layers.
///
/// Makes the directory `base`/l with one symlink per layer, named by the layer's
/// index ("0" for the lowest), and returns the options with every path relative to
/// `base` ("lowerdir=l/2:l/1:l/0,upperdir=upper,workdir=work"). `base` must contain
/// `dirs.upper` and `dirs.work`; the mount must then be made with `base` as the
/// current directory, since the kernel resolves relative paths from there.
[[nodiscard]] std::string compact_overlay_options(const std::filesystem::path& base, const OverlayDirs& dirs);

/// The operation of the Error mount_overlay() throws when the kernel refuses the mount
/// (as opposed to the layers being too many): "mount overlay on TARGET: No such device".
inline constexpr std::string_view mount_overlay_operation = "mount overlay on";

/// Mounts the overlay of `dirs` on `target` (an absolute path).
///
/// When the options with the layers' full paths do not fit in one page, it uses
/// compact_overlay_options() in `base` and mounts from there. Throws Error naming the
/// limit when there are too many layers, and `mount overlay on TARGET: ...` when the
/// kernel refuses.
void mount_overlay(const std::filesystem::path& target, const OverlayDirs& dirs, const std::filesystem::path& base);

/// Detaches whatever is mounted on `path`, if anything. Lazily (MNT_DETACH): the mount
/// leaves the mount table at once, even if a process still uses it. Returns false
/// (and never throws) when it could not.
bool unmount(const std::filesystem::path& path) noexcept;

/// True when /proc/filesystems lists overlay (built in, or its module loaded).
[[nodiscard]] bool overlay_in_proc_filesystems();

/// Tries a real overlay mount with its upper layer on the filesystem of `dir` (in a
/// scratch directory it removes again). Returns "" when it worked, else the error.
[[nodiscard]] std::string try_overlay_mount_in(const std::filesystem::path& dir);

}  // namespace dockling
