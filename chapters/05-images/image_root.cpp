#include "image_root.hpp"

#include "error.hpp"
#include "layer_tar.hpp"
#include "manifest.hpp"
#include "pull.hpp"
#include "reference.hpp"
#include "registry.hpp"

#include <CLI/CLI.hpp>
#include <grp.h>
#include <unistd.h>

#include <iostream>

namespace dockling {

LayerApplier chapter04_layer_applier()
{
    return [](const std::filesystem::path& blob, const std::filesystem::path& dir,
              const std::function<void(const char*, size_t)>& on_uncompressed_bytes) {
        apply_layer_tar(blob, dir, ExtractLimits{}, [&](const void* data, size_t size) {
            on_uncompressed_bytes(static_cast<const char*>(data), size);
        });
    };
}

ImageRoot::ImageRoot(Settings& settings) : settings_(settings) {}

void ImageRoot::add_run_options(CLI::App& run, ContainerSpec& /*spec*/)
{
    run_ = &run;
    run.add_option("--entrypoint", entrypoint_, "Overwrite the image's ENTRYPOINT (\"\" clears it)");
    run.add_option("-u,--user", user_, "Username or UID, optionally with a group (name|uid[:group|gid])");
    run.add_option("--platform", platform_, "The platform to pull if the image is missing (os/arch[/variant])");
}

bool ImageRoot::runs_image(const ContainerSpec& spec) const
{
    // chapters 01-04's forms: `--rootfs DIR CMD...` and `--layer DIR... CMD...`
    bool layers_given = run_ != nullptr && run_->count("--layer") > 0;
    return spec.rootfs.empty() && !layers_given && !spec.argv.empty();
}

//! [prepare]
void ImageRoot::prepare(ContainerSpec& spec)
{
    if (!runs_image(spec)) {
        return;
    }
    ImageStore store(settings_.data_root);
    std::string image_id = local_or_pulled(store, spec.argv.front());
    ImageRecord image = store.load_index().images.at(image_id);
    ImageManifest manifest = store.manifest_of(image);
    ImageConfig config = store.config_of(image);
    layers_ = unpack_layers(store, manifest.layers, config.diff_ids, chapter04_layer_applier());
    defaults_ = run_defaults(config.json);

    request_.args.assign(spec.argv.begin() + 1, spec.argv.end());
    if (run_->count("--entrypoint") > 0) {
        request_.entrypoint = entrypoint_;
    }
    request_.env = spec.env;  // -e, already KEY=VALUE
    if (run_->count("--workdir") > 0) {
        request_.workdir = spec.workdir;
    }
    if (run_->count("--user") > 0) {
        request_.user = user_;
    }
    spec.argv = container_command(*defaults_, request_);
    spec.workdir = container_workdir(*defaults_, request_);
}
//! [prepare]

std::vector<std::filesystem::path> ImageRoot::layers(const ContainerSpec& /*spec*/) { return layers_; }

std::string ImageRoot::local_or_pulled(const ImageStore& store, const std::string& name) const
{
    ImageReference reference = parse_reference(name);
    StoreIndex index = store.load_index();
    if (auto known = index.references.find(index_key(reference)); known != index.references.end()) {
        return known->second;
    }
    // As `docker run` does: say so, pull, then run. The progress goes to stderr, so that
    // the container's own output on stdout stays its own.
    std::cerr << "Unable to find image '" << familiar_key(index_key(reference)) << "' locally\n";
    PullOptions options;
    options.registry = RegistryOptions::from_settings(settings_);
    if (!platform_.empty()) {
        options.platform = parse_platform(platform_);
        options.platform_given = true;
    }
    options.unpack = chapter04_layer_applier();
    return pull_image(store, reference, options, std::cerr).image_id;
}

void ImageUser::prepare(ContainerSpec& spec)
{
    if (!image_.image()) {
        return;
    }
    const RunDefaults& image = *image_.image();
    std::string wanted = image_.request().user.value_or(image.user);
    user_ = resolve_user(wanted, spec.rootfs);
    spec.env = container_env(image, image_.request(), user_->home);
}

//! [in-child]
void ImageUser::in_child(const ContainerSpec& /*spec*/)
{
    if (!user_) {
        return;
    }
    // Groups first: once the process is no longer root it may not change them.
    check(::setgroups(user_->groups.size(), user_->groups.data()), "setgroups");
    check(::setgid(user_->gid), "setgid", std::to_string(user_->gid));
    check(::setuid(user_->uid), "setuid", std::to_string(user_->uid));
}
//! [in-child]

}  // namespace dockling
