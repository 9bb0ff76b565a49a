#include "resources.hpp"

#include "doctor.hpp"
#include "error.hpp"

#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace dockling {

namespace {

/// Docker refuses memory limits below 6 MB: a process needs some to start at all.
constexpr std::int64_t min_memory = 6 * 1024 * 1024;
/// The range of v1's cpu.shares (the kernel's MIN_SHARES and MAX_SHARES).
constexpr std::int64_t min_shares = 2, max_shares = 262144;
/// The highest CPU number a list may name (the kernel's largest NR_CPUS is 8192).
constexpr std::int64_t max_cpu = 8191;

/// `text` as a whole decimal integer (an optional '-' and digits, nothing else).
std::optional<std::int64_t> parse_integer(std::string_view text)
{
    std::int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return value;
}

[[noreturn]] void bad_value(std::string_view flag, std::string_view value, std::string_view why)
{
    throw Error(fmt::format("invalid value \"{}\" for {}: {}", value, flag, why));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// "0.5" as billionths (500000000); nullopt unless it is digits with an optional fraction.
std::optional<std::int64_t> parse_nano_cpus(std::string_view text)
{
    size_t dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view fraction = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    bool digits_only = std::all_of(whole.begin(), whole.end(), is_digit) &&
                       std::all_of(fraction.begin(), fraction.end(), is_digit);
    if (!digits_only || (whole.empty() && fraction.empty()) || fraction.size() > 9 || whole.size() > 9) {
        return std::nullopt;
    }
    std::int64_t nanos = whole.empty() ? 0 : *parse_integer(whole) * 1'000'000'000;
    std::string padded = std::string(fraction) + std::string(9 - fraction.size(), '0');
    return nanos + *parse_integer(padded);
}

std::int64_t memory_flag(const ResourceFlags& flags)
{
    if (flags.memory.empty()) {
        return 0;
    }
    auto bytes = parse_size(flags.memory);
    if (!bytes) {
        bad_value("--memory", flags.memory, "not a size (examples: 512k, 64m, 1g)");
    }
    if (*bytes > 0 && *bytes < min_memory) {
        throw Error(fmt::format("--memory {}: the minimum memory limit allowed is 6MB", flags.memory));
    }
    return *bytes;
}

std::int64_t memory_swap_flag(const ResourceFlags& flags, std::int64_t memory)
{
    if (flags.memory_swap.empty() || flags.memory_swap == "-1") {
        return flags.memory_swap.empty() ? 0 : -1;
    }
    auto bytes = parse_size(flags.memory_swap);
    if (!bytes) {
        bad_value("--memory-swap", flags.memory_swap, "not a size, nor -1 for unlimited swap (examples: 128m, 1g)");
    }
    if (*bytes > 0 && memory == 0) {
        throw Error("--memory-swap needs --memory: set the memory limit as well");
    }
    if (*bytes > 0 && *bytes < memory) {
        throw Error(fmt::format("--memory-swap {}: memory plus swap must be at least --memory ({})",
                                flags.memory_swap, flags.memory));
    }
    return *bytes;
}

std::int64_t cpus_flag(const ResourceFlags& flags, const HostCpus& host)
{
    if (flags.cpus.empty()) {
        return 0;
    }
    auto nanos = parse_nano_cpus(flags.cpus);
    if (!nanos) {
        bad_value("--cpus", flags.cpus, "not a number of CPUs (examples: 0.5, 1, 1.5)");
    }
    // 0 means "no limit", as in Docker; anything else must fit the machine, and a quota
    // below 1% of a CPU would be below the kernel's minimum of 1 ms per 100 ms.
    if (*nanos != 0 && (*nanos < 10'000'000 || *nanos > std::int64_t{host.count} * 1'000'000'000)) {
        bool one = host.count == 1;
        throw Error(fmt::format("--cpus {}: the range of CPUs is from 0.01 to {}.00, as there {} only {} CPU{} available",
                                flags.cpus, host.count, one ? "is" : "are", host.count, one ? "" : "s"));
    }
    return *nanos;
}

std::int64_t cpu_shares_flag(const ResourceFlags& flags)
{
    if (flags.cpu_shares.empty()) {
        return 0;
    }
    auto shares = parse_integer(flags.cpu_shares);
    if (!shares) {
        bad_value("--cpu-shares", flags.cpu_shares, "not an integer (1024 is the default weight)");
    }
    if (*shares != 0 && (*shares < min_shares || *shares > max_shares)) {
        throw Error(fmt::format("--cpu-shares {}: the weight must be between {} and {} (0 keeps the default)",
                                flags.cpu_shares, min_shares, max_shares));
    }
    return *shares;
}

std::string cpuset_flag(const ResourceFlags& flags, const HostCpus& host)
{
    if (flags.cpuset_cpus.empty()) {
        return "";
    }
    auto wanted = parse_cpu_list(flags.cpuset_cpus);
    if (!wanted) {
        bad_value("--cpuset-cpus", flags.cpuset_cpus, "not a list of CPUs (examples: 0, 0-1, 0,2)");
    }
    auto available = parse_cpu_list(host.online).value_or(std::vector<int>{});
    bool all_there = std::all_of(wanted->begin(), wanted->end(), [&](int cpu) {
        return std::binary_search(available.begin(), available.end(), cpu);
    });
    if (!all_there) {
        throw Error(fmt::format("--cpuset-cpus {}: requested CPUs are not available - requested {}, available: {}",
                                flags.cpuset_cpus, flags.cpuset_cpus, host.online));
    }
    return flags.cpuset_cpus;
}

std::int64_t pids_flag(const ResourceFlags& flags)
{
    if (flags.pids_limit.empty()) {
        return 0;
    }
    auto limit = parse_integer(flags.pids_limit);
    if (!limit) {
        bad_value("--pids-limit", flags.pids_limit, "not an integer (0 or -1: unlimited)");
    }
    return *limit;
}

}  // namespace

HostCpus host_cpus(const CgroupLayout& layout, CgroupFs& fs)
{
    HostCpus host;
    cpu_set_t set;
    CPU_ZERO(&set);
    host.count = ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    // The cpuset the containers' cgroups descend from bounds what they may be given.
    const CgroupHierarchy* cpuset = layout.find("cpuset");
    std::string file = layout.version() == CgroupVersion::v1 ? "cpuset.effective_cpus" : "cpuset.cpus.effective";
    auto words = cpuset != nullptr && fs.exists(cpuset->mount_point / file)
                     ? split_words(fs.read(cpuset->mount_point / file))
                     : split_words(read_small_file("/sys/devices/system/cpu/online"));
    host.online = words.empty() ? "0" : words.front();
    return host;
}

//! [resources-from-flags]
Resources resources_from_flags(const ResourceFlags& flags, const HostCpus& host)
{
    Resources resources;
    resources.memory = memory_flag(flags);
    resources.memory_swap = memory_swap_flag(flags, resources.memory);
    resources.nano_cpus = cpus_flag(flags, host);
    resources.cpu_shares = cpu_shares_flag(flags);
    resources.cpuset_cpus = cpuset_flag(flags, host);
    resources.pids_limit = pids_flag(flags);
    return resources;
}
//! [resources-from-flags]

std::optional<std::int64_t> parse_size(std::string_view text)
{
    // EXERCISE 3.1 BEGIN: Docker's memory sizes
    //   hint: read the number (digits, maybe a '.' and more digits), skip one optional space, then the unit:
    //   hint: one of k m g t p in any case, each a factor of 1024 more, optionally followed by "i" and/or "b".
    //   hint: Return nullopt for anything else (parse_size("64x"), parse_size("-1"), parse_size("")).
    size_t digits = 0;
    while (digits < text.size() && (is_digit(text[digits]) || text[digits] == '.')) {
        ++digits;
    }
    std::string number(text.substr(0, digits));
    std::string_view unit = text.substr(digits);
    bool well_formed = !number.empty() && number.front() != '.' && number.back() != '.' &&
                       std::count(number.begin(), number.end(), '.') <= 1;
    if (!well_formed) {
        return std::nullopt;
    }
    if (!unit.empty() && unit.front() == ' ') {
        unit.remove_prefix(1);
    }
    constexpr std::string_view prefixes = "kmgtp";
    double factor = 1;
    if (!unit.empty() && prefixes.find(static_cast<char>(std::tolower(unit.front()))) != std::string_view::npos) {
        factor = std::pow(1024.0, 1 + static_cast<int>(prefixes.find(static_cast<char>(std::tolower(unit.front())))));
        unit.remove_prefix(1);
        if (!unit.empty() && std::tolower(unit.front()) == 'i') {
            unit.remove_prefix(1);
        }
    }
    if (!unit.empty() && std::tolower(unit.front()) == 'b') {
        unit.remove_prefix(1);
    }
    double bytes = std::stod(number) * factor;
    if (!unit.empty() || bytes >= static_cast<double>(std::numeric_limits<std::int64_t>::max())) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(bytes);
    // EXERCISE 3.1 STUB
    //: (void)text;
    //: throw ExerciseNotDone("3.1", "read the number, then a unit k/m/g/t/p (x1024 each) and an optional i and b");
    // EXERCISE 3.1 END
}

CfsQuota cfs_quota_for(std::int64_t nano_cpus)
{
    // EXERCISE 3.2 BEGIN: from --cpus to a CFS quota
    //   hint: the period is cfs_period_us (100 ms); the quota is the share of each period the container may run:
    //   hint: nano_cpus billionths of a CPU for cfs_period_us gives nano_cpus * cfs_period_us / 1e9 microseconds.
    return {nano_cpus * cfs_period_us / 1'000'000'000, cfs_period_us};
    // EXERCISE 3.2 STUB
    //: (void)nano_cpus;
    //: throw ExerciseNotDone("3.2", "return {nano_cpus * cfs_period_us / 1'000'000'000, cfs_period_us}");
    // EXERCISE 3.2 END
}

std::optional<std::vector<int>> parse_cpu_list(std::string_view text)
{
    // EXERCISE 3.3 BEGIN: reading a CPU list
    //   hint: split at ',' ; each item is N or FIRST-LAST (FIRST <= LAST), digits only; an empty item is an error.
    //   hint: Collect every CPU, then sort and remove duplicates (std::sort, std::unique).
    std::vector<int> cpus;
    for (size_t start = 0; start <= text.size();) {
        size_t comma = std::min(text.find(',', start), text.size());
        std::string_view item = text.substr(start, comma - start);
        size_t dash = item.find('-');
        auto first = parse_integer(item.substr(0, dash));
        auto last = dash == std::string_view::npos ? first : parse_integer(item.substr(dash + 1));
        if (!first || !last || *first < 0 || *last < *first || *last > max_cpu) {
            return std::nullopt;
        }
        for (std::int64_t cpu = *first; cpu <= *last; ++cpu) {
            cpus.push_back(static_cast<int>(cpu));
        }
        start = comma + 1;
    }
    std::sort(cpus.begin(), cpus.end());
    cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
    return cpus;
    // EXERCISE 3.3 STUB
    //: (void)text;
    //: throw ExerciseNotDone("3.3", "split at ',', read each item as N or FIRST-LAST, return the CPUs sorted");
    // EXERCISE 3.3 END
}

std::uint64_t cpu_weight_from_shares(std::uint64_t shares)
{
    if (shares == 0) {
        return 0;
    }
    // On a log2 scale, shares 2, 1024 and 262144 are 1, 10 and 18; on a log10 scale,
    // weights 1, 100 and 10000 are 0, 2 and 4. The quadratic through those three points
    // maps one onto the other, so the defaults and both ends of the ranges line up.
    double l = std::log2(static_cast<double>(std::clamp<std::uint64_t>(shares, min_shares, max_shares)));
    double exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
    return std::clamp<std::uint64_t>(static_cast<std::uint64_t>(std::ceil(std::pow(10.0, exponent))), 1, 10000);
}

//! [cgroup-writes]
std::vector<CgroupWrite> cgroup_writes(const Resources& r, CgroupVersion version)
{
    bool v1 = version == CgroupVersion::v1;
    std::vector<CgroupWrite> writes;
    if (r.memory > 0) {
        writes.push_back({"--memory", "memory", v1 ? "memory.limit_in_bytes" : "memory.max", std::to_string(r.memory)});
        // Docker's default for --memory-swap is twice --memory: as much swap as memory.
        std::int64_t memory_and_swap = r.memory_swap == 0 ? 2 * r.memory : r.memory_swap;
        std::string swap_value = memory_and_swap == -1 ? (v1 ? "-1" : "max")  // unlimited swap
                                 : v1                  ? std::to_string(memory_and_swap)  // v1: memory + swap
                                                       : std::to_string(memory_and_swap - r.memory);  // v2: swap alone
        writes.push_back({"--memory-swap", "memory", v1 ? "memory.memsw.limit_in_bytes" : "memory.swap.max",
                          swap_value, r.memory_swap == 0});
    }
    if (r.nano_cpus > 0) {
        CfsQuota quota = cfs_quota_for(r.nano_cpus);
        if (v1) {
            writes.push_back({"--cpus", "cpu", "cpu.cfs_period_us", std::to_string(quota.period_us)});
            writes.push_back({"--cpus", "cpu", "cpu.cfs_quota_us", std::to_string(quota.quota_us)});
        } else {
            writes.push_back({"--cpus", "cpu", "cpu.max", fmt::format("{} {}", quota.quota_us, quota.period_us)});
        }
    }
    if (r.cpu_shares > 0) {
        writes.push_back({"--cpu-shares", "cpu", v1 ? "cpu.shares" : "cpu.weight",
                          std::to_string(v1 ? r.cpu_shares : cpu_weight_from_shares(r.cpu_shares))});
    }
    if (!r.cpuset_cpus.empty()) {
        writes.push_back({"--cpuset-cpus", "cpuset", "cpuset.cpus", r.cpuset_cpus});
    }
    if (r.pids_limit > 0) {
        writes.push_back({"--pids-limit", "pids", "pids.max", std::to_string(r.pids_limit)});
    }
    return writes;
}
//! [cgroup-writes]

std::string human_size(std::int64_t bytes)
{
    constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double value = static_cast<double>(bytes);
    size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    return value == std::floor(value) ? fmt::format("{}{}", static_cast<std::int64_t>(value), units[unit])
                                      : fmt::format("{:.1f}{}", value, units[unit]);
}

}  // namespace dockling
