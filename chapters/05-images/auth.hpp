#pragma once
/// \file
/// Registry authentication: the WWW-Authenticate challenge, tokens, stored credentials.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockling {

/// One challenge of a `WWW-Authenticate` header (RFC 7235), for example
/// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io"`.
struct AuthChallenge {
    std::string scheme;                         ///< in lowercase: "bearer", "basic"
    std::map<std::string, std::string> params;  ///< names in lowercase, values unquoted

    /// The value of parameter `name`, or "" when it is absent.
    [[nodiscard]] std::string param(const std::string& name) const;
};

/// Parses the value of a `WWW-Authenticate` header into its challenges.
///
/// A header may hold several challenges separated by commas, and commas also separate
/// a challenge's parameters: a name followed by '=' is a parameter, a name that is not
/// starts the next challenge. Values are tokens or quoted strings (with `\"` escapes).
/// Throws Error on text that is not a challenge list.
[[nodiscard]] std::vector<AuthChallenge> parse_challenges(std::string_view header);

/// The URL a client asks for a Bearer token: the challenge's realm with `service` and
/// `scope` as query parameters (`scope` may be empty: then none is asked for).
/// Throws Error when the realm is not an http(s) URL.
[[nodiscard]] std::string token_url(const AuthChallenge& challenge, std::string_view scope);

/// The token in a token endpoint's JSON answer (`token`, or OAuth2's `access_token`).
/// Throws Error when the answer has neither.
[[nodiscard]] std::string token_from_answer(std::string_view body);

/// A user name and password for one registry.
struct Credentials {
    std::string username;  ///< the account
    std::string password;  ///< its password or access token
};

/// Where `login` keeps credentials: a JSON file like Docker's `~/.docker/config.json`,
/// `{"auths": {"registry": {"auth": base64("user:password")}}}`, mode 0600.
///
/// Credentials belong to the user who runs dockling, not to the data root: the file is
/// `$DOCKLING_CONFIG/config.json` when DOCKLING_CONFIG is set (like DOCKER_CONFIG), else
/// `$HOME/.dockling/config.json`.
class CredentialStore {
public:
    /// A store kept in `file`.
    explicit CredentialStore(std::filesystem::path file);
    /// The store at the default place (see the class comment).
    [[nodiscard]] static CredentialStore for_user();

    /// The credentials saved for `registry` (a domain such as "127.0.0.1:5000"), if any.
    [[nodiscard]] std::optional<Credentials> find(std::string_view registry) const;
    /// Saves credentials for `registry`, replacing earlier ones.
    void save(std::string_view registry, const Credentials& credentials) const;
    /// Forgets `registry`'s credentials; false when there were none.
    bool remove(std::string_view registry) const;
    /// The file.
    [[nodiscard]] const std::filesystem::path& file() const { return file_; }

private:
    [[nodiscard]] std::string key(std::string_view registry) const;
    std::filesystem::path file_;
};

}  // namespace dockling
