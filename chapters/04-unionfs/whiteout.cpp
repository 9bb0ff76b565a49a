#include "whiteout.hpp"

#include "error.hpp"
#include "tree.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <cerrno>

namespace dockling {

bool is_oci_whiteout_name(std::string_view base_name) noexcept { return base_name.starts_with(whiteout_prefix); }

std::string oci_whiteout_name(std::string_view name) { return std::string(whiteout_prefix) + std::string(name); }

std::string make_overlay_whiteout(int parent_fd, std::string_view base_name)
{
    // EXERCISE 4.2 BEGIN: turning OCI whiteouts into overlayfs whiteouts
    //   hint: opaque_marker: open parent_fd's directory (openat ".", O_RDONLY | O_DIRECTORY) and fsetxattr
    //   hint: opaque_xattr = "y". Other ".wh..wh." names: return "". Else NAME = what follows ".wh.": throw Error
    //   hint: when it is "", "." or ".."; return "" when parent_fd already has NAME (fstatat, AT_SYMLINK_NOFOLLOW),
    //   hint: else mknodat(parent_fd, NAME, S_IFCHR, makedev(0, 0)) and return NAME.
    if (base_name == opaque_marker) {
        UniqueFd dir(check(::openat(parent_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), "open", "directory"));
        check(::fsetxattr(dir.get(), std::string(opaque_xattr).c_str(), "y", 1, 0), "setxattr",
              std::string(opaque_xattr));
        return {};
    }
    if (base_name.starts_with(".wh..wh.")) {
        return {};  // aufs's hard-link and metadata directories: meaningless for overlayfs
    }
    std::string name(base_name.substr(whiteout_prefix.size()));
    if (name.empty() || name == "." || name == "..") {
        throw Error("invalid whiteout \"" + std::string(base_name) + "\": it names no file that could be deleted");
    }
    struct stat existing {};
    if (::fstatat(parent_fd, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) {
        return {};  // this layer has its own NAME, which already hides the layers' one
    }
    check(::mknodat(parent_fd, name.c_str(), S_IFCHR, makedev(0, 0)), "mknod whiteout", name);
    return name;
    // EXERCISE 4.2 STUB
    //: (void)parent_fd;
    //: (void)base_name;
    //: throw ExerciseNotDone("4.2", "set the opaque xattr for .wh..wh..opq, or mknod a character device 0/0 for .wh.NAME");
    // EXERCISE 4.2 END
}

}  // namespace dockling
