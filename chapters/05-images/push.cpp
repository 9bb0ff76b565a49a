#include "push.hpp"

#include "error.hpp"
#include "format.hpp"
#include "progress.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <ostream>

namespace dockling {

namespace {

/// Uploads one blob of the store unless the registry has it already.
void push_blob(RegistryClient& client, const ImageStore& store, const std::string& repository, const Descriptor& blob,
               ProgressDisplay& display, bool shown)
{
    std::string id = short_digest(blob.digest);
    if (client.has_blob(repository, blob.digest)) {
        if (shown) {
            display.status(id, "Layer already exists");
        }
        return;
    }
    if (shown) {
        display.progress(id, "Pushing", 0, static_cast<uint64_t>(blob.size));
    }
    std::filesystem::path path = store.blob_path(blob.digest);
    UniqueFd fd(check(::open(path.c_str(), O_RDONLY | O_CLOEXEC), "open", path.string()));
    client.upload_blob(repository, blob.digest, fd.get(), static_cast<uint64_t>(blob.size));
    if (shown) {
        display.status(id, "Pushed");
    }
}

}  // namespace

//! [push-image]
std::string push_image(const ImageStore& store, const ImageReference& reference, const RegistryOptions& options,
                       std::ostream& out, bool terminal)
{
    if (!reference.digest.empty()) {
        throw Error(fmt::format("cannot push \"{}\": push a tag, not a digest", reference.familiar()));
    }
    FileLock in_use = store.lock_for_pull();  // keeps garbage collection away meanwhile
    StoreIndex index = store.load_index();
    auto found = index.references.find(index_key(reference));
    if (found == index.references.end()) {
        throw Error(fmt::format("An image does not exist locally with the tag: {}", familiar_name(reference.name())));
    }
    const ImageRecord& image = index.images.at(found->second);
    ImageManifest manifest = store.manifest_of(image);
    std::string manifest_bytes = store.read_blob(image.manifest, max_manifest_size);

    ProgressDisplay display(out, terminal);
    display.message(fmt::format("The push refers to repository [{}]", familiar_name(reference.name())));
    RegistryClient client(reference.domain, endpoints_for(reference.domain, {}).back(), options);
    client.want_push(true);
    client.ping();
    for (auto layer = manifest.layers.rbegin(); layer != manifest.layers.rend(); ++layer) {
        display.status(short_digest(layer->digest), "Preparing");  // docker push lists the top layer first
    }
    for (auto layer = manifest.layers.rbegin(); layer != manifest.layers.rend(); ++layer) {
        push_blob(client, store, reference.path, *layer, display, true);
    }
    push_blob(client, store, reference.path, manifest.config, display, false);
    auto doc = nlohmann::json::parse(manifest_bytes);
    std::string type = doc.value("mediaType", std::string(media_type::oci_manifest));
    std::string digest = client.put_manifest(reference.path, reference.tag, manifest_bytes, type);
    display.message(fmt::format("{}: digest: {} size: {}", reference.tag, digest, manifest_bytes.size()));
    return digest;
}
//! [push-image]

}  // namespace dockling
