#pragma once
/// \file
/// A client for the OCI Distribution API (`/v2/`): the registry side of pull and push.

#include "auth.hpp"
#include "http.hpp"
#include "manifest.hpp"
#include "settings.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockling {

/// How Dockling talks to registries: the config file's keys and the defaults.
struct RegistryOptions {
    /// `registry-mirrors`: registries tried first, in order, for images of docker.io.
    std::vector<std::string> mirrors;
    /// `insecure-registries`: hosts (`host[:port]`) or networks (`10.0.0.0/8`) that may be
    /// reached over plain HTTP or HTTPS with an unverified certificate.
    std::vector<std::string> insecure;
    /// `max-concurrent-downloads`: layers downloaded at the same time (Docker's default 3).
    int max_concurrent_downloads = 3;
    /// Tries per request: connection errors and 5xx answers are retried.
    int attempts = 4;
    /// The wait before the first retry; it doubles for every next one.
    std::chrono::milliseconds backoff{250};
    /// Timeouts of every transfer.
    HttpOptions http;
    /// Where `login` keeps credentials.
    std::filesystem::path credentials_file = CredentialStore::for_user().file();

    /// The options from the config file (`settings.config`); throws Error naming a key
    /// whose value has the wrong type or range.
    [[nodiscard]] static RegistryOptions from_settings(const Settings& settings);
};

/// True when `host` (`host[:port]`) may be used without verified TLS: `localhost`, the
/// loopback networks 127.0.0.0/8 and ::1 (as Docker allows), or a listed insecure registry.
[[nodiscard]] bool is_insecure_registry(std::string_view host, const std::vector<std::string>& insecure);

/// One place to fetch a registry's images from.
struct Endpoint {
    std::string url;      ///< `https://registry-1.docker.io`, `http://127.0.0.1:5000`, or just the domain
    bool mirror = false;  ///< true for a registry mirror (failures fall back to the next)
};

/// The endpoints for registry `domain`, in the order to try them: docker.io's mirrors first,
/// then the registry itself (docker.io's is `registry-1.docker.io`).
[[nodiscard]] std::vector<Endpoint> endpoints_for(std::string_view domain, const RegistryOptions& options);

/// A manifest or index as the registry sent it: the exact bytes (their digest is the
/// image's digest), and what kind of document they are. Already checked.
struct ManifestDocument {
    std::string bytes;       ///< exactly what the registry sent
    std::string digest;      ///< sha256 of `bytes`
    std::string media_type;  ///< the Content-Type, which the document agreed with
    DocumentKind kind = DocumentKind::manifest;  ///< image manifest or index
};

/// Talks to one registry endpoint for one registry: the ping, authentication, retries,
/// redirects; manifests and blobs in both directions. Once ping() returned, its methods
/// may be called from several threads at once (the concurrent layer downloads).
class RegistryClient {
public:
    /// A client for registry `domain` (e.g. "docker.io") reached at `endpoint`.
    RegistryClient(std::string domain, Endpoint endpoint, RegistryOptions options);

    /// GET /v2/: finds out whether the registry speaks HTTPS or (if allowed) plain HTTP,
    /// and whether and how it wants authentication (its WWW-Authenticate challenge).
    void ping();
    /// The base URL found by ping(), e.g. `http://127.0.0.1:5000`.
    [[nodiscard]] const std::string& base_url() const { return base_; }
    /// Checks that `credentials` are accepted by the registry (for `login`).
    void check_credentials(const Credentials& credentials);

    /// Fetches, size-checks, digest-checks and validates manifest `reference` (a tag or a
    /// digest) of `repository` (e.g. "library/busybox").
    [[nodiscard]] ManifestDocument get_manifest(const std::string& repository, const std::string& reference);
    /// Fetches a small blob (a config) into memory and verifies its size and digest.
    [[nodiscard]] std::string get_small_blob(const std::string& repository, const Descriptor& blob);
    /// Streams blob `blob` to `on_data`. Before a retry starts the download over,
    /// `on_restart` is called so the receiver can discard what it got so far.
    void fetch_blob(const std::string& repository, const Descriptor& blob,
                    const std::function<void(const char*, size_t)>& on_data, const std::function<void()>& on_restart,
                    const std::atomic<bool>* cancelled = nullptr);

    /// HEAD: does the registry have blob `digest` in `repository`?
    [[nodiscard]] bool has_blob(const std::string& repository, const std::string& digest);
    /// Uploads `size` bytes of the open file `fd` as blob `digest`: in one PUT when it fits
    /// in `chunk_size`, else in PATCH chunks of `chunk_size` and a closing PUT.
    void upload_blob(const std::string& repository, const std::string& digest, int fd, uint64_t size,
                     uint64_t chunk_size = 16 * 1024 * 1024);
    /// PUTs a manifest under `reference` (a tag); returns the digest the registry reports.
    std::string put_manifest(const std::string& repository, const std::string& reference, const std::string& bytes,
                             const std::string& media_type);

    /// Asks for push access as well as pull (before push's first request).
    void want_push(bool push) { push_ = push; }

private:
    HttpResponse send(HttpRequest request, const std::string& repository);
    HttpResponse follow_redirects(HttpRequest request);
    HttpResponse exchange(const HttpRequest& request);
    void authorize(HttpRequest& request, const std::string& scope);
    void learn_challenge(const HttpResponse& response);
    std::string fetch_token(const std::string& scope);
    std::string upload_location(const HttpResponse& response) const;
    template <typename Action>
    auto with_retries(Action action, const std::atomic<bool>* cancelled = nullptr);

    std::string domain_;
    Endpoint endpoint_;
    RegistryOptions options_;
    std::optional<Credentials> credentials_;
    std::string base_;
    bool push_ = false;
    std::mutex mutex_;                           // guards the two members below
    std::optional<AuthChallenge> challenge_;     // what the registry asked for, if anything
    std::map<std::string, std::string> tokens_;  // Bearer tokens by scope
};

/// The message of a registry's error answer: `manifest unknown: manifest unknown` from
/// `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`, or the status.
[[nodiscard]] std::string registry_error(const HttpResponse& response);

}  // namespace dockling
