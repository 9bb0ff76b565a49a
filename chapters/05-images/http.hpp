#pragma once
/// \file
/// One HTTP exchange over libcurl: the transport under the registry client.

#include "error.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dockling {

/// Where a request's body comes from: `read` copies up to `capacity` bytes from position
/// `offset` of the body into `buffer` and returns how many (0 at the end). Reading by
/// position lets the same body be sent again (after a 401, on a retry).
struct HttpBody {
    std::function<size_t(uint64_t offset, char* buffer, size_t capacity)> read;  ///< produces the body
    uint64_t size = 0;                                                           ///< its length in bytes
};

/// A body held in memory (a manifest). `text` must outlive the request.
[[nodiscard]] HttpBody body_from_string(const std::string& text);
/// `length` bytes of the open file `fd` from `offset` on (a blob, or a chunk of one).
[[nodiscard]] HttpBody body_from_file(int fd, uint64_t offset, uint64_t length);

/// One request. Redirects are not followed here: the caller decides (see RegistryClient).
struct HttpRequest {
    std::string method = "GET";        ///< GET, HEAD, PUT, POST, PATCH
    std::string url;                   ///< absolute http:// or https:// URL
    std::vector<std::string> headers{};  ///< "Name: value" lines
    std::optional<HttpBody> body{};      ///< what to send, if anything
    /// Receives the body of a 2xx response as it arrives; may throw to abort the
    /// transfer (a size or digest check). Without it, the body is kept in memory.
    std::function<void(const char* data, size_t size)> on_body{};
    /// Largest body kept in memory (without on_body, or an error response's body).
    size_t max_body = 4 * 1024 * 1024;
    /// Why a too large in-memory body is refused ("manifest larger than 4 MiB").
    std::string too_large = "response body too large";
    /// When set (by another thread), the transfer is aborted.
    const std::atomic<bool>* cancelled = nullptr;
};

/// What came back.
struct HttpResponse {
    long status = 0;                                          ///< 200, 401, 307...
    std::vector<std::pair<std::string, std::string>> headers; ///< names in lowercase, in order
    std::string body;          ///< the body, unless on_body took it (then: the error body)
    std::string redirect_url;  ///< for a 3xx: the Location, made absolute

    /// The first header called `name` (lowercase), if any.
    [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
    /// Every header called `name` (WWW-Authenticate may come several times).
    [[nodiscard]] std::vector<std::string> headers_named(std::string_view name) const;
};

/// How patient and how trusting a transfer is.
struct HttpOptions {
    std::chrono::seconds connect_timeout{30};  ///< to establish the connection
    std::chrono::seconds stall_timeout{30};    ///< abort when no byte moved for this long
    bool verify_tls = true;                    ///< false only for insecure registries
};

/// A failed transfer (no HTTP response, or a broken one). `retryable()` is true for what
/// may pass on a second try: a refused or reset connection, a timeout, a cut-off body.
class TransportError : public Error {
public:
    /// `message` is one line naming the request and what went wrong.
    TransportError(const std::string& message, bool retryable) : Error(message), retryable_(retryable) {}
    /// True when trying again might succeed.
    [[nodiscard]] bool retryable() const noexcept { return retryable_; }

private:
    bool retryable_;
};

/// Performs one HTTP exchange and returns the response, whatever its status. Throws
/// TransportError when no complete response arrived, and rethrows what on_body threw.
HttpResponse http_exchange(const HttpRequest& request, const HttpOptions& options);

/// `https://host/a?b` -> `host`; `http://[::1]:5000/` -> `[::1]:5000`.
[[nodiscard]] std::string url_host(std::string_view url);
/// `https://host/a` -> `https`; "" when the URL has no scheme.
[[nodiscard]] std::string url_scheme(std::string_view url);
/// Percent-encodes a query parameter's value.
[[nodiscard]] std::string url_encode(std::string_view value);

/// Base64 of `data` (for Basic authentication and the credentials file).
[[nodiscard]] std::string base64_encode(std::string_view data);
/// Decodes base64; throws Error when `text` is not valid base64.
[[nodiscard]] std::string base64_decode(std::string_view text);

}  // namespace dockling
