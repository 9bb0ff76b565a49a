#pragma once
/// \file
/// What a stack of read-only layers shows when they are merged, computed in memory.

#include "tree.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace dockling {

/// The merged view of read-only layers, as overlayfs would show it, without mounting.
///
/// Layers are directories in overlayfs's own form: a whiteout (character device 0/0)
/// deletes the name from the layers below, and a directory marked opaque
/// (trusted.overlay.opaque = "y") hides the contents the layers below had there. The
/// view records, for every visible path, which layer provides it. `diff` uses it to
/// tell an added file from a changed one, and the vfs driver copies layers through it.
class LayerView {
public:
    /// One visible entry: the layer it comes from and its lstat there.
    struct Entry {
        size_t layer = 0;     ///< index into layers(), 0 = lowest
        struct stat st {};    ///< lstat of the entry in that layer
    };

    /// Reads `layers` (lowest first) and merges them. Throws Error when one is unreadable.
    explicit LayerView(std::vector<std::filesystem::path> layers);

    /// The layers, lowest first.
    [[nodiscard]] const std::vector<std::filesystem::path>& layers() const noexcept { return layers_; }

    /// The visible entry at `relative` ("etc/passwd"), or nullptr when there is none.
    [[nodiscard]] const Entry* find(std::string_view relative) const;

    /// Where the visible entry at `relative` really is on disk.
    [[nodiscard]] std::filesystem::path source(std::string_view relative) const;

    /// The names visible directly in directory `relative` ("" for the root), sorted.
    [[nodiscard]] std::vector<std::string> children(std::string_view relative) const;

    /// Every visible entry, parents before children, keyed by relative path.
    [[nodiscard]] const std::map<std::string, Entry, PathOrder>& entries() const noexcept { return entries_; }

private:
    void merge_layer(size_t index);
    void merge_directory(size_t index, const std::filesystem::path& dir, const std::string& relative);
    void erase_beneath(const std::string& relative);

    std::vector<std::filesystem::path> layers_;
    std::map<std::string, Entry, PathOrder> entries_;
};

/// `parent/name` for relative paths, where the root is "".
[[nodiscard]] std::string join_relative(std::string_view parent, std::string_view name);

}  // namespace dockling
