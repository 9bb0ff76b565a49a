// Chapter 04: layer tarballs, written from an upper directory and applied onto a directory.
#include "ch04_support.hpp"

#include "error.hpp"
#include "layer_tar.hpp"

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

using namespace ch04;
using dockling::test::busybox_rootfs;
using dockling::test::read_file;
using dockling::test::TempDir;
using dockling::test::write_file;

namespace {

/// A directory with one of everything a layer can hold, with unusual metadata.
fs::path make_rich_tree(const fs::path& root)
{
    fs::create_directories(root / "dir/nested");
    fs::create_directories(root / "private");
    write_file(root / "dir/plain.txt", "plain\n");
    write_file(root / "dir/setuid", "#!/bin/sh\n");
    write_file(root / "dir/nested/h\xC3\xA9llo", "unicode name\n");
    write_file(root / "empty", "");
    write_file(root / "first-name", "one inode, two names\n");
    fs::create_hard_link(root / "first-name", root / "dir/second-name");
    fs::create_symlink("../first-name", root / "dir/relative-link");
    fs::create_symlink("/etc/passwd", root / "absolute-link");
    REQUIRE(::mknod((root / "null").c_str(), S_IFCHR, makedev(1, 3)) == 0);
    REQUIRE(::chmod((root / "null").c_str(), 0666) == 0);
    REQUIRE(::mknod((root / "loop").c_str(), S_IFBLK | 0660, makedev(7, 0)) == 0);
    REQUIRE(::mkfifo((root / "fifo").c_str(), 0640) == 0);
    std::string long_name(150, 'n');  // beyond ustar's 100 bytes: needs a pax header
    write_file(root / "dir" / long_name, "long\n");
    {
        std::ofstream big(root / "big.bin", std::ios::binary);
        for (int i = 0; i < 300000; ++i) {
            big << static_cast<char>(i * 7);
        }
    }
    REQUIRE(::chown((root / "dir/plain.txt").c_str(), 1234, 5678) == 0);
    REQUIRE(::chown((root / "private").c_str(), 42, 43) == 0);
    REQUIRE(::lchown((root / "absolute-link").c_str(), 7, 8) == 0);
    REQUIRE(::chmod((root / "dir/setuid").c_str(), 04755) == 0);
    REQUIRE(::chmod((root / "private").c_str(), 0700) == 0);
    REQUIRE(::setxattr((root / "dir/plain.txt").c_str(), "user.comment", "hello", 5, 0) == 0);
    REQUIRE(::setxattr((root / "private").c_str(), "trusted.dockling-test", "\x01\x02", 2, 0) == 0);
    REQUIRE(::setxattr((root / "empty").c_str(), "trusted.overlay.origin", "x", 1, 0) == 0);  // must not travel
    // Times last (nanoseconds included), deepest first so directories keep theirs.
    int n = 0;
    std::vector<fs::path> all;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        all.push_back(entry.path());
    }
    std::sort(all.rbegin(), all.rend());
    for (const auto& path : all) {
        const struct timespec times[2] = {{1600000000 + n, 123456789}, {1500000000 + n, 987654321}};
        REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
        ++n;
    }
    return root;
}

/// Everything about one entry that a round trip must keep, as a line.
std::string describe(const fs::path& root, const fs::path& path)
{
    struct stat st = lstat_of(path);
    std::ostringstream line;
    line << fs::relative(path, root).string() << " mode=" << std::oct << st.st_mode << std::dec << " uid=" << st.st_uid
         << " gid=" << st.st_gid << " nlink=" << st.st_nlink << " mtime=" << st.st_mtim.tv_sec << "."
         << st.st_mtim.tv_nsec;
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        line << " rdev=" << major(st.st_rdev) << "," << minor(st.st_rdev);
    }
    if (S_ISLNK(st.st_mode)) {
        line << " -> " << fs::read_symlink(path).string();
    }
    if (S_ISREG(st.st_mode)) {
        line << " size=" << st.st_size << " data=" << std::hash<std::string>{}(read_file(path));
    }
    char names[4096];
    ssize_t size = ::llistxattr(path.c_str(), names, sizeof names);
    for (ssize_t at = 0; at < size; at += static_cast<ssize_t>(std::strlen(names + at)) + 1) {
        char value[256];
        ssize_t length = ::lgetxattr(path.c_str(), names + at, value, sizeof value);
        line << " xattr " << (names + at) << "=" << std::string(value, length > 0 ? static_cast<size_t>(length) : 0);
    }
    return line.str();
}

/// describe() of every entry beneath `root`, sorted.
std::vector<std::string> describe_tree(const fs::path& root)
{
    std::vector<std::string> lines;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        lines.push_back(describe(root, entry.path()));
    }
    std::sort(lines.begin(), lines.end());
    return lines;
}

std::string bytes_of(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

/// An observer that keeps every byte it is shown.
struct Collect {
    std::string bytes;
    dockling::ByteObserver observer()
    {
        return [this](const void* data, size_t size) { bytes.append(static_cast<const char*>(data), size); };
    }
};

}  // namespace

TEST_CASE("a layer survives a round trip: owners, modes, xattrs, links, devices, times", "[ch04][tar]")
{
    DOCKLING_REQUIRE_ROOT();
    TempDir dir;
    fs::path source = make_rich_tree(dir.path() / "source");
    fs::path first = dir.path() / "first.tar", second = dir.path() / "second.tar";
    dockling::write_layer_tar(source, first);
    dockling::apply_layer_tar(first, dir.path() / "applied");
    dockling::write_layer_tar(dir.path() / "applied", second);

    // What GNU tar reads in both archives, entry by entry.
    std::string listing = tar_listing(first);
    CHECK(listing == tar_listing(second));
    CHECK(listing.find("-rwsr-xr-x 0/0") != std::string::npos);
    CHECK(listing.find("1234/5678") != std::string::npos);
    CHECK(listing.find(" first-name link to dir/second-name\n") != std::string::npos);
    CHECK(listing.find("absolute-link -> /etc/passwd") != std::string::npos);
    CHECK(listing.find("crw-rw-rw- 0/0") != std::string::npos);
    CHECK(listing.find(" 1,3 ") != std::string::npos);
    // Byte for byte: same metadata, to the nanosecond, and the same xattrs give the same tar.
    CHECK(bytes_of(first) == bytes_of(second));

    // And on disk, the unpacked tree is the tree we started from.
    std::vector<std::string> original = describe_tree(source);
    std::vector<std::string> unpacked = describe_tree(dir.path() / "applied");
    for (auto& line : original) {  // overlayfs's own xattrs are left behind on purpose
        auto at = line.find(" xattr trusted.overlay.origin=x");
        if (at != std::string::npos) {
            line.erase(at);
        }
    }
    CHECK(unpacked == original);
    CHECK(lstat_of(dir.path() / "applied/first-name").st_ino == lstat_of(dir.path() / "applied/dir/second-name").st_ino);
}

TEST_CASE("gzip and zstd layers are decompressed in-process; the observer sees the tar stream", "[ch04][tar]")
{
    DOCKLING_REQUIRE_ROOT();
    TempDir dir;
    fs::path source = make_rich_tree(dir.path() / "source");
    Collect plain_stream;
    dockling::write_layer_tar(source, dir.path() / "layer.tar", dockling::Compression::none, plain_stream.observer());
    std::string plain = bytes_of(dir.path() / "layer.tar");
    CHECK(plain_stream.bytes == plain);
    Collect plain_read;
    dockling::apply_layer_tar(dir.path() / "layer.tar", dir.path() / "from-plain", {}, plain_read.observer());
    CHECK(plain_read.bytes == plain);

    for (auto compression : {dockling::Compression::gzip, dockling::Compression::zstd}) {
        std::string name(dockling::compression_name(compression));
        INFO(name);
        fs::path file = dir.path() / ("layer.tar." + name);
        Collect written;
        dockling::write_layer_tar(source, file, compression, written.observer());
        CHECK(written.bytes == plain);  // the observer sees the tar, not the compressed bytes
        std::string compressed = bytes_of(file);
        CHECK(compressed.starts_with(compression == dockling::Compression::gzip ? "\x1F\x8B" : "\x28\xB5\x2F\xFD"));
        CHECK(compressed.size() < plain.size());
        // GNU tar, decompressing with the gzip and zstd programs, reads the same entries.
        Outcome listed = dockling::test::run_program({"tar", "--list", "--verbose", "--numeric-owner", "--full-time",
                                                      "--" + name, "--file", file.string()});
        CHECK(listed.exit_code == 0);
        CHECK(listed.out == tar_listing(dir.path() / "layer.tar"));

        Collect read;
        fs::path target = dir.path() / ("from-" + name);
        dockling::apply_layer_tar(file, target, {}, read.observer());
        CHECK(read.bytes == plain);
        CHECK(describe_tree(target) == describe_tree(dir.path() / "from-plain"));
    }
}

TEST_CASE("the observer also sees a tar's padding after its end", "[ch04][tar]")
{
    DOCKLING_REQUIRE_ROOT();
    TempDir dir;
    {
        TarBuilder tar(dir.path() / "padded.tar");
        tar.file("hello", "hello\n");
    }
    {  // padding after the end-of-archive blocks, as tape-style writers leave it
        std::ofstream out(dir.path() / "padded.tar", std::ios::binary | std::ios::app);
        out << std::string(10240 - 2048, '\0');
    }
    Collect read;
    dockling::apply_layer_tar(dir.path() / "padded.tar", dir.path() / "target", {}, read.observer());
    CHECK(read.bytes.size() == 10240);
    CHECK(read.bytes == bytes_of(dir.path() / "padded.tar"));
    CHECK(read_file(dir.path() / "target/hello") == "hello\n");
}

TEST_CASE("other compressions and non-tars are refused, nothing unpacked", "[ch04][tar]")
{
    DOCKLING_REQUIRE_ROOT();
    TempDir dir;
    struct Case {
        int filter;
        std::string says;
    };
    for (const auto& c : {Case{ARCHIVE_FILTER_XZ, "compressed with xz"}, Case{ARCHIVE_FILTER_BZIP2, "compressed with bzip2"},
                          Case{ARCHIVE_FILTER_LZ4, "compressed with lz4"}}) {
        fs::path file = dir.path() / ("layer-" + std::to_string(c.filter));
        {
            TarBuilder tar(file, c.filter);
            tar.file("hello", "hello\n");
        }
        fs::path target = dir.path() / ("target-" + std::to_string(c.filter));
        CHECK_THROWS_WITH(dockling::apply_layer_tar(file, target), Catch::Contains(c.says));
        CHECK(fs::is_empty(target));
    }
    write_file(dir.path() / "text", std::string(2000, 'x'));
    CHECK_THROWS_WITH(dockling::apply_layer_tar(dir.path() / "text", dir.path() / "target-text"),
                      Catch::Contains("not a tar archive"));
    {
        TarBuilder zip(dir.path() / "double.tar.gz", ARCHIVE_FILTER_GZIP);  // a gzip inside the gzip
        zip.file("x", "x");
    }
    std::string inner = bytes_of(dir.path() / "double.tar.gz");
    {
        std::unique_ptr<struct archive, int (*)(struct archive*)> raw(archive_write_new(), archive_write_free);
        archive_write_set_format_raw(raw.get());
        archive_write_add_filter_gzip(raw.get());
        archive_write_open_filename(raw.get(), (dir.path() / "twice.gz").c_str());
        std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_pathname(e.get(), "x");
        archive_write_header(raw.get(), e.get());
        archive_write_data(raw.get(), inner.data(), inner.size());
        archive_write_close(raw.get());
    }
    CHECK_THROWS_WITH(dockling::apply_layer_tar(dir.path() / "twice.gz", dir.path() / "target-twice"),
                      Catch::Contains("compressed more than once"));
    CHECK(fs::is_empty(dir.path() / "target-twice"));
}

TEST_CASE("OCI whiteouts become overlayfs whiteouts, and back", "[ch04][tar][ex4.2]")
{
    DOCKLING_REQUIRE_ROOT();
    TempDir dir;
    {
        TarBuilder tar(dir.path() / "layer.tar");
        tar.dir("etc").file("etc/.wh.passwd", "")              // deletes /etc/passwd below
            .dir("data").file("data/.wh..wh..opq", "").file("data/new", "new\n")  // hides /data below
            .file("mine", "mine\n").file(".wh.mine", "")       // this layer's own file stays
            .file(".wh..wh.plnk", "")                          // aufs bookkeeping: ignored
            .file(".wh.gone", "");
    }
    fs::path target = dir.path() / "target";
    dockling::apply_layer_tar(dir.path() / "layer.tar", target);
    CHECK(is_whiteout_node(target / "etc/passwd"));
    CHECK(is_whiteout_node(target / "gone"));
    char value[8] = {};
    ssize_t size = ::lgetxattr((target / "data").c_str(), "trusted.overlay.opaque", value, sizeof value);
    CHECK(std::string(value, size > 0 ? static_cast<size_t>(size) : 0) == "y");
    CHECK(read_file(target / "data/new") == "new\n");
    CHECK(read_file(target / "mine") == "mine\n");
    for (const auto& entry : fs::recursive_directory_iterator(target)) {
        CHECK(entry.path().filename().string().rfind(".wh.", 0) == std::string::npos);
    }

    // Written back as a layer, they are OCI's markers again.
    dockling::write_layer_tar(target, dir.path() / "again.tar");
    std::string listing = tar_listing(dir.path() / "again.tar");
    CHECK(listing.find(" etc/.wh.passwd\n") != std::string::npos);
    CHECK(listing.find(" data/.wh..wh..opq\n") != std::string::npos);
    CHECK(listing.find(" .wh.gone\n") != std::string::npos);
    CHECK(listing.find(" .wh.mine\n") == std::string::npos);
}

TEST_CASE("layer save and layer apply: a container's changes become a layer to run on", "[ch04][tar][run]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    std::string base = busybox_rootfs().string();
    REQUIRE(storage.run({"run", "--name", "maker", "--layer", base, "/bin/sh", "-c",
                         "mkdir -p /app; printf '#!/bin/sh\\necho hello from the app\\n' > /app/run.sh; chmod 755 /app/run.sh; "
                         "echo extra >> /etc/group"}).exit_code == 0);
    for (std::string compression : {"none", "gzip", "zstd"}) {
        INFO(compression);
        fs::path file = storage.scratch() / ("app-" + compression);
        fs::path layer = storage.scratch() / ("layer-" + compression);
        Outcome saved = storage.run({"layer", "save", "--compression", compression, "maker", file.string()});
        INFO(saved.err);
        REQUIRE(saved.exit_code == 0);
        REQUIRE(storage.run({"layer", "apply", file.string(), layer.string()}).exit_code == 0);
        Outcome ran = storage.run({"run", "--rm", "--layer", base, "--layer", layer.string(), "/bin/sh", "-c",
                                   "/app/run.sh; tail -n 1 /etc/group"});
        CHECK(ran.out == "hello from the app\nextra\n");
    }
    Outcome unknown = storage.run({"layer", "save", "--compression", "bzip2", "maker", "x"});
    CHECK(unknown.exit_code == 125);
    CHECK(unknown.err.find("unknown compression \"bzip2\": use none, gzip or zstd") != std::string::npos);
    storage.run({"rm", "maker"});
}

TEST_CASE("a saved deletion hides the file in the next container", "[ch04][tar][run][ex4.2]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    std::string base = busybox_rootfs().string();
    REQUIRE(storage.run({"run", "--name", "deleter", "--layer", base, "/bin/rm", "/etc/passwd"}).exit_code == 0);
    fs::path file = storage.scratch() / "deleted.tar", layer = storage.scratch() / "layer";
    REQUIRE(storage.run({"layer", "save", "deleter", file.string()}).exit_code == 0);
    CHECK(tar_listing(file).find(" etc/.wh.passwd\n") != std::string::npos);
    Outcome applied = storage.run({"layer", "apply", file.string(), layer.string()});
    INFO(applied.err);
    REQUIRE(applied.exit_code == 0);
    Outcome ran = storage.run({"run", "--rm", "--layer", base, "--layer", layer.string(), "/bin/sh", "-c",
                               "test -e /etc/passwd && echo present || echo deleted"});
    CHECK(ran.out == "deleted\n");
    CHECK(fs::exists(busybox_rootfs() / "etc/passwd"));
    storage.run({"rm", "deleter"});
}
