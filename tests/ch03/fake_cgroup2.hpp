#pragma once
/// \file
/// A fake cgroup v2 filesystem, for testing the v2 code on hosts whose cgroup2 tree has
/// no controllers (hybrid hosts such as this project's CI).

#include "cgroupfs.hpp"

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace dockling::test {

/// Plays the kernel's part of cgroup v2 on an ordinary directory tree.
///
/// The tree holds the interface files a real cgroup2 mount shows, with the contents the
/// kernel would show, so a test can read them directly; every CgroupFs operation
/// applies the rules of Documentation/admin-guide/cgroup-v2.rst:
/// - mkdir creates the core files plus the files of each controller the parent enabled
///   in its cgroup.subtree_control; rmdir fails with EBUSY while the cgroup has
///   processes or children.
/// - cgroup.subtree_control takes "+name -name" tokens, only for controllers listed in
///   cgroup.controllers (ENOENT), and enforces "no internal processes": outside the root,
///   a cgroup holding processes cannot enable a domain controller (memory, io), and a
///   process cannot join a cgroup that has one enabled (EBUSY).
/// - limits are checked and normalised as the kernel does (memory.max rounds down to
///   pages and takes K/M/G suffixes, cpu.max wants a quota of at least 1 ms, cpu.weight
///   is 1..10000 or ERANGE, pids.max "max" or a count, cpuset.cpus within the parent's).
/// - cgroup.freeze updates cgroup.events, cgroup.kill (Linux 5.14+, optional) kills the
///   subtree, and cgroup.procs, pids.current and "populated" follow the processes.
/// Processes are fake: numbers the test creates with spawn(); kill() ends them, never
/// a real process.
class FakeCgroup2 : public CgroupFs {
public:
    /// What the fake machine has.
    struct Options {
        std::vector<std::string> controllers{"cpuset", "cpu", "io", "memory", "pids"};  ///< at the root
        bool cgroup_kill = true;  ///< false: a kernel older than 5.14, without cgroup.kill
        std::string cpus = "0-3";  ///< the root's cpuset.cpus.effective
    };

    /// Creates the root cgroup in the (existing, empty) directory `root`; it holds one
    /// process, PID 1, as a real root does.
    explicit FakeCgroup2(std::filesystem::path root);
    FakeCgroup2(std::filesystem::path root, Options options);

    /// The mount point.
    [[nodiscard]] const std::filesystem::path& root() const { return root_; }

    bool make_directory(const std::filesystem::path& dir) override;
    bool remove_directory(const std::filesystem::path& dir) override;
    [[nodiscard]] bool exists(const std::filesystem::path& path) const override;
    [[nodiscard]] std::string read(const std::filesystem::path& file) const override;
    void write(const std::filesystem::path& file, std::string_view value) override;
    void kill(pid_t pid, int signal) override;

    /// A new fake process in `cgroup` (a directory of the tree); returns its PID.
    pid_t spawn(const std::filesystem::path& cgroup);
    /// What the kernel does when its OOM killer strikes in `cgroup`: one process dies,
    /// and memory.events counts an "oom" and an "oom_kill" there and in its ancestors.
    void oom_kill(const std::filesystem::path& cgroup);
    /// Sets what the kernel would account for `cgroup`: memory.current and cpu.stat.
    void set_usage(const std::filesystem::path& cgroup, std::uint64_t memory_bytes, std::uint64_t cpu_usec);
    /// True while fake process `pid` lives.
    [[nodiscard]] bool alive(pid_t pid) const { return processes_.count(pid) != 0; }
    /// The PIDs kill() ended, in order.
    [[nodiscard]] const std::vector<pid_t>& killed() const { return killed_; }

private:
    [[nodiscard]] bool is_cgroup(const std::filesystem::path& dir) const;
    [[nodiscard]] std::vector<std::filesystem::path> children(const std::filesystem::path& dir) const;
    [[nodiscard]] bool holds_processes(const std::filesystem::path& dir, bool subtree) const;
    void put(const std::filesystem::path& file, const std::string& text) const;
    [[nodiscard]] std::string get(const std::filesystem::path& file) const;
    void add_controller_files(const std::filesystem::path& dir, const std::string& controller) const;
    void remove_controller_files(const std::filesystem::path& dir, const std::string& controller) const;
    void write_subtree_control(const std::filesystem::path& dir, std::string_view value);
    void write_procs(const std::filesystem::path& dir, std::string_view value);
    void write_freeze(const std::filesystem::path& dir, std::string_view value);
    void write_limit(const std::filesystem::path& file, std::string_view value);
    void end_process(pid_t pid);
    void refresh() const;

    std::filesystem::path root_;
    Options options_;
    std::map<pid_t, std::filesystem::path> processes_;  // PID -> its cgroup
    std::vector<pid_t> killed_;
    pid_t next_pid_ = 1000;
};

}  // namespace dockling::test
