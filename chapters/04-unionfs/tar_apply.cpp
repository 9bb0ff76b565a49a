// Applying a layer tarball onto a directory, safely.
//
// A layer comes from somewhere else (a registry, a colleague, an attacker), and the
// extraction runs as root: one entry written outside the target is a compromised
// host. Two defences:
//   1. Names are checked as text: no absolute names, no "..".
//   2. Every directory is opened with openat2(RESOLVE_BENEATH): the kernel itself
//      refuses a path that would leave the target, through ".." or a symlink, even a
//      symlink this very archive made. The last component is never followed: files
//      are made with O_CREAT | O_EXCL | O_NOFOLLOW, symlinks and nodes with the *at()
//      calls, after removing whatever was there.
#include "layer_tar.hpp"

#include "error.hpp"
#include "tar_stream.hpp"
#include "tree.hpp"
#include "unique_fd.hpp"
#include "whiteout.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <exception>
#include <memory>

namespace dockling {

namespace {

/// A name as it may appear in a one-line message: quoted, control bytes escaped.
std::string shown_name(std::string_view name)
{
    std::string text = "\"";
    for (unsigned char c : name) {
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            text += fmt::format("\\x{:02x}", c);
        } else {
            text += static_cast<char>(c);
        }
    }
    return text + "\"";
}

//! [clean-entry-name]
/// An entry name as a clean relative path ("./usr//bin/" -> "usr/bin"; "" for the
/// layer's root). Absolute names and ".." are refused outright: a layer describes one
/// directory tree, and nothing in it has a reason to point above it.
std::string clean_entry_name(std::string_view name)
{
    if (name.starts_with('/')) {
        throw Error("an absolute path; the entries of a layer are relative to it");
    }
    std::string clean;
    while (!name.empty()) {
        size_t slash = name.find('/');
        std::string_view part = name.substr(0, slash);
        name = slash == std::string_view::npos ? std::string_view() : name.substr(slash + 1);
        if (part == "..") {
            throw Error("\"..\" would climb out of the target directory");
        }
        if (!part.empty() && part != ".") {
            clean += (clean.empty() ? "" : "/") + std::string(part);
        }
    }
    return clean;
}
//! [clean-entry-name]

/// "a/b/c" -> {"a/b", "c"}; "c" -> {"", "c"}.
std::pair<std::string, std::string> split_parent(const std::string& path)
{
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) {
        return {"", path};
    }
    return {path.substr(0, slash), path.substr(slash + 1)};
}

//! [open-beneath]
/// openat2(2) confined to the directory `root`: RESOLVE_BENEATH makes the kernel fail
/// with EXDEV any resolution that would leave `root`, whether by ".." or by a symlink
/// (absolute symlinks always fail). No /proc magic links, no crossing into other mounts.
int open_beneath(int root, const std::string& relative, std::uint64_t flags)
{
    open_how how{};
    how.flags = flags | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    for (int attempt = 0; attempt < 16; ++attempt) {
        long fd = ::syscall(SYS_openat2, root, relative.empty() ? "." : relative.c_str(), &how, sizeof how);
        if (fd >= 0 || errno != EAGAIN) {  // EAGAIN: a rename raced with the lookup; try again
            return static_cast<int>(fd);
        }
    }
    return -1;
}
//! [open-beneath]

/// Why resolving a directory of the archive failed, in words.
[[noreturn]] void explain_resolve_error(const std::string& directory)
{
    int error = errno;
    switch (error) {
    case EXDEV:
        throw Error(fmt::format("{} leads out of the target directory through a symlink", shown_name(directory)));
    case ELOOP:
        throw Error(fmt::format("{} goes through too many levels of symlinks", shown_name(directory)));
    case ENOTDIR:
        throw Error(fmt::format("{} is not a directory", shown_name(directory)));
    default:
        throw Error("open", directory, error);
    }
}

/// Removes the entry `name` of directory `parent`, and everything beneath it, without
/// ever following a symlink.
void remove_entry(int parent, const std::string& name)
{
    struct stat st {};
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return;  // nothing there
    }
    if (!S_ISDIR(st.st_mode)) {
        check(::unlinkat(parent, name.c_str(), 0), "unlink", name);
        return;
    }
    int fd = check(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), "open", name);
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd), ::closedir);
    if (!dir) {
        ::close(fd);
        throw_errno("opendir", name);
    }
    std::vector<std::string> children;
    while (const dirent* child = ::readdir(dir.get())) {
        std::string_view child_name = child->d_name;
        if (child_name != "." && child_name != "..") {
            children.emplace_back(child_name);
        }
    }
    for (const auto& child : children) {
        remove_entry(::dirfd(dir.get()), child);
    }
    check(::unlinkat(parent, name.c_str(), AT_REMOVEDIR), "rmdir", name);
}

/// The entry's access and modification times (access = modification when unset).
std::array<timespec, 2> entry_times(archive_entry* e)
{
    timespec mtime{archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    timespec atime = archive_entry_atime_is_set(e) ? timespec{archive_entry_atime(e), archive_entry_atime_nsec(e)}
                                                   : mtime;
    return {atime, mtime};
}

/// Turns what the tar reader pulls into reads of the uncompressed stream, and keeps
/// the stream's own error (a limit, a damaged gzip) for the message.
struct TarFeed {
    UncompressedReader& stream;
    std::exception_ptr failure;

    static la_ssize_t read(struct archive* /*a*/, void* self, const void** buffer)
    {
        auto& feed = *static_cast<TarFeed*>(self);
        try {
            std::string_view chunk = feed.stream.read();
            *buffer = chunk.data();
            return static_cast<la_ssize_t>(chunk.size());
        } catch (...) {  // never let an exception unwind through libarchive's C frames
            feed.failure = std::current_exception();
            return -1;
        }
    }
    void rethrow_if_failed() const
    {
        if (failure) {
            std::rethrow_exception(failure);
        }
    }
};

/// Writes the entries of one archive beneath one directory.
class Extractor {
public:
    Extractor(const std::filesystem::path& target, const ExtractLimits& limits, TarFeed& feed)
        : root_(check(::open(target.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC), "open", target.string())),
          limits_(limits),
          feed_(feed)
    {
    }

    void extract(struct archive* a, archive_entry* e);
    void finish();

private:
    void check_length(std::string_view text) const;
    UniqueFd open_directory(const std::string& relative, bool create);
    void extract_directory(int parent, const std::string& name, const std::string& path, archive_entry* e);
    void extract_file(struct archive* a, int parent, const std::string& name, archive_entry* e);
    void extract_symlink(int parent, const std::string& name, archive_entry* e);
    void extract_hardlink(int parent, const std::string& name, const std::string& path, archive_entry* e);
    void extract_node(int parent, const std::string& name, archive_entry* e);
    void set_owner_and_times(int parent, const std::string& name, archive_entry* e);
    void set_xattrs(int fd, const std::string& path_of_fd, archive_entry* e);
    [[noreturn]] void data_error(struct archive* a) const;

    UniqueFd root_;
    const ExtractLimits& limits_;
    TarFeed& feed_;
    struct Deferred {
        std::string path;
        std::array<timespec, 2> times;
    };
    std::vector<Deferred> directory_times_;
};

void Extractor::check_length(std::string_view text) const
{
    if (text.size() > limits_.max_path_length) {
        throw Error(fmt::format("a name of {} bytes is longer than the limit of {}", text.size(),
                                limits_.max_path_length));
    }
}

/// The directory `relative` beneath the target, opened O_PATH; with `create`, missing
/// directories are made (0755), as tar does for entries whose parents it has not seen.
UniqueFd Extractor::open_directory(const std::string& relative, bool create)
{
    int fd = open_beneath(root_.get(), relative, O_PATH | O_DIRECTORY);
    if (fd >= 0) {
        return UniqueFd(fd);
    }
    if (errno != ENOENT || !create) {
        explain_resolve_error(relative);
    }
    auto [parent_path, name] = split_parent(relative);
    UniqueFd parent = open_directory(parent_path, true);
    if (::mkdirat(parent.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
        throw_errno("mkdir", relative);
    }
    fd = open_beneath(root_.get(), relative, O_PATH | O_DIRECTORY);
    if (fd < 0) {
        explain_resolve_error(relative);
    }
    return UniqueFd(fd);
}

//! [extract-entry]
void Extractor::extract(struct archive* a, archive_entry* e)
{
    const char* raw_name = archive_entry_pathname(e);
    if (raw_name == nullptr) {
        throw Error("an entry without a name");
    }
    check_length(raw_name);
    std::string path = clean_entry_name(raw_name);
    if (path.empty()) {  // the layer's root itself: "./"
        if (archive_entry_filetype(e) != AE_IFDIR || archive_entry_hardlink(e) != nullptr) {
            throw Error("it would replace the target directory itself");
        }
        extract_directory(root_.get(), ".", "", e);
        return;
    }
    auto [parent_path, name] = split_parent(path);
    UniqueFd parent = open_directory(parent_path, true);
    if (is_oci_whiteout_name(name)) {
        std::string made = make_overlay_whiteout(parent.get(), name);
        if (!made.empty()) {
            set_owner_and_times(parent.get(), made, e);
        }
        return;
    }
    if (archive_entry_hardlink(e) != nullptr) {
        extract_hardlink(parent.get(), name, path, e);
        return;
    }
    switch (archive_entry_filetype(e)) {
    case AE_IFDIR:
        return extract_directory(parent.get(), name, path, e);
    case AE_IFREG:
        return extract_file(a, parent.get(), name, e);
    case AE_IFLNK:
        return extract_symlink(parent.get(), name, e);
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
        return extract_node(parent.get(), name, e);
    default:
        throw Error("a type of file that a layer cannot hold (a socket?)");
    }
}
//! [extract-entry]

void Extractor::extract_directory(int parent, const std::string& name, const std::string& path, archive_entry* e)
{
    struct stat st {};
    bool exists = ::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    // A directory replacing this layer's own whiteout was deleted below and made again:
    // in overlayfs's form that is an opaque directory.
    bool replaces_whiteout = exists && is_whiteout(st);
    if (exists && !S_ISDIR(st.st_mode)) {
        remove_entry(parent, name);
        exists = false;
    }
    if (!exists) {
        check(::mkdirat(parent, name.c_str(), 0700), "mkdir", path);
    }
    UniqueFd dir(check(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), "open", path));
    if (replaces_whiteout) {
        check(::fsetxattr(dir.get(), std::string(opaque_xattr).c_str(), "y", 1, 0), "setxattr", path);
    }
    check(::fchown(dir.get(), static_cast<uid_t>(archive_entry_uid(e)), static_cast<gid_t>(archive_entry_gid(e))),
          "chown", path);
    check(::fchmod(dir.get(), archive_entry_perm(e) & 07777), "chmod", path);
    set_xattrs(dir.get(), {}, e);
    directory_times_.push_back({path, entry_times(e)});  // set last: the entries inside change them
}

void Extractor::extract_file(struct archive* a, int parent, const std::string& name, archive_entry* e)
{
    remove_entry(parent, name);
    UniqueFd file(check(::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600),
                        "create", name));
    const void* data = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int status = ARCHIVE_OK;
    while ((status = archive_read_data_block(a, &data, &size, &offset)) == ARCHIVE_OK) {
        // Sparse files come as blocks at offsets; the gaps stay holes.
        for (size_t done = 0; done < size;) {
            ssize_t n = ::pwrite(file.get(), static_cast<const char*>(data) + done, size - done,
                                 static_cast<off_t>(offset) + static_cast<off_t>(done));
            check(n, "write", name);
            done += static_cast<size_t>(n);
        }
    }
    if (status != ARCHIVE_EOF) {
        data_error(a);
    }
    check(::ftruncate(file.get(), archive_entry_size(e)), "truncate", name);
    check(::fchown(file.get(), static_cast<uid_t>(archive_entry_uid(e)), static_cast<gid_t>(archive_entry_gid(e))),
          "chown", name);
    check(::fchmod(file.get(), archive_entry_perm(e) & 07777), "chmod", name);
    set_xattrs(file.get(), {}, e);
    auto times = entry_times(e);
    check(::futimens(file.get(), times.data()), "utimensat", name);
}

void Extractor::extract_symlink(int parent, const std::string& name, archive_entry* e)
{
    const char* target = archive_entry_symlink(e);
    if (target == nullptr) {
        throw Error("a symlink without a target");
    }
    check_length(target);
    remove_entry(parent, name);
    // The link is made, never followed: where it points matters only when a later
    // entry's path goes through it, and open_beneath() watches that.
    check(::symlinkat(target, parent, name.c_str()), "symlink", name);
    set_owner_and_times(parent, name, e);
}

void Extractor::extract_hardlink(int parent, const std::string& name, const std::string& path, archive_entry* e)
{
    const char* link = archive_entry_hardlink(e);
    check_length(link);
    std::string target;
    try {
        target = clean_entry_name(link);
    } catch (const Error& error) {
        throw Error(fmt::format("hard link to {}: {}", shown_name(link), error.what()));
    }
    if (target.empty()) {
        throw Error("a hard link to the target directory itself");
    }
    if (target == path) {
        return;  // a link to itself: already there
    }
    auto [target_parent, target_name] = split_parent(target);
    UniqueFd from = open_directory(target_parent, false);
    struct stat st {};
    if (::fstatat(from.get(), target_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        throw Error(fmt::format("hard link to {}, which the archive has not made", shown_name(link)));
    }
    if (S_ISDIR(st.st_mode)) {
        throw Error(fmt::format("hard link to the directory {}", shown_name(link)));
    }
    remove_entry(parent, name);
    // flags 0: link the entry itself, never what a symlink there points to.
    check(::linkat(from.get(), target_name.c_str(), parent, name.c_str(), 0), "link", name);
}

void Extractor::extract_node(int parent, const std::string& name, archive_entry* e)
{
    remove_entry(parent, name);
    mode_t type = archive_entry_filetype(e);
    dev_t device = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
    check(::mknodat(parent, name.c_str(), type | 0600, type == AE_IFIFO ? 0 : device), "mknod", name);
    check(::fchmodat(parent, name.c_str(), archive_entry_perm(e) & 07777, 0), "chmod", name);
    set_owner_and_times(parent, name, e);
}

/// Owner, xattrs and times of an entry that cannot be opened for writing (a symlink,
/// a device node, a whiteout), set through its directory without following it.
void Extractor::set_owner_and_times(int parent, const std::string& name, archive_entry* e)
{
    check(::fchownat(parent, name.c_str(), static_cast<uid_t>(archive_entry_uid(e)),
                     static_cast<gid_t>(archive_entry_gid(e)), AT_SYMLINK_NOFOLLOW),
          "chown", name);
    set_xattrs(-1, fmt::format("/proc/self/fd/{}/{}", parent, name), e);
    auto times = entry_times(e);
    check(::utimensat(parent, name.c_str(), times.data(), AT_SYMLINK_NOFOLLOW), "utimensat", name);
}

/// Sets the entry's xattrs on `fd`, or (fd -1) on `path` itself. overlayfs's own
/// trusted.overlay.* attributes are never taken from an archive: they would let a
/// layer forge overlay metadata (opaque directories, redirects).
void Extractor::set_xattrs(int fd, const std::string& path, archive_entry* e)
{
    const char* xname = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &xname, &value, &size) == ARCHIVE_OK) {
        if (is_overlay_xattr(xname)) {
            continue;
        }
        int result = fd >= 0 ? ::fsetxattr(fd, xname, value, size, 0) : ::lsetxattr(path.c_str(), xname, value, size, 0);
        check(result, "setxattr", xname);
    }
}

void Extractor::data_error(struct archive* a) const
{
    feed_.rethrow_if_failed();
    throw Error("damaged data: " + archive_problem(a));
}

void Extractor::finish()
{
    for (auto it = directory_times_.rbegin(); it != directory_times_.rend(); ++it) {
        UniqueFd dir(open_beneath(root_.get(), it->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        if (dir) {  // a later entry may have replaced it; then its times are not ours to set
            check(::futimens(dir.get(), it->times.data()), "utimensat", it->path);
        }
    }
}

}  // namespace

void apply_layer_tar(const std::filesystem::path& tarball, const std::filesystem::path& target,
                     const ExtractLimits& limits, const ByteObserver& on_uncompressed_bytes)
{
    std::error_code ec;
    std::filesystem::create_directories(target, ec);
    if (ec) {
        throw Error("mkdir", target.string(), ec.value());
    }
    UncompressedReader stream(tarball, limits.max_total_bytes, on_uncompressed_bytes);
    TarFeed feed{stream, nullptr};
    ArchiveReader tar(archive_read_new());
    archive_read_support_format_tar(tar.get());  // tar only: no cpio, zip or iso in a layer
    if (archive_read_open(tar.get(), &feed, nullptr, &TarFeed::read, nullptr) != ARCHIVE_OK) {
        feed.rethrow_if_failed();
        throw Error(fmt::format("layer {}: not a tar archive: {}", tarball.string(), archive_problem(tar.get())));
    }
    Extractor extractor(target, limits, feed);
    std::uint64_t entries = 0;
    archive_entry* entry = nullptr;
    for (int status; (status = archive_read_next_header(tar.get(), &entry)) != ARCHIVE_EOF;) {
        if (status < ARCHIVE_WARN) {
            feed.rethrow_if_failed();
            throw Error(fmt::format("layer {}: not a valid tar archive: {}", tarball.string(),
                                    archive_problem(tar.get())));
        }
        if (++entries > limits.max_entries) {
            throw Error(fmt::format("layer {}: more than {} entries (the limit)", tarball.string(), limits.max_entries));
        }
        try {
            extractor.extract(tar.get(), entry);
        } catch (const Error& error) {
            feed.rethrow_if_failed();  // the stream's own error explains it best
            const char* name = archive_entry_pathname(entry);
            throw Error(fmt::format("layer {}: entry {}: {}", tarball.string(), shown_name(name ? name : ""), error.what()));
        }
    }
    extractor.finish();
    stream.read_to_end();  // the observer must see the tar's trailing padding too
}

}  // namespace dockling
