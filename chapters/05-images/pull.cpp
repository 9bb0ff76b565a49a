#include "pull.hpp"

#include "error.hpp"
#include "files.hpp"
#include "format.hpp"
#include "progress.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <exception>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace dockling {

namespace {

/// What every layer download of one pull shares.
struct LayerJob {
    RegistryClient& client;
    const ImageStore& store;
    const std::string& repository;
    ProgressDisplay& display;
    std::atomic<bool>& cancelled;
};

//! [download-layer]
/// Downloads one layer into the store. Every byte goes three ways as it arrives: into a
/// temporary file, into the sha256 of the blob, and through the decompressor into the
/// sha256 of the uncompressed content. Only when size, digest and diff_id all match is
/// the file renamed into the store.
void download_layer(const LayerJob& job, const Descriptor& layer, const std::string& diff_id)
{
    std::string id = short_digest(layer.digest);
    Compression compression = layer_compression(layer.media_type);
    ImageStore::BlobWriter blob = job.store.new_blob();
    std::optional<UncompressedDigester> uncompressed;
    auto restart = [&] {  // a retry starts from zero
        blob.restart();
        uncompressed.emplace(compression);
    };
    auto receive = [&](const char* data, size_t size) {
        if (blob.size() + size > static_cast<uint64_t>(layer.size)) {
            throw Error(fmt::format("layer {} is larger than the {} bytes the manifest says", layer.digest, layer.size));
        }
        blob.write(data, size);
        uncompressed->update(data, size);
        job.display.progress(id, "Downloading", blob.size(), static_cast<uint64_t>(layer.size));
    };
    job.display.progress(id, "Downloading", 0, static_cast<uint64_t>(layer.size));
    job.client.fetch_blob(job.repository, layer, receive, restart, &job.cancelled);
    if (blob.size() != static_cast<uint64_t>(layer.size)) {
        throw Error(fmt::format("layer {} ended after {} of its {} bytes", layer.digest, blob.size(), layer.size));
    }
    job.display.status(id, "Verifying Checksum");
    blob.verify(layer.digest);
    check_diff_id(layer.digest, diff_id, uncompressed->finish());
    blob.commit();
    job.store.record_diff_id(layer.digest, diff_id);
    job.display.status(id, "Download complete");
}
//! [download-layer]

/// A layer that is in the store already still has to be the layer the config means.
void check_stored_layer(const ImageStore& store, const Descriptor& layer, const std::string& diff_id)
{
    std::optional<std::string> known = store.diff_id_of(layer.digest);
    if (!known) {  // stored, but the pull died before it recorded the diff_id: compute it again
        known = uncompressed_digest_of_blob(store, layer);
        store.record_diff_id(layer.digest, *known);
    }
    check_diff_id(layer.digest, diff_id, *known);
}

/// Runs task(0) ... task(count - 1) on at most `limit` threads. The first task that
/// throws sets `cancelled` (the others check it and stop) and its exception is rethrown.
void run_limited(size_t count, int limit, std::atomic<bool>& cancelled, const std::function<void(size_t)>& task)
{
    std::atomic<size_t> next{0};
    std::exception_ptr failure;
    std::mutex failure_mutex;
    auto worker = [&] {
        for (size_t k; !cancelled && (k = next++) < count;) {
            try {
                task(k);
            } catch (...) {
                std::lock_guard lock(failure_mutex);
                if (!failure) {
                    failure = std::current_exception();
                }
                cancelled = true;
            }
        }
    };
    {
        std::vector<std::jthread> workers;
        for (size_t n = 0; n < std::min(count, static_cast<size_t>(limit)); ++n) {
            workers.emplace_back(worker);
        }
    }  // the jthreads join here
    if (failure) {
        std::rethrow_exception(failure);
    }
}

//! [download-layers]
/// Downloads the layers the store lacks, at most `limit` at once.
void download_layers(const LayerJob& job, const std::vector<Descriptor>& layers, const std::vector<std::string>& diff_ids,
                     int limit)
{
    std::vector<size_t> missing;
    std::set<std::string> seen;  // an image may list the same layer twice
    for (size_t i = 0; i < layers.size(); ++i) {
        std::string id = short_digest(layers[i].digest);
        if (job.store.has_blob(layers[i].digest)) {
            check_stored_layer(job.store, layers[i], diff_ids[i]);
            job.display.status(id, "Already exists");
        } else if (seen.insert(layers[i].digest).second) {
            job.display.status(id, "Pulling fs layer");
            missing.push_back(i);
        }
    }
    for (size_t k = static_cast<size_t>(limit); k < missing.size(); ++k) {
        job.display.status(short_digest(layers[missing[k]].digest), "Waiting");
    }
    run_limited(missing.size(), limit, job.cancelled,
                [&](size_t k) { download_layer(job, layers[missing[k]], diff_ids[missing[k]]); });
}
//! [download-layers]

/// A single-platform image pulled with --platform must be of that platform.
void check_platform(const ImageConfig& config, const PullOptions& options)
{
    Platform actual = normalize({config.os, config.architecture, config.variant});
    const Platform& wanted = options.platform;
    bool matches = actual.os == wanted.os && actual.architecture == wanted.architecture &&
                   (wanted.variant.empty() || actual.variant == wanted.variant);
    if (options.platform_given && !matches) {
        throw Error(fmt::format("the image is for {}, not for the requested platform {}", actual.string(), wanted.string()));
    }
}

/// Names the image in the index: the tag (if pulled by tag) and the digest. Returns
/// false when the reference already named this very image.
bool record_image(const ImageStore& store, const ImageReference& reference, const std::string& image_id,
                  const std::string& manifest_digest, const std::string& pulled_digest)
{
    bool updated = true;
    std::string by_digest = reference.name() + "@" + pulled_digest;
    std::string key = index_key(reference);
    store.update_index([&](StoreIndex& index) {
        auto existing = index.references.find(key);
        updated = existing == index.references.end() || existing->second != image_id || !index.images.contains(image_id);
        index.images[image_id] = {image_id, manifest_digest};
        index.references[key] = image_id;
        index.references[by_digest] = image_id;
    });
    return updated;
}

/// The image manifest a reference names, choosing from an index if it is one.
ManifestDocument resolve_manifest(RegistryClient& client, const ImageReference& reference, const ManifestDocument& top,
                                  const PullOptions& options)
{
    if (top.kind == DocumentKind::manifest) {
        return top;
    }
    ImageIndex index = parse_image_index(top.bytes, top.media_type);
    const Descriptor& chosen = select_platform(index, options.platform);
    ManifestDocument manifest = client.get_manifest(reference.path, chosen.digest);
    if (manifest.kind != DocumentKind::manifest) {
        throw Error(fmt::format("the manifest list entry for {} is not an image manifest", options.platform.string()));
    }
    return manifest;
}

/// `apply`, with each layer's "Extracting" and "Pull complete" shown as docker pull does.
LayerApplier extracting_shown(const LayerApplier& apply, ProgressDisplay& display)
{
    return [&apply, &display](const std::filesystem::path& blob, const std::filesystem::path& dir,
                              const std::function<void(const char*, size_t)>& on_uncompressed_bytes) {
        std::string id = blob.filename().string().substr(0, 12);  // the blob's file name is its digest's hex
        display.status(id, "Extracting");
        apply(blob, dir, on_uncompressed_bytes);
        display.status(id, "Pull complete");
    };
}

//! [pull-from]
PullResult pull_from(const ImageStore& store, const ImageReference& reference, const Endpoint& endpoint,
                     const PullOptions& options, ProgressDisplay& display)
{
    RegistryClient client(reference.domain, endpoint, options.registry);
    client.ping();
    display.message(fmt::format("{}: Pulling from {}", reference.manifest_reference(), familiar_name(reference.name())));
    ManifestDocument top = client.get_manifest(reference.path, reference.manifest_reference());
    ManifestDocument chosen = resolve_manifest(client, reference, top, options);
    ImageManifest manifest = parse_image_manifest(chosen.bytes, chosen.media_type);
    std::string config_bytes = client.get_small_blob(reference.path, manifest.config);
    ImageConfig config = parse_image_config(config_bytes);
    check_platform(config, options);
    if (config.diff_ids.size() != manifest.layers.size()) {
        throw Error(fmt::format("the manifest lists {} layers but the config {} diff_ids", manifest.layers.size(),
                                config.diff_ids.size()));
    }
    std::atomic<bool> cancelled{false};
    LayerJob job{client, store, reference.path, display, cancelled};
    download_layers(job, manifest.layers, config.diff_ids, options.registry.max_concurrent_downloads);
    store.put_blob(config_bytes, manifest.config.digest);
    store.put_blob(chosen.bytes, chosen.digest);
    if (options.unpack) {  // unpack the layers by chain id, with chapter 04's extraction
        unpack_layers(store, manifest.layers, config.diff_ids, extracting_shown(options.unpack, display));
    }
    bool updated = record_image(store, reference, manifest.config.digest, chosen.digest, top.digest);
    return {manifest.config.digest, top.digest, updated};
}
//! [pull-from]

}  // namespace

std::string uncompressed_digest_of_blob(const ImageStore& store, const Descriptor& layer)
{
    UncompressedDigester digester(layer_compression(layer.media_type));
    UniqueFd fd(check(::open(store.blob_path(layer.digest).c_str(), O_RDONLY | O_CLOEXEC), "open",
                      store.blob_path(layer.digest).string()));
    std::vector<char> buffer(1 << 16);
    for (ssize_t got; (got = ::read(fd.get(), buffer.data(), buffer.size())) != 0;) {
        check(got, "read", store.blob_path(layer.digest).string());
        digester.update(buffer.data(), static_cast<size_t>(got));
    }
    return digester.finish();
}

//! [pull-image]
PullResult pull_image(const ImageStore& store, const ImageReference& reference, const PullOptions& options,
                      std::ostream& out)
{
    ProgressDisplay display(out, options.terminal);
    if (reference.default_tag) {
        display.message("Using default tag: latest");
    }
    FileLock in_use = store.lock_for_pull();
    std::vector<Endpoint> endpoints = endpoints_for(reference.domain, options.registry);
    for (const auto& endpoint : endpoints) {
        try {
            PullResult result = pull_from(store, reference, endpoint, options, display);
            display.message("Digest: " + result.digest);
            display.message(fmt::format("Status: {} for {}", result.updated ? "Downloaded newer image" : "Image is up to date",
                                        reference.familiar()));
            display.message(reference.string());
            return result;
        } catch (const Error& error) {
            if (!endpoint.mirror) {
                throw;
            }
            // As Docker does, a mirror that fails is passed over: the next one, or the
            // registry itself, may well have the image.
            std::cerr << fmt::format("dockling: mirror {} failed ({}); trying the next endpoint\n", endpoint.url, error.what());
        }
    }
    throw Error("internal error: no endpoint to pull from");  // endpoints_for() always ends with the registry
}
//! [pull-image]

}  // namespace dockling
