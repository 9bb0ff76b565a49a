#pragma once
/// \file
/// The commands of chapter 04 besides `run`: `diff`, `rm`, `layer save`, `layer apply`;
/// and the functions behind them, for the chapters that build on containers' layers.

#include "changes.hpp"
#include "cli.hpp"
#include "container_store.hpp"
#include "layer_tar.hpp"
#include "settings.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace dockling {

/// What container `id` changed relative to its layers: read from its upper directory
/// (overlay), or by comparing its copy with its layers (vfs).
[[nodiscard]] std::vector<Change> container_changes(const ContainerStore& store, const std::string& id);

/// Writes what container `id` changed as an OCI layer tarball `out` (what `docker
/// commit` stores as the new image's top layer).
void write_container_layer(const ContainerStore& store, const std::string& id, const std::filesystem::path& out,
                           Compression compression = Compression::none, const ByteObserver& on_uncompressed_bytes = {});

/// Adds to `cli`:
/// - `diff CONTAINER`: the container's changes, as `docker diff` prints them;
/// - `rm CONTAINER...`: removes containers and their files;
/// - `layer save [--compression none|gzip|zstd] CONTAINER FILE`: the changes as a layer tarball;
/// - `layer apply FILE DIR`: unpacks a layer tarball into a directory usable as `--layer DIR`.
void add_storage_commands(CommandLine& cli, const Settings& settings);

}  // namespace dockling
