#pragma once
/// \file
/// What a container changed relative to its layers, as `docker diff` lists it.

#include "layer_view.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace dockling {

/// The kind of one change, with the letter `docker diff` prints for it.
enum class ChangeKind : char {
    added = 'A',    ///< the path did not exist in the layers
    changed = 'C',  ///< the path existed and was modified (or, for a directory, something in it)
    deleted = 'D',  ///< the path existed and was removed
};

/// One change: its kind and the path inside the container ("/etc/passwd").
struct Change {
    ChangeKind kind = ChangeKind::added;
    std::string path;
    bool operator==(const Change&) const = default;
};

/// The changes an overlay container made, read from its upper directory.
///
/// Everything in `upper` is a change: a whiteout is a deletion, anything else is an
/// addition when the layers (`lower`) do not have the path and a change when they do.
/// A directory that hides the layers' contents (opaque) also deletes every name it had
/// below that the upper directory does not bring back. Deleted directories are listed
/// once, not with their contents. The result is in path order (PathOrder).
[[nodiscard]] std::vector<Change> changes_in_upper(const std::filesystem::path& upper, const LayerView& lower);

/// The changes of a container whose root is a full copy (the vfs driver): `root`
/// compared with the layers entry by entry (type, owner, mode, size, times, link
/// target), as Docker's naive differ does. A directory is listed as changed when its
/// own metadata changed or anything beneath it did.
[[nodiscard]] std::vector<Change> changes_between(const LayerView& lower, const std::filesystem::path& root);

/// The changes as `docker diff` prints them: one "K /path" line each.
[[nodiscard]] std::string format_changes(const std::vector<Change>& changes);

}  // namespace dockling
