#include "version.hpp"

#include <CLI/Version.hpp>
#include <fmt/format.h>

#ifndef DOCKLING_VERSION
#define DOCKLING_VERSION "0.0.0-dev"
#endif

namespace dockling {

std::string_view dockling_version() { return DOCKLING_VERSION; }

std::string version_line(const std::string& program, int chapter)
{
    std::string which = chapter > 0 ? fmt::format("chapter {:02}", chapter) : "all chapters";
    return fmt::format("{} version {} ({})", program, dockling_version(), which);
}

std::string version_report(const std::string& program, int chapter)
{
    return fmt::format("{}\n built with: g++ {}.{}.{}, C++ {}, CLI11 {}, fmt {}.{}.{}\n",
                       version_line(program, chapter), __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
                       __cplusplus, CLI11_VERSION, FMT_VERSION / 10000, FMT_VERSION / 100 % 100,
                       FMT_VERSION % 100);
}

}  // namespace dockling
