#pragma once
/// \file
/// One container's cgroup: created, joined, limited, read, frozen and removed.

#include "cgroup_layout.hpp"
#include "cgroupfs.hpp"
#include "resources.hpp"

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

namespace dockling {

/// What a cgroup's processes use right now (what `docker stats` shows). A field is
/// empty when this machine does not account it, or, for a limit, when there is none.
struct CgroupUsage {
    std::optional<std::uint64_t> memory_bytes;        ///< memory in use, page cache included
    std::optional<std::uint64_t> memory_limit_bytes;  ///< the memory limit
    std::optional<std::uint64_t> cpu_nanoseconds;     ///< CPU time used since the cgroup was created
    std::optional<std::uint64_t> pids;                ///< tasks (processes and threads) alive
    std::optional<std::uint64_t> pids_limit;          ///< the most tasks allowed
};

/// A cgroup with the same path in every hierarchy a container needs: on v1 one
/// directory per hierarchy (memory, cpu, cpuacct, cpuset, pids, freezer), on v2 one
/// directory in the unified tree.
///
/// A Cgroup made by create() owns its directories: when it goes away it kills whatever
/// processes are still in it, waits for them to die, and removes the directories (and
/// their parent, once it is empty). One made by open() only looks at an existing cgroup
/// and leaves it as it is. All access goes through a CgroupFs, so tests can point it at
/// a fake cgroup tree.
class Cgroup {
public:
    /// Creates the cgroup `relative` (e.g. "dockling/<container id>") under every
    /// hierarchy of `layout` that a container joins. On v1 a new cpuset cgroup is given
    /// its parent's CPUs and memory nodes (it starts with none); on v2 the controllers are
    /// enabled in each ancestor's cgroup.subtree_control on the way down. Throws Error
    /// (and leaves nothing behind) when that fails.
    static Cgroup create(const CgroupLayout& layout, const std::filesystem::path& relative,
                         CgroupFs& fs = kernel_cgroupfs());
    /// An existing cgroup `relative`, without taking ownership (for `stats` or `pause` of
    /// a running container). Throws Error when it does not exist.
    static Cgroup open(const CgroupLayout& layout, const std::filesystem::path& relative,
                       CgroupFs& fs = kernel_cgroupfs());

    /// Takes over `other`'s cgroup (and ownership of it, if `other` owned it).
    Cgroup(Cgroup&& other) noexcept;
    /// Removes the cgroup this object owned, then takes over `other`'s.
    Cgroup& operator=(Cgroup&& other) noexcept;
    Cgroup(const Cgroup&) = delete;
    Cgroup& operator=(const Cgroup&) = delete;
    /// Removes the cgroup if this object owns it; reports a failure on stderr, never throws.
    ~Cgroup();

    /// v1 or v2.
    [[nodiscard]] CgroupVersion version() const noexcept { return version_; }
    /// Its path below each hierarchy's root, as given to create() or open().
    [[nodiscard]] const std::filesystem::path& relative_path() const noexcept { return relative_; }
    /// Its directories, one per hierarchy.
    [[nodiscard]] std::vector<std::filesystem::path> directories() const;
    /// The directory in the hierarchy that holds `controller`; nullopt if none does.
    [[nodiscard]] std::optional<std::filesystem::path> directory_of(std::string_view controller) const;

    /// Writes each value into its file. Throws Error naming the flag when its controller
    /// is missing or the kernel refuses the value.
    void apply(const std::vector<CgroupWrite>& writes);
    /// Moves process `pid` (all its threads) into the cgroup, in every hierarchy.
    void add_process(pid_t pid);
    /// The PIDs of the processes in it, as this process's PID namespace numbers them.
    [[nodiscard]] std::vector<pid_t> processes() const;

    /// Stops every process in it (the freezer on v1, cgroup.freeze on v2) and waits until
    /// the kernel reports them stopped. What `docker pause` does.
    void freeze();
    /// Lets the frozen processes run on. What `docker unpause` does.
    void thaw();
    /// True while the kernel reports the cgroup frozen.
    [[nodiscard]] bool frozen() const;

    /// What its processes use now.
    [[nodiscard]] CgroupUsage usage() const;
    /// How many of its processes the kernel's OOM killer has killed (the `oom_kill`
    /// counter of memory.events on v2 and of memory.oom_control on v1).
    [[nodiscard]] std::uint64_t oom_kills() const;

    /// Kills every process in it with SIGKILL and waits until none is left. Freezes the
    /// cgroup first (or uses v2's cgroup.kill), so that a fork bomb cannot outrun it.
    void kill_all();
    /// kill_all(), then removes the directories and their parents that became empty.
    /// Does nothing the second time.
    void remove();
    /// Gives up ownership: this object will no longer remove the cgroup.
    void release() noexcept { owned_ = false; }

private:
    /// The cgroup's directory in one hierarchy.
    struct Place {
        CgroupHierarchy hierarchy;
        std::filesystem::path dir;
    };

    Cgroup(CgroupVersion version, std::filesystem::path relative, CgroupFs& fs, bool owned);
    void create_in(const CgroupHierarchy& hierarchy);
    void prepare_parent(const CgroupHierarchy& hierarchy, const std::filesystem::path& dir);
    [[nodiscard]] const Place* place_of(std::string_view controller) const;
    [[nodiscard]] std::optional<std::uint64_t> read_number(std::string_view controller, std::string_view file) const;
    [[nodiscard]] std::optional<std::uint64_t> read_key(std::string_view controller, std::string_view file,
                                                        std::string_view key) const;
    void wait_until_empty();
    void remove_when_idle(const std::filesystem::path& dir);
    void remove_empty_parents(const Place& place);

    CgroupVersion version_;
    std::filesystem::path relative_;
    CgroupFs* fs_;
    bool owned_;
    std::vector<Place> places_;
};

/// The value of `key` in a flat-keyed cgroup file ("key value" per line, as in
/// memory.events, cpu.stat, memory.oom_control); nullopt if the key is not there.
[[nodiscard]] std::optional<std::uint64_t> flat_keyed_value(std::string_view text, std::string_view key);

}  // namespace dockling
