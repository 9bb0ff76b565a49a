#pragma once
/// \file
/// Docker's resource flags: what they mean, how they are checked, and which cgroup
/// files they become on v1 and on v2.

#include "cgroup_layout.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockling {

/// The flags of `run` that limit resources, as the user typed them.
struct ResourceFlags {
    std::string memory{};       ///< -m, --memory: "64m"
    std::string memory_swap{};  ///< --memory-swap: memory plus swap, "128m", or "-1" for unlimited swap
    std::string cpus{};         ///< --cpus: "0.5"
    std::string cpu_shares{};   ///< -c, --cpu-shares: "512" (relative; 1024 is the default)
    std::string cpuset_cpus{};  ///< --cpuset-cpus: "0-1,3"
    std::string pids_limit{};   ///< --pids-limit: "20"
};

/// The limits of one container, as numbers, before any cgroup file is chosen.
/// A zero means "not set", as in Docker's HostConfig.
struct Resources {
    std::int64_t memory = 0;       ///< bytes; 0: no limit
    std::int64_t memory_swap = 0;  ///< memory plus swap in bytes; 0: twice `memory`; -1: unlimited swap
    std::int64_t nano_cpus = 0;    ///< billionths of a CPU (--cpus 0.5 is 500000000); 0: no limit
    std::int64_t cpu_shares = 0;   ///< relative CPU weight on v1's scale (2..262144); 0: the default
    std::string cpuset_cpus{};     ///< the CPUs it may run on, as a list ("0-1,3"); empty: all
    std::int64_t pids_limit = 0;   ///< most tasks at once; 0 or negative: unlimited

    /// Equal when every limit is the same (a default-constructed Resources limits nothing).
    bool operator==(const Resources&) const = default;
};

/// What the machine offers, for checking the flags against it.
struct HostCpus {
    int count = 1;       ///< how many CPUs this process may run on (`--cpus` cannot exceed it)
    std::string online;  ///< the CPUs a container may be given, as a list ("0-1")
};

/// The CPUs of this machine that a container may use: the root cpuset of `layout` (its
/// effective CPUs), or /sys/devices/system/cpu/online when there is no cpuset controller.
[[nodiscard]] HostCpus host_cpus(const CgroupLayout& layout, CgroupFs& fs = kernel_cgroupfs());

/// Checks the flags the way `docker run` does and turns them into numbers. Throws Error
/// (exit 125) with one line naming the flag and what is wrong with its value.
[[nodiscard]] Resources resources_from_flags(const ResourceFlags& flags, const HostCpus& host);

/// Parses a size the way Docker does (`64m`, `1g`, `512k`, `1.5GiB`, `100` bytes):
/// a number, then an optional unit k, m, g, t or p (powers of 1024, any case), which may
/// be followed by "i" and "b". nullopt when `text` is not such a size. (Exercise 3.1.)
[[nodiscard]] std::optional<std::int64_t> parse_size(std::string_view text);

/// The CFS bandwidth period Docker uses for --cpus: 100 ms, in microseconds.
inline constexpr std::int64_t cfs_period_us = 100'000;

/// A CFS bandwidth limit: at most `quota_us` of CPU time in every `period_us` of time.
struct CfsQuota {
    std::int64_t quota_us = 0;   ///< CPU time the group may use per period, in microseconds
    std::int64_t period_us = 0;  ///< the length of a period, in microseconds

    /// Equal when quota and period are.
    bool operator==(const CfsQuota&) const = default;
};

/// The CFS quota and period that hold a container to `nano_cpus` billionths of a CPU:
/// --cpus 0.5 gives 50000 us of every 100000 us. (Exercise 3.2.)
[[nodiscard]] CfsQuota cfs_quota_for(std::int64_t nano_cpus);

/// Parses a CPU list as cpuset(7) writes it ("0-2,4" gives {0, 1, 2, 4}): numbers and
/// ranges FIRST-LAST separated by commas. Returns the CPUs sorted, each once; nullopt
/// when `text` is not such a list. (Exercise 3.3.)
[[nodiscard]] std::optional<std::vector<int>> parse_cpu_list(std::string_view text);

/// cgroup v2's cpu.weight (1..10000, default 100) for v1's cpu.shares (2..262144,
/// default 1024), with the mapping runc and crun use since 2025: it keeps the defaults
/// and both ends of the range in place (1024 gives 100).
[[nodiscard]] std::uint64_t cpu_weight_from_shares(std::uint64_t shares);

/// One value to write into one interface file of a container's cgroup.
struct CgroupWrite {
    std::string flag;        ///< the flag it comes from, for messages ("--memory")
    std::string controller;  ///< the controller whose hierarchy holds the file ("memory")
    std::string file;        ///< the interface file ("memory.limit_in_bytes")
    std::string value;       ///< what to write ("67108864")
    bool optional = false;   ///< skip it if the file is missing (a default, not a request)

    /// Equal when every field is.
    bool operator==(const CgroupWrite&) const = default;
};

/// The files and values that put `resources` in force on cgroup `version`, in the order
/// they must be written.
[[nodiscard]] std::vector<CgroupWrite> cgroup_writes(const Resources& resources, CgroupVersion version);

/// A byte count for people: "64MiB", "1.5GiB", "512KiB", "100B".
[[nodiscard]] std::string human_size(std::int64_t bytes);

}  // namespace dockling
