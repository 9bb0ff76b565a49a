#include "auth.hpp"

#include "error.hpp"
#include "http.hpp"
#include "files.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace dockling {

namespace {

std::string lowercase(std::string_view text)
{
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return lower;
}

/// The characters of an HTTP token (RFC 7230 `tchar`).
bool is_token_char(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

/// A read position in a header value.
struct Cursor {
    std::string_view text;
    size_t at = 0;

    [[nodiscard]] bool done() const { return at >= text.size(); }
    [[nodiscard]] char peek() const { return done() ? '\0' : text[at]; }
    void skip(std::string_view chars)
    {
        while (!done() && chars.find(text[at]) != std::string_view::npos) {
            ++at;
        }
    }
    std::string token()
    {
        size_t start = at;
        while (!done() && is_token_char(text[at])) {
            ++at;
        }
        return std::string(text.substr(start, at - start));
    }
    std::string quoted()  // at the opening '"'
    {
        std::string value;
        for (++at; !done() && text[at] != '"'; ++at) {
            if (text[at] == '\\' && at + 1 < text.size()) {
                ++at;  // \" and \\ stand for the character itself
            }
            value += text[at];
        }
        if (done()) {
            throw Error(fmt::format("invalid WWW-Authenticate header: unterminated quoted string in '{}'", text));
        }
        ++at;
        return value;
    }
};

}  // namespace

std::string AuthChallenge::param(const std::string& name) const
{
    auto found = params.find(name);
    return found == params.end() ? std::string() : found->second;
}

std::vector<AuthChallenge> parse_challenges(std::string_view header)
{
    // EXERCISE 5.2 BEGIN: reading the WWW-Authenticate challenge
    //   hint: use the Cursor above: a challenge is a scheme token, then name=value parameters separated by commas;
    //   hint: a name that is not followed by '=' is the scheme of the next challenge (rewind to its start);
    //   hint: values are tokens or quoted strings; scheme and parameter names are case-insensitive (lowercase them).
    std::vector<AuthChallenge> challenges;
    Cursor in{header};
    in.skip(" \t,");
    while (!in.done()) {
        AuthChallenge challenge{lowercase(in.token()), {}};
        if (challenge.scheme.empty()) {
            throw Error(fmt::format("invalid WWW-Authenticate header: no authentication scheme in '{}'", header));
        }
        in.skip(" \t");
        while (!in.done()) {
            size_t start = in.at;
            std::string name = in.token();
            in.skip(" \t");
            if (name.empty() || in.peek() != '=') {
                in.at = start;  // not a parameter: the next challenge begins here
                break;
            }
            ++in.at;
            in.skip(" \t");
            challenge.params[lowercase(name)] = in.peek() == '"' ? in.quoted() : in.token();
            in.skip(" \t,");
        }
        challenges.push_back(std::move(challenge));
        in.skip(" \t,");
    }
    return challenges;
    // EXERCISE 5.2 STUB
    //: (void)header; (void)lowercase;
    //: throw ExerciseNotDone("5.2", "read a scheme token, then name=value parameters (tokens or quoted strings) up to the next scheme");
    // EXERCISE 5.2 END
}

std::string token_url(const AuthChallenge& challenge, std::string_view scope)
{
    std::string realm = challenge.param("realm");
    std::string scheme = url_scheme(realm);
    if (scheme != "http" && scheme != "https") {
        throw Error(fmt::format("the registry's token realm \"{}\" is not an http(s) URL", realm.substr(0, 200)));
    }
    std::vector<std::string> query;
    if (std::string service = challenge.param("service"); !service.empty()) {
        query.push_back("service=" + url_encode(service));
    }
    if (!scope.empty()) {
        query.push_back("scope=" + url_encode(scope));
    }
    std::string url = realm;
    for (const auto& part : query) {
        url += (url.find('?') == std::string::npos ? '?' : '&') + part;
    }
    return url;
}

std::string token_from_answer(std::string_view body)
{
    nlohmann::json answer = nlohmann::json::parse(body, nullptr, false);
    for (const char* key : {"token", "access_token"}) {
        if (answer.is_object() && answer.contains(key) && answer[key].is_string() && !answer[key].get<std::string>().empty()) {
            return answer[key].get<std::string>();
        }
    }
    throw Error("the registry's token endpoint answered without a token");
}

CredentialStore::CredentialStore(std::filesystem::path file) : file_(std::move(file)) {}

CredentialStore CredentialStore::for_user()
{
    if (const char* dir = std::getenv("DOCKLING_CONFIG"); dir != nullptr && *dir != '\0') {
        return CredentialStore(std::filesystem::path(dir) / "config.json");
    }
    const char* home = std::getenv("HOME");
    return CredentialStore(std::filesystem::path(home != nullptr && *home != '\0' ? home : "/root") / ".dockling" / "config.json");
}

std::string CredentialStore::key(std::string_view registry) const
{
    // Docker files Docker Hub's credentials under its old v1 address; we do the same.
    return registry == "docker.io" ? "https://index.docker.io/v1/" : std::string(registry);
}

std::optional<Credentials> CredentialStore::find(std::string_view registry) const
{
    nlohmann::json config = read_json_file(file_, nlohmann::json::object());
    const nlohmann::json* entry = nullptr;
    if (config.contains("auths") && config["auths"].contains(key(registry))) {
        entry = &config["auths"][key(registry)];
    }
    if (entry == nullptr || !entry->contains("auth") || !(*entry)["auth"].is_string()) {
        return std::nullopt;
    }
    std::string pair = base64_decode((*entry)["auth"].get<std::string>());
    size_t colon = pair.find(':');
    if (colon == std::string::npos) {
        throw Error(fmt::format("{}: the saved credentials for {} are not user:password", file_.string(), registry));
    }
    return Credentials{pair.substr(0, colon), pair.substr(colon + 1)};
}

void CredentialStore::save(std::string_view registry, const Credentials& credentials) const
{
    nlohmann::json config = read_json_file(file_, nlohmann::json::object());
    config["auths"][key(registry)] = {{"auth", base64_encode(credentials.username + ":" + credentials.password)}};
    std::filesystem::create_directories(file_.parent_path());
    std::filesystem::permissions(file_.parent_path(), std::filesystem::perms::owner_all);
    write_file_atomically(file_, config.dump(1, '\t') + "\n", 0600);
}

bool CredentialStore::remove(std::string_view registry) const
{
    nlohmann::json config = read_json_file(file_, nlohmann::json::object());
    if (!config.contains("auths") || config["auths"].erase(key(registry)) == 0) {
        return false;
    }
    write_file_atomically(file_, config.dump(1, '\t') + "\n", 0600);
    return true;
}

}  // namespace dockling
