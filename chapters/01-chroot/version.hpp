#pragma once
/// \file
/// What `dockling version` prints.

#include <string>

namespace dockling {

/// Dockling's version, from the build.
[[nodiscard]] std::string_view dockling_version();
/// One line: "dockling-ch1 version 0.1.0 (chapter 01)".
[[nodiscard]] std::string version_line(const std::string& program, int chapter);
/// The version line plus the compiler and library versions it was built with.
[[nodiscard]] std::string version_report(const std::string& program, int chapter);

}  // namespace dockling
