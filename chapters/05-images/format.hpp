#pragma once
/// \file
/// How the image commands show things: sizes, ages, IDs and Docker's aligned tables.

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockling {

/// `4.26MB`, `723kB`, `999B`: sizes as Docker shows them (decimal units, 3 significant digits).
[[nodiscard]] std::string human_size(double bytes);

/// `Less than a second`, `About a minute`, `3 hours`, `2 weeks`, `2 years`: how long ago
/// something was, in Docker's words, for `seconds` seconds.
[[nodiscard]] std::string human_duration(long long seconds);

/// The 12-digit short form of a digest or ID (`sha256:a3ed95caeb02...` -> `a3ed95caeb02`).
[[nodiscard]] std::string short_digest(const std::string& digest);

/// The time an RFC 3339 timestamp names (`2024-01-01T00:00:00Z`, with optional fraction
/// and offset), or nullopt when it is not one.
[[nodiscard]] std::optional<std::time_t> parse_rfc3339(std::string_view text);

/// Lays out rows as Docker's tables do (Go's tabwriter with a minimum cell width of 10 and
/// a padding of 3): every column but the last is as wide as its widest cell plus 3.
[[nodiscard]] std::string format_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace dockling
