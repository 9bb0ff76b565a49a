#include "tar_stream.hpp"

#include "error.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace dockling {

namespace {

constexpr size_t chunk_size = 128 * 1024;

/// A compressed format's name and its first bytes.
struct Magic {
    std::string_view name;
    std::string_view bytes;
};

// The compressions a file may start with that Dockling does not decompress.
constexpr std::array refused_magics{
    Magic{"bzip2", "BZh"},
    Magic{"xz", "\xFD" "7zXZ"},
    Magic{"lz4", "\x04\x22\x4D\x18"},
    Magic{"lzip", "LZIP"},
    Magic{"compress (.Z)", "\x1F\x9D"},
};

/// Throws unless `status` says libarchive will do the work itself: ARCHIVE_WARN from
/// a "support filter" call means it would run an external program instead.
void require_builtin(int status, struct archive* a, std::string_view what)
{
    if (status == ARCHIVE_WARN) {
        throw Error(fmt::format("{}: libarchive has no built-in {} support and Dockling runs no external "
                                "program for it", what, what));
    }
    if (status != ARCHIVE_OK) {
        throw Error(fmt::format("{}: {}", what, archive_problem(a)));
    }
}

}  // namespace

void ArchiveReadFree::operator()(struct archive* a) const noexcept { archive_read_free(a); }
void ArchiveWriteFree::operator()(struct archive* a) const noexcept { archive_write_free(a); }

std::string archive_problem(struct archive* a)
{
    const char* text = archive_error_string(a);
    return text != nullptr ? text : "unknown libarchive error";
}

std::string_view compression_name(Compression compression) noexcept
{
    switch (compression) {
    case Compression::gzip:
        return "gzip";
    case Compression::zstd:
        return "zstd";
    case Compression::none:
        break;
    }
    return "none";
}

Compression parse_compression(std::string_view name)
{
    for (auto c : {Compression::none, Compression::gzip, Compression::zstd}) {
        if (name == compression_name(c)) {
            return c;
        }
    }
    throw Error(fmt::format("unknown compression \"{}\": use none, gzip or zstd", name));
}

Compression detect_compression(const std::filesystem::path& path)
{
    UniqueFd fd(check(::open(path.c_str(), O_RDONLY | O_CLOEXEC), "open", path.string()));
    std::array<char, 512> head{};
    ssize_t got = check(::pread(fd.get(), head.data(), head.size(), 0), "read", path.string());
    std::string_view start(head.data(), static_cast<size_t>(got));
    if (start.size() == head.size() && start.substr(257, 5) == "ustar") {
        return Compression::none;  // a tar header (its magic sits at offset 257)
    }
    if (start.starts_with("\x1F\x8B")) {
        return Compression::gzip;
    }
    if (start.starts_with("\x28\xB5\x2F\xFD")) {
        return Compression::zstd;
    }
    for (const auto& magic : refused_magics) {
        if (start.starts_with(magic.bytes)) {
            throw Error(fmt::format("layer {}: compressed with {}; only plain tar, gzip and zstd layers are accepted",
                                    path.string(), magic.name));
        }
    }
    return Compression::none;  // the tar reader will say so if it is no tar either
}

UncompressedReader::UncompressedReader(const std::filesystem::path& file, std::uint64_t max_bytes,
                                       ByteObserver observer)
    : file_(file), max_bytes_(max_bytes), observer_(std::move(observer)), buffer_(chunk_size)
{
    Compression compression = detect_compression(file);
    if (compression == Compression::none) {
        plain_.reset(check(::open(file.c_str(), O_RDONLY | O_CLOEXEC), "open", file.string()));
        return;
    }
    decoder_.reset(archive_read_new());
    struct archive* a = decoder_.get();
    require_builtin(compression == Compression::gzip ? archive_read_support_filter_gzip(a)
                                                     : archive_read_support_filter_zstd(a),
                    a, compression_name(compression));
    // The "raw" format hands out the decompressed bytes as they are: the tar inside is
    // read by a second, tar-only reader fed from here.
    archive_read_support_format_raw(a);
    struct archive_entry* entry = nullptr;
    if (archive_read_open_filename(a, file.c_str(), chunk_size) != ARCHIVE_OK ||
        archive_read_next_header(a, &entry) != ARCHIVE_OK) {
        throw Error(fmt::format("layer {}: {}", file.string(), archive_problem(a)));
    }
    // libarchive would happily peel a second gzip inside the first: a layer is
    // compressed once, so anything deeper is refused.
    if (archive_filter_count(a) != 2) {
        throw Error(fmt::format("layer {}: compressed more than once; a layer is a tar compressed at most once",
                                file.string()));
    }
}

UncompressedReader::~UncompressedReader() = default;

std::string_view UncompressedReader::read()
{
    ssize_t got = plain_ ? ::read(plain_.get(), buffer_.data(), buffer_.size())
                         : archive_read_data(decoder_.get(), buffer_.data(), buffer_.size());
    if (got < 0) {
        if (plain_) {
            throw_errno("read", file_.string());
        }
        throw Error(fmt::format("layer {}: damaged compressed stream: {}", file_.string(),
                                archive_problem(decoder_.get())));
    }
    total_ += static_cast<std::uint64_t>(got);
    if (total_ > max_bytes_) {
        throw Error(fmt::format("layer {}: more than {} bytes uncompressed (the limit); refusing what looks like "
                                "an archive bomb", file_.string(), max_bytes_));
    }
    if (got > 0 && observer_) {
        observer_(buffer_.data(), static_cast<size_t>(got));
    }
    return {buffer_.data(), static_cast<size_t>(got)};
}

void UncompressedReader::read_to_end()
{
    while (!read().empty()) {
    }
}

CompressedWriter::CompressedWriter(const std::filesystem::path& file, Compression compression)
    : file_(file),
      fd_(check(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), "create", file.string()))
{
    if (compression == Compression::none) {
        return;
    }
    encoder_.reset(archive_write_new());
    struct archive* a = encoder_.get();
    if (compression == Compression::gzip) {
        require_builtin(archive_write_add_filter_gzip(a), a, "gzip");
        // No time stamp in the gzip header: the same layer compresses to the same bytes.
        archive_write_set_filter_option(a, "gzip", "timestamp", nullptr);
    } else {
        require_builtin(archive_write_add_filter_zstd(a), a, "zstd");
    }
    // One "raw" entry: libarchive's compressor applied to our stream, with no padding
    // after the compressed data.
    archive_write_set_format_raw(a);
    archive_write_set_bytes_in_last_block(a, 1);
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(), archive_entry_free);
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_pathname(entry.get(), "layer.tar");
    if (archive_write_open_fd(a, fd_.get()) != ARCHIVE_OK || archive_write_header(a, entry.get()) != ARCHIVE_OK) {
        throw Error(fmt::format("write {}: {}", file.string(), archive_problem(a)));
    }
}

CompressedWriter::~CompressedWriter() = default;

void CompressedWriter::write(const void* data, size_t size)
{
    if (encoder_) {
        if (archive_write_data(encoder_.get(), data, size) < 0) {
            throw Error(fmt::format("write {}: {}", file_.string(), archive_problem(encoder_.get())));
        }
        return;
    }
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = ::write(fd_.get(), bytes, size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        check(n, "write", file_.string());
        bytes += n;
        size -= static_cast<size_t>(n);
    }
}

void CompressedWriter::finish()
{
    if (encoder_ && archive_write_close(encoder_.get()) != ARCHIVE_OK) {
        throw Error(fmt::format("write {}: {}", file_.string(), archive_problem(encoder_.get())));
    }
    encoder_.reset();
    check(::fsync(fd_.get()), "fsync", file_.string());
    check(::close(fd_.release()), "close", file_.string());
}

}  // namespace dockling
