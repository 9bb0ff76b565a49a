#include "http.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <mutex>

#ifndef DOCKLING_VERSION
#define DOCKLING_VERSION "0.0.0-dev"
#endif

namespace dockling {

namespace {

/// libcurl wants curl_global_init() once per process, before any thread uses it.
void ensure_curl_initialized()
{
    static const CURLcode initialized = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (initialized != CURLE_OK) {
        throw Error(std::string("libcurl: cannot initialise: ") + curl_easy_strerror(initialized));
    }
}

struct CurlCleanup {
    void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
/// The request's header lines, as the list libcurl wants.
class HeaderList {
public:
    HeaderList() = default;
    HeaderList(const HeaderList&) = delete;
    HeaderList& operator=(const HeaderList&) = delete;
    ~HeaderList() { curl_slist_free_all(list_); }
    void add(const std::string& line)
    {
        curl_slist* longer = curl_slist_append(list_, line.c_str());
        if (longer == nullptr) {
            throw Error("libcurl: out of memory");
        }
        list_ = longer;
    }
    [[nodiscard]] curl_slist* get() const { return list_; }

private:
    curl_slist* list_ = nullptr;
};

/// The state one transfer's callbacks share.
struct Transfer {
    const HttpRequest& request;
    const HttpOptions& options;
    HttpResponse& response;
    CURL* curl = nullptr;
    std::exception_ptr failure;  // what a callback threw: C code cannot carry exceptions
    uint64_t sent = 0;           // how much of the request body went out
};

std::string trim(std::string_view text)
{
    size_t start = text.find_first_not_of(" \t\r\n");
    size_t end = text.find_last_not_of(" \t\r\n");
    return start == std::string_view::npos ? std::string() : std::string(text.substr(start, end - start + 1));
}

std::string lowercase(std::string_view text)
{
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return lower;
}

size_t on_header(char* data, size_t size, size_t count, void* user)
{
    auto& transfer = *static_cast<Transfer*>(user);
    std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
        transfer.response.headers.clear();  // a new response begins (after a "100 Continue")
    } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
        transfer.response.headers.emplace_back(lowercase(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
    }
    return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user)
{
    auto& transfer = *static_cast<Transfer*>(user);
    size_t bytes = size * count;
    try {
        long status = 0;
        curl_easy_getinfo(transfer.curl, CURLINFO_RESPONSE_CODE, &status);
        if (transfer.request.on_body && status / 100 == 2) {
            transfer.request.on_body(data, bytes);
        } else {
            if (transfer.response.body.size() + bytes > transfer.request.max_body) {
                throw Error(transfer.request.too_large);
            }
            transfer.response.body.append(data, bytes);
        }
    } catch (...) {
        transfer.failure = std::current_exception();
        return 0;  // anything but `bytes` makes libcurl abort the transfer
    }
    return bytes;
}

size_t on_read(char* buffer, size_t size, size_t count, void* user)
{
    auto& transfer = *static_cast<Transfer*>(user);
    try {
        size_t n = transfer.request.body->read(transfer.sent, buffer, size * count);
        transfer.sent += n;
        return n;
    } catch (...) {
        transfer.failure = std::current_exception();
        return CURL_READFUNC_ABORT;
    }
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
    auto& transfer = *static_cast<Transfer*>(user);
    return transfer.request.cancelled != nullptr && transfer.request.cancelled->load() ? 1 : 0;
}

/// Is a failed transfer worth another try? Connection trouble and cut-off bodies are;
/// a name that does not resolve or a refused TLS handshake are not.
bool is_retryable(CURLcode code)
{
    switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

void set_method(CURL* curl, const HttpRequest& request, Transfer& transfer)
{
    if (request.method == "HEAD") {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (request.body) {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body->size));
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    } else if (request.method == "POST") {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
    } else if (request.method != "GET") {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
}

void set_options(CURL* curl, const HttpRequest& request, const HttpOptions& options, Transfer& transfer,
                 curl_slist* headers, char* error_buffer)
{
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // we use threads: no SIGALRM for timeouts
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "dockling/" DOCKLING_VERSION);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(options.connect_timeout.count()));
    // A transfer that moves less than 1 byte per second for stall_timeout is dead.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.stall_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
    set_method(curl, request, transfer);
}

/// With DOCKLING_TRACE_HTTP set, every exchange is shown on stderr: "> GET url" for the
/// request, "< 200 type" for the response (tokens and passwords are never shown).
class Trace {
public:
    static bool enabled()
    {
        static const bool on = std::getenv("DOCKLING_TRACE_HTTP") != nullptr;
        return on;
    }
    static void request(const HttpRequest& request)
    {
        std::string line = "> " + request.method + " " + request.url;
        for (const auto& header : request.headers) {
            if (header.starts_with("Authorization: ")) {  // the scheme only: credentials stay secret
                line += " [" + header.substr(0, header.find(' ', 15)) + " ...]";
            }
        }
        print(line);
    }
    static void response(const HttpResponse& response)
    {
        std::string line = fmt::format("< {} {}", response.status, response.header("content-type").value_or(""));
        for (const char* name : {"www-authenticate", "location"}) {
            if (auto value = response.header(name)) {
                line += fmt::format("\n<   {}: {}", name, *value);
            }
        }
        print(line);
    }
    static void failure(const std::string& why) { print("< failed: " + why); }

private:
    static void print(const std::string& text)
    {
        static std::mutex mutex;  // the layer downloads trace from several threads
        std::lock_guard lock(mutex);
        std::cerr << text << '\n' << std::flush;
    }
};

}  // namespace

HttpBody body_from_string(const std::string& text)
{
    return {[&text](uint64_t offset, char* buffer, size_t capacity) {
                size_t n = std::min<size_t>(capacity, text.size() - static_cast<size_t>(offset));
                std::copy_n(text.data() + offset, n, buffer);
                return n;
            },
            text.size()};
}

HttpBody body_from_file(int fd, uint64_t start, uint64_t length)
{
    return {[fd, start, length](uint64_t offset, char* buffer, size_t capacity) -> size_t {
                size_t want = static_cast<size_t>(std::min<uint64_t>(capacity, length - offset));
                if (want == 0) {
                    return 0;
                }
                ssize_t got = ::pread(fd, buffer, want, static_cast<off_t>(start + offset));
                if (got <= 0) {
                    throw Error("read", "the blob being uploaded", got < 0 ? errno : EIO);
                }
                return static_cast<size_t>(got);
            },
            length};
}

//! [http-exchange]
HttpResponse http_exchange(const HttpRequest& request, const HttpOptions& options)
{
    ensure_curl_initialized();
    std::unique_ptr<CURL, CurlCleanup> curl(curl_easy_init());
    if (!curl) {
        throw Error("libcurl: cannot create a transfer");
    }
    HeaderList headers;
    headers.add("Expect:");  // no "100 Continue" round trip before a body
    for (const auto& header : request.headers) {
        headers.add(header);
    }
    HttpResponse response;
    Transfer transfer{request, options, response, curl.get(), nullptr};
    char error_buffer[CURL_ERROR_SIZE] = "";
    set_options(curl.get(), request, options, transfer, headers.get(), error_buffer);

    if (Trace::enabled()) {
        Trace::request(request);
    }
    CURLcode code = curl_easy_perform(curl.get());
    if (Trace::enabled() && code != CURLE_OK && !transfer.failure) {
        Trace::failure(*error_buffer != '\0' ? error_buffer : curl_easy_strerror(code));
    }
    if (transfer.failure) {
        std::rethrow_exception(transfer.failure);  // our own check stopped the transfer
    }
    if (code != CURLE_OK) {
        std::string why = *error_buffer != '\0' ? error_buffer : curl_easy_strerror(code);
        throw TransportError(fmt::format("{} {}: {}", request.method, request.url, why), is_retryable(code));
    }
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &response.status);
    if (char* location = nullptr; curl_easy_getinfo(curl.get(), CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location) {
        response.redirect_url = location;
    }
    if (Trace::enabled()) {
        Trace::response(response);
    }
    return response;
}
//! [http-exchange]

std::optional<std::string> HttpResponse::header(std::string_view name) const
{
    for (const auto& [key, value] : headers) {
        if (key == name) {
            return value;
        }
    }
    return std::nullopt;
}

std::vector<std::string> HttpResponse::headers_named(std::string_view name) const
{
    std::vector<std::string> values;
    for (const auto& [key, value] : headers) {
        if (key == name) {
            values.push_back(value);
        }
    }
    return values;
}

std::string url_scheme(std::string_view url)
{
    size_t colon = url.find("://");
    return colon == std::string_view::npos ? std::string() : lowercase(url.substr(0, colon));
}

std::string url_host(std::string_view url)
{
    size_t start = url.find("://");
    start = start == std::string_view::npos ? 0 : start + 3;
    size_t end = url.find_first_of("/?#", start);
    std::string_view host = url.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (size_t at = host.rfind('@'); at != std::string_view::npos) {
        host.remove_prefix(at + 1);  // user:password@host
    }
    return lowercase(host);
}

std::string url_encode(std::string_view value)
{
    std::string encoded;
    for (unsigned char c : value) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            encoded += static_cast<char>(c);
        } else {
            encoded += fmt::format("%{:02X}", c);
        }
    }
    return encoded;
}

std::string base64_encode(std::string_view data)
{
    std::string encoded(4 * ((data.size() + 2) / 3), '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                            reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
    encoded.resize(static_cast<size_t>(n));
    return encoded;
}

std::string base64_decode(std::string_view text)
{
    if (text.size() % 4 != 0) {
        throw Error("invalid base64: its length is not a multiple of 4");
    }
    std::string decoded(3 * text.size() / 4, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                            reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0) {
        throw Error("invalid base64 text");
    }
    // EVP_DecodeBlock counts the padding as data: drop one byte per '='.
    size_t padding = static_cast<size_t>(std::count(text.end() - std::min<size_t>(2, text.size()), text.end(), '='));
    decoded.resize(static_cast<size_t>(n) - padding);
    return decoded;
}

}  // namespace dockling
