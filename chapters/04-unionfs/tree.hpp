#pragma once
/// \file
/// Directory trees on disk: their entries in a stable order, their metadata (owner, mode,
/// extended attributes, times), copying one entry, and removing a tree safely.

#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace dockling {

/// One extended attribute of a file ("user.comment" = "hello").
struct Xattr {
    std::string name;   ///< with its namespace: "user.", "trusted.", "security."
    std::string value;  ///< the raw bytes
    bool operator==(const Xattr&) const = default;
};

/// Orders relative paths the way a depth-first walk meets them: by component, so that
/// "a", "a/x" and "a-b" come in that order (a plain string compare would put "a-b"
/// between "a" and "a/x", since '-' sorts before '/'). A directory always comes before
/// everything beneath it.
struct PathOrder {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept;
};

/// lstat(2): the entry itself, never what a symlink points to. Throws Error on failure.
[[nodiscard]] struct stat lstat_path(const std::filesystem::path& path);

/// The names in directory `dir` (without "." and ".."), sorted bytewise.
[[nodiscard]] std::vector<std::string> sorted_entries(const std::filesystem::path& dir);

/// The extended attributes of `path` itself (never following a symlink), sorted by name.
[[nodiscard]] std::vector<Xattr> read_xattrs(const std::filesystem::path& path);

/// True for the attributes overlayfs keeps for itself ("trusted.overlay.*"): they
/// describe one overlay mount's bookkeeping and never travel into another layer.
[[nodiscard]] bool is_overlay_xattr(std::string_view name) noexcept;

/// The xattr that marks an overlayfs directory as opaque: lower layers' contents of
/// this directory are hidden.
inline constexpr std::string_view opaque_xattr = "trusted.overlay.opaque";

/// True when `st` is overlayfs's whiteout: a character device with device number 0/0.
[[nodiscard]] bool is_whiteout(const struct stat& st) noexcept;

/// True when `dir` carries trusted.overlay.opaque = "y".
[[nodiscard]] bool is_opaque_dir(const std::filesystem::path& dir);

/// Creates `to` as a copy of the entry `from` (whose lstat is `st`): a directory (empty),
/// a regular file with the same contents, a symlink with the same target, or a device
/// node or FIFO with the same number. Metadata is copied by copy_metadata().
void copy_node(const std::filesystem::path& from, const struct stat& st, const std::filesystem::path& to);

/// Gives `to` the owner, mode and extended attributes (except overlayfs's own) of
/// `from`, and its access and modification times when `times` is true.
void copy_metadata(const std::filesystem::path& from, const struct stat& st, const std::filesystem::path& to,
                   bool times = true);

/// Sets the access and modification times of `path` itself to those in `st`.
void set_times(const std::filesystem::path& path, const struct stat& st);

/// True when `path` is the root of a mount (its device differs from its parent's, or
/// mountinfo lists it).
[[nodiscard]] bool is_mount_point(const std::filesystem::path& path);

/// Removes `path` and everything beneath it, like `rm -rf --one-file-system`: it never
/// follows a symlink and refuses (throws Error) to descend into another mount, so a
/// forgotten mount can never make it delete what lies beneath that mount.
void remove_tree(const std::filesystem::path& path);

}  // namespace dockling
