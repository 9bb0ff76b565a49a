#include "overlay.hpp"

#include "doctor.hpp"
#include "error.hpp"
#include "tree.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dockling {

namespace {

/// Makes `dir` the current directory for as long as it lives, then goes back.
class WorkingDirectory {
public:
    explicit WorkingDirectory(const std::filesystem::path& dir)
        : saved_(check(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), "open", "."))
    {
        check(::chdir(dir.c_str()), "chdir", dir.string());
    }
    ~WorkingDirectory() { (void)::fchdir(saved_.get()); }
    WorkingDirectory(const WorkingDirectory&) = delete;
    WorkingDirectory& operator=(const WorkingDirectory&) = delete;

private:
    UniqueFd saved_;
};

void mount_with_options(const std::filesystem::path& target, const std::string& options)
{
    check(::mount("overlay", target.c_str(), "overlay", 0, options.c_str()), mount_overlay_operation, target.string());
}

}  // namespace

std::string escape_overlay_path(std::string_view path)
{
    std::string escaped;
    for (char c : path) {
        if (c == ',' || c == ':' || c == '\\') {
            escaped += '\\';
        }
        escaped += c;
    }
    return escaped;
}

//! [overlay-options]
std::string overlay_options(const OverlayDirs& dirs)
{
    // overlayfs lists the lower layers top first: the first one wins a lookup.
    std::string lower;
    for (auto layer = dirs.lower.rbegin(); layer != dirs.lower.rend(); ++layer) {
        lower += (lower.empty() ? "" : ":") + escape_overlay_path(layer->string());
    }
    return "lowerdir=" + lower + ",upperdir=" + escape_overlay_path(dirs.upper.string()) +
           ",workdir=" + escape_overlay_path(dirs.work.string());
}
//! [overlay-options]

size_t mount_options_limit() { return static_cast<size_t>(::sysconf(_SC_PAGESIZE)) - 1; }

std::string compact_overlay_options(const std::filesystem::path& base, const OverlayDirs& dirs)
{
    // EXERCISE 4.1 BEGIN: fitting many layers into one page of mount options
    //   hint: make the directory base/"l" and in it one symlink per layer, named by its index ("0" = lowest),
    //   hint: pointing at the layer (absolute); return overlay_options() of OverlayDirs whose paths are all
    //   hint: relative to base: "l/0", "l/1", ..., and upper and work made relative (lexically_relative).
    std::filesystem::path links = base / "l";
    if (::mkdir(links.c_str(), 0700) != 0 && errno != EEXIST) {
        throw_errno("mkdir", links.string());
    }
    OverlayDirs relative;
    for (size_t i = 0; i < dirs.lower.size(); ++i) {
        std::string name = std::to_string(i);
        std::filesystem::path layer = std::filesystem::absolute(dirs.lower[i]);
        check(::symlink(layer.c_str(), (links / name).c_str()), "symlink", (links / name).string());
        relative.lower.push_back(std::filesystem::path("l") / name);
    }
    relative.upper = dirs.upper.lexically_relative(base);
    relative.work = dirs.work.lexically_relative(base);
    return overlay_options(relative);
    // EXERCISE 4.1 STUB
    //: (void)base;
    //: (void)dirs;
    //: throw ExerciseNotDone("4.1", "link each layer as base/l/INDEX and return overlay_options() with paths relative to base");
    // EXERCISE 4.1 END
}

//! [mount-overlay]
void mount_overlay(const std::filesystem::path& target, const OverlayDirs& dirs, const std::filesystem::path& base)
{
    if (dirs.lower.size() > max_overlay_layers) {
        throw Error(fmt::format("overlay: {} layers are too many: overlayfs stacks at most {} read-only layers",
                                dirs.lower.size(), max_overlay_layers));
    }
    std::string options = overlay_options(dirs);
    if (options.size() <= mount_options_limit()) {
        mount_with_options(target, options);
        return;
    }
    // mount(2) copies one page of options. Docker's answer: short symlinks to the
    // layers, and paths relative to the directory the mount is made from.
    options = compact_overlay_options(base, dirs);
    if (options.size() > mount_options_limit()) {
        throw Error(fmt::format("overlay: the mount options of {} layers take {} bytes even with short names, "
                                "more than the kernel reads (one page: {} bytes)",
                                dirs.lower.size(), options.size(), mount_options_limit() + 1));
    }
    std::filesystem::path absolute_target = std::filesystem::absolute(target);
    WorkingDirectory from(base);
    mount_with_options(absolute_target, options);
}
//! [mount-overlay]

bool unmount(const std::filesystem::path& path) noexcept
{
    if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
        return true;
    }
    return errno == EINVAL || errno == ENOENT;  // nothing was mounted there
}

bool overlay_in_proc_filesystems()
{
    return read_small_file("/proc/filesystems").find("\toverlay\n") != std::string::npos;
}

std::string try_overlay_mount_in(const std::filesystem::path& dir)
{
    std::string scratch = (dir / ".dockling-overlay-probe-XXXXXX").string();
    if (::mkdtemp(scratch.data()) == nullptr) {
        return fmt::format("mkdtemp {}: {}", scratch, std::strerror(errno));
    }
    std::filesystem::path root = scratch;
    std::string problem;
    try {
        OverlayDirs dirs{{root / "lower"}, root / "upper", root / "work"};
        for (const auto& made : {dirs.lower[0], dirs.upper, dirs.work, root / "merged"}) {
            check(::mkdir(made.c_str(), 0700), "mkdir", made.string());
        }
        mount_overlay(root / "merged", dirs, root);
        unmount(root / "merged");
    } catch (const Error& error) {
        problem = error.what();
    }
    try {
        remove_tree(root);
    } catch (const Error& error) {
        problem = problem.empty() ? error.what() : problem;
    }
    return problem;
}

}  // namespace dockling
