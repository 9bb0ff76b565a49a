#include "registry.hpp"

#include "digest.hpp"
#include "error.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>
#include <thread>

namespace dockling {

namespace {

using nlohmann::json;

constexpr int max_redirects = 10;

/// A list of strings under `key` in the config file (absent: empty).
std::vector<std::string> string_list(const Settings& settings, const char* key)
{
    std::vector<std::string> values;
    auto found = settings.config.find(key);
    if (found == settings.config.end()) {
        return values;
    }
    if (!found->is_array()) {
        throw Error(fmt::format("config file {}: \"{}\" must be a list of strings", settings.config_file.string(), key));
    }
    for (const auto& value : *found) {
        if (!value.is_string() || value.get<std::string>().empty()) {
            throw Error(fmt::format("config file {}: \"{}\" must be a list of strings", settings.config_file.string(), key));
        }
        values.push_back(value.get<std::string>());
    }
    return values;
}

/// "host:port" -> "host"; "[::1]:5000" -> "::1".
std::string host_without_port(std::string_view host)
{
    if (host.starts_with('[')) {
        return std::string(host.substr(1, host.find(']') - 1));
    }
    return std::string(host.substr(0, host.find(':')));
}

/// Is the IP address `address` inside the network `cidr` ("10.0.0.0/8", "fd00::/8")?
bool in_network(const std::string& address, std::string_view cidr)
{
    size_t slash = cidr.find('/');
    std::string network(cidr.substr(0, slash));
    int bits = std::atoi(std::string(cidr.substr(slash + 1)).c_str());
    unsigned char a[16] = {}, n[16] = {};
    int family = network.find(':') == std::string::npos ? AF_INET : AF_INET6;
    if (::inet_pton(family, address.c_str(), a) != 1 || ::inet_pton(family, network.c_str(), n) != 1) {
        return false;
    }
    int total = family == AF_INET ? 32 : 128;
    bits = std::clamp(bits, 0, total);
    for (int i = 0; i < bits; ++i) {
        unsigned char mask = static_cast<unsigned char>(0x80 >> (i % 8));
        if ((a[i / 8] & mask) != (n[i / 8] & mask)) {
            return false;
        }
    }
    return true;
}

std::string without_parameters(std::string_view content_type)
{
    content_type = content_type.substr(0, content_type.find(';'));
    while (!content_type.empty() && content_type.back() == ' ') {
        content_type.remove_suffix(1);
    }
    return std::string(content_type);
}

std::string with_query(const std::string& url, const std::string& parameter)
{
    return url + (url.find('?') == std::string::npos ? "?" : "&") + parameter;
}

bool is_redirect(long status) { return status == 301 || status == 302 || status == 303 || status == 307 || status == 308; }

}  // namespace

RegistryOptions RegistryOptions::from_settings(const Settings& settings)
{
    RegistryOptions options;
    options.mirrors = string_list(settings, "registry-mirrors");
    for (auto& mirror : options.mirrors) {
        std::string scheme = url_scheme(mirror);
        if (scheme != "http" && scheme != "https") {
            throw Error(fmt::format("config file {}: registry mirror \"{}\" must be an http:// or https:// URL",
                                    settings.config_file.string(), mirror));
        }
        while (mirror.ends_with('/')) {
            mirror.pop_back();
        }
    }
    options.insecure = string_list(settings, "insecure-registries");
    if (auto found = settings.config.find("max-concurrent-downloads"); found != settings.config.end()) {
        if (!found->is_number_integer() || found->get<int64_t>() < 1 || found->get<int64_t>() > 64) {
            throw Error(fmt::format("config file {}: \"max-concurrent-downloads\" must be a number from 1 to 64",
                                    settings.config_file.string()));
        }
        options.max_concurrent_downloads = found->get<int>();
    }
    return options;
}

//! [insecure]
bool is_insecure_registry(std::string_view host, const std::vector<std::string>& insecure)
{
    std::string name = host_without_port(host);
    if (name == "localhost" || name == "::1" || in_network(name, "127.0.0.0/8")) {
        return true;  // loopback traffic never leaves the machine
    }
    for (const auto& entry : insecure) {
        if (entry == host || entry == name || (entry.find('/') != std::string::npos && in_network(name, entry))) {
            return true;
        }
    }
    return false;
}
//! [insecure]

std::vector<Endpoint> endpoints_for(std::string_view domain, const RegistryOptions& options)
{
    std::vector<Endpoint> endpoints;
    if (domain == "docker.io") {
        for (const auto& mirror : options.mirrors) {
            endpoints.push_back({mirror, true});
        }
        endpoints.push_back({"https://registry-1.docker.io", false});  // where Docker Hub serves /v2/
    } else {
        endpoints.push_back({std::string(domain), false});
    }
    return endpoints;
}

std::string registry_error(const HttpResponse& response)
{
    json doc = json::parse(response.body, nullptr, false);
    if (doc.is_object() && doc.contains("errors") && doc["errors"].is_array() && !doc["errors"].empty() &&
        doc["errors"][0].is_object()) {
        const json& first = doc["errors"][0];
        std::string code = first.value("code", "");
        std::transform(code.begin(), code.end(), code.begin(),
                       [](unsigned char c) { return c == '_' ? ' ' : static_cast<char>(std::tolower(c)); });
        std::string message = first.value("message", "");
        return code.empty() ? message : code + ": " + message;
    }
    return fmt::format("the registry answered HTTP {}", response.status);
}

RegistryClient::RegistryClient(std::string domain, Endpoint endpoint, RegistryOptions options)
    : domain_(std::move(domain)), endpoint_(std::move(endpoint)), options_(std::move(options))
{
    if (!endpoint_.mirror) {
        credentials_ = CredentialStore(options_.credentials_file).find(domain_);
    }
}

// ---- the plumbing: retries, redirects, authentication ---------------------------------------

//! [with-retries]
template <typename Action>
auto RegistryClient::with_retries(Action action, const std::atomic<bool>* cancelled)
{
    auto delay = options_.backoff;
    for (int attempt = 1;; ++attempt) {
        try {
            return action();
        } catch (const TransportError& error) {
            bool stop = !error.retryable() || attempt >= options_.attempts || (cancelled != nullptr && cancelled->load());
            if (stop) {
                throw TransportError(attempt > 1 ? fmt::format("{} (after {} attempts)", error.what(), attempt) : error.what(),
                                     error.retryable());
            }
        }
        std::this_thread::sleep_for(delay);  // back off: 250 ms, 500 ms, 1 s...
        delay *= 2;
    }
}
//! [with-retries]

HttpResponse RegistryClient::exchange(const HttpRequest& request)
{
    HttpOptions options = options_.http;
    options.verify_tls = !is_insecure_registry(url_host(request.url), options_.insecure);
    return http_exchange(request, options);
}

//! [follow-redirects]
HttpResponse RegistryClient::follow_redirects(HttpRequest request)
{
    std::set<std::string> visited{request.url};
    const std::string origin = url_host(request.url);
    for (int hop = 0;; ++hop) {
        HttpResponse response = exchange(request);
        bool may_follow = request.method == "GET" || request.method == "HEAD";
        if (!is_redirect(response.status) || response.redirect_url.empty() || !may_follow) {
            return response;
        }
        const std::string& target = response.redirect_url;
        std::string scheme = url_scheme(target);
        if (scheme != "https" && scheme != "http") {
            throw Error(fmt::format("refusing the registry's redirect to \"{}\": not an http(s) URL", target.substr(0, 200)));
        }
        if (scheme == "http" && !is_insecure_registry(url_host(target), options_.insecure)) {
            throw Error(fmt::format("refusing the registry's redirect to plain HTTP at {}", url_host(target)));
        }
        if (!visited.insert(target).second || hop == max_redirects) {
            throw Error(fmt::format("refusing the registry's redirects: a loop (or more than {}) at {}", max_redirects, target));
        }
        if (url_host(target) != origin) {  // a blob store elsewhere must not see our token
            std::erase_if(request.headers, [](const std::string& h) { return h.starts_with("Authorization:"); });
        }
        request.url = target;
    }
}
//! [follow-redirects]

void RegistryClient::learn_challenge(const HttpResponse& response)
{
    std::optional<AuthChallenge> chosen;
    for (const auto& header : response.headers_named("www-authenticate")) {
        for (auto& challenge : parse_challenges(header)) {
            if (challenge.scheme == "bearer" || (challenge.scheme == "basic" && !chosen)) {
                chosen = std::move(challenge);
            }
        }
    }
    if (chosen) {
        challenge_ = std::move(chosen);
    }
}

//! [fetch-token]
std::string RegistryClient::fetch_token(const std::string& scope)
{
    HttpRequest request;
    request.url = token_url(*challenge_, scope);
    std::string scheme = url_scheme(request.url);
    if (credentials_) {
        if (scheme == "http" && !is_insecure_registry(url_host(request.url), options_.insecure)) {
            throw Error(fmt::format("refusing to send credentials over plain HTTP to {}", url_host(request.url)));
        }
        request.headers.push_back("Authorization: Basic " + base64_encode(credentials_->username + ":" + credentials_->password));
    }
    HttpResponse response = with_retries([&] {
        HttpResponse answer = follow_redirects(request);
        if (answer.status >= 500) {
            throw TransportError(fmt::format("GET {}: {}", request.url, registry_error(answer)), true);
        }
        return answer;
    });
    if (response.status == 401 || response.status == 403) {
        throw Error(credentials_ ? "unauthorized: incorrect username or password"
                                 : fmt::format("the token service of {} refused anonymous access", domain_));
    }
    if (response.status != 200) {
        throw Error(fmt::format("the token service of {} answered: {}", domain_, registry_error(response)));
    }
    return token_from_answer(response.body);
}
//! [fetch-token]

void RegistryClient::authorize(HttpRequest& request, const std::string& scope)
{
    std::erase_if(request.headers, [](const std::string& h) { return h.starts_with("Authorization:"); });
    std::lock_guard lock(mutex_);  // the layer downloads share one token
    if (!challenge_) {
        return;
    }
    if (challenge_->scheme == "bearer") {
        auto& token = tokens_[scope];
        if (token.empty()) {
            token = fetch_token(scope);
        }
        request.headers.push_back("Authorization: Bearer " + token);
    } else if (challenge_->scheme == "basic" && credentials_) {
        request.headers.push_back("Authorization: Basic " + base64_encode(credentials_->username + ":" + credentials_->password));
    }
}

//! [send]
HttpResponse RegistryClient::send(HttpRequest request, const std::string& repository)
{
    std::string scope = "repository:" + repository + (push_ ? ":pull,push" : ":pull");
    authorize(request, scope);
    HttpResponse response = follow_redirects(request);
    if (response.status == 401) {  // no token yet, or it expired: answer the challenge once
        {
            std::lock_guard lock(mutex_);
            learn_challenge(response);
            tokens_.erase(scope);
        }
        authorize(request, scope);
        response = follow_redirects(request);
    }
    if (response.status >= 500) {
        throw TransportError(fmt::format("{} {}: {}", request.method, request.url, registry_error(response)), true);
    }
    return response;
}
//! [send]

// ---- the API ------------------------------------------------------------------------------

void RegistryClient::ping()
{
    std::vector<std::string> candidates;
    bool insecure = is_insecure_registry(url_host(endpoint_.url), options_.insecure);
    if (!url_scheme(endpoint_.url).empty()) {
        if (url_scheme(endpoint_.url) == "http" && !insecure) {
            throw Error(fmt::format("{} is not an insecure registry: plain HTTP is not allowed", endpoint_.url));
        }
        candidates.push_back(endpoint_.url);
    } else {
        candidates.push_back("https://" + endpoint_.url);
        if (insecure) {  // as Docker does: HTTPS first, plain HTTP only when that fails
            candidates.push_back("http://" + endpoint_.url);
        }
    }
    with_retries([&] {
        std::string failures;
        for (const auto& base : candidates) {
            try {
                HttpResponse response = exchange({.url = base + "/v2/"});
                if (response.status >= 500) {
                    throw TransportError(fmt::format("GET {}/v2/: {}", base, registry_error(response)), true);
                }
                if (response.status != 200 && response.status != 401) {
                    throw Error(fmt::format("{} does not look like a registry: GET /v2/ answered HTTP {}", base, response.status));
                }
                base_ = base;
                std::lock_guard lock(mutex_);
                learn_challenge(response);
                return;
            } catch (const TransportError& error) {
                failures += failures.empty() ? error.what() : std::string("; ") + error.what();
                if (&base == &candidates.back()) {
                    throw TransportError(failures, error.retryable());
                }
            }
        }
    });
}

void RegistryClient::check_credentials(const Credentials& credentials)
{
    credentials_ = credentials;
    ping();
    std::lock_guard lock(mutex_);
    if (!challenge_) {
        return;  // the registry asks for no authentication at all
    }
    if (challenge_->scheme == "bearer") {
        (void)fetch_token("");  // a token for no particular repository: proof that the password is right
        return;
    }
    HttpRequest request{.url = base_ + "/v2/"};
    request.headers.push_back("Authorization: Basic " + base64_encode(credentials.username + ":" + credentials.password));
    HttpResponse response = follow_redirects(request);
    if (response.status != 200) {
        throw Error("unauthorized: incorrect username or password");
    }
}

//! [get-manifest]
ManifestDocument RegistryClient::get_manifest(const std::string& repository, const std::string& reference)
{
    HttpRequest request{.url = fmt::format("{}/v2/{}/manifests/{}", base_, repository, reference)};
    request.headers.push_back(manifest_accept_header());
    request.max_body = max_manifest_size;
    request.too_large = "the manifest is larger than 4 MiB: refused";
    HttpResponse response = with_retries([&] { return send(request, repository); });
    std::string name = fmt::format("{}/{}:{}", domain_, repository, reference);
    if (response.status == 404) {
        throw Error(fmt::format("manifest for {} not found: {}", name, registry_error(response)));
    }
    if (response.status == 401 || response.status == 403) {
        throw Error(fmt::format("pull access denied for {}/{}, repository does not exist or may require "
                                "'dockling login': {}", domain_, repository, registry_error(response)));
    }
    if (response.status != 200) {
        throw Error(fmt::format("manifest for {}: {}", name, registry_error(response)));
    }
    ManifestDocument document;
    document.bytes = std::move(response.body);
    document.digest = sha256_digest(document.bytes);
    if (is_valid_digest(reference)) {
        check_digest_matches("manifest", reference, document.digest);  // what we asked for, exactly
    } else if (auto claimed = response.header("docker-content-digest"); claimed && *claimed != document.digest) {
        throw Error(fmt::format("the registry says manifest {} is {}, but its content is {}", name, *claimed, document.digest));
    }
    document.media_type = without_parameters(response.header("content-type").value_or(""));
    document.kind = check_manifest_document(document.bytes, document.media_type);
    return document;
}
//! [get-manifest]

std::string RegistryClient::get_small_blob(const std::string& repository, const Descriptor& blob)
{
    std::string content;
    fetch_blob(
        repository, blob,
        [&](const char* data, size_t size) {
            if (content.size() + size > static_cast<uint64_t>(blob.size)) {
                throw Error(fmt::format("blob {} is larger than the {} bytes its descriptor says", blob.digest, blob.size));
            }
            content.append(data, size);
        },
        [&] { content.clear(); });
    if (content.size() != static_cast<uint64_t>(blob.size)) {
        throw Error(fmt::format("blob {} has {} bytes, its descriptor says {}", blob.digest, content.size(), blob.size));
    }
    check_digest_matches("blob", blob.digest, sha256_digest(content));
    return content;
}

void RegistryClient::fetch_blob(const std::string& repository, const Descriptor& blob,
                                const std::function<void(const char*, size_t)>& on_data,
                                const std::function<void()>& on_restart, const std::atomic<bool>* cancelled)
{
    HttpRequest request{.url = fmt::format("{}/v2/{}/blobs/{}", base_, repository, checked_digest(blob.digest, "blob digest"))};
    request.on_body = on_data;
    request.cancelled = cancelled;
    with_retries([&] {
            on_restart();
            HttpResponse response = send(request, repository);
            if (response.status != 200) {
                throw Error(fmt::format("fetch blob {}: {}", blob.digest, registry_error(response)));
            }
        },
        cancelled);
}

bool RegistryClient::has_blob(const std::string& repository, const std::string& digest)
{
    HttpRequest request{.method = "HEAD", .url = fmt::format("{}/v2/{}/blobs/{}", base_, repository, digest)};
    HttpResponse response = with_retries([&] { return send(request, repository); });
    if (response.status == 200 || response.status == 404) {
        return response.status == 200;
    }
    throw Error(fmt::format("check blob {}: {}", digest, registry_error(response)));
}

std::string RegistryClient::upload_location(const HttpResponse& response) const
{
    std::string location = response.header("location").value_or("");
    if (location.starts_with('/')) {
        return base_ + location;
    }
    std::string scheme = url_scheme(location);
    if (scheme != "https" && (scheme != "http" || !is_insecure_registry(url_host(location), options_.insecure))) {
        throw Error(fmt::format("the registry gave an unusable upload location \"{}\"", location.substr(0, 200)));
    }
    return location;
}

//! [upload-blob]
void RegistryClient::upload_blob(const std::string& repository, const std::string& digest, int fd, uint64_t size,
                                 uint64_t chunk_size)
{
    static const std::string nothing;
    auto expect = [&](const HttpResponse& response, long status, const char* step) {
        if (response.status != status) {
            throw Error(fmt::format("upload of blob {} ({}): {}", digest, step, registry_error(response)));
        }
    };
    with_retries([&] {  // a failed upload starts over with a new session
        HttpResponse started = send({.method = "POST", .url = fmt::format("{}/v2/{}/blobs/uploads/", base_, repository)}, repository);
        expect(started, 202, "start");
        std::string location = upload_location(started);
        bool chunked = size > chunk_size;
        for (uint64_t offset = 0; chunked && offset < size; offset += chunk_size) {
            uint64_t length = std::min(chunk_size, size - offset);
            HttpRequest patch{.method = "PATCH", .url = location, .body = body_from_file(fd, offset, length)};
            patch.headers = {"Content-Type: application/octet-stream",
                             fmt::format("Content-Range: {}-{}", offset, offset + length - 1)};
            HttpResponse sent = send(patch, repository);
            expect(sent, 202, "chunk");
            location = upload_location(sent);
        }
        HttpRequest put{.method = "PUT", .url = with_query(location, "digest=" + digest),
                        .body = chunked ? body_from_string(nothing) : body_from_file(fd, 0, size)};
        put.headers = {"Content-Type: application/octet-stream"};
        expect(send(put, repository), 201, "finish");
    });
}
//! [upload-blob]

std::string RegistryClient::put_manifest(const std::string& repository, const std::string& reference,
                                         const std::string& bytes, const std::string& media_type)
{
    HttpRequest request{.method = "PUT", .url = fmt::format("{}/v2/{}/manifests/{}", base_, repository, reference),
                        .body = body_from_string(bytes)};
    request.headers = {"Content-Type: " + media_type};
    HttpResponse response = with_retries([&] { return send(request, repository); });
    if (response.status != 201) {
        throw Error(fmt::format("push manifest {}/{}:{}: {}", domain_, repository, reference, registry_error(response)));
    }
    std::string digest = sha256_digest(bytes);
    if (auto claimed = response.header("docker-content-digest"); claimed && *claimed != digest) {
        throw Error(fmt::format("the registry stored manifest {} as {}", digest, *claimed));
    }
    return digest;
}

}  // namespace dockling
