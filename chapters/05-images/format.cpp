#include "format.hpp"


#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace dockling {

std::string human_size(double bytes)
{
    static constexpr std::array<const char*, 7> units{"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    size_t unit = 0;
    while (bytes >= 1000.0 && unit + 1 < units.size()) {
        bytes /= 1000.0;
        ++unit;
    }
    return fmt::format("{:.3g}{}", bytes, units[unit]);
}

std::string human_duration(long long seconds)
{
    long long minutes = seconds / 60;
    long long hours = (seconds + 1800) / 3600;  // hours are rounded, as Docker does
    if (seconds < 1) {
        return "Less than a second";
    }
    if (seconds < 60) {
        return seconds == 1 ? "1 second" : fmt::format("{} seconds", seconds);
    }
    if (minutes < 60) {
        return minutes == 1 ? "About a minute" : fmt::format("{} minutes", minutes);
    }
    if (hours < 48) {
        return hours == 1 ? "About an hour" : fmt::format("{} hours", hours);
    }
    if (hours < 24 * 7 * 2) {
        return fmt::format("{} days", hours / 24);
    }
    if (hours < 24 * 30 * 2) {
        return fmt::format("{} weeks", hours / 24 / 7);
    }
    if (hours < 24 * 365 * 2) {
        return fmt::format("{} months", hours / 24 / 30);
    }
    return fmt::format("{} years", seconds / 3600 / 24 / 365);
}

std::string short_digest(const std::string& digest)
{
    std::string_view hex = digest;
    if (hex.starts_with("sha256:")) {
        hex.remove_prefix(7);
    }
    return std::string(hex.substr(0, 12));
}

std::optional<std::time_t> parse_rfc3339(std::string_view text)
{
    // YYYY-MM-DDTHH:MM:SS, then an optional .fraction, then Z or +HH:MM / -HH:MM.
    auto number = [&](size_t at, size_t width) -> std::optional<int> {
        int value = 0;
        if (at + width > text.size()) {
            return std::nullopt;
        }
        auto [end, error] = std::from_chars(text.data() + at, text.data() + at + width, value);
        return error == std::errc() && end == text.data() + at + width ? std::optional(value) : std::nullopt;
    };
    auto year = number(0, 4), month = number(5, 2), day = number(8, 2);
    auto hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
    if (!year || !month || !day || !hour || !minute || !second || text.size() < 20 || text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' || text[16] != ':') {
        return std::nullopt;
    }
    size_t at = 19;
    if (text[at] == '.') {
        do {
            ++at;
        } while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])));
    }
    long offset = 0;
    if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        auto zone_hours = number(at + 1, 2), zone_minutes = number(at + 4, 2);
        if (!zone_hours || !zone_minutes) {
            return std::nullopt;
        }
        offset = (text[at] == '-' ? -1 : 1) * (*zone_hours * 3600L + *zone_minutes * 60L);
    } else if (at >= text.size() || (text[at] != 'Z' && text[at] != 'z')) {
        return std::nullopt;
    }
    std::tm time{};
    time.tm_year = *year - 1900;
    time.tm_mon = *month - 1;
    time.tm_mday = *day;
    time.tm_hour = *hour;
    time.tm_min = *minute;
    time.tm_sec = *second;
    return ::timegm(&time) - offset;
}

std::string format_table(const std::vector<std::vector<std::string>>& rows)
{
    std::vector<size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()), 10 - 3);
        for (size_t column = 0; column < row.size(); ++column) {
            widths[column] = std::max(widths[column], row[column].size());
        }
    }
    std::string text;
    for (const auto& row : rows) {
        std::string line;
        for (size_t column = 0; column < row.size(); ++column) {
            line += row[column];
            if (column + 1 < row.size()) {
                line += std::string(widths[column] + 3 - row[column].size(), ' ');
            }
        }
        text += line + "\n";
    }
    return text;
}

}  // namespace dockling
