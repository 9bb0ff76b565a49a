#pragma once
/// \file
/// The vfs storage driver: when overlayfs cannot be used, copy the layers.

#include "layer_view.hpp"

#include <filesystem>

namespace dockling {

/// Copies what `layers` show when merged into the new directory `destination`, with
/// owners, modes, extended attributes, times and hard links.
///
/// This is Docker's `vfs` driver idea: no union filesystem at all, each container gets
/// a private full copy. It works on any filesystem and costs the whole image in disk
/// space and start-up time per container: exactly what copy-on-write avoids.
void copy_layers(const LayerView& layers, const std::filesystem::path& destination);

}  // namespace dockling
