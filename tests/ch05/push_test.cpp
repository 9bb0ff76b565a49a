// Chapter 05: push, checked with another client (skopeo, curl) against the real registry.
#include "servers.hpp"

#include "digest.hpp"
#include "registry.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>

using namespace dockling::test;
namespace fs = std::filesystem;

namespace {

/// A repository name no other test (or earlier run of this one) pushed to.
std::string fresh_repository(const std::string& what)
{
    static int counter = 0;
    return "pushed/" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

/// The digest another client sees for `image` (skopeo, or curl + sha256sum without it).
std::string digest_seen_by_another_client(const std::string& registry, const std::string& repository, const std::string& tag)
{
    if (::access("/usr/bin/skopeo", X_OK) == 0) {
        Outcome inspected = run_program({"skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}",
                                         "docker://" + registry + "/" + repository + ":" + tag});
        INFO(inspected.err);
        REQUIRE(inspected.exit_code == 0);
        return inspected.out.substr(0, inspected.out.find('\n'));
    }
    Outcome fetched = run_program({"sh", "-c",
                                   "curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json, "
                                   "application/vnd.docker.distribution.manifest.v2+json' \"$0\" | sha256sum",
                                   "http://" + registry + "/v2/" + repository + "/manifests/" + tag});
    REQUIRE(fetched.exit_code == 0);
    return "sha256:" + fetched.out.substr(0, 64);
}

}  // namespace

TEST_CASE("push uploads what the registry lacks; another client gets the same digest", "[ch05][push]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    const std::string repository = fresh_repository("layers");
    TempDir root;
    REQUIRE(dockling_in(root, {"pull", registry + "/layers"}).exit_code == 0);
    REQUIRE(dockling_in(root, {"tag", registry + "/layers", registry + "/" + repository + ":v1"}).exit_code == 0);

    Outcome pushed = dockling_in(root, {"push", registry + "/" + repository + ":v1"});
    INFO(pushed.err);
    REQUIRE(pushed.exit_code == 0);
    CHECK(pushed.out.rfind("The push refers to repository [" + registry + "/" + repository + "]\n", 0) == 0);
    CHECK(contains(pushed.out, ": Preparing\n"));
    CHECK(contains(pushed.out, ": Pushed\n"));
    const std::string digest = fixture_digest("layers:latest");  // the exact manifest bytes went up
    CHECK(contains(pushed.out, "v1: digest: " + digest + " size: "));
    CHECK(digest_seen_by_another_client(registry, repository, "v1") == digest);

    Outcome again = dockling_in(root, {"push", registry + "/" + repository + ":v1"});
    REQUIRE(again.exit_code == 0);
    CHECK(std::count(again.out.begin(), again.out.end(), '\n') == 1 + 4 + 4 + 1);  // preparing, then all exist
    CHECK(contains(again.out, ": Layer already exists\n"));
    CHECK_FALSE(contains(again.out, ": Pushed\n"));

    // and what was pushed pulls back, by tag, as the same image
    TempDir other;
    Outcome pulled = dockling_in(other, {"pull", registry + "/" + repository + ":v1"});
    CHECK(pulled.exit_code == 0);
    CHECK(contains(pulled.out, "Digest: " + digest + "\n"));
}

TEST_CASE("a large blob goes up in chunks (PATCH, then PUT)", "[ch05][push]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir dir;
    std::string content;
    for (int i = 0; content.size() < 300 * 1024; ++i) {
        content += "chunk test line " + std::to_string(i) + "\n";
    }
    write_file(dir.path() / "blob", content);
    const std::string digest = dockling::sha256_digest(content);
    const std::string repository = fresh_repository("chunked");

    dockling::RegistryOptions options;
    options.credentials_file = dir.path() / "none.json";
    dockling::RegistryClient client(registry, {registry, false}, options);
    client.want_push(true);
    client.ping();
    CHECK_FALSE(client.has_blob(repository, digest));
    dockling::UniqueFd fd(::open((dir.path() / "blob").c_str(), O_RDONLY | O_CLOEXEC));
    client.upload_blob(repository, digest, fd.get(), content.size(), 64 * 1024);
    CHECK(client.has_blob(repository, digest));
    Outcome fetched = run_program({"sh", "-c", "curl -fsS \"$0\" | sha256sum",
                                   "http://" + registry + "/v2/" + repository + "/blobs/" + digest});
    CHECK(fetched.out.substr(0, 64) == digest.substr(7));

    // a wrong digest is refused by the registry, so nothing lands under it
    const std::string lie = dockling::sha256_digest("something else");
    CHECK_THROWS_WITH(client.upload_blob(repository, lie, fd.get(), content.size(), 64 * 1024),
                      Catch::Contains("upload of blob " + lie));
    CHECK_FALSE(client.has_blob(repository, lie));
}

TEST_CASE("push to a token-protected registry asks for push access", "[ch05][push][auth][ex5.2]")
{
    DOCKLING_REQUIRE_REGISTRY();
    FaultProxy proxy(fixture_registry().address(), {"--token-auth", "--users", "carol:pw"});
    TempDir root;
    const std::string repository = fresh_repository("token");
    REQUIRE(dockling_in(root, {"pull", fixture_registry().address() + "/busybox"}).exit_code == 0);
    REQUIRE(dockling_in(root, {"tag", fixture_registry().address() + "/busybox", proxy.address() + "/" + repository}).exit_code == 0);
    REQUIRE(dockling_in(root, {"login", "-u", "carol", "--password-stdin", proxy.address()}, "pw\n").exit_code == 0);
    Outcome pushed = dockling_in(root, {"push", proxy.address() + "/" + repository});
    INFO(pushed.err);
    REQUIRE(pushed.exit_code == 0);
    CHECK(pushed.out.rfind("Using default tag: latest\n", 0) == 0);
    CHECK(contains(proxy.log(), "scope=repository%3Apushed%2Ftoken-"));
    CHECK(contains(proxy.log(), "%3Apull%2Cpush 200"));
    CHECK(digest_seen_by_another_client(fixture_registry().address(), repository, "latest") ==
          fixture_digest("busybox:latest"));
}

TEST_CASE("push refuses what it cannot push", "[ch05][push]")
{
    TempDir root;
    Outcome missing = dockling_in(root, {"push", "127.0.0.1:9/nothing:here"});
    CHECK(missing.exit_code == 125);
    CHECK(missing.err.find("An image does not exist locally with the tag: 127.0.0.1:9/nothing") != std::string::npos);
    Outcome digest = dockling_in(root, {"push", "127.0.0.1:9/x@sha256:" + std::string(64, 'a')});
    CHECK(digest.exit_code == 125);
    CHECK(digest.err.find("push a tag, not a digest") != std::string::npos);
}
