// Chapter 05 integration tests: pulling from a real registry (Debian's docker-registry,
// started by the tests, holding the images of tests/fixtures/make-images.sh).
#include "servers.hpp"

#include "digest.hpp"
#include "manifest.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <sstream>

using namespace dockling::test;
namespace fs = std::filesystem;

namespace {

fs::path blobs_of(const TempDir& root) { return root.path() / "data" / "images" / "blobs" / "sha256"; }
fs::path tmp_of(const TempDir& root) { return root.path() / "data" / "images" / "tmp"; }

/// `image inspect` of one image, parsed.
nlohmann::json inspect(const TempDir& root, const std::string& image)
{
    Outcome shown = dockling_in(root, {"image", "inspect", image});
    REQUIRE(shown.exit_code == 0);
    auto all = nlohmann::json::parse(shown.out);
    REQUIRE(all.size() == 1);
    return all[0];
}

}  // namespace

TEST_CASE("pull stores a verified image under its name, as docker pull reports it", "[ch05][pull]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    Outcome pulled = dockling_in(root, {"pull", registry + "/busybox"});
    INFO(pulled.err);
    REQUIRE(pulled.exit_code == 0);
    auto lines = lines_of(pulled.out);
    REQUIRE(lines.size() >= 6);
    CHECK(lines[0] == "Using default tag: latest");
    CHECK(lines[1] == "latest: Pulling from " + registry + "/busybox");
    CHECK(contains(pulled.out, ": Pulling fs layer\n"));
    CHECK(contains(pulled.out, ": Verifying Checksum\n"));
    CHECK(contains(pulled.out, ": Download complete\n"));
    CHECK(contains(pulled.out, "Digest: " + fixture_digest("busybox:latest") + "\n"));
    CHECK(contains(pulled.out, "Status: Downloaded newer image for " + registry + "/busybox:latest\n"));
    CHECK(lines.back() == registry + "/busybox:latest");
    CHECK_FALSE(contains(pulled.out, "\x1b["));  // not a terminal: plain lines, no redrawing

    // manifest, config and one layer, each stored under its own digest
    CHECK(count_files(blobs_of(root)) == 3);
    for (const auto& entry : fs::directory_iterator(blobs_of(root))) {
        CHECK(dockling::sha256_digest(read_file(entry.path())) == "sha256:" + entry.path().filename().string());
    }
    CHECK(count_files(tmp_of(root)) == 0);
    CHECK(fs::exists(blobs_of(root) / std::string(dockling::digest_hex(fixture_digest("busybox:latest")))));

    Outcome again = dockling_in(root, {"pull", registry + "/busybox:latest"});
    REQUIRE(again.exit_code == 0);
    CHECK(contains(again.out, ": Already exists\n"));
    CHECK_FALSE(contains(again.out, "Pulling fs layer"));
    CHECK(contains(again.out, "Status: Image is up to date for " + registry + "/busybox:latest\n"));
    CHECK(count_files(blobs_of(root)) == 3);

    Outcome quiet = dockling_in(root, {"pull", "-q", registry + "/busybox"});
    CHECK(quiet.exit_code == 0);
    CHECK(quiet.out == registry + "/busybox:latest\n");
}

TEST_CASE("pull by digest, and a digest the registry does not have", "[ch05][pull]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    const std::string digest = fixture_digest("busybox:latest");
    TempDir root;
    Outcome pulled = dockling_in(root, {"pull", registry + "/busybox@" + digest});
    REQUIRE(pulled.exit_code == 0);
    CHECK(lines_of(pulled.out).front() == digest + ": Pulling from " + registry + "/busybox");
    CHECK(contains(pulled.out, "Status: Downloaded newer image for " + registry + "/busybox@" + digest + "\n"));
    auto image = inspect(root, registry + "/busybox@" + digest);
    CHECK(image["RepoTags"].empty());
    CHECK(image["RepoDigests"] == nlohmann::json::array({registry + "/busybox@" + digest}));

    std::string absent = "sha256:" + std::string(64, '0');
    Outcome missing = dockling_in(root, {"pull", registry + "/busybox@" + absent});
    CHECK(missing.exit_code == 125);
    CHECK(one_line(missing.err));
    CHECK(contains(missing.err, "manifest for " + registry + "/busybox:" + absent + " not found: manifest unknown"));
}

TEST_CASE("an unknown tag or repository is one line, exit 125, nothing stored", "[ch05][pull]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    Outcome tag = dockling_in(root, {"pull", registry + "/busybox:nosuch"});
    CHECK(tag.exit_code == 125);
    CHECK(one_line(tag.err));
    CHECK(contains(tag.err, "manifest for " + registry + "/busybox:nosuch not found: manifest unknown"));
    Outcome repository = dockling_in(root, {"pull", registry + "/no/such/repository"});
    CHECK(repository.exit_code == 125);
    CHECK(contains(repository.err, "not found"));
    CHECK(count_files(blobs_of(root)) == 0);
}

TEST_CASE("invalid references are refused before anything happens", "[ch05][pull]")
{
    TempDir root;
    for (std::string bad : {"Busybox", "127.0.0.1:5000/a//b", "127.0.0.1:5000/x@sha256:abc", "127.0.0.1:5000/x:", "a b"}) {
        INFO(bad);
        Outcome pulled = dockling_in(root, {"pull", bad});
        CHECK(pulled.exit_code == 125);
        CHECK(one_line(pulled.err));
        CHECK(contains(pulled.err, ": invalid reference format \"" + bad + "\""));
    }
    CHECK_FALSE(fs::exists(root.path() / "data"));  // nothing left behind
}

TEST_CASE("layers already in the store are shared, not downloaded again", "[ch05][pull]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    REQUIRE(dockling_in(root, {"pull", registry + "/busybox"}).exit_code == 0);
    Outcome layers = dockling_in(root, {"pull", registry + "/layers"});
    INFO(layers.err);
    REQUIRE(layers.exit_code == 0);
    std::string busybox_layer = inspect(root, registry + "/busybox")["RootFS"]["Layers"][0];
    auto image = inspect(root, registry + "/layers");
    CHECK(image["RootFS"]["Layers"].size() == 4);
    CHECK(image["RootFS"]["Layers"][0] == busybox_layer);  // the same diff_id at the bottom
    CHECK(std::count(layers.out.begin(), layers.out.end(), '\n') > 4);
    CHECK(contains(layers.out, ": Already exists\n"));
    CHECK(count_files(blobs_of(root)) == 3 + 2 + 3);  // busybox's 3; config, manifest and 3 new layers
    CHECK(image["Config"]["User"] == "app");
    CHECK(image["Config"]["Entrypoint"] == nlohmann::json::array({"/usr/local/bin/hello"}));
}

TEST_CASE("a manifest list gives the host's platform, or the one asked for", "[ch05][pull][ex5.3]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    dockling::Platform host = dockling::host_platform();
    for (std::string tag : {"oci", "docker"}) {
        INFO(tag);
        TempDir root;
        if (host.architecture == "amd64" || host.architecture == "arm64") {
            Outcome pulled = dockling_in(root, {"pull", registry + "/multiarch:" + tag});
            INFO(pulled.err);
            REQUIRE(pulled.exit_code == 0);
            CHECK(contains(pulled.out, "Digest: " + fixture_digest("multiarch:" + tag) + "\n"));
            CHECK(inspect(root, registry + "/multiarch:" + tag)["Architecture"] == host.architecture);
        }
        Outcome arm = dockling_in(root, {"pull", "--platform", "linux/arm64", registry + "/multiarch:" + tag});
        INFO(arm.err);
        REQUIRE(arm.exit_code == 0);
        auto image = inspect(root, registry + "/multiarch:" + tag);
        CHECK(image["Architecture"] == "arm64");
        CHECK(image["Variant"] == "v8");

        Outcome none = dockling_in(root, {"pull", "--platform", "linux/s390x", registry + "/multiarch:" + tag});
        CHECK(none.exit_code == 125);
        CHECK(one_line(none.err));
        CHECK(contains(none.err, "no matching manifest for linux/s390x in the manifest list entries"));
    }
}

TEST_CASE("--platform is checked for a single-platform image, and must be valid", "[ch05][pull]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    Outcome wrong = dockling_in(root, {"pull", "--platform", "linux/s390x", registry + "/busybox"});
    CHECK(wrong.exit_code == 125);
    CHECK(contains(wrong.err, "the image is for linux/amd64, not for the requested platform linux/s390x"));
    Outcome invalid = dockling_in(root, {"pull", "--platform", "linux", registry + "/busybox"});
    CHECK(invalid.exit_code == 125);
    CHECK(contains(invalid.err, "invalid platform \"linux\""));
    CHECK(count_files(blobs_of(root)) == 0);
}

TEST_CASE("zstd and uncompressed layers are verified like gzip ones", "[ch05][pull]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    Outcome pulled = dockling_in(root, {"pull", registry + "/zstd"});
    INFO(pulled.err);
    REQUIRE(pulled.exit_code == 0);
    auto image = inspect(root, registry + "/zstd");
    REQUIRE(image["RootFS"]["Layers"].size() == 2);
    // the zstd layer's content is the busybox tar: the same diff_id as busybox's gzip layer
    TempDir other;
    REQUIRE(dockling_in(other, {"pull", registry + "/busybox"}).exit_code == 0);
    CHECK(image["RootFS"]["Layers"][0] == inspect(other, registry + "/busybox")["RootFS"]["Layers"][0]);
    // and the store recorded each layer's verified diff_id
    CHECK(count_files(root.path() / "data" / "images" / "diffids") == 2);
}

TEST_CASE("a layer that is not what the config's diff_id says is refused, nothing named", "[ch05][pull]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    Outcome pulled = dockling_in(root, {"pull", registry + "/baddiff"});
    CHECK(pulled.exit_code == 125);
    CHECK(one_line(pulled.err));
    CHECK(contains(pulled.err, "does not match the image config"));
    Outcome images = dockling_in(root, {"images", "-q"});
    CHECK(images.out.empty());
    CHECK(count_files(blobs_of(root)) == 0);
    CHECK(count_files(tmp_of(root)) == 0);
}

TEST_CASE("registry-mirrors are tried first for docker.io", "[ch05][pull][ex5.1]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    std::string config = R"({"registry-mirrors": ["http://)" + registry + R"("]})";
    Outcome pulled = dockling_with(root, config, {"pull", "busybox"});
    INFO(pulled.err);
    REQUIRE(pulled.exit_code == 0);
    CHECK(contains(pulled.out, "latest: Pulling from busybox\n"));
    CHECK(contains(pulled.out, "Status: Downloaded newer image for busybox:latest\n"));
    CHECK(lines_of(pulled.out).back() == "docker.io/library/busybox:latest");
    Outcome images = dockling_in(root, {"images"});
    REQUIRE(lines_of(images.out).size() == 2);
    CHECK(lines_of(images.out)[1].rfind("busybox      latest    ", 0) == 0);
}

TEST_CASE("a mirror that fails is passed over, down to the registry itself", "[ch05][pull][ex5.1]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    std::string dead = "http://127.0.0.1:1";  // nothing listens on port 1
    Outcome second = dockling_with(root, R"({"registry-mirrors": [")" + dead + R"(", "http://)" + registry + R"("]})",
                                   {"pull", "busybox"});
    INFO(second.err);
    CHECK(second.exit_code == 0);
    CHECK(contains(second.err, "mirror " + dead + " failed"));

    Outcome origin = dockling_with(root, R"({"registry-mirrors": [")" + dead + R"("]})", {"pull", "busybox:other"});
    CHECK(origin.exit_code == 125);
    CHECK(contains(origin.err, "registry-1.docker.io"));  // tried Docker Hub itself last (unreachable here)

    Outcome plain = dockling_with(root, R"({"registry-mirrors": ["http://mirror.invalid:5000"]})", {"pull", "busybox:other"});
    CHECK(plain.exit_code == 125);
    CHECK(contains(plain.err, "http://mirror.invalid:5000 is not an insecure registry: plain HTTP is not allowed"));
}

TEST_CASE("max-concurrent-downloads limits the downloads in flight", "[ch05][pull]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    for (int limit : {1, 3}) {
        INFO("limit " << limit);
        TempDir root;
        fs::path in_flight = root.path() / "in-flight";
        FaultProxy proxy(registry, {"--slow-blobs", "2000000", "--concurrency", in_flight.string()});
        std::string config = limit == 3 ? "{}" : R"({"max-concurrent-downloads": 1})";
        Outcome pulled = dockling_with(root, config, {"pull", proxy.address() + "/layers"});
        INFO(pulled.err);
        REQUIRE(pulled.exit_code == 0);
        int most = std::stoi(read_file(in_flight));
        auto lines = lines_of(pulled.out);
        auto waiting = std::count_if(lines.begin(), lines.end(), [](const std::string& line) { return contains(line, ": Waiting"); });
        if (limit == 1) {
            CHECK(most == 1);
            CHECK(waiting == 3);  // four layers, one at a time
        } else {
            CHECK(most >= 2);  // four layers, three at a time
            CHECK(most <= 3);
            CHECK(waiting == 1);
        }
    }
}

TEST_CASE("on a terminal, pull redraws each layer's line with a progress bar", "[ch05][pull]")
{
    DOCKLING_REQUIRE_REGISTRY();
    if (::access("/usr/bin/script", X_OK) != 0) {
        DOCKLING_SKIP("script(1) from util-linux is needed to give dockling a terminal");
    }
    TempDir root;
    std::string command = "env DOCKLING_CONFIG=" + (root.path() / "credentials").string() + " " +
                          dockling_binary().string() + " --data-root " + (root.path() / "data").string() +
                          " --config " + (root.path() / "config.json").string() + " pull " +
                          fixture_registry().address() + "/busybox";
    Outcome pulled = run_program({"script", "-qefc", command, "/dev/null"});
    INFO(pulled.out << pulled.err);
    REQUIRE(pulled.exit_code == 0);
    CHECK(contains(pulled.out, "\x1b[1A\r\x1b[2K"));       // up one line, clear it, redraw
    CHECK(contains(pulled.out, "Downloading ["));           // with a bar
    CHECK(contains(pulled.out, "==================================================>]"));
    CHECK(contains(pulled.out, ": Download complete\x1b[1B"));
}
