#pragma once
/// \file
/// Layers: decompressing them, their uncompressed digests (diff_ids), chain ids, and the
/// place where chapter 04's extraction turns a layer blob into a directory.

#include "manifest.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dockling {

class ImageStore;

/// The chain id of each layer of an image, bottom first.
///
/// A layer's diff_id names its own content; its chain id names it *together with every
/// layer below it*, which is what a directory of unpacked files depends on. The first
/// layer's chain id is its diff_id; each next one is
/// `sha256(parent_chain_id + " " + diff_id)`. Two images that start with the same layers
/// share those layers' chain ids, and so share the unpacked directories.
[[nodiscard]] std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids);

/// Turns compressed layer bytes into uncompressed bytes as they stream by.
class Decompressor {
public:
    /// Output goes to `out`, in pieces, as input comes in.
    Decompressor(Compression compression, std::function<void(const char*, size_t)> out);
    ~Decompressor();
    Decompressor(const Decompressor&) = delete;
    Decompressor& operator=(const Decompressor&) = delete;
    /// Feeds compressed bytes. Throws Error when they are not valid for the compression.
    void update(const char* data, size_t size);
    /// Declares the input complete; throws Error when the compressed stream was cut short.
    void finish();

private:
    struct State;
    std::unique_ptr<State> state_;
};

/// The digest of a layer's uncompressed content, computed from its compressed bytes
/// while they stream by (from the network or from chapter 04's extraction).
class UncompressedDigester {
public:
    /// For a layer compressed with `compression`.
    explicit UncompressedDigester(Compression compression);
    ~UncompressedDigester();
    UncompressedDigester(const UncompressedDigester&) = delete;
    UncompressedDigester& operator=(const UncompressedDigester&) = delete;
    /// Feeds compressed bytes.
    void update(const char* data, size_t size);
    /// The uncompressed content's digest; throws Error when the stream was incomplete.
    [[nodiscard]] std::string finish();

private:
    struct State;
    std::unique_ptr<State> state_;
};

/// Throws Error unless `actual`, the digest of layer `layer_digest`'s uncompressed content,
/// is the diff_id the image config promised for it. The image is refused otherwise.
void check_diff_id(std::string_view layer_digest, std::string_view expected, std::string_view actual);

/// How a layer blob becomes a directory: at integration this is chapter 04's
/// `apply_layer_tar(blob, dir, limits, on_uncompressed_bytes)` with its limits bound. It
/// must call `on_uncompressed_bytes` with every byte of the uncompressed tar stream it
/// reads, so that what it unpacks is what the diff_id check verified.
using LayerApplier = std::function<void(const std::filesystem::path& blob, const std::filesystem::path& dir,
                                        const std::function<void(const char*, size_t)>& on_uncompressed_bytes)>;

/// Unpacks every layer of an image into `store.layer_dir(chain id)`, skipping layers
/// already there (another image shares them); returns those directories, bottom first.
///
/// Each layer is unpacked by `apply` into a temporary directory while its uncompressed
/// digest is computed; only when that matches the diff_id is the directory renamed to its
/// chain id. A crash leaves only a temporary directory, removed by the next unpack.
std::vector<std::filesystem::path> unpack_layers(const ImageStore& store, const std::vector<Descriptor>& layers,
                                                 const std::vector<std::string>& diff_ids, const LayerApplier& apply);

}  // namespace dockling
