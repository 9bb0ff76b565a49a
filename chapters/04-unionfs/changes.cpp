#include "changes.hpp"

#include "error.hpp"

#include <algorithm>

namespace dockling {

namespace {

/// Puts changes in the order of a depth-first walk, as `docker diff` lists them.
void sort_by_path(std::vector<Change>& changes)
{
    std::sort(changes.begin(), changes.end(),
              [](const Change& a, const Change& b) { return PathOrder{}(a.path, b.path); });
}

/// Docker's rule for "did this entry change?": type and permissions, owner, device
/// number, and for everything but directories size, modification time and link target.
/// A directory's size and time change whenever a name in it does, which says nothing
/// about the directory itself: its children report those changes.
bool differs(const struct stat& before, const std::filesystem::path& was, const struct stat& now,
             const std::filesystem::path& is)
{
    if (before.st_mode != now.st_mode || before.st_uid != now.st_uid || before.st_gid != now.st_gid ||
        before.st_rdev != now.st_rdev) {
        return true;
    }
    if (S_ISDIR(now.st_mode)) {
        return false;
    }
    if (before.st_size != now.st_size || before.st_mtim.tv_sec != now.st_mtim.tv_sec ||
        before.st_mtim.tv_nsec != now.st_mtim.tv_nsec) {
        return true;
    }
    return S_ISLNK(now.st_mode) && std::filesystem::read_symlink(was) != std::filesystem::read_symlink(is);
}

/// Lists everything beneath the new directory `relative` of `root` as added.
void add_all_beneath(const std::filesystem::path& root, const std::string& relative, std::vector<Change>& changes)
{
    for (const auto& name : sorted_entries(root / relative)) {
        std::string path = join_relative(relative, name);
        changes.push_back({ChangeKind::added, "/" + path});
        if (S_ISDIR(lstat_path(root / path).st_mode)) {
            add_all_beneath(root, path, changes);
        }
    }
}

/// Compares directory `relative` of `root` with the layers; returns true when anything
/// in it changed.
bool compare_directory(const LayerView& lower, const std::filesystem::path& root, const std::string& relative,
                       std::vector<Change>& changes)
{
    std::vector<std::string> names = sorted_entries(root / relative);
    bool changed_inside = false;
    for (const auto& name : lower.children(relative)) {
        if (!std::binary_search(names.begin(), names.end(), name)) {
            changes.push_back({ChangeKind::deleted, "/" + join_relative(relative, name)});
            changed_inside = true;
        }
    }
    for (const auto& name : names) {
        std::string path = join_relative(relative, name);
        struct stat now = lstat_path(root / path);
        const LayerView::Entry* before = lower.find(path);
        if (before == nullptr) {
            changes.push_back({ChangeKind::added, "/" + path});
            if (S_ISDIR(now.st_mode)) {
                add_all_beneath(root, path, changes);
            }
            changed_inside = true;
            continue;
        }
        bool changed = differs(before->st, lower.source(path), now, root / path);
        if (S_ISDIR(now.st_mode) && S_ISDIR(before->st.st_mode)) {
            changed = compare_directory(lower, root, path, changes) || changed;
        } else if (S_ISDIR(now.st_mode)) {
            add_all_beneath(root, path, changes);
        }
        if (changed) {
            changes.push_back({ChangeKind::changed, "/" + path});
            changed_inside = true;
        }
    }
    return changed_inside;
}

}  // namespace

std::vector<Change> changes_in_upper(const std::filesystem::path& upper, const LayerView& lower)
{
    // EXERCISE 4.3 BEGIN: listing a container's changes from its upper directory
    //   hint: walk upper (sorted_entries, lstat_path): a whiteout (is_whiteout) is 'D'; anything else is 'C' when
    //   hint: lower.find(path) has it, else 'A'. In an opaque directory (is_opaque_dir), every name of
    //   hint: lower.children(dir) that upper lacks is 'D' too. Paths start with '/'; finish with sort_by_path.
    std::vector<Change> changes;
    std::vector<std::string> pending{""};  // directories of upper still to read, relative to it
    while (!pending.empty()) {
        std::string dir = std::move(pending.back());
        pending.pop_back();
        std::vector<std::string> names = sorted_entries(upper / dir);
        if (is_opaque_dir(upper / dir)) {
            // Removed and made again: what the layers had here is gone unless rewritten.
            for (const auto& name : lower.children(dir)) {
                if (!std::binary_search(names.begin(), names.end(), name)) {
                    changes.push_back({ChangeKind::deleted, "/" + join_relative(dir, name)});
                }
            }
        }
        for (const auto& name : names) {
            std::string path = join_relative(dir, name);
            struct stat st = lstat_path(upper / path);
            if (is_whiteout(st)) {
                changes.push_back({ChangeKind::deleted, "/" + path});
                continue;
            }
            changes.push_back({lower.find(path) != nullptr ? ChangeKind::changed : ChangeKind::added, "/" + path});
            if (S_ISDIR(st.st_mode)) {
                pending.push_back(path);
            }
        }
    }
    sort_by_path(changes);
    return changes;
    // EXERCISE 4.3 STUB
    //: (void)upper;
    //: (void)lower;
    //: throw ExerciseNotDone("4.3", "walk the upper directory: a whiteout is 'D', a path the layers have is 'C', any other 'A'");
    // EXERCISE 4.3 END
}

std::vector<Change> changes_between(const LayerView& lower, const std::filesystem::path& root)
{
    std::vector<Change> changes;
    compare_directory(lower, root, "", changes);
    sort_by_path(changes);
    return changes;
}

std::string format_changes(const std::vector<Change>& changes)
{
    std::string text;
    for (const auto& change : changes) {
        text += static_cast<char>(change.kind);
        text += ' ';
        text += change.path;
        text += '\n';
    }
    return text;
}

}  // namespace dockling
