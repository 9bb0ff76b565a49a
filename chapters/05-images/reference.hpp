#pragma once
/// \file
/// Image references as Docker reads them: `busybox`, `host:port/a/b:tag`, `name@sha256:...`.

#include <string>
#include <string_view>
#include <utility>

namespace dockling {

/// Where Docker Hub's images live, and its names for itself.
inline constexpr std::string_view docker_hub_domain = "docker.io";
/// The repository prefix of Docker Hub's official images (`busybox` is `library/busybox`).
inline constexpr std::string_view docker_hub_official = "library/";

/// A parsed, normalized image reference: which registry, which repository, which version.
///
/// `busybox` is parsed as domain `docker.io`, path `library/busybox`, tag `latest`: the
/// fully qualified name Docker uses internally and that the store keeps.
struct ImageReference {
    std::string domain;        ///< the registry: "docker.io", "127.0.0.1:5000", "[::1]:5000"
    std::string path;          ///< the repository in that registry: "library/busybox"
    std::string tag;           ///< "latest"; empty when only a digest was given
    std::string digest;        ///< "sha256:<64 hex>", or empty
    bool default_tag = false;  ///< true when neither tag nor digest was given and "latest" was filled in

    /// The repository's full name: `domain/path`.
    [[nodiscard]] std::string name() const { return domain + "/" + path; }
    /// The full reference: `name:tag`, `name@digest`, or `name:tag@digest`.
    [[nodiscard]] std::string string() const;
    /// The short form Docker shows: `busybox:latest` for `docker.io/library/busybox:latest`.
    [[nodiscard]] std::string familiar() const;
    /// What names the manifest in the registry's URL: the digest if given, else the tag.
    [[nodiscard]] const std::string& manifest_reference() const { return digest.empty() ? tag : digest; }
};

/// Parses `text` as Docker does (distribution's reference grammar, then Docker Hub's
/// defaults). Throws Error (exit 125) `invalid reference format "TEXT": WHY` otherwise.
[[nodiscard]] ImageReference parse_reference(std::string_view text);

/// Docker Hub's shorthand: a name without a registry lives on docker.io, and a one-part
/// name there is an official image under `library/`.
///
/// Called only for names whose domain is empty, `docker.io` or `index.docker.io`; returns
/// the normalized {domain, path}: {"", "busybox"} gives {"docker.io", "library/busybox"}.
[[nodiscard]] std::pair<std::string, std::string> docker_hub_name(std::string_view domain, std::string_view path);

/// The short form of a repository name: `docker.io/library/busybox` is `busybox`,
/// `docker.io/user/app` is `user/app`; names on other registries stay as they are.
[[nodiscard]] std::string familiar_name(std::string_view name);

/// True when `text` could only be a (possibly short) image ID: 1 to 64 lowercase hex
/// digits, optionally after `sha256:`.
[[nodiscard]] bool looks_like_image_id(std::string_view text);

}  // namespace dockling
