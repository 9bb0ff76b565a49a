// Chapter 05: images, tag, rmi, image inspect, image prune, as Docker does them.
#include "servers.hpp"

#include <nlohmann/json.hpp>

#include <regex>
#include <sstream>

using namespace dockling::test;
namespace fs = std::filesystem;

namespace {

fs::path blobs_of(const TempDir& root) { return root.path() / "data" / "images" / "blobs" / "sha256"; }
std::string image_id(const TempDir& root, const std::string& image)
{
    Outcome shown = dockling_in(root, {"image", "inspect", "--format", "{{.Id}}", image});
    REQUIRE(shown.exit_code == 0);
    return shown.out.substr(0, shown.out.find('\n'));
}

}  // namespace

TEST_CASE("images shows Docker's table; -q, --digests and --no-trunc", "[ch05][images]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    Outcome empty = dockling_in(root, {"images"});
    CHECK(empty.exit_code == 0);
    CHECK(empty.out == "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n");
    REQUIRE(dockling_in(root, {"pull", registry + "/busybox"}).exit_code == 0);
    REQUIRE(dockling_in(root, {"pull", registry + "/layers"}).exit_code == 0);
    const std::string busybox = image_id(root, registry + "/busybox");

    auto table = lines_of(dockling_in(root, {"images"}).out);
    REQUIRE(table.size() == 3);
    size_t width = registry.size() + std::string("/busybox").size() + 3;
    CHECK(table[0] == "REPOSITORY" + std::string(width - 10, ' ') + "TAG       IMAGE ID       CREATED       SIZE");
    std::regex row("^" + registry + R"(/(busybox|layers) +latest    [0-9a-f]{12}   \d+ years ago   [0-9.]+[kM]B$)");
    CHECK(std::regex_match(table[1], row));
    CHECK(std::regex_match(table[2], row));
    CHECK(contains(dockling_in(root, {"images"}).out, busybox.substr(7, 12)));

    auto quiet = lines_of(dockling_in(root, {"images", "-q"}).out);
    REQUIRE(quiet.size() == 2);
    CHECK(std::find(quiet.begin(), quiet.end(), busybox.substr(7, 12)) != quiet.end());
    auto full = lines_of(dockling_in(root, {"images", "-q", "--no-trunc"}).out);
    CHECK(std::find(full.begin(), full.end(), busybox) != full.end());

    Outcome digests = dockling_in(root, {"images", "--digests"});
    CHECK(contains(lines_of(digests.out)[0], "TAG       DIGEST"));
    CHECK(contains(digests.out, fixture_digest("busybox:latest")));

    Outcome only = dockling_in(root, {"images", registry + "/busybox"});
    CHECK(lines_of(only.out).size() == 2);
    CHECK(contains(only.out, registry + "/busybox"));
    CHECK(lines_of(dockling_in(root, {"image", "ls", registry + "/busybox:other"}).out).size() == 1);
}

TEST_CASE("tag adds a name; rmi of a name only untags while other names remain", "[ch05][images]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    REQUIRE(dockling_in(root, {"pull", registry + "/busybox"}).exit_code == 0);
    const std::string id = image_id(root, registry + "/busybox");
    CHECK(dockling_in(root, {"tag", registry + "/busybox", "example.com/mybox:1"}).exit_code == 0);
    CHECK(dockling_in(root, {"tag", id.substr(7, 12), "example.com/team/box"}).exit_code == 0);  // by short ID
    Outcome images = dockling_in(root, {"images"});
    CHECK(contains(images.out, "\nexample.com/mybox "));
    CHECK(contains(images.out, "\nexample.com/team/box "));
    CHECK(image_id(root, "example.com/mybox:1") == id);

    Outcome untag = dockling_in(root, {"rmi", "example.com/mybox:1"});
    CHECK(untag.exit_code == 0);
    CHECK(untag.out == "Untagged: example.com/mybox:1\n");
    CHECK(count_files(blobs_of(root)) == 3);

    // By ID, with names in more than one repository: only with -f.
    Outcome refused = dockling_in(root, {"rmi", id.substr(7, 12)});
    CHECK(refused.exit_code == 125);
    CHECK(contains(refused.err, "conflict: unable to delete " + id.substr(7, 12) +
                                    " (must be forced) - image is referenced in multiple repositories"));
    Outcome forced = dockling_in(root, {"rmi", "-f", id.substr(7, 12)});
    CHECK(forced.exit_code == 0);
    CHECK(contains(forced.out, "Untagged: example.com/team/box:latest\n"));
    CHECK(contains(forced.out, "Untagged: " + registry + "/busybox:latest\n"));
    CHECK(contains(forced.out, "Untagged: " + registry + "/busybox@" + fixture_digest("busybox:latest") + "\n"));
    CHECK(lines_of(forced.out).back() == "Deleted: " + id);
    CHECK(count_files(blobs_of(root)) == 0);

    CHECK(contains(dockling_in(root, {"tag", "example.com/nosuch", "example.com/x"}).err, "No such image: example.com/nosuch:latest"));
    Outcome digest_tag = dockling_in(root, {"tag", "example.com/x", "example.com/y@sha256:" + std::string(64, 'a')});
    CHECK(digest_tag.exit_code == 125);
    CHECK(contains(digest_tag.err, "refusing to create a tag with a digest reference"));
}

TEST_CASE("rmi of the last tag deletes the image; shared layers stay until their last image goes", "[ch05][images]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    REQUIRE(dockling_in(root, {"pull", registry + "/busybox"}).exit_code == 0);
    REQUIRE(dockling_in(root, {"pull", registry + "/layers"}).exit_code == 0);
    CHECK(count_files(blobs_of(root)) == 8);
    const std::string busybox = image_id(root, registry + "/busybox");

    Outcome removed = dockling_in(root, {"rmi", registry + "/busybox"});
    CHECK(removed.exit_code == 0);
    CHECK(removed.out == "Untagged: " + registry + "/busybox:latest\n" + "Untagged: " + registry + "/busybox@" +
                             fixture_digest("busybox:latest") + "\n" + "Deleted: " + busybox + "\n");
    CHECK(count_files(blobs_of(root)) == 6);  // its config and manifest went; its layer is layers' bottom layer
    Outcome layers = dockling_in(root, {"pull", registry + "/layers"});
    CHECK(contains(layers.out, "Status: Image is up to date"));
    CHECK_FALSE(contains(layers.out, "Pulling fs layer"));

    CHECK(dockling_in(root, {"image", "rm", registry + "/layers"}).exit_code == 0);
    CHECK(count_files(blobs_of(root)) == 0);
    CHECK(count_files(root.path() / "data" / "images" / "diffids") == 0);

    Outcome missing = dockling_in(root, {"rmi", "example.com/nosuch"});
    CHECK(missing.exit_code == 125);
    CHECK(contains(missing.err, "No such image: example.com/nosuch:latest"));
}

TEST_CASE("a tag that moves leaves the old image as <none>; image prune removes it", "[ch05][images]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    REQUIRE(dockling_in(root, {"pull", registry + "/busybox"}).exit_code == 0);
    REQUIRE(dockling_in(root, {"pull", registry + "/zstd"}).exit_code == 0);
    const std::string old_id = image_id(root, registry + "/busybox");
    // The tag now names another image; the old one keeps only its digest reference.
    REQUIRE(dockling_in(root, {"tag", registry + "/zstd", registry + "/busybox"}).exit_code == 0);
    Outcome images = dockling_in(root, {"images", "--digests"});
    std::regex dangling("\n" + registry + R"(/busybox +<none> +sha256:[0-9a-f]{64} +)" + old_id.substr(7, 12));
    CHECK(std::regex_search(images.out, dangling));

    Outcome kept = dockling_in(root, {"image", "prune"}, "n\n");
    CHECK(kept.exit_code == 0);
    CHECK(contains(kept.out, "WARNING! This will remove all dangling images."));
    CHECK(lines_of(dockling_in(root, {"images"}).out).size() == 4);

    Outcome pruned = dockling_in(root, {"image", "prune", "-f"});
    CHECK(pruned.exit_code == 0);
    CHECK(pruned.out.rfind("Deleted Images:\nuntagged: " + registry + "/busybox@" + fixture_digest("busybox:latest") +
                               "\ndeleted: " + old_id + "\n\nTotal reclaimed space: ", 0) == 0);
    CHECK(lines_of(dockling_in(root, {"images"}).out).size() == 3);
    CHECK(dockling_in(root, {"image", "prune", "-f"}).out == "Total reclaimed space: 0B\n");

    Outcome all = dockling_in(root, {"image", "prune", "-a", "-f"});
    CHECK(contains(all.out, "deleted: "));
    CHECK(lines_of(dockling_in(root, {"images"}).out).size() == 1);
    CHECK(count_files(blobs_of(root)) == 0);
}

TEST_CASE("image inspect shows the image as Docker does; --format picks fields", "[ch05][images]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    REQUIRE(dockling_in(root, {"pull", registry + "/layers"}).exit_code == 0);
    Outcome shown = dockling_in(root, {"image", "inspect", registry + "/layers"});
    REQUIRE(shown.exit_code == 0);
    auto all = nlohmann::json::parse(shown.out);
    REQUIRE(all.is_array());
    REQUIRE(all.size() == 1);
    const auto& image = all[0];
    CHECK(image["Id"].get<std::string>().rfind("sha256:", 0) == 0);
    CHECK(image["RepoTags"] == nlohmann::json::array({registry + "/layers:latest"}));
    CHECK(image["RepoDigests"] == nlohmann::json::array({registry + "/layers@" + fixture_digest("layers:latest")}));
    CHECK(image["Os"] == "linux");
    CHECK(image["Architecture"] == "amd64");
    CHECK(image["Created"] == "2024-01-01T00:00:00Z");
    CHECK(image["RootFS"]["Type"] == "layers");
    CHECK(image["RootFS"]["Layers"].size() == 4);
    CHECK(image["Config"]["WorkingDir"] == "/home/app");
    CHECK(image["Size"].get<uint64_t>() > 1000000);

    std::string id = image["Id"];
    CHECK(dockling_in(root, {"image", "inspect", "-f", "{{.Id}}", id.substr(7, 5)}).out == id + "\n");
    CHECK(dockling_in(root, {"image", "inspect", "-f", "{{.Config.Cmd}} {{json .Config.Entrypoint}} {{.Os}}",
                             registry + "/layers"})
              .out == "[world] [\"/usr/local/bin/hello\"] linux\n");
    Outcome missing = dockling_in(root, {"image", "inspect", "example.com/nosuch"});
    CHECK(missing.exit_code == 125);
    CHECK(contains(missing.err, "No such image: example.com/nosuch:latest"));
}
