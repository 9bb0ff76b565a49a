#pragma once
/// \file
/// Manifests, indexes and image configs: what a registry says an image is made of.

#include "layer_tar.hpp"  // Compression, chapter 04

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockling {

/// The media types Dockling understands (Docker's and the OCI's names for the same ideas).
namespace media_type {
inline constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view docker_manifest_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view docker_schema1 = "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view docker_schema1_signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view docker_layer = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view docker_foreign_layer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view oci_layer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
}  // namespace media_type

/// The Accept header of a manifest request: every manifest and index type we can read.
[[nodiscard]] std::string manifest_accept_header();

/// The largest manifest or index accepted (Docker's and containerd's limit).
inline constexpr size_t max_manifest_size = 4 * 1024 * 1024;
/// The largest image config accepted.
inline constexpr size_t max_config_size = 8 * 1024 * 1024;

/// An operating system and CPU architecture, as in `linux/arm64/v8`.
struct Platform {
    std::string os;            ///< "linux"
    std::string architecture;  ///< Go's names: "amd64", "arm64", "arm", "386", "ppc64le", "s390x"...
    std::string variant;       ///< "v8" for arm64, "v7"/"v6" for arm, usually "" otherwise

    /// `os/architecture[/variant]`.
    [[nodiscard]] std::string string() const;
    /// Equal after normalize().
    bool operator==(const Platform&) const = default;
};

/// The canonical spelling of a platform: `x86_64` is `amd64`, `aarch64` is `arm64`, and
/// the default variants are made explicit (`arm64` is `arm64/v8`, `arm` is `arm/v7`).
[[nodiscard]] Platform normalize(Platform platform);

/// Parses `--platform os/arch[/variant]` (normalized). Throws Error on a bad value.
[[nodiscard]] Platform parse_platform(std::string_view text);

/// The platform of this machine (normalized), the default for pulls: `linux/amd64` on x86-64.
[[nodiscard]] Platform host_platform();

/// A reference to a blob: what it is, its digest, and its exact size.
struct Descriptor {
    std::string media_type;             ///< how to read the blob
    std::string digest;                 ///< "sha256:...", validated
    int64_t size = 0;                   ///< in bytes, never negative
    std::optional<Platform> platform;   ///< in an index: the image's platform
};

/// An image manifest: the config blob and the layer blobs, bottom layer first.
struct ImageManifest {
    std::string media_type;          ///< Docker schema 2 or OCI
    Descriptor config;               ///< the image config
    std::vector<Descriptor> layers;  ///< the filesystem layers, in order
};

/// A manifest list (Docker) or image index (OCI): one manifest per platform.
struct ImageIndex {
    std::string media_type;             ///< Docker's list or the OCI index
    std::vector<Descriptor> manifests;  ///< each with its platform
};

/// What a manifest document turned out to be.
enum class DocumentKind { manifest, index };

/// Checks a manifest document from a registry before anything else reads it, and tells
/// whether it is an image manifest or an index.
///
/// `content_type` is the response's Content-Type. Refused: schema 1 manifests, text
/// that is not a JSON object, a `mediaType` that differs from the Content-Type, and a
/// document with both `manifests` and `layers` (which two clients could read as two
/// different images). Throws Error naming the problem.
[[nodiscard]] DocumentKind check_manifest_document(std::string_view bytes, std::string_view content_type);

/// Parses a checked image manifest: every descriptor's digest, size and type validated.
[[nodiscard]] ImageManifest parse_image_manifest(std::string_view bytes, std::string_view media_type);

/// Parses a checked index.
[[nodiscard]] ImageIndex parse_image_index(std::string_view bytes, std::string_view media_type);

/// Picks the manifest for `wanted` from an index. Throws Error, as Docker does, when there
/// is none: `no matching manifest for linux/s390x in the manifest list entries`.
[[nodiscard]] const Descriptor& select_platform(const ImageIndex& index, const Platform& wanted);

/// The compression of a layer of media type `type`; throws Error for types that are not
/// layers we can use (Windows' foreign layers, unknown types).
[[nodiscard]] Compression layer_compression(std::string_view type);

/// The parts of an image config the store and `run` need; `json` keeps all of it.
struct ImageConfig {
    std::string architecture;            ///< "amd64"
    std::string os;                      ///< "linux"
    std::string variant;                 ///< "v8", or ""
    std::string created;                 ///< RFC 3339 time, or ""
    std::vector<std::string> diff_ids;   ///< the digests of the uncompressed layers, validated
    nlohmann::json json;                 ///< the whole config
};

/// Parses and checks an image config: an object with `rootfs.type` "layers" and valid
/// `diff_ids`. Throws Error naming the problem.
[[nodiscard]] ImageConfig parse_image_config(std::string_view bytes);

}  // namespace dockling
