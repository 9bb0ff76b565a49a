#pragma once
/// \file
/// Content addressing: sha256 digests, computed while data streams by.

#include <openssl/evp.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace dockling {

/// True when `digest` is `sha256:` followed by exactly 64 lowercase hexadecimal digits.
///
/// Digests arrive from registries and manifests, which we do not trust. A digest becomes
/// a file name in the store and a part of a URL, so it is checked before either: a digest
/// like `sha256:../../etc/passwd` must never get that far.
[[nodiscard]] bool is_valid_digest(std::string_view digest);

/// Returns `digest` when is_valid_digest() accepts it; otherwise throws Error naming
/// `what` ("manifest digest", "layer digest") and the bad value.
std::string checked_digest(std::string_view digest, std::string_view what);

/// The 64 hex digits of a valid digest (what follows `sha256:`).
[[nodiscard]] std::string_view digest_hex(std::string_view digest);

/// A SHA-256 computation fed piece by piece, so that a blob can be verified while it
/// downloads instead of being read a second time afterwards.
class Sha256 {
public:
    Sha256();
    /// Adds `size` bytes at `data` to the hash.
    void update(const void* data, size_t size);
    /// Adds a string's bytes.
    void update(std::string_view text) { update(text.data(), text.size()); }
    /// The digest of everything added so far, as `sha256:<hex>`; the hash starts over.
    [[nodiscard]] std::string finish();

private:
    struct FreeContext {
        void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
    };
    std::unique_ptr<EVP_MD_CTX, FreeContext> context_;
};

/// The digest of `data`, in one go (manifests, configs, chain ids).
[[nodiscard]] std::string sha256_digest(std::string_view data);

/// Throws Error "`what` digest mismatch: expected E, got A" unless `actual == expected`.
void check_digest_matches(std::string_view what, std::string_view expected, std::string_view actual);

}  // namespace dockling
