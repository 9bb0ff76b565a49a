// Chapter 05: the store survives a pull killed at any moment, and two pulls at once.
#include "servers.hpp"

#include <signal.h>

#include <thread>

using namespace dockling::test;
namespace fs = std::filesystem;

namespace {

fs::path blobs_of(const TempDir& root) { return root.path() / "data" / "images" / "blobs" / "sha256"; }
fs::path tmp_of(const TempDir& root) { return root.path() / "data" / "images" / "tmp"; }

/// `dockling --data-root ... pull IMAGE` started in the background.
std::unique_ptr<Background> pull_in_background(const TempDir& root, const std::string& image)
{
    return std::make_unique<Background>(std::vector<std::string>{
        "env", "DOCKLING_CONFIG=" + (root.path() / "credentials").string(), dockling_binary().string(), "--data-root",
        (root.path() / "data").string(), "--config", (root.path() / "config.json").string(), "pull", image});
}

/// Waits until a download has started writing into the store's tmp/ directory.
bool download_in_progress(const TempDir& root)
{
    for (int i = 0; i < 2000; ++i) {
        std::error_code ignored;
        for (const auto& entry : fs::directory_iterator(tmp_of(root), ignored)) {
            if (entry.is_regular_file() && entry.file_size(ignored) > 0) {
                return true;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

}  // namespace

TEST_CASE("a pull killed with SIGKILL part-way leaves the images as they were", "[ch05][crash]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    REQUIRE(dockling_in(root, {"pull", registry + "/zstd"}).exit_code == 0);
    const std::string before = dockling_in(root, {"images", "--digests", "--no-trunc"}).out;
    const size_t blobs_before = count_files(blobs_of(root));

    FaultProxy slow(registry, {"--slow-blobs", "300000", "--blob-min-size", "10000"});
    auto pull = pull_in_background(root, slow.address() + "/busybox");
    REQUIRE(download_in_progress(root));
    pull->signal(SIGKILL);
    CHECK(pull->wait().exit_code == 128 + SIGKILL);

    CHECK(dockling_in(root, {"images", "--digests", "--no-trunc"}).out == before);
    CHECK(count_files(blobs_of(root)) == blobs_before);  // the config is stored after the layers, the manifest last
    CHECK(count_files(tmp_of(root)) >= 1);                // the killed download's file, until the next pull

    Outcome next = dockling_in(root, {"pull", slow.address() + "/busybox"});
    INFO(next.err);
    REQUIRE(next.exit_code == 0);
    CHECK(next.out.find("Status: Downloaded newer image for " + slow.address() + "/busybox:latest") != std::string::npos);
    CHECK(count_files(tmp_of(root)) == 0);
    CHECK(dockling_in(root, {"images", "-q"}).out.size() == 2 * 13);
}

TEST_CASE("two pulls of one image at once both succeed, with one copy stored", "[ch05][crash]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    FaultProxy slow(registry, {"--slow-blobs", "1000000", "--blob-min-size", "10000"});
    TempDir root;
    auto first = pull_in_background(root, slow.address() + "/layers");
    auto second = pull_in_background(root, slow.address() + "/layers");
    Outcome one = first->wait(std::chrono::seconds(120));
    Outcome two = second->wait(std::chrono::seconds(120));
    INFO(one.err << two.err);
    CHECK(one.exit_code == 0);
    CHECK(two.exit_code == 0);
    CHECK(count_files(blobs_of(root)) == 4 + 2);  // four layers, config, manifest: once each
    CHECK(count_files(tmp_of(root)) == 0);
    Outcome images = dockling_in(root, {"images"});
    CHECK(std::count(images.out.begin(), images.out.end(), '\n') == 2);
    Outcome inspected = dockling_in(root, {"image", "inspect", "--format", "{{json .RootFS.Layers}}", slow.address() + "/layers"});
    CHECK(inspected.exit_code == 0);
}
