#include "store.hpp"

#include "error.hpp"
#include "layers.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <set>

namespace dockling {

namespace fs = std::filesystem;

namespace {

constexpr size_t max_index_size = 64 * 1024 * 1024;

/// Reads repositories.json's JSON into a StoreIndex, checking every digest in it.
StoreIndex index_from_json(const nlohmann::json& json, const fs::path& file)
{
    static const nlohmann::json none = nlohmann::json::object();
    auto section = [&](const char* key) -> const nlohmann::json& {
        auto found = json.find(key);
        return found != json.end() && found->is_object() ? *found : none;
    };
    StoreIndex index;
    try {
        const nlohmann::json& images = section("images");
        for (auto image = images.begin(); image != images.end(); ++image) {
            index.images[image.key()] = {checked_digest(image.key(), "image ID"),
                                         checked_digest(image->at("manifest").get<std::string>(), "manifest digest")};
        }
        const nlohmann::json& references = section("references");
        for (auto reference = references.begin(); reference != references.end(); ++reference) {
            index.references[reference.key()] = checked_digest(reference->get<std::string>(), "image ID");
        }
    } catch (const nlohmann::json::exception& error) {
        throw Error(fmt::format("{} is damaged: {}", file.string(), error.what()));
    }
    return index;
}

nlohmann::json index_to_json(const StoreIndex& index)
{
    nlohmann::json json = {{"images", nlohmann::json::object()}, {"references", nlohmann::json::object()}};
    for (const auto& [id, image] : index.images) {
        json["images"][id] = {{"manifest", image.manifest}};
    }
    for (const auto& [reference, id] : index.references) {
        json["references"][reference] = id;
    }
    return json;
}

std::string random_suffix()
{
    thread_local std::mt19937_64 random{std::random_device{}()};
    return fmt::format("{:016x}", random());
}

}  // namespace

std::string index_key(const ImageReference& reference)
{
    return reference.digest.empty() ? reference.name() + ":" + reference.tag : reference.name() + "@" + reference.digest;
}

bool is_tag_key(std::string_view key) { return key.find('@') == std::string_view::npos; }

std::string repository_of_key(std::string_view key)
{
    if (size_t at = key.find('@'); at != std::string_view::npos) {
        return std::string(key.substr(0, at));
    }
    size_t colon = key.rfind(':');
    size_t slash = key.rfind('/');
    bool has_tag = colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash);
    return std::string(has_tag ? key.substr(0, colon) : key);
}

std::string familiar_key(std::string_view key)
{
    std::string repository = repository_of_key(key);
    return familiar_name(repository) + std::string(key.substr(repository.size()));
}

std::vector<std::string> StoreIndex::references_to(const std::string& id) const
{
    std::vector<std::string> found;
    for (const auto& [reference, image] : references) {
        if (image == id) {
            found.push_back(reference);
        }
    }
    return found;
}

void StoreIndex::remove_image(const std::string& id)
{
    std::erase_if(references, [&](const auto& entry) { return entry.second == id; });
    images.erase(id);
}

ImageStore::ImageStore(const fs::path& data_root) : root_(data_root / "images") {}

void ImageStore::create_layout() const
{
    for (const char* dir : {"blobs/sha256", "diffids", "tmp"}) {
        fs::create_directories(root_ / dir);
    }
}

fs::path ImageStore::blob_path(std::string_view digest) const
{
    return root_ / "blobs" / "sha256" / std::string(digest_hex(checked_digest(digest, "blob digest")));
}

bool ImageStore::has_blob(std::string_view digest) const { return fs::exists(blob_path(digest)); }

std::string ImageStore::read_blob(std::string_view digest, size_t max_size) const
{
    std::string content = read_whole_file(blob_path(digest), max_size);
    check_digest_matches("stored blob", digest, sha256_digest(content));
    return content;
}

fs::path ImageStore::layer_dir(std::string_view chain_id) const
{
    return root_ / "layers" / std::string(digest_hex(checked_digest(chain_id, "chain ID")));
}

ImageStore::BlobWriter::BlobWriter(fs::path temporary, fs::path blobs)
    : temporary_(std::move(temporary)),
      blobs_(std::move(blobs)),
      fd_(check(::open(temporary_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644), "create", temporary_.string()))
{
}

ImageStore::BlobWriter::~BlobWriter()
{
    if (!committed_) {
        ::unlink(temporary_.c_str());
    }
}

void ImageStore::BlobWriter::write(const char* data, size_t size)
{
    hash_.update(data, size);
    size_ += size;
    while (size > 0) {
        ssize_t written = ::write(fd_.get(), data, size);
        if (written < 0 && errno == EINTR) {
            continue;
        }
        check(written, "write", temporary_.string());
        data += written;
        size -= static_cast<size_t>(written);
    }
}

void ImageStore::BlobWriter::restart()
{
    check(::ftruncate(fd_.get(), 0), "truncate", temporary_.string());
    check(::lseek(fd_.get(), 0, SEEK_SET), "lseek", temporary_.string());
    (void)hash_.finish();  // finish() also starts a new hash
    size_ = 0;
    verified_.clear();
}

//! [blob-commit]
void ImageStore::BlobWriter::verify(std::string_view expected)
{
    check_digest_matches("blob", expected, hash_.finish());
    verified_ = expected;
}

void ImageStore::BlobWriter::commit()
{
    if (verified_.empty()) {
        throw Error("internal error: a blob was committed before it was verified");
    }
    check(::fsync(fd_.get()), "fsync", temporary_.string());  // the data is on disk before its name is
    fs::path final_path = blobs_ / std::string(digest_hex(verified_));
    check(::rename(temporary_.c_str(), final_path.c_str()), "rename", final_path.string());
    committed_ = true;
    sync_directory(blobs_);
}
//! [blob-commit]

ImageStore::BlobWriter ImageStore::new_blob() const
{
    create_layout();
    return BlobWriter(root_ / "tmp" / ("blob-" + random_suffix()), root_ / "blobs" / "sha256");
}

void ImageStore::put_blob(std::string_view content, std::string_view expected_digest) const
{
    if (has_blob(expected_digest)) {
        return;
    }
    BlobWriter writer = new_blob();
    writer.write(content.data(), content.size());
    writer.verify(expected_digest);
    writer.commit();
}

std::optional<std::string> ImageStore::diff_id_of(std::string_view digest) const
{
    fs::path record = root_ / "diffids" / std::string(digest_hex(checked_digest(digest, "layer digest")));
    if (!fs::exists(record)) {
        return std::nullopt;
    }
    return checked_digest(read_whole_file(record, 100), "recorded diff_id");
}

void ImageStore::record_diff_id(std::string_view digest, std::string_view diff_id) const
{
    create_layout();
    write_file_atomically(root_ / "diffids" / std::string(digest_hex(checked_digest(digest, "layer digest"))),
                          checked_digest(diff_id, "diff_id"));
}

StoreIndex ImageStore::load_index() const
{
    fs::path file = root_ / "repositories.json";
    return index_from_json(read_json_file(file, nlohmann::json::object()), file);
}

//! [update-index]
void ImageStore::update_index(const std::function<void(StoreIndex&)>& change) const
{
    create_layout();
    FileLock lock(root_ / "index.lock", FileLock::Mode::exclusive);
    StoreIndex index = load_index();
    change(index);
    write_file_atomically(root_ / "repositories.json", index_to_json(index).dump(2) + "\n");
}
//! [update-index]

FileLock ImageStore::lock_for_pull() const
{
    create_layout();
    FileLock lock = FileLock::try_exclusive(root_ / "lock");
    if (!lock.held()) {
        return FileLock(root_ / "lock", FileLock::Mode::shared);
    }
    remove_stale_temporaries();  // nobody else is pulling: what is in tmp/ is left over
    lock.change(FileLock::Mode::shared);
    return lock;
}

void ImageStore::remove_stale_temporaries() const
{
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator(root_ / "tmp", ignored)) {
        fs::remove_all(entry.path(), ignored);
    }
}

ImageManifest ImageStore::manifest_of(const ImageRecord& image) const
{
    std::string bytes = read_blob(image.manifest, max_manifest_size);
    auto doc = nlohmann::json::parse(bytes, nullptr, false);
    std::string type = doc.is_object() ? doc.value("mediaType", std::string(media_type::oci_manifest)) : "";
    return parse_image_manifest(bytes, type);
}

ImageConfig ImageStore::config_of(const ImageRecord& image) const
{
    return parse_image_config(read_blob(image.id, max_config_size));
}

//! [collect-garbage]
std::pair<std::vector<std::string>, uint64_t> ImageStore::collect_garbage() const
{
    if (!fs::exists(root_ / "blobs" / "sha256")) {
        return {};
    }
    FileLock lock(root_ / "lock", FileLock::Mode::exclusive);  // no pull is between blob and index
    std::set<std::string> needed;
    std::set<std::string> needed_layers;
    bool have_unpacked = fs::exists(root_ / "layers");
    for (const auto& [id, image] : load_index().images) {
        ImageManifest manifest = manifest_of(image);
        needed.insert({image.id, image.manifest});
        for (const auto& layer : manifest.layers) {
            needed.insert(layer.digest);
        }
        if (have_unpacked) {
            for (const auto& chain : chain_ids(config_of(image).diff_ids)) {
                needed_layers.insert(std::string(digest_hex(chain)));
            }
        }
    }
    std::vector<std::string> deleted;
    uint64_t bytes = 0;
    for (const auto& entry : fs::directory_iterator(root_ / "blobs" / "sha256")) {
        std::string digest = "sha256:" + entry.path().filename().string();
        if (!needed.contains(digest)) {
            bytes += entry.file_size();
            fs::remove(entry.path());
            fs::remove(root_ / "diffids" / entry.path().filename());
            deleted.push_back(digest);
        }
    }
    if (have_unpacked) {
        for (const auto& entry : fs::directory_iterator(root_ / "layers")) {
            if (!needed_layers.contains(entry.path().filename().string())) {
                fs::remove_all(entry.path());
            }
        }
    }
    return {deleted, bytes};
}
//! [collect-garbage]

}  // namespace dockling
