// Writing a layer tarball: a container's changes, in the OCI layer format.
#include "layer_tar.hpp"

#include "error.hpp"
#include "tar_stream.hpp"
#include "tree.hpp"
#include "unique_fd.hpp"
#include "whiteout.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <exception>
#include <map>
#include <memory>

namespace dockling {

namespace {

/// Where the tar writer's output goes: the observer sees the uncompressed stream, the
/// CompressedWriter compresses it into the file.
struct TarSink {
    CompressedWriter& file;
    const ByteObserver& observer;
    std::exception_ptr failure;

    static la_ssize_t write(struct archive* /*a*/, void* self, const void* buffer, size_t length)
    {
        auto& sink = *static_cast<TarSink*>(self);
        try {
            if (sink.observer) {
                sink.observer(buffer, length);
            }
            sink.file.write(buffer, length);
            return static_cast<la_ssize_t>(length);
        } catch (...) {  // never let an exception unwind through libarchive's C frames
            sink.failure = std::current_exception();
            return -1;
        }
    }
};

using EntryPtr = std::unique_ptr<archive_entry, void (*)(archive_entry*)>;

EntryPtr new_entry() { return EntryPtr(archive_entry_new(), archive_entry_free); }

/// Writes entries into a layer tarball, one at a time.
class LayerTarWriter {
public:
    LayerTarWriter(const std::filesystem::path& out, Compression compression, const ByteObserver& observer)
        : out_(out), file_(out, compression), sink_{file_, observer, nullptr}, tar_(archive_write_new())
    {
        // pax: the POSIX tar format with extended headers, which carry long names,
        // nanosecond times and extended attributes (as SCHILY.xattr records).
        archive_write_set_format_pax(tar_.get());
        archive_write_set_bytes_in_last_block(tar_.get(), 1);
        if (archive_write_open(tar_.get(), &sink_, nullptr, &TarSink::write, nullptr) != ARCHIVE_OK) {
            fail();
        }
    }

    void add(const std::filesystem::path& root, const std::string& relative);
    void add_whiteout(const std::string& relative, const struct stat& st);
    void add_opaque_marker(const std::string& directory, const struct stat& st);
    void finish();

private:
    void write_header(archive_entry* entry);
    void write_contents(const std::filesystem::path& path);
    [[noreturn]] void fail();

    std::filesystem::path out_;
    CompressedWriter file_;
    TarSink sink_;
    ArchiveWriter tar_;
    std::map<std::pair<dev_t, ino_t>, std::string> first_name_;  // hard links
};

void LayerTarWriter::fail()
{
    if (sink_.failure) {
        std::rethrow_exception(sink_.failure);
    }
    throw Error(fmt::format("write {}: {}", out_.string(), archive_problem(tar_.get())));
}

void LayerTarWriter::write_header(archive_entry* entry)
{
    // ARCHIVE_WARN is no failure: a name that is not UTF-8 (or not in the locale's
    // charset) is stored as the bytes it is, marked hdrcharset=BINARY, as POSIX allows.
    if (archive_write_header(tar_.get(), entry) < ARCHIVE_WARN) {
        fail();
    }
}

//! [add-entry]
void LayerTarWriter::add(const std::filesystem::path& root, const std::string& relative)
{
    std::filesystem::path path = root / relative;
    struct stat st = lstat_path(path);
    if (S_ISSOCK(st.st_mode)) {
        return;  // a socket is a live endpoint, not content: tar cannot hold one
    }
    EntryPtr entry = new_entry();
    archive_entry_set_pathname(entry.get(), relative.c_str());
    archive_entry_set_filetype(entry.get(), st.st_mode & S_IFMT);
    archive_entry_set_perm(entry.get(), st.st_mode & 07777);
    archive_entry_set_uid(entry.get(), st.st_uid);
    archive_entry_set_gid(entry.get(), st.st_gid);
    archive_entry_set_mtime(entry.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    for (const auto& xattr : read_xattrs(path)) {
        if (!is_overlay_xattr(xattr.name)) {  // overlayfs's bookkeeping stays behind
            archive_entry_xattr_add_entry(entry.get(), xattr.name.c_str(), xattr.value.data(), xattr.value.size());
        }
    }
    if (S_ISLNK(st.st_mode)) {
        archive_entry_set_symlink(entry.get(), std::filesystem::read_symlink(path).c_str());
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        archive_entry_set_rdevmajor(entry.get(), major(st.st_rdev));
        archive_entry_set_rdevminor(entry.get(), minor(st.st_rdev));
    } else if (S_ISREG(st.st_mode)) {
        auto [first, is_first] = first_name_.try_emplace({st.st_dev, st.st_ino}, relative);
        if (!is_first) {  // another name of an inode already written: a hard link
            archive_entry_set_hardlink(entry.get(), first->second.c_str());
            write_header(entry.get());
            return;
        }
        archive_entry_set_size(entry.get(), st.st_size);
        write_header(entry.get());
        write_contents(path);
        return;
    }
    write_header(entry.get());
}
//! [add-entry]

void LayerTarWriter::write_contents(const std::filesystem::path& path)
{
    UniqueFd fd(check(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC), "open", path.string()));
    std::vector<char> buffer(128 * 1024);
    for (;;) {
        ssize_t n = check(::read(fd.get(), buffer.data(), buffer.size()), "read", path.string());
        if (n == 0) {
            return;
        }
        if (archive_write_data(tar_.get(), buffer.data(), static_cast<size_t>(n)) < 0) {
            fail();
        }
    }
}

//! [whiteout-entries]
// overlayfs's whiteout (a character device 0/0) becomes OCI's: an empty regular file
// named .wh.NAME next to where NAME was.
void LayerTarWriter::add_whiteout(const std::string& relative, const struct stat& st)
{
    auto slash = relative.rfind('/');
    std::string parent = slash == std::string::npos ? "" : relative.substr(0, slash + 1);
    std::string name = oci_whiteout_name(relative.substr(parent.size()));
    EntryPtr entry = new_entry();
    archive_entry_set_pathname(entry.get(), (parent + name).c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0600);
    archive_entry_set_uid(entry.get(), st.st_uid);
    archive_entry_set_gid(entry.get(), st.st_gid);
    archive_entry_set_mtime(entry.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    archive_entry_set_size(entry.get(), 0);
    write_header(entry.get());
}

// An opaque directory (trusted.overlay.opaque = "y") gets OCI's marker inside it.
void LayerTarWriter::add_opaque_marker(const std::string& directory, const struct stat& st)
{
    EntryPtr entry = new_entry();
    archive_entry_set_pathname(entry.get(), (directory + "/" + std::string(opaque_marker)).c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), st.st_mode & 0777);
    archive_entry_set_uid(entry.get(), st.st_uid);
    archive_entry_set_gid(entry.get(), st.st_gid);
    archive_entry_set_mtime(entry.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    archive_entry_set_size(entry.get(), 0);
    write_header(entry.get());
}
//! [whiteout-entries]

void LayerTarWriter::finish()
{
    if (archive_write_close(tar_.get()) != ARCHIVE_OK) {
        fail();
    }
    file_.finish();
}

/// Adds everything beneath `relative` of the upper directory `upper`, in path order.
void add_upper_directory(LayerTarWriter& writer, const std::filesystem::path& upper, const std::string& relative)
{
    std::filesystem::path dir = relative.empty() ? upper : upper / relative;
    for (const auto& name : sorted_entries(dir)) {
        std::string path = relative.empty() ? name : relative + "/" + name;
        struct stat st = lstat_path(upper / path);
        if (is_whiteout(st)) {
            writer.add_whiteout(path, st);
            continue;
        }
        writer.add(upper, path);
        if (S_ISDIR(st.st_mode)) {
            if (is_opaque_dir(upper / path)) {
                writer.add_opaque_marker(path, st);
            }
            add_upper_directory(writer, upper, path);
        }
    }
}

/// Runs `write` on a LayerTarWriter for `out`; on any failure removes the partial file.
template <typename Write>
void write_tar_file(const std::filesystem::path& out, Compression compression, const ByteObserver& observer,
                    Write write)
{
    try {
        LayerTarWriter writer(out, compression, observer);
        write(writer);
        writer.finish();
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(out, ignored);
        throw;
    }
}

}  // namespace

void write_layer_tar(const std::filesystem::path& upper, const std::filesystem::path& out, Compression compression,
                     const ByteObserver& on_uncompressed_bytes)
{
    write_tar_file(out, compression, on_uncompressed_bytes,
                   [&](LayerTarWriter& writer) { add_upper_directory(writer, upper, ""); });
}

void write_changes_tar(const std::filesystem::path& root, const std::vector<Change>& changes,
                       const std::filesystem::path& out, Compression compression,
                       const ByteObserver& on_uncompressed_bytes)
{
    write_tar_file(out, compression, on_uncompressed_bytes, [&](LayerTarWriter& writer) {
        for (const auto& change : changes) {
            std::string relative = change.path.substr(1);  // "/etc/passwd" -> "etc/passwd"
            if (change.kind == ChangeKind::deleted) {
                struct stat st {};  // root-owned, time 0: a deleted file has no metadata left
                writer.add_whiteout(relative, st);
            } else {
                writer.add(root, relative);
            }
        }
    });
}

}  // namespace dockling
