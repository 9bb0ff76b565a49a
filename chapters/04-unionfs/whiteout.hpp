#pragma once
/// \file
/// Whiteouts: how a layer says "this name is deleted", in OCI's form and in overlayfs's.

#include <string>
#include <string_view>

namespace dockling {

/// OCI's whiteout prefix: an entry `.wh.NAME` in a layer deletes NAME of the layers below.
inline constexpr std::string_view whiteout_prefix = ".wh.";

/// OCI's opaque marker: an entry `DIR/.wh..wh..opq` hides everything the layers below
/// have in DIR (the directory was removed and made again).
inline constexpr std::string_view opaque_marker = ".wh..wh..opq";

/// True when the base name of a tar entry is one of OCI's whiteouts or markers (it
/// starts with ".wh."), which are not files to extract but instructions.
[[nodiscard]] bool is_oci_whiteout_name(std::string_view base_name) noexcept;

/// The base name OCI gives the whiteout of `name`: ".wh." + name.
[[nodiscard]] std::string oci_whiteout_name(std::string_view name);

/// Carries out the OCI whiteout entry `base_name`, found in the directory `parent_fd`
/// of a layer being extracted, in overlayfs's form.
///
/// - `.wh..wh..opq`: sets trusted.overlay.opaque = "y" on the directory itself.
/// - `.wh.NAME`: makes a character device 0/0 called NAME, unless this layer already
///   has a NAME (a whiteout only deletes what the layers *below* have).
/// - other `.wh..wh.` names (aufs's bookkeeping) are ignored, as Docker does.
///
/// Returns NAME when it made a whiteout (so the caller can give it the entry's owner and
/// times), else "". Throws Error for names that delete nothing valid: `.wh.`, `.wh..`
/// and `.wh...` (the empty name, "." and "..").
std::string make_overlay_whiteout(int parent_fd, std::string_view base_name);

}  // namespace dockling
