#pragma once
/// \file
/// Where containers keep their files: one directory per container under the data root.

#include "unique_fd.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace dockling {

/// How a container's root is stored.
enum class StorageDriver {
    overlay,  ///< an overlay mount: the layers read-only, changes in an upper directory
    vfs,      ///< a private full copy of the layers (when overlayfs cannot be used)
};

/// "overlay" or "vfs".
[[nodiscard]] std::string_view driver_name(StorageDriver driver) noexcept;

/// The paths of one container's directory, `DATA-ROOT/containers/ID/`.
struct ContainerPaths {
    /// The paths inside the container directory `directory`.
    explicit ContainerPaths(std::filesystem::path directory);
    std::filesystem::path dir;     ///< the container's directory
    std::filesystem::path config;  ///< config.json: its ContainerRecord
    std::filesystem::path lock;    ///< held (flock) while the container runs
    std::filesystem::path upper;   ///< overlay: the writable layer, where changes land
    std::filesystem::path work;    ///< overlay: its scratch directory
    std::filesystem::path merged;  ///< overlay: the mount point, the container's root
    std::filesystem::path rootfs;  ///< vfs: the container's private copy, its root
    /// The container's root: merged for overlay, rootfs for vfs.
    [[nodiscard]] const std::filesystem::path& root(StorageDriver driver) const;
};

/// What Dockling remembers of a container (its config.json).
struct ContainerRecord {
    std::string id;                             ///< 64 hex digits
    std::string name;                           ///< may be empty
    std::vector<std::filesystem::path> layers;  ///< read-only layers, lowest first
    StorageDriver driver = StorageDriver::overlay;
    std::string created;                        ///< when, in RFC 3339 (UTC)
};

/// The containers under one data root: `DATA-ROOT/containers/ID/`.
///
/// A container exists from `run` until `rm`, as in Docker: its upper directory (its
/// changes) outlives its process, so `diff` and `layer save` work after it exited.
class ContainerStore {
public:
    /// The store under `data_root` (nothing is created until a container is).
    explicit ContainerStore(std::filesystem::path data_root);

    /// Where container `id`'s files are.
    [[nodiscard]] ContainerPaths paths(const std::string& id) const;

    /// Makes the directory of a new container and writes its record. Throws Error
    /// (and leaves nothing behind) when the name is invalid or already taken.
    void create(const ContainerRecord& record);

    /// Rewrites the record of an existing container.
    void save(const ContainerRecord& record) const;

    /// The record of container `id`.
    [[nodiscard]] ContainerRecord load(const std::string& id) const;

    /// The id of the container `reference` names: its full id, a unique prefix of it,
    /// or its name. Throws Error "no such container" otherwise.
    [[nodiscard]] std::string resolve(std::string_view reference) const;

    /// The ids of all containers, sorted.
    [[nodiscard]] std::vector<std::string> ids() const;

    /// Marks container `id` as running for as long as the returned lock is held (by
    /// this process: the kernel releases it when the process dies, however it dies).
    [[nodiscard]] UniqueFd lock_running(const std::string& id) const;

    /// Removes container `id` and all its files. Refuses while it runs. Unmounts a
    /// root left mounted by a dockling that was killed before it could clean up.
    void remove(const std::string& id) const;

private:
    std::filesystem::path containers_;
};

/// Checks a container name the way Docker does: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
void check_container_name(std::string_view name);

}  // namespace dockling
