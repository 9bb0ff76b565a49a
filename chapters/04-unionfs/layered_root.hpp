#pragma once
/// \file
/// Chapter 04's mechanism: the container's root is made of read-only layers and one
/// writable layer, with overlayfs (or, where it cannot be used, a private copy).

#include "container_store.hpp"
#include "mechanism.hpp"
#include "settings.hpp"
#include "unique_fd.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dockling {

/// Where a container's read-only layers come from, other than `--layer` flags.
///
/// Chapter 05 implements it with its image store: the layers of the image named on
/// the command line. Its mechanism is added to the runtime *before* LayeredRoot, so its
/// prepare() (pull, unpack) has run when LayeredRoot asks for the layers.
class LayerSource {
public:
    virtual ~LayerSource() = default;

    /// The read-only layers of the container `spec` describes, lowest first; empty when
    /// this source has none for it. Called from LayeredRoot::prepare().
    [[nodiscard]] virtual std::vector<std::filesystem::path> layers(const ContainerSpec& spec) = 0;
};

/// Builds the container's root from read-only layers plus a fresh writable layer.
///
/// `run --layer DIR` (repeatable, lowest first), plus the layers of an optional
/// LayerSource (below the `--layer` ones), become an overlay mount at
/// `DATA-ROOT/containers/ID/merged`: the layers as lowerdirs, the container's own
/// `upper` and `work` directories on top. The mount is made in the parent, in the
/// host's mount namespace (like containerd), before the child exists, and taken down
/// in cleanup() however the container ended. The container's directory stays until
/// `rm` (or at exit with `--rm`), so `diff` works after it exited.
///
/// When overlayfs cannot be mounted there, it copies the layers instead (the vfs
/// driver) and says so in one line. The config file's "storage-driver" key ("overlay"
/// or "vfs") forces one driver. Without layers it does nothing: `--rootfs DIR` is used
/// as it is, as in chapter 01.
///
/// Add it to the runtime before the mechanism that enters the root (ChrootRoot, or
/// chapter 02's pivot_root), since that one uses the `spec.rootfs` set here.
class LayeredRoot : public Mechanism {
public:
    /// `settings` gives the data root and the config; `source`, if any, must outlive this.
    explicit LayeredRoot(const Settings& settings, LayerSource* source = nullptr);
    ~LayeredRoot() override;

    /// "layers".
    [[nodiscard]] std::string_view name() const override { return "layers"; }
    /// `--layer DIR`, `--name NAME`, `--rm`, `--cidfile FILE`.
    void add_run_options(CLI::App& run, ContainerSpec& spec) override;
    /// Creates the container's directory and mounts (or copies) its root; sets spec.rootfs.
    void prepare(ContainerSpec& spec) override;
    /// Unmounts the root; with `--rm`, removes the container's directory.
    void cleanup(const ContainerSpec& spec) noexcept override;
    /// overlay in /proc/filesystems; overlay mountable on the data root's filesystem.
    [[nodiscard]] std::vector<PreflightCheck> preflight() const override;

private:
    [[nodiscard]] std::vector<std::filesystem::path> layers_of(const ContainerSpec& spec) const;
    [[nodiscard]] std::optional<StorageDriver> configured_driver() const;
    StorageDriver make_root(const ContainerPaths& where, const std::vector<std::filesystem::path>& layers,
                            std::optional<StorageDriver> wanted);
    void write_cidfile(const std::string& id);

    const Settings& settings_;
    LayerSource* source_;
    std::vector<std::string> layer_flags_;
    std::string name_;
    bool remove_at_exit_ = false;
    std::string cidfile_;

    std::optional<ContainerStore> store_;  // set once a container was created
    UniqueFd running_;                     // its "running" lock
    std::filesystem::path mounted_;        // the overlay mount to take down, if any
};

}  // namespace dockling
