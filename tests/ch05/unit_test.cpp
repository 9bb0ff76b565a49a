// Chapter 05 unit tests: references, digests, challenges, manifests, platforms, layers.
#include "harness.hpp"

#include "auth.hpp"
#include "digest.hpp"
#include "error.hpp"
#include "format.hpp"
#include "layers.hpp"
#include "manifest.hpp"
#include "progress.hpp"
#include "reference.hpp"
#include "registry.hpp"

#include <sstream>
#include <string>

using namespace dockling;

namespace {

const std::string some_digest = "sha256:" + std::string(64, 'a');

/// The message of the Error `body` throws ("" when it throws none).
template <typename Body>
std::string error_of(Body body)
{
    try {
        body();
    } catch (const Error& error) {
        return error.what();
    }
    return "";
}

/// The sha256 of `text` as the coreutils compute it, to check our OpenSSL use against.
std::string sha256sum(const std::string& text)
{
    auto out = test::run_program({"sh", "-c", "printf '%s' \"$0\" | sha256sum | cut -d' ' -f1", text});
    return "sha256:" + out.out.substr(0, 64);
}

}  // namespace

// ---- references ---------------------------------------------------------------------------

TEST_CASE("a reference with a registry keeps it, with port, path and tag", "[ch05][unit][reference]")
{
    ImageReference ref = parse_reference("localhost:5000/team/app:v1.2");
    CHECK(ref.domain == "localhost:5000");
    CHECK(ref.path == "team/app");
    CHECK(ref.tag == "v1.2");
    CHECK(ref.digest.empty());
    CHECK_FALSE(ref.default_tag);
    CHECK(ref.string() == "localhost:5000/team/app:v1.2");

    ImageReference plain = parse_reference("127.0.0.1:5000/busybox");
    CHECK(plain.domain == "127.0.0.1:5000");
    CHECK(plain.path == "busybox");  // a registry other than Docker Hub gets no library/
    CHECK(plain.tag == "latest");
    CHECK(plain.default_tag);

    CHECK(parse_reference("registry.example.com/a.b/c_d/e__f/g-h--i").path == "a.b/c_d/e__f/g-h--i");
    CHECK(parse_reference("[::1]:5000/x:y").domain == "[::1]:5000");
    CHECK(parse_reference("localhost/app").domain == "localhost");
}

TEST_CASE("a digest reference names the manifest by its digest", "[ch05][unit][reference]")
{
    ImageReference ref = parse_reference("quay.io/team/app@" + some_digest);
    CHECK(ref.digest == some_digest);
    CHECK(ref.tag.empty());
    CHECK_FALSE(ref.default_tag);
    CHECK(ref.manifest_reference() == some_digest);
    CHECK(ref.string() == "quay.io/team/app@" + some_digest);

    ImageReference both = parse_reference("quay.io/app:1@" + some_digest);
    CHECK(both.tag == "1");
    CHECK(both.manifest_reference() == some_digest);  // the digest wins
}

TEST_CASE("invalid references are refused with one line naming the problem", "[ch05][unit][reference]")
{
    CHECK(error_of([] { (void)parse_reference(""); }).find("empty") != std::string::npos);
    CHECK(error_of([] { (void)parse_reference("Busybox"); }).find("repository name must be lowercase") != std::string::npos);
    CHECK(error_of([] { (void)parse_reference("example.com/Team/app"); }).find("lowercase") != std::string::npos);
    CHECK(error_of([] { (void)parse_reference("example.com/a//b"); }).find("invalid reference format") == 0);
    CHECK(error_of([] { (void)parse_reference("example.com/app:"); }).find("tag after ':' is empty") != std::string::npos);
    CHECK(error_of([] { (void)parse_reference("example.com/app:-x"); }).find("a tag is") != std::string::npos);
    CHECK(error_of([] { (void)parse_reference("example.com/app:" + std::string(129, 'x')); }).find("a tag is") !=
          std::string::npos);
    CHECK(error_of([] { (void)parse_reference("example.com/app@sha256:abc"); }).find("digest") != std::string::npos);
    CHECK(error_of([] { (void)parse_reference("example.com/app@md5:" + std::string(32, 'a')); }).find("digest") !=
          std::string::npos);
    CHECK(error_of([] { (void)parse_reference("ex_ample.com/app"); }).find("registry must be") != std::string::npos);
    CHECK(error_of([] { (void)parse_reference("example.com:80x/app"); }).find("registry must be") != std::string::npos);
    CHECK(error_of([] { (void)parse_reference("example.com/-app"); }).find("invalid reference format") == 0);
    CHECK(error_of([] { (void)parse_reference("example.com/app."); }).find("invalid reference format") == 0);
    CHECK(error_of([] { (void)parse_reference(std::string(64, 'a')); }).find("image ID") != std::string::npos);
    CHECK(error_of([] { (void)parse_reference("example.com/" + std::string(250, 'a')); }).find("255") != std::string::npos);
    for (const char* bad : {"a b", "example.com/a$b", "example.com/a..b", "example.com/a___b", "example.com/"}) {
        INFO(bad);
        CHECK(error_of([&] { (void)parse_reference(bad); }).find("invalid reference format \"") == 0);
    }
}

TEST_CASE("busybox is docker.io/library/busybox:latest", "[ch05][unit][reference][ex5.1]")
{
    ImageReference ref = parse_reference("busybox");
    CHECK(ref.domain == "docker.io");
    CHECK(ref.path == "library/busybox");
    CHECK(ref.tag == "latest");
    CHECK(ref.default_tag);
    CHECK(ref.string() == "docker.io/library/busybox:latest");
    CHECK(ref.familiar() == "busybox:latest");

    CHECK(parse_reference("user/app:1.0").string() == "docker.io/user/app:1.0");
    CHECK(parse_reference("index.docker.io/busybox").string() == "docker.io/library/busybox:latest");
    CHECK(parse_reference("docker.io/library/busybox:1.36").string() == "docker.io/library/busybox:1.36");
    CHECK(parse_reference("busybox@" + some_digest).string() == "docker.io/library/busybox@" + some_digest);

    CHECK(docker_hub_name("", "busybox") == std::pair<std::string, std::string>{"docker.io", "library/busybox"});
    CHECK(docker_hub_name("index.docker.io", "a/b") == std::pair<std::string, std::string>{"docker.io", "a/b"});
}

TEST_CASE("familiar names drop docker.io and library/", "[ch05][unit][reference]")
{
    CHECK(familiar_name("docker.io/library/busybox") == "busybox");
    CHECK(familiar_name("docker.io/user/app") == "user/app");
    CHECK(familiar_name("docker.io/library/a/b") == "library/a/b");
    CHECK(familiar_name("127.0.0.1:5000/library/busybox") == "127.0.0.1:5000/library/busybox");
    CHECK(looks_like_image_id("3f57d9401f8d"));
    CHECK(looks_like_image_id("sha256:3f57"));
    CHECK_FALSE(looks_like_image_id("busybox"));
    CHECK_FALSE(looks_like_image_id(""));
}

// ---- digests ------------------------------------------------------------------------------

TEST_CASE("a digest is sha256: and 64 lowercase hex digits, nothing else", "[ch05][unit][digest]")
{
    CHECK(is_valid_digest(some_digest));
    CHECK_FALSE(is_valid_digest("sha256:" + std::string(63, 'a')));
    CHECK_FALSE(is_valid_digest("sha256:" + std::string(65, 'a')));
    CHECK_FALSE(is_valid_digest("sha256:" + std::string(64, 'A')));
    CHECK_FALSE(is_valid_digest("sha512:" + std::string(64, 'a')));
    CHECK_FALSE(is_valid_digest("sha256:../../../../etc/passwd" + std::string(36, 'a')));
    CHECK_FALSE(is_valid_digest(std::string(64, 'a')));
    CHECK(error_of([] { (void)checked_digest("sha256:/etc/passwd", "layer digest"); })
              .find("invalid layer digest \"sha256:/etc/passwd\"") == 0);
    CHECK(digest_hex(some_digest) == std::string(64, 'a'));
}

TEST_CASE("sha256 computed in pieces is the sha256 of the whole", "[ch05][unit][digest]")
{
    std::string text = "the quick brown fox jumps over the lazy dog, many times over";
    CHECK(sha256_digest("") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_digest(text) == sha256sum(text));
    Sha256 pieces;
    for (size_t i = 0; i < text.size(); i += 7) {
        pieces.update(text.substr(i, 7));
    }
    CHECK(pieces.finish() == sha256sum(text));
    CHECK(pieces.finish() == sha256_digest(""));  // finish() starts over
    CHECK(error_of([] { check_digest_matches("blob", some_digest, sha256_digest("")); }).find("blob digest mismatch") == 0);
}

// ---- authentication -----------------------------------------------------------------------

TEST_CASE("Docker Hub's Bearer challenge", "[ch05][unit][auth][ex5.2]")
{
    auto challenges = parse_challenges(
        R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
    REQUIRE(challenges.size() == 1);
    CHECK(challenges[0].scheme == "bearer");
    CHECK(challenges[0].param("realm") == "https://auth.docker.io/token");
    CHECK(challenges[0].param("service") == "registry.docker.io");
    CHECK(challenges[0].param("scope") == "repository:library/busybox:pull");
    CHECK(challenges[0].param("error").empty());
}

TEST_CASE("challenges: Basic, several at once, commas and quotes in values, any case", "[ch05][unit][auth][ex5.2]")
{
    auto basic = parse_challenges(R"(Basic realm="Registry Realm")");
    REQUIRE(basic.size() == 1);
    CHECK(basic[0].scheme == "basic");
    CHECK(basic[0].param("realm") == "Registry Realm");

    auto two = parse_challenges(R"(Basic realm="a", Bearer realm="http://127.0.0.1:1/token", service=svc)");
    REQUIRE(two.size() == 2);
    CHECK(two[0].scheme == "basic");
    CHECK(two[0].param("realm") == "a");
    CHECK(two[1].scheme == "bearer");
    CHECK(two[1].param("service") == "svc");

    auto quoted = parse_challenges(R"(BEARER Realm="a \"quoted\" realm" , Scope="repository:a/b:pull,push",error=insufficient_scope)");
    REQUIRE(quoted.size() == 1);
    CHECK(quoted[0].scheme == "bearer");
    CHECK(quoted[0].param("realm") == "a \"quoted\" realm");
    CHECK(quoted[0].param("scope") == "repository:a/b:pull,push");
    CHECK(quoted[0].param("error") == "insufficient_scope");

    auto bare = parse_challenges("Negotiate");
    REQUIRE(bare.size() == 1);
    CHECK(bare[0].scheme == "negotiate");
    CHECK(bare[0].params.empty());

    CHECK_THROWS_AS(parse_challenges(R"(Bearer realm="never closed)"), Error);
    CHECK_THROWS_AS(parse_challenges(R"(="no scheme")"), Error);
}

TEST_CASE("the token URL carries service and scope; the answer carries the token", "[ch05][unit][auth]")
{
    AuthChallenge challenge{"bearer", {{"realm", "https://auth.example.com/token"}, {"service", "registry example"}}};
    CHECK(token_url(challenge, "repository:library/busybox:pull") ==
          "https://auth.example.com/token?service=registry%20example&scope=repository%3Alibrary%2Fbusybox%3Apull");
    CHECK(token_url(challenge, "") == "https://auth.example.com/token?service=registry%20example");
    AuthChallenge with_query{"bearer", {{"realm", "http://127.0.0.1:1/token?x=1"}}};
    CHECK(token_url(with_query, "s") == "http://127.0.0.1:1/token?x=1&scope=s");
    AuthChallenge hostile{"bearer", {{"realm", "file:///etc/passwd"}}};
    CHECK(error_of([&] { (void)token_url(hostile, "s"); }).find("not an http(s) URL") != std::string::npos);

    CHECK(token_from_answer(R"({"token":"abc","expires_in":300})") == "abc");
    CHECK(token_from_answer(R"({"access_token":"xyz"})") == "xyz");
    CHECK_THROWS_AS(token_from_answer(R"({"token":""})"), Error);
    CHECK_THROWS_AS(token_from_answer("not json"), Error);
}

TEST_CASE("credentials are kept base64-encoded in a 0600 file", "[ch05][unit][auth]")
{
    test::TempDir dir;
    CredentialStore store(dir.path() / "conf" / "config.json");
    CHECK_FALSE(store.find("127.0.0.1:5000"));
    store.save("127.0.0.1:5000", {"alice", "pa:ss word"});
    store.save("docker.io", {"bob", "hub"});
    auto alice = store.find("127.0.0.1:5000");
    REQUIRE(alice);
    CHECK(alice->username == "alice");
    CHECK(alice->password == "pa:ss word");
    auto status = std::filesystem::status(store.file());
    CHECK((status.permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    std::string text = test::read_file(store.file());
    CHECK(text.find("https://index.docker.io/v1/") != std::string::npos);  // Docker's key for Docker Hub
    CHECK(text.find(base64_encode("alice:pa:ss word")) != std::string::npos);
    CHECK(text.find("pa:ss word") == std::string::npos);
    CHECK(store.remove("127.0.0.1:5000"));
    CHECK_FALSE(store.remove("127.0.0.1:5000"));
    CHECK_FALSE(store.find("127.0.0.1:5000"));
    CHECK(store.find("docker.io")->username == "bob");
    CHECK(base64_decode(base64_encode("a")) == "a");
    CHECK(base64_decode(base64_encode("ab")) == "ab");
    CHECK(base64_decode(base64_encode("abc")) == "abc");
}

// ---- registries -----------------------------------------------------------------------------

TEST_CASE("plain HTTP is for loopback and listed registries only", "[ch05][unit][registry]")
{
    CHECK(is_insecure_registry("localhost:5000", {}));
    CHECK(is_insecure_registry("127.0.0.1:5000", {}));
    CHECK(is_insecure_registry("127.8.9.10", {}));
    CHECK(is_insecure_registry("[::1]:5000", {}));
    CHECK_FALSE(is_insecure_registry("example.com:5000", {}));
    CHECK_FALSE(is_insecure_registry("128.0.0.1:5000", {}));
    CHECK(is_insecure_registry("example.com:5000", {"example.com:5000"}));
    CHECK(is_insecure_registry("example.com:5000", {"example.com"}));
    CHECK_FALSE(is_insecure_registry("example.com:5001", {"example.com:5000"}));
    CHECK(is_insecure_registry("10.1.2.3:5000", {"10.0.0.0/8"}));
    CHECK_FALSE(is_insecure_registry("11.1.2.3:5000", {"10.0.0.0/8"}));
    CHECK(is_insecure_registry("[fd00::1]:5000", {"fd00::/8"}));
}

TEST_CASE("mirrors come first for docker.io, then the registry itself", "[ch05][unit][registry]")
{
    RegistryOptions options;
    options.mirrors = {"https://mirror.example.com", "http://127.0.0.1:5001"};
    auto hub = endpoints_for("docker.io", options);
    REQUIRE(hub.size() == 3);
    CHECK(hub[0].url == "https://mirror.example.com");
    CHECK(hub[0].mirror);
    CHECK(hub[1].url == "http://127.0.0.1:5001");
    CHECK(hub[2].url == "https://registry-1.docker.io");
    CHECK_FALSE(hub[2].mirror);
    auto other = endpoints_for("quay.io", options);
    REQUIRE(other.size() == 1);
    CHECK(other[0].url == "quay.io");
}

TEST_CASE("the config file's registry keys are read and checked", "[ch05][unit][registry]")
{
    Settings settings;
    settings.config = nlohmann::json::parse(R"({"registry-mirrors": ["https://m.example.com/"],
        "insecure-registries": ["10.0.0.0/8", "reg:5000"], "max-concurrent-downloads": 5})");
    RegistryOptions options = RegistryOptions::from_settings(settings);
    CHECK(options.mirrors == std::vector<std::string>{"https://m.example.com"});
    CHECK(options.insecure == std::vector<std::string>{"10.0.0.0/8", "reg:5000"});
    CHECK(options.max_concurrent_downloads == 5);
    CHECK(RegistryOptions::from_settings(Settings{}).max_concurrent_downloads == 3);

    settings.config = nlohmann::json::parse(R"({"max-concurrent-downloads": 0})");
    CHECK(error_of([&] { (void)RegistryOptions::from_settings(settings); }).find("\"max-concurrent-downloads\"") !=
          std::string::npos);
    settings.config = nlohmann::json::parse(R"({"registry-mirrors": "https://m"})");
    CHECK(error_of([&] { (void)RegistryOptions::from_settings(settings); }).find("\"registry-mirrors\"") !=
          std::string::npos);
    settings.config = nlohmann::json::parse(R"({"registry-mirrors": ["ftp://m"]})");
    CHECK(error_of([&] { (void)RegistryOptions::from_settings(settings); }).find("http:// or https://") !=
          std::string::npos);
    settings.config = nlohmann::json::parse(R"({"insecure-registries": [1]})");
    CHECK(error_of([&] { (void)RegistryOptions::from_settings(settings); }).find("\"insecure-registries\"") !=
          std::string::npos);
}

// ---- manifests and platforms ----------------------------------------------------------------

namespace {

std::string descriptor(const std::string& type, const std::string& digest = some_digest, int size = 10)
{
    return R"({"mediaType":")" + type + R"(","digest":")" + digest + R"(","size":)" + std::to_string(size) + "}";
}

std::string manifest_json(const std::string& layer_type = std::string(media_type::oci_layer_gzip))
{
    return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
           descriptor(std::string(media_type::oci_config)) + R"(,"layers":[)" + descriptor(layer_type) + "]}";
}

}  // namespace

TEST_CASE("manifest documents are checked before they are read", "[ch05][unit][manifest]")
{
    auto oci = std::string(media_type::oci_manifest);
    CHECK(check_manifest_document(manifest_json(), oci) == DocumentKind::manifest);
    CHECK(check_manifest_document(manifest_json(), oci + "; charset=utf-8") == DocumentKind::manifest);
    CHECK(check_manifest_document(R"({"schemaVersion":2,"manifests":[]})", media_type::oci_index) == DocumentKind::index);
    CHECK(check_manifest_document(R"({"schemaVersion":2,"config":{},"layers":[]})", oci) == DocumentKind::manifest);

    CHECK(error_of([&] { (void)check_manifest_document(manifest_json(), media_type::docker_manifest); })
              .find("mediaType is application/vnd.oci.image.manifest.v1+json but the registry sent it as "
                    "application/vnd.docker.distribution.manifest.v2+json") != std::string::npos);
    CHECK(error_of([] { (void)check_manifest_document(R"({"schemaVersion":1,"fsLayers":[]})", "application/json"); })
              .find("schema 1") != std::string::npos);
    CHECK(error_of([] { (void)check_manifest_document("{}", media_type::docker_schema1_signed); }).find("schema 1") !=
          std::string::npos);
    CHECK(error_of([&] {
              (void)check_manifest_document(R"({"schemaVersion":2,"manifests":[],"layers":[]})", media_type::oci_index);
          }).find("both \"manifests\" and \"layers\"") != std::string::npos);
    CHECK(error_of([&] { (void)check_manifest_document("[1,2]", oci); }).find("not a JSON object") != std::string::npos);
    CHECK(error_of([&] { (void)check_manifest_document("{}", "text/html"); }).find("unsupported manifest type") !=
          std::string::npos);
    CHECK(error_of([&] { (void)check_manifest_document(R"({"manifests":[]})", oci); }).find("unsupported") !=
          std::string::npos);
}

TEST_CASE("manifests: every descriptor is validated", "[ch05][unit][manifest]")
{
    auto oci = std::string(media_type::oci_manifest);
    ImageManifest manifest = parse_image_manifest(manifest_json(), oci);
    CHECK(manifest.config.digest == some_digest);
    REQUIRE(manifest.layers.size() == 1);
    CHECK(manifest.layers[0].size == 10);

    std::string bad_digest = manifest_json();
    bad_digest.replace(bad_digest.rfind(some_digest), some_digest.size(), "sha256:../../x");
    CHECK(error_of([&] { (void)parse_image_manifest(bad_digest, oci); }).find("invalid layer digest") == 0);
    std::string negative = manifest_json();
    negative.replace(negative.rfind("\"size\":10"), 9, "\"size\":-1");
    CHECK(error_of([&] { (void)parse_image_manifest(negative, oci); }).find("no valid size") != std::string::npos);
    CHECK(error_of([] { (void)parse_image_manifest(manifest_json("application/x-evil"), media_type::oci_manifest); })
              .find("unsupported layer media type") == 0);
    CHECK(error_of([] { (void)parse_image_manifest(manifest_json(std::string(media_type::docker_foreign_layer)),
                                                   media_type::oci_manifest); })
              .find("foreign") != std::string::npos);
    std::string huge_config = R"({"config":)" + descriptor(std::string(media_type::oci_config), some_digest, 9 << 20) +
                              R"(,"layers":[]})";
    CHECK(error_of([&] { (void)parse_image_manifest(huge_config, oci); }).find("more than the") != std::string::npos);
    CHECK(error_of([] { (void)parse_image_manifest(R"({"layers":[]})", media_type::oci_manifest); }).find("no config") !=
          std::string::npos);
}

TEST_CASE("image configs: rootfs and diff_ids", "[ch05][unit][manifest]")
{
    ImageConfig config = parse_image_config(R"({"architecture":"arm64","variant":"v8","os":"linux",
        "created":"2024-01-01T00:00:00Z","rootfs":{"type":"layers","diff_ids":[")" + some_digest + R"("]}})");
    CHECK(config.architecture == "arm64");
    CHECK(config.variant == "v8");
    CHECK(config.created == "2024-01-01T00:00:00Z");
    CHECK(config.diff_ids == std::vector<std::string>{some_digest});
    CHECK(error_of([] { (void)parse_image_config(R"({"rootfs":{"type":"layers","diff_ids":["sha256:x"]}})"); })
              .find("invalid diff_id") == 0);
    CHECK(error_of([] { (void)parse_image_config(R"({"rootfs":{"type":"other","diff_ids":[]}})"); }).find("rootfs") !=
          std::string::npos);
    CHECK_THROWS_AS(parse_image_config("{}"), Error);
}

TEST_CASE("platforms are parsed and normalized", "[ch05][unit][manifest]")
{
    CHECK(parse_platform("linux/amd64").string() == "linux/amd64");
    CHECK(parse_platform("linux/arm64").string() == "linux/arm64/v8");
    CHECK(parse_platform("linux/arm").string() == "linux/arm/v7");
    CHECK(parse_platform("linux/arm/v6").string() == "linux/arm/v6");
    CHECK(parse_platform("linux/x86_64").string() == "linux/amd64");
    CHECK(parse_platform("linux/aarch64").string() == "linux/arm64/v8");
    CHECK(parse_platform("linux/amd64/v1").string() == "linux/amd64");
    for (const char* bad : {"linux", "linux/", "/amd64", "linux/arm/v7/x", ""}) {
        INFO(bad);
        CHECK(error_of([&] { (void)parse_platform(bad); }).find("invalid platform") == 0);
    }
    CHECK(host_platform().os == "linux");
    CHECK_FALSE(host_platform().architecture.empty());
}

TEST_CASE("a manifest list entry is chosen by platform", "[ch05][unit][manifest][ex5.3]")
{
    auto entry = [](const std::string& hex, const std::string& platform, std::string_view type = media_type::oci_manifest) {
        std::string p = platform.empty() ? "" : R"(,"platform":)" + platform;
        return R"({"mediaType":")" + std::string(type) + R"(","digest":"sha256:)" + std::string(64, hex[0]) +
               R"(","size":1)" + p + "}";
    };
    std::string text = R"({"manifests":[)" + entry("1", "") + "," +
                       entry("2", R"({"os":"linux","architecture":"arm64"})", media_type::oci_index) + "," +
                       entry("3", R"({"os":"linux","architecture":"amd64"})") + "," +
                       entry("4", R"({"os":"linux","architecture":"arm64","variant":"v8"})") + "," +
                       entry("5", R"({"os":"linux","architecture":"arm","variant":"v7"})") + "," +
                       entry("6", R"({"os":"windows","architecture":"amd64"})") + "]}";
    ImageIndex index = parse_image_index(text, media_type::oci_index);
    REQUIRE(index.manifests.size() == 6);
    CHECK(select_platform(index, parse_platform("linux/amd64")).digest == "sha256:" + std::string(64, '3'));
    CHECK(select_platform(index, parse_platform("linux/arm64")).digest == "sha256:" + std::string(64, '4'));
    CHECK(select_platform(index, parse_platform("linux/arm/v7")).digest == "sha256:" + std::string(64, '5'));
    CHECK(select_platform(index, parse_platform("windows/amd64")).digest == "sha256:" + std::string(64, '6'));
    CHECK(select_platform(index, Platform{"linux", "arm", ""}).digest == "sha256:" + std::string(64, '5'));
    CHECK(error_of([&] { (void)select_platform(index, parse_platform("linux/arm/v6")); }) ==
          "no matching manifest for linux/arm/v6 in the manifest list entries");
    CHECK(error_of([&] { (void)select_platform(index, parse_platform("linux/s390x")); }) ==
          "no matching manifest for linux/s390x in the manifest list entries");
}

// ---- layers -------------------------------------------------------------------------------

TEST_CASE("chain ids: the first is the diff_id, each next hashes the one below with its own", "[ch05][unit][layers][ex5.4]")
{
    std::string a = sha256_digest("layer a"), b = sha256_digest("layer b"), c = sha256_digest("layer c");
    CHECK(chain_ids({}).empty());
    CHECK(chain_ids({a}) == std::vector<std::string>{a});
    std::string ab = sha256sum(a + " " + b);
    std::string abc = sha256sum(ab + " " + c);
    CHECK(chain_ids({a, b, c}) == std::vector<std::string>{a, ab, abc});
    CHECK(chain_ids({b, a})[1] != chain_ids({a, b})[1]);  // order matters
}

namespace {

/// `text` compressed by the command line tool `tool` ("gzip", "zstd").
std::string compressed(const std::string& text, const std::string& tool)
{
    auto out = test::run_program({tool, "-c"}, text);
    REQUIRE(out.exit_code == 0);
    return out.out;
}

std::string decompress(Compression compression, const std::string& data, size_t piece)
{
    std::string out;
    Decompressor decompressor(compression, [&](const char* p, size_t n) { out.append(p, n); });
    for (size_t i = 0; i < data.size(); i += piece) {
        decompressor.update(data.data() + i, std::min(piece, data.size() - i));
    }
    decompressor.finish();
    return out;
}

}  // namespace

TEST_CASE("gzip, zstd and plain layers decompress as they stream", "[ch05][unit][layers]")
{
    std::string text;
    for (int i = 0; i < 20000; ++i) {
        text += "line " + std::to_string(i) + "\n";
    }
    for (size_t piece : {size_t{1} << 20, size_t{7}, size_t{4096}}) {
        CHECK(decompress(Compression::gzip, compressed(text, "gzip"), piece) == text);
        CHECK(decompress(Compression::zstd, compressed(text, "zstd"), piece) == text);
        CHECK(decompress(Compression::none, text, piece) == text);
    }
    // gzip files may be several members end to end; zstd streams several frames
    CHECK(decompress(Compression::gzip, compressed("one\n", "gzip") + compressed("two\n", "gzip"), 5) == "one\ntwo\n");
    CHECK(decompress(Compression::zstd, compressed("one\n", "zstd") + compressed("two\n", "zstd"), 5) == "one\ntwo\n");

    std::string gz = compressed(text, "gzip");
    CHECK(error_of([&] { (void)decompress(Compression::gzip, gz.substr(0, gz.size() / 2), 1000); })
              .find("ends in the middle") != std::string::npos);
    std::string zst = compressed(text, "zstd");
    CHECK(error_of([&] { (void)decompress(Compression::zstd, zst.substr(0, zst.size() - 10), 1000); })
              .find("ends in the middle") != std::string::npos);
    CHECK(error_of([&] { (void)decompress(Compression::gzip, "definitely not gzip", 100); }).find("not valid gzip") !=
          std::string::npos);
    CHECK(error_of([&] { (void)decompress(Compression::zstd, "definitely not zstd", 100); }).find("not valid zstd") !=
          std::string::npos);
}

TEST_CASE("the uncompressed digest is checked against the diff_id", "[ch05][unit][layers]")
{
    std::string text = "pretend this is a tar stream";
    UncompressedDigester digester(Compression::gzip);
    std::string gz = compressed(text, "gzip");
    digester.update(gz.data(), gz.size());
    std::string actual = digester.finish();
    CHECK(actual == sha256_digest(text));
    CHECK_NOTHROW(check_diff_id(some_digest, sha256_digest(text), actual));
    CHECK(error_of([&] { check_diff_id(some_digest, sha256_digest("other"), actual); })
              .find("does not match the image config") != std::string::npos);
    CHECK(layer_compression(media_type::docker_layer) == Compression::gzip);
    CHECK(layer_compression(media_type::oci_layer_zstd) == Compression::zstd);
    CHECK(layer_compression(media_type::oci_layer) == Compression::none);
}

// ---- how things are shown -----------------------------------------------------------------

TEST_CASE("sizes, ages and tables look like Docker's", "[ch05][unit][format]")
{
    CHECK(human_size(0) == "0B");
    CHECK(human_size(999) == "999B");
    CHECK(human_size(1000) == "1kB");
    CHECK(human_size(723000) == "723kB");
    CHECK(human_size(4261550) == "4.26MB");
    CHECK(human_size(12.0e9) == "12GB");
    CHECK(human_duration(0) == "Less than a second");
    CHECK(human_duration(1) == "1 second");
    CHECK(human_duration(59) == "59 seconds");
    CHECK(human_duration(60) == "About a minute");
    CHECK(human_duration(59 * 60) == "59 minutes");
    CHECK(human_duration(3600) == "About an hour");
    CHECK(human_duration(47 * 3600) == "47 hours");
    CHECK(human_duration(48 * 3600) == "2 days");
    CHECK(human_duration(15 * 24 * 3600) == "2 weeks");
    CHECK(human_duration(70 * 24 * 3600) == "2 months");
    CHECK(human_duration(3LL * 365 * 24 * 3600) == "3 years");
    CHECK(short_digest(some_digest) == "aaaaaaaaaaaa");
    CHECK(parse_rfc3339("2024-01-01T00:00:00Z") == 1704067200);
    CHECK(parse_rfc3339("2024-01-01T00:00:00.123456789Z") == 1704067200);
    CHECK(parse_rfc3339("2024-01-01T01:00:00+01:00") == 1704067200);
    CHECK_FALSE(parse_rfc3339("yesterday"));
    CHECK_FALSE(parse_rfc3339("2024-01-01T00:00:00"));
    CHECK(format_table({{"REPOSITORY", "TAG", "SIZE"}, {"busybox", "latest", "1MB"}}) ==
          "REPOSITORY   TAG       SIZE\n"
          "busybox      latest    1MB\n");
}

TEST_CASE("progress: plain lines on a pipe, lines redrawn in place on a terminal", "[ch05][unit][format]")
{
    std::ostringstream plain;
    ProgressDisplay lines(plain, false);
    lines.message("latest: Pulling from busybox");
    lines.status("aaaa", "Pulling fs layer");
    lines.status("bbbb", "Pulling fs layer");
    lines.progress("aaaa", "Downloading", 10, 100);
    lines.progress("aaaa", "Downloading", 50, 100);  // bytes alone make no new line
    lines.status("aaaa", "Download complete");
    CHECK(plain.str() ==
          "latest: Pulling from busybox\n"
          "aaaa: Pulling fs layer\n"
          "bbbb: Pulling fs layer\n"
          "aaaa: Downloading\n"
          "aaaa: Download complete\n");

    std::ostringstream screen;
    ProgressDisplay terminal(screen, true);
    terminal.status("aaaa", "Waiting");
    terminal.status("bbbb", "Waiting");
    terminal.progress("aaaa", "Downloading", 50, 100);
    std::string bar = "[" + std::string(25, '=') + ">" + std::string(25, ' ') + "] " + "     50B/100B";
    CHECK(screen.str() == "aaaa: Waiting\nbbbb: Waiting\n"
                          "\x1b[2A\r\x1b[2Kaaaa: Downloading " + bar + "\x1b[2B\r");
    terminal.status("bbbb", "Download complete");
    CHECK(screen.str().ends_with("\x1b[1A\r\x1b[2Kbbbb: Download complete\x1b[1B\r"));
}
