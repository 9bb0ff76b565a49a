#include "tree.hpp"

#include "error.hpp"
#include "unique_fd.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <vector>

namespace dockling {

namespace {

/// Maps '/' below every other byte, so that comparing paths byte by byte compares them
/// component by component.
int path_rank(char c) noexcept { return c == '/' ? 0 : static_cast<unsigned char>(c) + 1; }

/// The value of xattr `name` of `path` itself, or "" when it has none.
std::string read_xattr(const std::filesystem::path& path, const std::string& name)
{
    for (;;) {
        ssize_t size = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
        if (size < 0) {
            if (errno == ENODATA || errno == ENOTSUP) {
                return {};
            }
            throw_errno("getxattr " + name, path.string());
        }
        std::string value(static_cast<size_t>(size), '\0');
        ssize_t got = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
        if (got >= 0) {
            value.resize(static_cast<size_t>(got));
            return value;
        }
        if (errno != ERANGE) {  // ERANGE: it grew between the two calls; ask again
            throw_errno("getxattr " + name, path.string());
        }
    }
}

/// Copies what is left of `in` to `out` through a buffer.
void copy_by_reading(int in, int out, const std::filesystem::path& from)
{
    std::vector<char> buffer(128 * 1024);
    for (;;) {
        ssize_t n = check(::read(in, buffer.data(), buffer.size()), "read", from.string());
        if (n == 0) {
            return;
        }
        for (ssize_t done = 0; done < n;) {
            done += check(::write(out, buffer.data() + done, static_cast<size_t>(n - done)), "write", from.string());
        }
    }
}

/// Copies the bytes of regular file `from` into the new file `to`.
void copy_contents(const std::filesystem::path& from, const struct stat& st, const std::filesystem::path& to)
{
    UniqueFd in(check(::open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC), "open", from.string()));
    UniqueFd out(check(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600), "create",
                       to.string()));
    off_t left = st.st_size;
    while (left > 0) {
        // copy_file_range copies inside the kernel (and shares blocks where the
        // filesystem can), without bouncing every byte through our memory.
        ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, static_cast<size_t>(left), 0);
        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS)) {
            return copy_by_reading(in.get(), out.get(), from);  // across filesystems it may not be able to
        }
        check(n, "copy", from.string());
        if (n == 0) {
            break;  // the file shrank while we copied it
        }
        left -= n;
    }
}

}  // namespace

bool PathOrder::operator()(std::string_view a, std::string_view b) const noexcept
{
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [](char x, char y) { return path_rank(x) < path_rank(y); });
}

struct stat lstat_path(const std::filesystem::path& path)
{
    struct stat st {};
    check(::lstat(path.c_str(), &st), "lstat", path.string());
    return st;
}

std::vector<std::string> sorted_entries(const std::filesystem::path& dir)
{
    std::unique_ptr<DIR, int (*)(DIR*)> stream(::opendir(dir.c_str()), ::closedir);
    if (!stream) {
        throw_errno("opendir", dir.string());
    }
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(stream.get())) {
        std::string_view name = entry->d_name;
        if (name != "." && name != "..") {
            names.emplace_back(name);
        }
    }
    if (errno != 0) {
        throw_errno("readdir", dir.string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<Xattr> read_xattrs(const std::filesystem::path& path)
{
    ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
    if (size < 0 && errno == ENOTSUP) {
        return {};
    }
    check(size, "listxattr", path.string());
    std::string names(static_cast<size_t>(size), '\0');
    size = check(::llistxattr(path.c_str(), names.data(), names.size()), "listxattr", path.string());
    names.resize(static_cast<size_t>(size));

    std::vector<Xattr> xattrs;
    for (size_t at = 0; at < names.size();) {  // the list is "name\0name\0..."
        std::string name = names.c_str() + at;
        at += name.size() + 1;
        xattrs.push_back({name, read_xattr(path, name)});
    }
    std::sort(xattrs.begin(), xattrs.end(), [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
    return xattrs;
}

bool is_overlay_xattr(std::string_view name) noexcept { return name.starts_with("trusted.overlay."); }

bool is_whiteout(const struct stat& st) noexcept { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }

bool is_opaque_dir(const std::filesystem::path& dir) { return read_xattr(dir, std::string(opaque_xattr)) == "y"; }

void copy_node(const std::filesystem::path& from, const struct stat& st, const std::filesystem::path& to)
{
    switch (st.st_mode & S_IFMT) {
    case S_IFDIR:
        check(::mkdir(to.c_str(), 0700), "mkdir", to.string());
        break;
    case S_IFREG:
        copy_contents(from, st, to);
        break;
    case S_IFLNK:
        check(::symlink(std::filesystem::read_symlink(from).c_str(), to.c_str()), "symlink", to.string());
        break;
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
        check(::mknod(to.c_str(), st.st_mode & S_IFMT, st.st_rdev), "mknod", to.string());
        break;
    default:
        throw Error("copy " + from.string() + ": sockets cannot be copied");
    }
}

void copy_metadata(const std::filesystem::path& from, const struct stat& st, const std::filesystem::path& to,
                   bool times)
{
    // Owner first: chown clears the set-user-ID and set-group-ID bits, so the mode must
    // be set after it. Symlinks have no mode of their own on Linux.
    check(::lchown(to.c_str(), st.st_uid, st.st_gid), "chown", to.string());
    if (!S_ISLNK(st.st_mode)) {
        check(::chmod(to.c_str(), st.st_mode & 07777), "chmod", to.string());
    }
    for (const auto& xattr : read_xattrs(from)) {
        if (!is_overlay_xattr(xattr.name)) {
            check(::lsetxattr(to.c_str(), xattr.name.c_str(), xattr.value.data(), xattr.value.size(), 0),
                  "setxattr " + xattr.name, to.string());
        }
    }
    if (times) {
        set_times(to, st);
    }
}

void set_times(const std::filesystem::path& path, const struct stat& st)
{
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    check(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), "utimensat", path.string());
}

bool is_mount_point(const std::filesystem::path& path)
{
    struct statx self {};
    if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &self) != 0) {
        return false;
    }
    if (self.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) {
        return (self.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    }
    struct stat parent {};  // older kernels: a different device than the parent's
    std::filesystem::path above = std::filesystem::absolute(path).lexically_normal().parent_path();
    return ::lstat(above.c_str(), &parent) == 0 && makedev(self.stx_dev_major, self.stx_dev_minor) != parent.st_dev;
}

void remove_tree(const std::filesystem::path& path)
{
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            return;
        }
        throw_errno("lstat", path.string());
    }
    if (S_ISDIR(st.st_mode)) {
        if (is_mount_point(path)) {
            throw Error("remove " + path.string() + ": it is a mount point; unmount it first");
        }
        for (const auto& name : sorted_entries(path)) {
            remove_tree(path / name);
        }
        check(::rmdir(path.c_str()), "rmdir", path.string());
    } else {
        check(::unlink(path.c_str()), "unlink", path.string());
    }
}

}  // namespace dockling
