#pragma once
/// \file
/// Layer tarballs in the OCI image layer format: applying one onto a directory, safely,
/// and writing a container's changes as one.

#include "changes.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>
#include <vector>

namespace dockling {

/// How a layer tarball is compressed. Only these three are accepted, and both
/// compressions are done in-process by libarchive, never by an external program.
enum class Compression { none, gzip, zstd };

/// "none", "gzip" or "zstd".
[[nodiscard]] std::string_view compression_name(Compression compression) noexcept;

/// The Compression called `name` ("none", "gzip", "zstd"); throws Error otherwise.
[[nodiscard]] Compression parse_compression(std::string_view name);

/// Receives the uncompressed tar stream of a layer, chunk by chunk, as it is read or
/// written (chapter 05 hashes it: its SHA-256 is the layer's diff_id).
using ByteObserver = std::function<void(const void* data, size_t size)>;

/// Caps that keep a hostile or broken layer from filling the disk or the memory.
struct ExtractLimits {
    /// The most bytes the uncompressed tar stream may have (a gzip "bomb" of a few
    /// kilobytes can expand to terabytes).
    std::uint64_t max_total_bytes = std::uint64_t{64} << 30;  // 64 GiB
    /// The most entries (files, directories, links...) the archive may have.
    std::uint64_t max_entries = 1'000'000;
    /// The longest entry name or link target, in bytes (Linux's PATH_MAX).
    size_t max_path_length = 4096;
};

/// Applies the layer tarball `tarball` onto the directory `target` (made if missing).
///
/// The tarball is a plain tar, or a gzip- or zstd-compressed one (anything else is
/// refused). Every entry keeps its owner, mode, extended attributes and times; hard
/// links, symlinks, device nodes and FIFOs are made as such. OCI whiteouts become
/// overlayfs's form, so that `target` can be used as an overlay lower layer: `.wh.NAME`
/// a character device 0/0 named NAME, `.wh..wh..opq` the trusted.overlay.opaque xattr
/// on its directory.
///
/// Hostile archives are refused with a one-line Error, and nothing is ever written
/// outside `target`: absolute names, `..`, names that lead through a symlink out of
/// `target`, hard links to anything outside, invalid whiteout names, and archives
/// beyond `limits`. (Entries before the refused one may have been written inside
/// `target`: extract into a fresh directory and discard it on failure.)
///
/// `on_uncompressed_bytes`, when given, receives the whole uncompressed stream once,
/// including the tar's trailing padding.
void apply_layer_tar(const std::filesystem::path& tarball, const std::filesystem::path& target,
                     const ExtractLimits& limits = {}, const ByteObserver& on_uncompressed_bytes = {});

/// Writes the upper directory of an overlay container as an OCI layer tarball `out`.
///
/// Every entry of `upper` becomes a tar entry with its owner, mode, extended attributes
/// (but not overlayfs's own trusted.overlay.*), modification time, and its link target
/// or device number; names of one inode become hard links. Whiteouts become `.wh.NAME`
/// entries and opaque directories get a `.wh..wh..opq` entry. Entries are in path
/// order, so the same directory always gives the same tar. `on_uncompressed_bytes`
/// receives the uncompressed tar stream.
void write_layer_tar(const std::filesystem::path& upper, const std::filesystem::path& out,
                     Compression compression = Compression::none, const ByteObserver& on_uncompressed_bytes = {});

/// Writes `changes` of the directory `root` as an OCI layer tarball `out`: added and
/// changed paths as entries read from `root`, deleted ones as `.wh.` whiteouts. For
/// containers without an upper directory (the vfs driver), whose changes come from
/// changes_between().
void write_changes_tar(const std::filesystem::path& root, const std::vector<Change>& changes,
                       const std::filesystem::path& out, Compression compression = Compression::none,
                       const ByteObserver& on_uncompressed_bytes = {});

}  // namespace dockling
