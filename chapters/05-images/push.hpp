#pragma once
/// \file
/// `push`: from the store to a registry, so that any other client pulls the same image.

#include "reference.hpp"
#include "registry.hpp"
#include "store.hpp"

#include <iosfwd>
#include <string>

namespace dockling {

/// Pushes the image `reference` names (a tag) to its registry, printing docker push's
/// progress to `out`: each layer and the config are uploaded unless the registry has them
/// (a HEAD request tells), then the manifest is PUT with its exact bytes, so the registry
/// gets the same digest the store has. Returns that digest.
std::string push_image(const ImageStore& store, const ImageReference& reference, const RegistryOptions& options,
                       std::ostream& out, bool terminal);

}  // namespace dockling
