#include "manifest.hpp"

#include "digest.hpp"
#include "error.hpp"

#include <sys/utsname.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace dockling {

namespace {

using nlohmann::json;

constexpr const char* schema1_refused =
    "this is a Docker schema 1 manifest, which Docker no longer pulls either: push the image again with a current client";

bool is_manifest_type(std::string_view type)
{
    return type == media_type::docker_manifest || type == media_type::oci_manifest;
}

bool is_index_type(std::string_view type)
{
    return type == media_type::docker_manifest_list || type == media_type::oci_index;
}

/// "application/json; charset=utf-8" -> "application/json".
std::string_view without_parameters(std::string_view content_type)
{
    content_type = content_type.substr(0, content_type.find(';'));
    while (!content_type.empty() && content_type.back() == ' ') {
        content_type.remove_suffix(1);
    }
    return content_type;
}

json parse_object(std::string_view bytes, std::string_view what)
{
    json doc = json::parse(bytes, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        throw Error(fmt::format("the {} is not a JSON object", what));
    }
    return doc;
}

std::string string_field(const json& object, const char* key, std::string_view what)
{
    auto found = object.find(key);
    if (found == object.end() || !found->is_string()) {
        throw Error(fmt::format("the {} has no \"{}\" string", what, key));
    }
    return found->get<std::string>();
}

Platform platform_of(const json& entry)
{
    Platform platform;
    platform.os = entry.value("os", "");
    platform.architecture = entry.value("architecture", "");
    platform.variant = entry.value("variant", "");
    return normalize(platform);
}

Descriptor parse_descriptor(const json& object, std::string_view what)
{
    if (!object.is_object()) {
        throw Error(fmt::format("a {} descriptor is not a JSON object", what));
    }
    Descriptor descriptor;
    descriptor.media_type = string_field(object, "mediaType", std::string(what) + " descriptor");
    descriptor.digest = checked_digest(string_field(object, "digest", std::string(what) + " descriptor"),
                                       std::string(what) + " digest");
    auto size = object.find("size");
    if (size == object.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
        throw Error(fmt::format("the {} descriptor of {} has no valid size", what, descriptor.digest));
    }
    descriptor.size = size->get<int64_t>();
    if (auto platform = object.find("platform"); platform != object.end() && platform->is_object()) {
        descriptor.platform = platform_of(*platform);
    }
    return descriptor;
}

const json& array_field(const json& doc, const char* key, std::string_view what)
{
    auto found = doc.find(key);
    if (found == doc.end() || !found->is_array()) {
        throw Error(fmt::format("the {} has no \"{}\" array", what, key));
    }
    return *found;
}

}  // namespace

std::string manifest_accept_header()
{
    return fmt::format("Accept: {}, {}, {}, {}", media_type::docker_manifest, media_type::docker_manifest_list,
                       media_type::oci_manifest, media_type::oci_index);
}

std::string Platform::string() const
{
    return variant.empty() ? os + "/" + architecture : os + "/" + architecture + "/" + variant;
}

Platform normalize(Platform platform)
{
    static const std::map<std::string, std::pair<std::string, std::string>> aliases{
        {"x86_64", {"amd64", ""}},  {"x86-64", {"amd64", ""}}, {"aarch64", {"arm64", ""}},
        {"armhf", {"arm", "v7"}},   {"armel", {"arm", "v6"}},  {"i386", {"386", ""}},
        {"i686", {"386", ""}},      {"armv7l", {"arm", "v7"}}};
    if (auto alias = aliases.find(platform.architecture); alias != aliases.end()) {
        platform.architecture = alias->second.first;
        if (platform.variant.empty()) {
            platform.variant = alias->second.second;
        }
    }
    if (platform.architecture == "arm64" && platform.variant.empty()) {
        platform.variant = "v8";
    } else if (platform.architecture == "arm" && platform.variant.empty()) {
        platform.variant = "v7";
    } else if (platform.architecture == "amd64" && platform.variant == "v1") {
        platform.variant = "";
    }
    return platform;
}

Platform parse_platform(std::string_view text)
{
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
        size_t slash = text.find('/', start);
        parts.emplace_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
        if (slash == std::string_view::npos) {
            break;
        }
        start = slash + 1;
    }
    bool empty_part = std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); });
    if (parts.size() < 2 || parts.size() > 3 || empty_part) {
        throw Error(fmt::format("invalid platform \"{}\": expected os/architecture[/variant], like linux/arm64", text));
    }
    return normalize({parts[0], parts[1], parts.size() == 3 ? parts[2] : ""});
}

Platform host_platform()
{
    struct utsname machine {};
    ::uname(&machine);
    return normalize({"linux", machine.machine, ""});
}

//! [check-document]
DocumentKind check_manifest_document(std::string_view bytes, std::string_view content_type)
{
    content_type = without_parameters(content_type);
    if (content_type == media_type::docker_schema1 || content_type == media_type::docker_schema1_signed) {
        throw Error(schema1_refused);
    }
    json doc = parse_object(bytes, "manifest");
    if (doc.value("schemaVersion", 0) == 1) {
        throw Error(schema1_refused);
    }
    if (doc.contains("manifests") && doc.contains("layers")) {
        throw Error("the manifest has both \"manifests\" and \"layers\": it is ambiguous, refused");
    }
    std::string declared = doc.value("mediaType", "");
    if (!declared.empty() && declared != content_type) {
        throw Error(fmt::format("the manifest says its mediaType is {} but the registry sent it as {}", declared,
                                content_type.empty() ? "(no Content-Type)" : content_type));
    }
    std::string_view type = declared.empty() ? content_type : std::string_view(declared);
    if (is_manifest_type(type) && !doc.contains("manifests")) {
        return DocumentKind::manifest;
    }
    if (is_index_type(type) && !doc.contains("layers")) {
        return DocumentKind::index;
    }
    throw Error(fmt::format("unsupported manifest type \"{}\"", type.substr(0, 200)));
}
//! [check-document]

ImageManifest parse_image_manifest(std::string_view bytes, std::string_view media_type)
{
    json doc = parse_object(bytes, "manifest");
    ImageManifest manifest;
    manifest.media_type = media_type;
    if (!doc.contains("config")) {
        throw Error("the manifest has no config descriptor");
    }
    manifest.config = parse_descriptor(doc["config"], "config");
    if (manifest.config.size > static_cast<int64_t>(max_config_size)) {
        throw Error(fmt::format("the image config is {} bytes, more than the {} accepted", manifest.config.size, max_config_size));
    }
    for (const auto& layer : array_field(doc, "layers", "manifest")) {
        manifest.layers.push_back(parse_descriptor(layer, "layer"));
        (void)layer_compression(manifest.layers.back().media_type);  // refuse unknown layer types now
    }
    return manifest;
}

ImageIndex parse_image_index(std::string_view bytes, std::string_view media_type)
{
    json doc = parse_object(bytes, "index");
    ImageIndex index;
    index.media_type = media_type;
    for (const auto& entry : array_field(doc, "manifests", "index")) {
        index.manifests.push_back(parse_descriptor(entry, "manifest"));
    }
    return index;
}

const Descriptor& select_platform(const ImageIndex& index, const Platform& wanted)
{
    // EXERCISE 5.3 BEGIN: choosing a platform from a manifest list
    //   hint: both sides are normalized already: compare os and architecture; compare the variant only
    //   hint: when `wanted` has one. Skip entries without a platform and entries that are indexes themselves.
    for (const auto& entry : index.manifests) {
        if (!entry.platform || !is_manifest_type(entry.media_type)) {
            continue;
        }
        const Platform& offered = *entry.platform;
        if (offered.os == wanted.os && offered.architecture == wanted.architecture &&
            (wanted.variant.empty() || offered.variant == wanted.variant)) {
            return entry;
        }
    }
    throw Error(fmt::format("no matching manifest for {} in the manifest list entries", wanted.string()));
    // EXERCISE 5.3 STUB
    //: (void)index; (void)wanted;
    //: throw ExerciseNotDone("5.3", "return the first entry whose platform has wanted's os and architecture (and variant, if wanted has one)");
    // EXERCISE 5.3 END
}

Compression layer_compression(std::string_view type)
{
    if (type == media_type::docker_layer || type == media_type::oci_layer_gzip) {
        return Compression::gzip;
    }
    if (type == media_type::oci_layer_zstd) {
        return Compression::zstd;
    }
    if (type == media_type::oci_layer) {
        return Compression::none;
    }
    if (type == media_type::docker_foreign_layer) {
        throw Error("the image has a foreign (Windows) layer: Dockling runs Linux images only");
    }
    throw Error(fmt::format("unsupported layer media type \"{}\"", type.substr(0, 200)));
}

ImageConfig parse_image_config(std::string_view bytes)
{
    ImageConfig config;
    config.json = parse_object(bytes, "image config");
    config.architecture = config.json.value("architecture", "");
    config.os = config.json.value("os", "");
    config.variant = config.json.value("variant", "");
    if (auto created = config.json.find("created"); created != config.json.end() && created->is_string()) {
        config.created = created->get<std::string>();
    }
    auto rootfs = config.json.find("rootfs");
    if (rootfs == config.json.end() || !rootfs->is_object() || rootfs->value("type", "") != "layers") {
        throw Error("the image config has no rootfs of type \"layers\"");
    }
    for (const auto& id : array_field(*rootfs, "diff_ids", "image config's rootfs")) {
        config.diff_ids.push_back(checked_digest(id.is_string() ? id.get<std::string>() : "", "diff_id"));
    }
    return config;
}

}  // namespace dockling
