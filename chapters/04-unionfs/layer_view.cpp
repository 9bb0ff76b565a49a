#include "layer_view.hpp"

#include "error.hpp"

namespace dockling {

std::string join_relative(std::string_view parent, std::string_view name)
{
    return parent.empty() ? std::string(name) : std::string(parent) + "/" + std::string(name);
}

LayerView::LayerView(std::vector<std::filesystem::path> layers) : layers_(std::move(layers))
{
    for (size_t i = 0; i < layers_.size(); ++i) {
        merge_layer(i);
    }
}

void LayerView::merge_layer(size_t index)
{
    const auto& root = layers_[index];
    struct stat st = lstat_path(root);
    if (!S_ISDIR(st.st_mode)) {
        throw Error("layer " + root.string() + ": not a directory");
    }
    merge_directory(index, root, "");
}

//! [merge-directory]
// Walks one layer's directory, parents before children, and lays it over the view of
// the layers below it.
void LayerView::merge_directory(size_t index, const std::filesystem::path& dir, const std::string& relative)
{
    for (const auto& name : sorted_entries(dir)) {
        std::filesystem::path path = dir / name;
        std::string entry = join_relative(relative, name);
        struct stat st = lstat_path(path);
        if (is_whiteout(st)) {  // deletes the name, and whatever was beneath it
            entries_.erase(entry);
            erase_beneath(entry);
            continue;
        }
        auto below = entries_.find(entry);
        bool hides_below = !S_ISDIR(st.st_mode) || is_opaque_dir(path) ||
                           (below != entries_.end() && !S_ISDIR(below->second.st.st_mode));
        if (hides_below) {
            erase_beneath(entry);
        }
        entries_[entry] = Entry{index, st};
        if (S_ISDIR(st.st_mode)) {
            merge_directory(index, path, entry);
        }
    }
}
//! [merge-directory]

void LayerView::erase_beneath(const std::string& relative)
{
    std::string prefix = relative + "/";
    auto first = entries_.upper_bound(relative);
    auto last = first;
    while (last != entries_.end() && last->first.starts_with(prefix)) {
        ++last;
    }
    entries_.erase(first, last);
}

const LayerView::Entry* LayerView::find(std::string_view relative) const
{
    auto found = entries_.find(relative);
    return found == entries_.end() ? nullptr : &found->second;
}

std::filesystem::path LayerView::source(std::string_view relative) const
{
    const Entry* entry = find(relative);
    if (entry == nullptr) {
        throw Error("layers: no entry " + std::string(relative));
    }
    return layers_[entry->layer] / relative;
}

std::vector<std::string> LayerView::children(std::string_view relative) const
{
    std::string prefix = relative.empty() ? std::string() : std::string(relative) + "/";
    std::vector<std::string> names;
    for (auto it = relative.empty() ? entries_.begin() : entries_.upper_bound(relative);
         it != entries_.end() && it->first.starts_with(prefix); ++it) {
        std::string_view rest = std::string_view(it->first).substr(prefix.size());
        if (rest.find('/') == std::string_view::npos) {
            names.emplace_back(rest);
        }
    }
    return names;
}

}  // namespace dockling
