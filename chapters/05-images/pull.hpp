#pragma once
/// \file
/// `pull`: from an image reference to verified blobs in the store and a name in its index.

#include "layers.hpp"
#include "manifest.hpp"
#include "reference.hpp"
#include "registry.hpp"
#include "store.hpp"

#include <iosfwd>
#include <string>

namespace dockling {

/// How to pull.
struct PullOptions {
    /// The platform to choose from a manifest list (`--platform`; default: this machine's).
    Platform platform = host_platform();
    /// True when the user asked for `platform`: a single-platform image must then match it.
    bool platform_given = false;
    /// Registries, mirrors, concurrency, retries.
    RegistryOptions registry;
    /// How a layer blob is unpacked into a directory (chapter 04's `apply_layer_tar`, see
    /// chapter04_layer_applier()). When set, pull_image() unpacks every layer by chain id
    /// (unpack_layers) before the image gets its name, as `run` does for a missing image;
    /// `dockling pull` leaves it empty and the layers are unpacked at the first `run`.
    LayerApplier unpack;
    /// Redraw progress in place (a terminal) instead of printing plain lines.
    bool terminal = false;
};

/// What a pull did.
struct PullResult {
    std::string image_id;  ///< the config's digest
    std::string digest;    ///< the digest of what the reference named (manifest or index)
    bool updated = false;  ///< false when the reference already named this image
};

/// Pulls `reference` into `store`, printing docker pull's progress to `out`:
///
///  1. ping the registry (a mirror first, for docker.io), authenticate if it asks;
///  2. GET the manifest; from a manifest list, choose the platform's manifest;
///  3. GET the config, check it against the manifest;
///  4. download the layers (several at once), each verified while it streams: its size,
///     its digest, and the digest of its uncompressed content against the config's diff_id;
///  5. store config and manifest, then (atomically) the name in the index.
///
/// Throws Error on any failure; the store then holds no new image and no unverified blob.
PullResult pull_image(const ImageStore& store, const ImageReference& reference, const PullOptions& options,
                      std::ostream& out);

/// The digest of a stored layer blob's uncompressed content (when no verified record of
/// it exists, e.g. after a crash between storing the blob and recording its diff_id).
[[nodiscard]] std::string uncompressed_digest_of_blob(const ImageStore& store, const Descriptor& layer);

}  // namespace dockling
