// Chapter 05: the content-addressed store, its locks and garbage collection, and the seam
// where chapter 04's extraction unpacks layers by chain id.
#include "harness.hpp"

#include "digest.hpp"
#include "error.hpp"
#include "layers.hpp"
#include "store.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

using namespace dockling;
namespace fs = std::filesystem;

namespace {

size_t entries_in(const fs::path& dir)
{
    std::error_code ignored;
    size_t count = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir, ignored)) {
        ++count;
    }
    return count;
}

std::string gzip(const std::string& text)
{
    auto out = test::run_program({"gzip", "-n", "-c"}, text);
    REQUIRE(out.exit_code == 0);
    return out.out;
}

/// A one-layer image put into `store` by hand: layer blob, config, manifest, index entry.
struct HandMadeImage {
    std::string id, manifest, layer, diff_id;
};

HandMadeImage add_image(const ImageStore& store, const std::vector<std::string>& contents, const std::string& name)
{
    std::string layers, diff_ids;
    std::string first_layer, first_diff;
    for (const auto& content : contents) {
        std::string blob = gzip(content);
        std::string digest = sha256_digest(blob);
        store.put_blob(blob, digest);
        layers += std::string(layers.empty() ? "" : ",") + R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
                  digest + R"(","size":)" + std::to_string(blob.size()) + "}";
        diff_ids += std::string(diff_ids.empty() ? "" : ",") + "\"" + sha256_digest(content) + "\"";
        if (first_layer.empty()) {
            first_layer = digest;
            first_diff = sha256_digest(content);
        }
    }
    std::string config = R"({"os":"linux","architecture":"amd64","created":"2024-01-01T00:00:00Z","rootfs":{"type":"layers","diff_ids":[)" +
                         diff_ids + "]}}";
    std::string config_digest = sha256_digest(config);
    store.put_blob(config, config_digest);
    std::string manifest = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                           config_digest + R"(","size":)" + std::to_string(config.size()) + R"(},"layers":[)" + layers + "]}";
    std::string manifest_digest = sha256_digest(manifest);
    store.put_blob(manifest, manifest_digest);
    store.update_index([&](StoreIndex& index) {
        index.images[config_digest] = {config_digest, manifest_digest};
        index.references["example.com/" + name + ":latest"] = config_digest;
    });
    return {config_digest, manifest_digest, first_layer, first_diff};
}

}  // namespace

TEST_CASE("a blob is visible only after its digest was verified", "[ch05][store]")
{
    test::TempDir dir;
    ImageStore store(dir.path());
    std::string content = "some blob content";
    std::string digest = sha256_digest(content);
    {
        ImageStore::BlobWriter writer = store.new_blob();
        writer.write(content.data(), 4);
        writer.write(content.data() + 4, content.size() - 4);
        CHECK(writer.size() == content.size());
        CHECK_FALSE(store.has_blob(digest));
        CHECK_THROWS_AS(writer.commit(), Error);  // not verified yet
        writer.verify(digest);
        writer.commit();
    }
    CHECK(store.has_blob(digest));
    CHECK(store.read_blob(digest, 1000) == content);
    CHECK(entries_in(store.root() / "tmp") == 0);

    std::string other = sha256_digest("something else");
    {
        ImageStore::BlobWriter writer = store.new_blob();
        writer.write(content.data(), content.size());
        CHECK_THROWS_WITH(writer.verify(other), Catch::Contains("blob digest mismatch"));
    }  // abandoned: its temporary file goes
    CHECK_FALSE(store.has_blob(other));
    CHECK(entries_in(store.root() / "tmp") == 0);
    CHECK(entries_in(store.root() / "blobs" / "sha256") == 1);

    CHECK_THROWS_WITH(store.blob_path("sha256:../../etc/passwd"), Catch::Contains("invalid blob digest"));
    {
        std::ofstream(store.blob_path(digest)) << "damaged";  // a damaged store does not hand out wrong content
    }
    CHECK_THROWS_WITH(store.read_blob(digest, 1000), Catch::Contains("digest mismatch"));
}

TEST_CASE("concurrent processes changing the index lose nothing", "[ch05][store]")
{
    test::TempDir dir;
    ImageStore store(dir.path());
    std::string id = sha256_digest("image");
    constexpr int writers = 6, each = 15;
    std::vector<pid_t> children;
    for (int w = 0; w < writers; ++w) {
        pid_t pid = ::fork();
        if (pid == 0) {
            try {
                for (int i = 0; i < each; ++i) {
                    store.update_index([&](StoreIndex& index) {
                        index.references["example.com/w" + std::to_string(w) + ":" + std::to_string(i)] = id;
                    });
                }
            } catch (...) {
                ::_exit(1);
            }
            ::_exit(0);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
    CHECK(store.load_index().references.size() == static_cast<size_t>(writers * each));
}

TEST_CASE("left-over downloads are removed only when no pull runs", "[ch05][store]")
{
    test::TempDir dir;
    ImageStore store(dir.path());
    { FileLock first = store.lock_for_pull(); }  // creates the layout
    test::write_file(store.root() / "tmp" / "blob-left-by-a-killed-pull", "partial");

    int ready[2], release[2];
    REQUIRE(::pipe(ready) == 0);
    REQUIRE(::pipe(release) == 0);
    pid_t other = ::fork();
    if (other == 0) {  // another pull, holding the store
        FileLock held = store.lock_for_pull();
        char c = 'r';
        (void)!::write(ready[1], &c, 1);
        (void)!::read(release[0], &c, 1);
        ::_exit(0);
    }
    char c = 0;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    CHECK(entries_in(store.root() / "tmp") == 0);  // the other pull found it alone, and cleaned up
    // Now a file may belong to the running pull: it must stay.
    test::write_file(store.root() / "tmp" / "blob-of-the-running-pull", "partial");
    { FileLock mine = store.lock_for_pull(); }
    CHECK(entries_in(store.root() / "tmp") == 1);
    (void)!::write(release[1], &c, 1);
    ::waitpid(other, nullptr, 0);
    for (int fd : {ready[0], ready[1], release[0], release[1]}) {
        ::close(fd);
    }
    { FileLock alone = store.lock_for_pull(); }  // nobody else: everything there is left over
    CHECK(entries_in(store.root() / "tmp") == 0);
}

TEST_CASE("garbage collection keeps blobs until their last image goes", "[ch05][store]")
{
    test::TempDir dir;
    ImageStore store(dir.path());
    HandMadeImage first = add_image(store, {"shared base layer", "first's own layer"}, "first");
    HandMadeImage second = add_image(store, {"shared base layer", "second's own layer"}, "second");
    CHECK(first.layer == second.layer);
    size_t all = entries_in(store.root() / "blobs" / "sha256");
    CHECK(all == 3 + 3 + 1);  // two configs, two manifests, three distinct layers

    store.put_blob("an orphan from a killed pull", sha256_digest("an orphan from a killed pull"));
    auto [deleted, bytes] = store.collect_garbage();
    CHECK(deleted == std::vector<std::string>{sha256_digest("an orphan from a killed pull")});
    CHECK(bytes == std::string("an orphan from a killed pull").size());

    store.update_index([&](StoreIndex& index) { index.remove_image(first.id); });
    deleted = store.collect_garbage().first;
    CHECK(deleted.size() == 3);  // first's config, manifest, own layer
    CHECK(store.has_blob(first.layer));  // still second's
    CHECK_FALSE(store.has_blob(first.id));

    store.update_index([&](StoreIndex& index) { index.remove_image(second.id); });
    (void)store.collect_garbage();
    CHECK(entries_in(store.root() / "blobs" / "sha256") == 0);
}

TEST_CASE("index keys: tags and digests, repositories and short names", "[ch05][store]")
{
    CHECK(is_tag_key("127.0.0.1:5000/busybox:latest"));
    CHECK_FALSE(is_tag_key("127.0.0.1:5000/busybox@sha256:" + std::string(64, 'a')));
    CHECK(repository_of_key("127.0.0.1:5000/busybox:latest") == "127.0.0.1:5000/busybox");
    CHECK(repository_of_key("127.0.0.1:5000/a/b@sha256:" + std::string(64, 'a')) == "127.0.0.1:5000/a/b");
    CHECK(familiar_key("docker.io/library/busybox:1") == "busybox:1");
    CHECK(index_key(parse_reference("127.0.0.1:5000/x")) == "127.0.0.1:5000/x:latest");
    CHECK(index_key(parse_reference("127.0.0.1:5000/x:1@sha256:" + std::string(64, 'b'))) ==
          "127.0.0.1:5000/x@sha256:" + std::string(64, 'b'));
}

TEST_CASE("unpack_layers: one directory per chain id, shared, verified against diff_ids", "[ch05][store][ex5.4]")
{
    test::TempDir dir;
    ImageStore store(dir.path());
    HandMadeImage first = add_image(store, {"base", "first top"}, "first");
    HandMadeImage second = add_image(store, {"base", "second top"}, "second");
    int applied = 0;
    // Stands in for chapter 04's apply_layer_tar: decompresses and writes the "tar" as a file.
    LayerApplier fake = [&](const fs::path& blob, const fs::path& into, const std::function<void(const char*, size_t)>& seen) {
        ++applied;
        std::string content;
        Decompressor gunzip(Compression::gzip, [&](const char* p, size_t n) {
            seen(p, n);
            content.append(p, n);
        });
        std::string compressed = test::read_file(blob);
        gunzip.update(compressed.data(), compressed.size());
        gunzip.finish();
        test::write_file(into / "layer.tar", content);
    };
    auto unpack = [&](const HandMadeImage& image) {
        ImageRecord record{image.id, image.manifest};
        return unpack_layers(store, store.manifest_of(record).layers, store.config_of(record).diff_ids, fake);
    };
    auto dirs = unpack(first);
    REQUIRE(dirs.size() == 2);
    auto chains = chain_ids(store.config_of({first.id, first.manifest}).diff_ids);
    CHECK(dirs[0] == store.layer_dir(chains[0]));
    CHECK(dirs[1] == store.layer_dir(chains[1]));
    CHECK(test::read_file(dirs[0] / "layer.tar") == "base");
    CHECK(test::read_file(dirs[1] / "layer.tar") == "first top");
    CHECK(applied == 2);

    auto again = unpack(second);
    CHECK(again[0] == dirs[0]);  // the base layer is shared
    CHECK(applied == 3);

    // A layer whose content is not what the config promised is refused and leaves nothing.
    LayerApplier liar = [&](const fs::path&, const fs::path& into, const std::function<void(const char*, size_t)>& seen) {
        std::string other = "not the layer";
        seen(other.data(), other.size());
        test::write_file(into / "layer.tar", other);
    };
    HandMadeImage third = add_image(store, {"third layer"}, "third");
    ImageRecord record{third.id, third.manifest};
    CHECK_THROWS_WITH(unpack_layers(store, store.manifest_of(record).layers, store.config_of(record).diff_ids, liar),
                      Catch::Contains("does not match the image config"));
    CHECK(entries_in(store.root() / "layers") == 3);  // first's two, second's top: no fourth, no temporary

    // Garbage collection takes unpacked layers along with their images.
    store.update_index([&](StoreIndex& index) { index.remove_image(first.id); });
    (void)store.collect_garbage();
    CHECK(fs::exists(dirs[0]));
    CHECK_FALSE(fs::exists(dirs[1]));
}
