#include "vfs.hpp"

#include "error.hpp"

#include <unistd.h>

#include <map>
#include <utility>

namespace dockling {

//! [copy-layers]
void copy_layers(const LayerView& layers, const std::filesystem::path& destination)
{
    check(::mkdir(destination.c_str(), 0700), "mkdir", destination.string());
    // Names of one inode (hard links) stay one inode: the first name is copied, the
    // others are linked to the copy.
    std::map<std::pair<dev_t, ino_t>, std::filesystem::path> first_name;
    // A directory's times change each time a name is added in it, so they are set last.
    std::vector<std::pair<std::filesystem::path, struct stat>> directories;
    for (const auto& [relative, entry] : layers.entries()) {
        std::filesystem::path from = layers.layers()[entry.layer] / relative;
        std::filesystem::path to = destination / relative;
        if (S_ISREG(entry.st.st_mode) && entry.st.st_nlink > 1) {
            auto [known, inserted] = first_name.try_emplace({entry.st.st_dev, entry.st.st_ino}, to);
            if (!inserted) {
                check(::link(known->second.c_str(), to.c_str()), "link", to.string());
                continue;
            }
        }
        copy_node(from, entry.st, to);
        bool is_directory = S_ISDIR(entry.st.st_mode);
        copy_metadata(from, entry.st, to, !is_directory);
        if (is_directory) {
            directories.emplace_back(to, entry.st);
        }
    }
    if (!layers.layers().empty()) {  // the root looks like the top layer's root
        const auto& top = layers.layers().back();
        struct stat st = lstat_path(top);
        copy_metadata(top, st, destination, false);
        directories.emplace(directories.begin(), destination, st);
    }
    for (auto it = directories.rbegin(); it != directories.rend(); ++it) {  // deepest first
        set_times(it->first, it->second);
    }
}
//! [copy-layers]

}  // namespace dockling
