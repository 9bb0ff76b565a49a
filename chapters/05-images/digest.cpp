#include "digest.hpp"

#include "error.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace dockling {

namespace {

constexpr std::string_view sha256_prefix = "sha256:";
constexpr size_t sha256_hex_length = 64;

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

//! [valid-digest]
bool is_valid_digest(std::string_view digest)
{
    if (!digest.starts_with(sha256_prefix)) {
        return false;
    }
    std::string_view hex = digest.substr(sha256_prefix.size());
    return hex.size() == sha256_hex_length && std::all_of(hex.begin(), hex.end(), is_lower_hex);
}
//! [valid-digest]

std::string checked_digest(std::string_view digest, std::string_view what)
{
    if (!is_valid_digest(digest)) {
        // Quote at most a screen's width of untrusted text.
        std::string shown(digest.substr(0, 100));
        throw Error(fmt::format("invalid {} \"{}\": a digest must be sha256: and 64 lowercase hex digits", what, shown));
    }
    return std::string(digest);
}

std::string_view digest_hex(std::string_view digest) { return digest.substr(sha256_prefix.size()); }

Sha256::Sha256() : context_(EVP_MD_CTX_new())
{
    if (!context_ || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) {
        throw Error("sha256: cannot initialise OpenSSL's digest");
    }
}

void Sha256::update(const void* data, size_t size)
{
    if (EVP_DigestUpdate(context_.get(), data, size) != 1) {
        throw Error("sha256: OpenSSL's digest update failed");
    }
}

std::string Sha256::finish()
{
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(context_.get(), hash, &length) != 1 ||
        EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) {
        throw Error("sha256: OpenSSL's digest final step failed");
    }
    std::string digest(sha256_prefix);
    for (unsigned int i = 0; i < length; ++i) {
        digest += fmt::format("{:02x}", hash[i]);
    }
    return digest;
}

std::string sha256_digest(std::string_view data)
{
    Sha256 hash;
    hash.update(data);
    return hash.finish();
}

void check_digest_matches(std::string_view what, std::string_view expected, std::string_view actual)
{
    if (expected != actual) {
        throw Error(fmt::format("{} digest mismatch: expected {}, got {}", what, expected, actual));
    }
}

}  // namespace dockling
