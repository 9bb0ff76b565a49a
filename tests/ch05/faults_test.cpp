// Chapter 05: what the registry client does when the registry misbehaves. A fault proxy
// (tests/fixtures/fault-proxy.py) stands between dockling and the real registry.
#include "servers.hpp"

#include "manifest.hpp"
#include "registry.hpp"

#include <sys/stat.h>

#include <regex>

using namespace dockling::test;
namespace fs = std::filesystem;

namespace {

fs::path blobs_of(const TempDir& root) { return root.path() / "data" / "images" / "blobs" / "sha256"; }
fs::path tmp_of(const TempDir& root) { return root.path() / "data" / "images" / "tmp"; }
/// How many requests in the proxy's log match `pattern` ("GET /v2/busybox/manifests/latest 500").
size_t requests(const FaultProxy& proxy, const std::string& pattern)
{
    std::regex wanted(pattern);
    size_t count = 0;
    std::istringstream log(proxy.log());
    for (std::string line; std::getline(log, line);) {
        count += std::regex_search(line, wanted) ? 1 : 0;
    }
    return count;
}

/// The store holds nothing: no blob, no download left over, no image.
void check_nothing_stored(const TempDir& root)
{
    CHECK(count_files(blobs_of(root)) == 0);
    CHECK(count_files(tmp_of(root)) == 0);
    CHECK(dockling_in(root, {"images", "-q"}).out.empty());
}

/// Pulls busybox through `proxy` into a fresh data root and checks that the pull was
/// refused as every refusal must be: exit 125, one line, nothing stored. Returns stderr.
std::string refused_pull(const FaultProxy& proxy)
{
    TempDir root;
    Outcome pulled = dockling_in(root, {"pull", proxy.address() + "/busybox"});
    CHECK(pulled.exit_code == 125);
    CHECK(one_line(pulled.err));
    check_nothing_stored(root);
    return pulled.err;
}

constexpr const char* big_blobs = "10000";  // the busybox layer is ~1 MB; configs are < 1 kB

}  // namespace

TEST_CASE("500 answers are retried with backoff until the registry recovers", "[ch05][faults]")
{
    DOCKLING_REQUIRE_REGISTRY();
    FaultProxy proxy(fixture_registry().address(), {"--fail-first", "2"});
    TempDir root;
    Outcome pulled = dockling_in(root, {"pull", proxy.address() + "/busybox"});
    INFO(pulled.err);
    REQUIRE(pulled.exit_code == 0);
    CHECK(requests(proxy, "^GET /v2/busybox/manifests/latest 500$") == 2);
    CHECK(requests(proxy, "^GET /v2/busybox/manifests/latest 200$") == 1);
    CHECK(requests(proxy, "^GET /v2/busybox/blobs/sha256:[0-9a-f]{64} 500$") == 4);  // config and layer, twice each
    CHECK(requests(proxy, "^GET /v2/busybox/blobs/sha256:[0-9a-f]{64} 200$") == 2);
    CHECK(count_files(blobs_of(root)) == 3);
}

TEST_CASE("a registry that keeps failing is given up on, nothing stored", "[ch05][faults]")
{
    DOCKLING_REQUIRE_REGISTRY();
    FaultProxy proxy(fixture_registry().address(), {"--fail-first", "100"});
    CHECK(contains(refused_pull(proxy), "unknown: injected failure (after 4 attempts)"));
}

TEST_CASE("a truncated blob is refused and nothing is stored", "[ch05][faults]")
{
    DOCKLING_REQUIRE_REGISTRY();
    FaultProxy proxy(fixture_registry().address(), {"--truncate-blobs", "--blob-min-size", big_blobs});
    CHECK(contains(refused_pull(proxy), "(after 4 attempts)"));  // a cut connection is worth retrying
    CHECK(requests(proxy, "^GET /v2/busybox/blobs/sha256:[0-9a-f]{64} 200$") == 1 + 4);
}

TEST_CASE("a blob whose content does not match its digest is refused, nothing stored", "[ch05][faults]")
{
    DOCKLING_REQUIRE_REGISTRY();
    FaultProxy proxy(fixture_registry().address(), {"--corrupt-blobs", "--blob-min-size", big_blobs});
    TempDir root;
    Outcome pulled = dockling_in(root, {"pull", proxy.address() + "/busybox"});
    CHECK(pulled.exit_code == 125);
    CHECK(one_line(pulled.err));
    CHECK((contains(pulled.err, "blob digest mismatch: expected sha256:") || contains(pulled.err, "not valid gzip")));
    check_nothing_stored(root);

    FaultProxy small(fixture_registry().address(), {"--corrupt-blobs"});  // the config this time
    Outcome config = dockling_in(root, {"pull", small.address() + "/busybox"});
    CHECK(config.exit_code == 125);
    CHECK(contains(config.err, "blob digest mismatch: expected sha256:"));
    check_nothing_stored(root);
}

TEST_CASE("a stalled transfer times out", "[ch05][faults]")
{
    DOCKLING_REQUIRE_REGISTRY();
    FaultProxy proxy(fixture_registry().address(), {"--stall-blobs", "--blob-min-size", big_blobs});
    dockling::RegistryOptions options;
    options.http.stall_timeout = std::chrono::seconds(1);
    options.attempts = 2;
    options.credentials_file = "/nonexistent/config.json";
    dockling::RegistryClient client(proxy.address(), {proxy.address(), false}, options);
    client.ping();
    auto document = client.get_manifest("busybox", "latest");
    auto manifest = dockling::parse_image_manifest(document.bytes, document.media_type);
    size_t received = 0;
    int restarts = 0;
    CHECK_THROWS_WITH(client.fetch_blob(
                          "busybox", manifest.layers.at(0), [&](const char*, size_t n) { received += n; },
                          [&] { ++restarts; received = 0; }),
                      Catch::Contains("Operation too slow") && Catch::Contains("(after 2 attempts)"));
    CHECK(restarts == 2);
    CHECK(received == static_cast<size_t>(manifest.layers.at(0).size) / 2);  // what came before the stall
}

TEST_CASE("blob redirects are followed, but not in loops or to other schemes", "[ch05][faults]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    {
        FaultProxy proxy(registry, {"--redirect-blobs"});
        TempDir root;
        Outcome pulled = dockling_in(root, {"pull", proxy.address() + "/busybox"});
        INFO(pulled.err);
        CHECK(pulled.exit_code == 0);
        CHECK(requests(proxy, "^GET /v2/busybox/blobs/sha256:[0-9a-f]{64} 307$") == 2);
        CHECK(requests(proxy, "^GET /_redirected/v2/busybox/blobs/sha256:[0-9a-f]{64} 200$") == 2);
    }
    struct Case {
        std::vector<std::string> fault;
        std::string error;
    };
    for (const Case& bad : {Case{{"--redirect-loop"}, "refusing the registry's redirects: a loop"},
                            Case{{"--redirect-to", "file:///etc/passwd"}, "redirect to \"file:///etc/passwd\": not an http(s) URL"},
                            Case{{"--redirect-to", "ftp://127.0.0.1/blob"}, "not an http(s) URL"},
                            Case{{"--redirect-to", "http://example.com/blob"}, "redirect to plain HTTP at example.com"}}) {
        INFO(bad.fault[0]);
        FaultProxy proxy(registry, bad.fault);
        CHECK(contains(refused_pull(proxy), bad.error));
    }
}

TEST_CASE("untrusted manifests: schema 1, a lying Content-Type, a huge document", "[ch05][faults]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    struct Case {
        std::vector<std::string> fault;
        std::string error;
    };
    for (const Case& bad : {Case{{"--schema1"}, "Docker schema 1 manifest"},
                            Case{{"--content-type", "application/vnd.oci.image.manifest.v1+json"},
                                 "the manifest says its mediaType is application/vnd.docker.distribution.manifest.v2+json "
                                 "but the registry sent it as application/vnd.oci.image.manifest.v1+json"},
                            Case{{"--huge-manifests"}, "the manifest is larger than 4 MiB: refused"}}) {
        INFO(bad.fault[0]);
        FaultProxy proxy(registry, bad.fault);
        CHECK(contains(refused_pull(proxy), bad.error));
    }
}

TEST_CASE("a token-protected registry: the anonymous Bearer handshake", "[ch05][faults][auth][ex5.2]")
{
    DOCKLING_REQUIRE_REGISTRY();
    FaultProxy proxy(fixture_registry().address(), {"--token-auth"});
    TempDir root;
    Outcome pulled = dockling_in(root, {"pull", proxy.address() + "/busybox"});
    INFO(pulled.err);
    REQUIRE(pulled.exit_code == 0);
    CHECK(requests(proxy, "^GET /v2/ 401$") >= 1);  // the ping learns the challenge
    CHECK(requests(proxy, "^GET /token\\?service=dockling-test&scope=repository%3Abusybox%3Apull 200$") == 1);
    CHECK(requests(proxy, "^GET /v2/busybox/blobs/sha256:[0-9a-f]{64} 200$") == 2);  // one token for all
    CHECK(requests(proxy, "^GET /v2/busybox/blobs/.* 401$") == 0);
}

TEST_CASE("login, a credentialed token, logout", "[ch05][faults][auth][ex5.2]")
{
    DOCKLING_REQUIRE_REGISTRY();
    FaultProxy proxy(fixture_registry().address(), {"--token-auth", "--users", "alice:s3cret"});
    TempDir root;
    const std::string image = proxy.address() + "/busybox";
    Outcome anonymous = dockling_in(root, {"pull", image});
    CHECK(anonymous.exit_code == 125);
    CHECK(contains(anonymous.err, "the token service of " + proxy.address() + " refused anonymous access"));

    Outcome wrong = dockling_in(root, {"login", "-u", "alice", "--password-stdin", proxy.address()}, "guess\n");
    CHECK(wrong.exit_code == 125);
    CHECK(contains(wrong.err, "unauthorized: incorrect username or password"));
    CHECK_FALSE(fs::exists(root.path() / "credentials" / "config.json"));

    Outcome login = dockling_in(root, {"login", "-u", "alice", "--password-stdin", proxy.address()}, "s3cret\n");
    INFO(login.err);
    REQUIRE(login.exit_code == 0);
    CHECK(login.out == "Login Succeeded\n");
    struct stat st {};
    REQUIRE(::stat((root.path() / "credentials" / "config.json").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK_FALSE(contains(read_file(root.path() / "credentials" / "config.json"), "s3cret"));

    Outcome pulled = dockling_in(root, {"pull", image});
    INFO(pulled.err);
    CHECK(pulled.exit_code == 0);

    Outcome logout = dockling_in(root, {"logout", proxy.address()});
    CHECK(logout.out == "Removing login credentials for " + proxy.address() + "\n");
    CHECK(dockling_in(root, {"logout", proxy.address()}).out == "Not logged in to " + proxy.address() + "\n");
    CHECK(dockling_in(root, {"pull", image}).exit_code == 125);
}

TEST_CASE("Basic authentication after login", "[ch05][faults][auth][ex5.2]")
{
    DOCKLING_REQUIRE_REGISTRY();
    FaultProxy proxy(fixture_registry().address(), {"--basic-auth", "bob:hunter2"});
    TempDir root;
    Outcome anonymous = dockling_in(root, {"pull", proxy.address() + "/busybox"});
    CHECK(anonymous.exit_code == 125);
    CHECK(contains(anonymous.err, "pull access denied for " + proxy.address() + "/busybox"));
    Outcome wrong = dockling_in(root, {"login", "-u", "bob", "-p", "guess", proxy.address()});
    CHECK(wrong.exit_code == 125);
    CHECK(contains(wrong.err, "unauthorized: incorrect username or password"));
    Outcome login = dockling_in(root, {"login", "-u", "bob", "-p", "hunter2", proxy.address()});
    CHECK(login.exit_code == 0);
    CHECK(contains(login.err, "WARNING! Using --password via the CLI is insecure"));
    Outcome pulled = dockling_in(root, {"pull", proxy.address() + "/busybox"});
    INFO(pulled.err);
    CHECK(pulled.exit_code == 0);
}
