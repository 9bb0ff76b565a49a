#pragma once
/// \file
/// The content-addressed image store under the data root.

#include "digest.hpp"
#include "files.hpp"
#include "manifest.hpp"
#include "reference.hpp"
#include "unique_fd.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockling {

/// An image the store holds. Its ID is the digest of its config, as in Docker: two
/// manifests that name the same config are the same image.
struct ImageRecord {
    std::string id;        ///< "sha256:..." of the config blob
    std::string manifest;  ///< digest of the manifest blob (which names the config and layers)
};

/// How the index spells a reference: `name:tag`, or `name@digest` when a digest is given
/// (a digest names the content exactly; a tag next to it adds nothing).
[[nodiscard]] std::string index_key(const ImageReference& reference);

/// True when an index key is a tag (`name:tag`), false for a digest (`name@sha256:...`).
[[nodiscard]] bool is_tag_key(std::string_view key);

/// The repository part of an index key: `name` of `name:tag` or `name@digest`.
[[nodiscard]] std::string repository_of_key(std::string_view key);

/// The short form of an index key (`busybox:latest` for `docker.io/library/busybox:latest`).
[[nodiscard]] std::string familiar_key(std::string_view key);

/// The store's one mutable document (`repositories.json`): the images, and the
/// references (names) that point at them.
struct StoreIndex {
    /// Every image, by ID.
    std::map<std::string, ImageRecord> images;
    /// `domain/path:tag` or `domain/path@sha256:...` -> image ID.
    std::map<std::string, std::string> references;

    /// The references that point at image `id`, sorted.
    [[nodiscard]] std::vector<std::string> references_to(const std::string& id) const;
    /// Removes image `id` and every reference to it.
    void remove_image(const std::string& id);
};

/// Where images live on disk, under `<data-root>/images`:
///
///     blobs/sha256/<hex>    manifests, configs and layers, named by their digest
///     diffids/<hex>         a layer blob's verified uncompressed digest
///     layers/<hex>          unpacked layers, named by chain id (chapter 04's extraction)
///     repositories.json     the StoreIndex
///     tmp/                  blobs being downloaded
///     lock, index.lock      flock(2) locks (see lock_for_pull and update_index)
///
/// Blobs never change once written: they are written to tmp/, verified, and renamed into
/// place. A new image becomes visible only when repositories.json is replaced, after all
/// its blobs are in place, so a pull killed at any moment leaves no half image.
class ImageStore {
public:
    /// The store of data root `data_root` (nothing is created until something is written).
    explicit ImageStore(const std::filesystem::path& data_root);

    /// `<data-root>/images`.
    [[nodiscard]] const std::filesystem::path& root() const { return root_; }
    /// Where blob `digest` is (checks the digest first: it becomes a file name).
    [[nodiscard]] std::filesystem::path blob_path(std::string_view digest) const;
    /// True when the store has blob `digest`.
    [[nodiscard]] bool has_blob(std::string_view digest) const;
    /// A small blob's content (a manifest, a config), at most `max_size` bytes; its digest
    /// is checked again, so a damaged store cannot hand out wrong content.
    [[nodiscard]] std::string read_blob(std::string_view digest, size_t max_size) const;
    /// Where the layer with chain id `chain_id` is unpacked.
    [[nodiscard]] std::filesystem::path layer_dir(std::string_view chain_id) const;

    /// A blob being written: every byte is hashed as it is written; verify() compares the
    /// digest with the expected one, and only then may commit() put the file into place.
    /// A writer that is never committed removes its temporary file.
    class BlobWriter {
    public:
        BlobWriter(const BlobWriter&) = delete;
        BlobWriter& operator=(const BlobWriter&) = delete;
        ~BlobWriter();
        /// Appends bytes.
        void write(const char* data, size_t size);
        /// Forgets everything written so far (a download starts over).
        void restart();
        /// How many bytes were written.
        [[nodiscard]] uint64_t size() const { return size_; }
        /// Throws Error unless the digest of what was written is `expected`.
        void verify(std::string_view expected);
        /// Makes the verified blob visible under its digest (an atomic rename; if another
        /// pull stored it meanwhile, the content is the same, so either copy will do).
        void commit();

    private:
        friend class ImageStore;
        BlobWriter(std::filesystem::path temporary, std::filesystem::path blobs);
        std::filesystem::path temporary_;
        std::filesystem::path blobs_;
        UniqueFd fd_;
        Sha256 hash_;
        uint64_t size_ = 0;
        std::string verified_;  // the digest, once verify() accepted it
        bool committed_ = false;
    };

    /// Starts writing a new blob (returned by value: C++17 guarantees no copy or move).
    [[nodiscard]] BlobWriter new_blob() const;
    /// Stores a small blob held in memory, after checking its digest.
    void put_blob(std::string_view content, std::string_view expected_digest) const;

    /// The verified diff_id of layer blob `digest`, if recorded.
    [[nodiscard]] std::optional<std::string> diff_id_of(std::string_view digest) const;
    /// Records that layer blob `digest` uncompresses to content with digest `diff_id`.
    void record_diff_id(std::string_view digest, std::string_view diff_id) const;

    /// Reads repositories.json (an empty index when there is none).
    [[nodiscard]] StoreIndex load_index() const;
    /// Changes the index: reads it, calls `change`, writes it back atomically, all under
    /// an exclusive lock so that two processes never lose each other's changes.
    void update_index(const std::function<void(StoreIndex&)>& change) const;

    /// Taken by a pull or push for as long as it runs: a shared lock that keeps garbage
    /// collection away from blobs not yet in the index. Whoever gets the lock while nobody
    /// else holds it first removes what killed pulls left in tmp/.
    [[nodiscard]] FileLock lock_for_pull() const;

    /// The manifest of an image in the store.
    [[nodiscard]] ImageManifest manifest_of(const ImageRecord& image) const;
    /// The config of an image in the store.
    [[nodiscard]] ImageConfig config_of(const ImageRecord& image) const;

    /// Deletes the blobs (and unpacked layers) that no image in the index needs any more;
    /// returns the deleted blobs' digests and how many bytes they held. Waits until no pull
    /// or push runs.
    std::pair<std::vector<std::string>, uint64_t> collect_garbage() const;

private:
    void create_layout() const;
    void remove_stale_temporaries() const;

    std::filesystem::path root_;
};

}  // namespace dockling
