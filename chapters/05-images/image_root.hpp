#pragma once
/// \file
/// `run IMAGE [CMD...]`: an image's layers become the container's root, its config the
/// container's command, environment, working directory and user.

#include "image_config.hpp"
#include "layered_root.hpp"
#include "layers.hpp"
#include "mechanism.hpp"
#include "settings.hpp"
#include "store.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dockling {

/// Chapter 04's safe extraction (apply_layer_tar), as the layer applier pull and run use:
/// every layer is unpacked with the extraction limits, its uncompressed bytes hashed.
[[nodiscard]] LayerApplier chapter04_layer_applier();

/// Turns `run IMAGE [CMD...]` into a container: finds the image in the store (pulling
/// it first when it is missing, as `docker run` does), unpacks its layers by chain id,
/// and gives them to LayeredRoot as the container's read-only layers. The image config
/// sets the command (Entrypoint + Cmd, with `--entrypoint` and the words after IMAGE),
/// the working directory (WorkingDir, unless `-w`) and, with ImageUser, the
/// environment and user.
///
/// It stays out of the way when `--rootfs` or `--layer` is given: then the first word is
/// the command, as in chapters 01 to 04. Add it before LayeredRoot.
class ImageRoot : public Mechanism, public LayerSource {
public:
    /// `settings` gives the data root and the registry settings.
    explicit ImageRoot(Settings& settings);
    /// "image".
    [[nodiscard]] std::string_view name() const override { return "image"; }
    /// `--entrypoint`, `-u/--user`, `--platform`.
    void add_run_options(CLI::App& run, ContainerSpec& spec) override;
    /// Finds or pulls the image, unpacks its layers, sets the command and directory.
    void prepare(ContainerSpec& spec) override;
    /// The image's unpacked layers, lowest first (empty when no image is run).
    [[nodiscard]] std::vector<std::filesystem::path> layers(const ContainerSpec& spec) override;

    /// The image's run defaults, when this container runs an image.
    [[nodiscard]] const std::optional<RunDefaults>& image() const noexcept { return defaults_; }
    /// What the command line asked for beyond the image (`-e`, `-u`, `-w`...).
    [[nodiscard]] const RunRequest& request() const noexcept { return request_; }

private:
    [[nodiscard]] bool runs_image(const ContainerSpec& spec) const;
    [[nodiscard]] std::string local_or_pulled(const ImageStore& store, const std::string& name) const;

    Settings& settings_;
    CLI::App* run_ = nullptr;
    std::string entrypoint_;
    std::string user_;
    std::string platform_;
    std::optional<RunDefaults> defaults_;
    RunRequest request_;
    std::vector<std::filesystem::path> layers_;
};

/// Runs the container's command as the image's user (`User`, or `-u`), resolved through
/// the image's own /etc/passwd and /etc/group, and gives it that user's HOME.
///
/// Add it after the mechanisms that need root in the child (pivot_root, capabilities):
/// in_child() gives up root for the user, the last step before exec.
class ImageUser : public Mechanism {
public:
    /// Reads what `image` found; `image` must outlive it.
    explicit ImageUser(const ImageRoot& image) : image_(image) {}
    /// "user".
    [[nodiscard]] std::string_view name() const override { return "user"; }
    /// Resolves the user in the container's root; sets the environment (image Env, `-e`, HOME).
    void prepare(ContainerSpec& spec) override;
    /// setgroups, setgid, setuid: the process becomes the image's user.
    void in_child(const ContainerSpec& spec) override;

private:
    const ImageRoot& image_;
    std::optional<ExecUser> user_;
};

}  // namespace dockling
