#pragma once
/// \file
/// The byte streams under a layer tarball: decompressing one as it is read, compressing
/// one as it is written, both in-process with libarchive.

#include "layer_tar.hpp"
#include "unique_fd.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

struct archive;

namespace dockling {

/// Frees a libarchive reader.
struct ArchiveReadFree {
    /// archive_read_free(a).
    void operator()(struct archive* a) const noexcept;
};
/// Frees a libarchive writer.
struct ArchiveWriteFree {
    /// archive_write_free(a).
    void operator()(struct archive* a) const noexcept;
};
/// An owned libarchive reader.
using ArchiveReader = std::unique_ptr<struct archive, ArchiveReadFree>;
/// An owned libarchive writer.
using ArchiveWriter = std::unique_ptr<struct archive, ArchiveWriteFree>;

/// The last error libarchive recorded on `a`, for messages.
[[nodiscard]] std::string archive_problem(struct archive* a);

/// The compression of the file `path`, from its first bytes ("magic numbers"). Throws
/// Error naming the format for the compressions Dockling refuses (bzip2, xz, lz4...).
[[nodiscard]] Compression detect_compression(const std::filesystem::path& path);

/// Reads a layer file as its uncompressed byte stream, chunk by chunk.
///
/// A gzip or zstd file is decompressed by libarchive's own decoders (a "raw" reader
/// with one filter), and a plain file is read as it is. Every chunk is counted against
/// `max_bytes` and handed to the observer before it is returned, so the observer sees
/// each byte exactly once, in order.
class UncompressedReader {
public:
    /// Opens `file` (refusing compressions other than gzip and zstd); `observer`, if
    /// set, is shown every chunk.
    UncompressedReader(const std::filesystem::path& file, std::uint64_t max_bytes, ByteObserver observer);
    ~UncompressedReader();
    UncompressedReader(const UncompressedReader&) = delete;
    UncompressedReader& operator=(const UncompressedReader&) = delete;

    /// The next chunk; empty at the end of the stream. Throws Error on a damaged stream
    /// or when the stream grows beyond `max_bytes`.
    std::string_view read();
    /// Reads (and observes) whatever is left, such as the padding after a tar's end.
    void read_to_end();

private:
    std::filesystem::path file_;
    std::uint64_t max_bytes_;
    std::uint64_t total_ = 0;
    ByteObserver observer_;
    UniqueFd plain_;          // a plain tar: read directly
    ArchiveReader decoder_;   // a compressed one: libarchive's raw reader with a filter
    std::vector<char> buffer_;
};

/// Writes a byte stream to a new file, compressing it on the way.
class CompressedWriter {
public:
    /// Creates (or truncates) `file`.
    CompressedWriter(const std::filesystem::path& file, Compression compression);
    ~CompressedWriter();
    CompressedWriter(const CompressedWriter&) = delete;
    CompressedWriter& operator=(const CompressedWriter&) = delete;

    /// Appends `size` bytes of the uncompressed stream.
    void write(const void* data, size_t size);
    /// Flushes the compressor and closes the file; throws Error when that fails.
    void finish();

private:
    std::filesystem::path file_;
    UniqueFd fd_;
    ArchiveWriter encoder_;  // null for Compression::none
};

}  // namespace dockling
