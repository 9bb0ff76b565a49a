#include "layered_root.hpp"

#include "doctor.hpp"
#include "error.hpp"
#include "layer_view.hpp"
#include "overlay.hpp"
#include "tree.hpp"
#include "vfs.hpp"

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>

namespace dockling {

namespace {

std::string now_rfc3339()
{
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(
                                                    std::chrono::system_clock::now())));
}

/// Removes a half-made container if prepare() fails before it is done.
class CreationGuard {
public:
    CreationGuard(const ContainerStore& store, std::string id) : store_(store), id_(std::move(id)) {}
    CreationGuard(const CreationGuard&) = delete;
    CreationGuard& operator=(const CreationGuard&) = delete;
    ~CreationGuard()
    {
        if (!done_) {
            ContainerPaths where = store_.paths(id_);
            unmount(where.merged);
            try {
                remove_tree(where.dir);
            } catch (const Error& error) {
                std::cerr << program_invocation_short_name << ": " << error.what() << '\n';
            }
        }
    }
    void done() { done_ = true; }

private:
    const ContainerStore& store_;
    std::string id_;
    bool done_ = false;
};

/// The nearest directory that exists at or above `path`: where the data root is, or
/// will be made.
std::filesystem::path existing_ancestor(std::filesystem::path path)
{
    std::error_code ec;
    while (!std::filesystem::is_directory(path, ec) && path.has_parent_path() && path != path.parent_path()) {
        path = path.parent_path();
    }
    return path;
}

}  // namespace

LayeredRoot::LayeredRoot(const Settings& settings, LayerSource* source) : settings_(settings), source_(source) {}

LayeredRoot::~LayeredRoot() = default;

void LayeredRoot::add_run_options(CLI::App& run, ContainerSpec& /*spec*/)
{
    run.add_option("--layer", layer_flags_,
                   "A read-only layer of the container's root (repeatable, lowest first); changes go to the "
                   "container's own layer");
    run.add_option("--name", name_, "Name the container (its files stay until 'rm NAME')");
    run.add_flag("--rm", remove_at_exit_, "Remove the container's files when it exits");
    run.add_option("--cidfile", cidfile_, "Write the container's id to this file");
}

std::vector<std::filesystem::path> LayeredRoot::layers_of(const ContainerSpec& spec) const
{
    std::vector<std::filesystem::path> layers;
    if (source_ != nullptr) {
        layers = source_->layers(spec);
    }
    for (const auto& flag : layer_flags_) {
        std::error_code ec;
        auto status = std::filesystem::status(flag, ec);
        if (ec) {
            throw Error("layer", flag, ec.value());
        }
        if (!std::filesystem::is_directory(status)) {
            throw Error("layer " + flag + ": not a directory");
        }
        layers.push_back(std::filesystem::absolute(flag).lexically_normal());
    }
    return layers;
}

std::optional<StorageDriver> LayeredRoot::configured_driver() const
{
    auto configured = settings_.config.find("storage-driver");
    if (configured == settings_.config.end()) {
        return std::nullopt;  // automatic: overlay if it can be mounted, else vfs
    }
    if (configured->is_string() && *configured == "overlay") {
        return StorageDriver::overlay;
    }
    if (configured->is_string() && *configured == "vfs") {
        return StorageDriver::vfs;
    }
    throw Error(fmt::format("config file {}: \"storage-driver\" must be \"overlay\" or \"vfs\", not {}",
                            settings_.config_file.string(), configured->dump()));
}

//! [prepare]
void LayeredRoot::prepare(ContainerSpec& spec)
{
    std::vector<std::filesystem::path> layers = layers_of(spec);
    if (layers.empty()) {  // chapter 01's way: --rootfs DIR as it is
        if (!name_.empty()) {
            throw Error("--name: only containers on layers (--layer) are kept, so only they have names");
        }
        if (spec.rootfs.empty()) {
            throw Error("no root filesystem: give one with --rootfs DIR, or its layers with --layer DIR");
        }
        write_cidfile(spec.id);
        return;
    }
    if (!spec.rootfs.empty()) {
        throw Error("give the container's root either as --rootfs DIR or as layers with --layer DIR, not both");
    }
    std::optional<StorageDriver> wanted = configured_driver();
    ContainerStore& store = store_.emplace(settings_.data_root);
    ContainerRecord record{spec.id, name_, layers, wanted.value_or(StorageDriver::overlay), now_rfc3339()};
    store.create(record);
    CreationGuard guard(store, spec.id);
    running_ = store.lock_running(spec.id);
    ContainerPaths where = store.paths(spec.id);
    record.driver = make_root(where, layers, wanted);
    store.save(record);
    spec.rootfs = where.root(record.driver);
    write_cidfile(spec.id);
    guard.done();
}
//! [prepare]

//! [make-root]
StorageDriver LayeredRoot::make_root(const ContainerPaths& where, const std::vector<std::filesystem::path>& layers,
                                     std::optional<StorageDriver> wanted)
{
    if (wanted != StorageDriver::vfs) {
        for (const auto& dir : {where.upper, where.work, where.merged}) {
            check(::mkdir(dir.c_str(), 0755), "mkdir", dir.string());
        }
        // The merged root shows the upper directory's owner and mode: the top layer's.
        copy_metadata(layers.back(), lstat_path(layers.back()), where.upper, false);
        try {
            mount_overlay(where.merged, {layers, where.upper, where.work}, where.dir);
            mounted_ = where.merged;
            return StorageDriver::overlay;
        } catch (const Error& error) {
            if (wanted == StorageDriver::overlay || error.operation() != mount_overlay_operation) {
                throw;
            }
            std::cerr << program_invocation_short_name << ": overlayfs cannot be used here (" << error.what()
                      << "); copying the layers instead (storage driver vfs)\n";
            for (const auto& dir : {where.upper, where.work, where.merged, where.dir / "l"}) {
                remove_tree(dir);
            }
        }
    }
    copy_layers(LayerView(layers), where.rootfs);
    return StorageDriver::vfs;
}
//! [make-root]

void LayeredRoot::write_cidfile(const std::string& id)
{
    if (cidfile_.empty()) {
        return;
    }
    // Like Docker: an existing file may belong to a container still running.
    UniqueFd fd(::open(cidfile_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd) {
        if (errno == EEXIST) {
            throw Error("container ID file " + cidfile_ + " exists: delete it, or make sure its container is gone");
        }
        throw_errno("create", cidfile_);
    }
    std::string line = id + "\n";
    check(::write(fd.get(), line.data(), line.size()), "write", cidfile_);
}

void LayeredRoot::cleanup(const ContainerSpec& spec) noexcept
{
    if (!store_) {
        return;
    }
    if (!mounted_.empty() && !unmount(mounted_)) {
        std::cerr << program_invocation_short_name << ": unmount " << mounted_.string() << ": "
                  << std::strerror(errno) << '\n';
    }
    running_.reset();
    if (remove_at_exit_) {
        try {
            store_->remove(spec.id);
        } catch (const std::exception& error) {
            std::cerr << program_invocation_short_name << ": --rm: " << error.what() << '\n';
        }
    }
}

std::vector<PreflightCheck> LayeredRoot::preflight() const
{
    auto in_kernel = [] {
        bool ok = overlay_in_proc_filesystems();
        return CheckResult{ok, ok ? "overlay is in /proc/filesystems" : "overlay is not in /proc/filesystems",
                           "load it (modprobe overlay); without it dockling copies layers (vfs)"};
    };
    auto on_data_root = [this] {
        std::filesystem::path dir = existing_ancestor(settings_.data_root);
        std::string problem = try_overlay_mount_in(dir);
        return CheckResult{problem.empty(),
                           problem.empty() ? "overlay mounts on the filesystem of " + dir.string() : problem,
                           "put the data root (--data-root) on ext4 or xfs; meanwhile dockling copies layers (vfs)"};
    };
    return {{4, "overlay filesystem", in_kernel}, {4, "overlay on data root", on_data_root}};
}

}  // namespace dockling
