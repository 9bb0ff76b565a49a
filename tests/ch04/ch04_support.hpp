#pragma once
// What chapter 04's tests share: a data root in a TempDir, looking at mounts, fingerprints
// of directory trees, and a small tar writer (libarchive) for building test archives,
// hostile ones included.
#include "harness.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace ch04 {

namespace fs = std::filesystem;
using dockling::test::Outcome;

/// A data root of its own (never /var/lib/dockling) and helpers to run dockling on it.
class Storage {
public:
    /// The data root.
    [[nodiscard]] fs::path root() const { return dir_.path() / "data"; }
    /// A scratch directory next to it.
    [[nodiscard]] const fs::path& scratch() const { return dir_.path(); }
    /// `dockling --data-root ROOT ARGS...`
    Outcome run(const std::vector<std::string>& args, const std::string& input = {}) const
    {
        std::vector<std::string> full{"--data-root", root().string()};
        full.insert(full.end(), args.begin(), args.end());
        return dockling::test::run_dockling(full, input);
    }
    /// The directories of the containers in this data root.
    [[nodiscard]] std::vector<fs::path> containers() const
    {
        std::vector<fs::path> found;
        if (fs::exists(root() / "containers")) {
            for (const auto& entry : fs::directory_iterator(root() / "containers")) {
                found.push_back(entry.path());
            }
        }
        return found;
    }
    /// The directory of the one container there must be.
    [[nodiscard]] fs::path only_container() const
    {
        auto found = containers();
        REQUIRE(found.size() == 1);
        return found.front();
    }

private:
    dockling::test::TempDir dir_;
};

/// Waits (up to 20 s) until `storage` holds a container, and returns its directory.
inline fs::path wait_for_container(const Storage& storage)
{
    for (int i = 0; i < 2000; ++i) {
        if (auto found = storage.containers(); !found.empty()) {
            return found.front();
        }
        ::usleep(10000);
    }
    FAIL("no container appeared in " << storage.root());
    return {};
}

/// True when a line of /proc/self/mountinfo mentions `text` (a path of this test).
inline bool mountinfo_mentions(const std::string& text)
{
    return dockling::test::read_file("/proc/self/mountinfo").find(text) != std::string::npos;
}

/// A fingerprint of a directory tree: every entry's path, type, mode, owner, size,
/// link target, modification and change times, and the SHA-256 of every file. Any
/// write, chmod, chown, xattr change or deletion changes it (ctime moves).
inline std::string fingerprint(const fs::path& dir)
{
    Outcome listed = dockling::test::run_program(
        {"sh", "-c",
         "cd \"$1\" && find . -printf '%P %y %m %U %G %s %l %T@ %C@\\n' | LC_ALL=C sort && "
         "find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum",
         "fingerprint", dir.string()});
    REQUIRE(listed.exit_code == 0);
    return listed.out;
}

/// One line per entry of a tar file as GNU tar lists it (numeric owners, full times).
inline std::string tar_listing(const fs::path& tarball)
{
    Outcome listed = dockling::test::run_program(
        {"tar", "--list", "--verbose", "--numeric-owner", "--full-time", "--file", tarball.string()});
    INFO(listed.err);
    REQUIRE(listed.exit_code == 0);
    return listed.out;
}

/// Writes test archives with libarchive: any names, any links, on purpose.
class TarBuilder {
public:
    /// A pax tar at `path`, compressed with `filter` (ARCHIVE_FILTER_NONE, _GZIP, _ZSTD, _XZ...).
    explicit TarBuilder(const fs::path& path, int filter = ARCHIVE_FILTER_NONE) : a_(archive_write_new())
    {
        archive_write_set_format_pax(a_.get());
        if (filter != ARCHIVE_FILTER_NONE) {
            REQUIRE(archive_write_add_filter(a_.get(), filter) == ARCHIVE_OK);
        }
        REQUIRE(archive_write_open_filename(a_.get(), path.c_str()) == ARCHIVE_OK);
    }
    ~TarBuilder() { close(); }
    TarBuilder(const TarBuilder&) = delete;
    TarBuilder& operator=(const TarBuilder&) = delete;

    TarBuilder& file(const std::string& name, const std::string& contents, int mode = 0644)
    {
        auto e = entry(name, AE_IFREG, mode);
        archive_entry_set_size(e.get(), static_cast<la_int64_t>(contents.size()));
        write(e.get());
        REQUIRE(archive_write_data(a_.get(), contents.data(), contents.size()) == static_cast<la_ssize_t>(contents.size()));
        return *this;
    }
    /// A file of `size` zero bytes, written in chunks (for archive bombs).
    TarBuilder& zeros(const std::string& name, size_t size)
    {
        auto e = entry(name, AE_IFREG, 0644);
        archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
        write(e.get());
        std::string chunk(1 << 16, '\0');
        for (size_t done = 0; done < size; done += chunk.size()) {
            archive_write_data(a_.get(), chunk.data(), std::min(chunk.size(), size - done));
        }
        return *this;
    }
    TarBuilder& dir(const std::string& name, int mode = 0755)
    {
        auto e = entry(name, AE_IFDIR, mode);
        write(e.get());
        return *this;
    }
    TarBuilder& symlink(const std::string& name, const std::string& target)
    {
        auto e = entry(name, AE_IFLNK, 0777);
        archive_entry_set_symlink(e.get(), target.c_str());
        write(e.get());
        return *this;
    }
    TarBuilder& hardlink(const std::string& name, const std::string& target)
    {
        auto e = entry(name, AE_IFREG, 0644);
        archive_entry_set_hardlink(e.get(), target.c_str());
        write(e.get());
        return *this;
    }
    TarBuilder& device(const std::string& name, int type, unsigned major_number, unsigned minor_number)
    {
        auto e = entry(name, type, 0600);
        archive_entry_set_rdevmajor(e.get(), major_number);
        archive_entry_set_rdevminor(e.get(), minor_number);
        write(e.get());
        return *this;
    }
    void close()
    {
        if (a_) {
            archive_write_close(a_.get());
            a_.reset();
        }
    }

private:
    using Entry = std::unique_ptr<archive_entry, void (*)(archive_entry*)>;
    struct Free {
        void operator()(struct archive* a) const { archive_write_free(a); }
    };

    static Entry entry(const std::string& name, int type, int mode)
    {
        Entry e(archive_entry_new(), archive_entry_free);
        archive_entry_set_pathname(e.get(), name.c_str());
        archive_entry_set_filetype(e.get(), static_cast<unsigned>(type));
        archive_entry_set_perm(e.get(), static_cast<mode_t>(mode));
        archive_entry_set_mtime(e.get(), 1700000000, 0);
        return e;
    }
    void write(archive_entry* e) { REQUIRE(archive_write_header(a_.get(), e) == ARCHIVE_OK); }

    std::unique_ptr<struct archive, Free> a_;
};

/// lstat, for checks.
inline struct stat lstat_of(const fs::path& path)
{
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st;
}

/// True when `path` is an overlayfs whiteout (character device 0/0).
inline bool is_whiteout_node(const fs::path& path)
{
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

}  // namespace ch04
