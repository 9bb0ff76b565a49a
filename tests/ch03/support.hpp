#pragma once
/// \file
/// What chapter 03's tests share: finding a running container's cgroup from outside.

#include "harness.hpp"

#include "cgroup_layout.hpp"

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockling::test {

/// This machine's cgroups, detected once.
const CgroupLayout& host_layout();

/// True when this machine uses cgroup v1 for containers (legacy or hybrid).
bool host_is_v1();

/// Every descendant of `pid` (children, their children...), found through the parent
/// PID in /proc/*/stat, so whatever PID namespace the descendants live in.
std::vector<pid_t> descendants(pid_t pid);

/// True when `pid` has exited (a zombie waiting to be reaped) or does not exist.
bool has_exited(pid_t pid);

/// The numbers in a cgroup file such as cgroup.procs, one per line.
std::vector<pid_t> pids_in(const std::filesystem::path& file);

/// A value from a cgroup file, without its newline.
std::string cgroup_value(const std::filesystem::path& file);

/// Polls `condition` until it holds, for up to 10 s; returns whether it did.
template <typename Condition>
bool eventually(Condition condition)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        ::usleep(5000);
    }
    return condition();
}

/// A child of the test process to put in a cgroup. It waits until go(), runs `body`,
/// then sleeps until it is killed; the destructor kills and reaps it if it still runs.
class TestChild {
public:
    explicit TestChild(std::function<void()> body);
    ~TestChild();
    TestChild(const TestChild&) = delete;
    TestChild& operator=(const TestChild&) = delete;
    /// Its PID.
    [[nodiscard]] pid_t pid() const { return pid_; }
    /// Lets it run its body.
    void go();
    /// Waits for it to end and returns its wait status.
    int wait();

private:
    pid_t pid_ = -1;
    int go_fd_ = -1;
};

/// Touches `bytes` of fresh memory, so the kernel charges them to the cgroup.
void touch_memory(size_t bytes);
/// Keeps a CPU busy for `duration` of CPU time (forever when it is zero).
void burn_cpu(std::chrono::milliseconds duration = std::chrono::milliseconds(0));

/// `dockling run` in the background, with a container the test looks at from outside.
///
/// The container runs `/bin/sh -c SCRIPT` in the busybox rootfs. The
/// constructor returns once the command runs (a descendant of dockling executes
/// something else than dockling) and the container's cgroup was found through that
/// process's /proc/PID/cgroup: all seen from the host, so it does not matter whether
/// the container has a PID namespace or a root of its own. The destructor stops
/// a container still running (SIGKILL to its main process, which even a PID namespace's
/// init cannot ignore), and if dockling could not clean up, kills what is left in the
/// cgroup and removes it, so a failing test leaves nothing behind.
class RunningContainer {
public:
    /// Starts `dockling run --rootfs BUSYBOX OPTIONS... /bin/sh -c SCRIPT`.
    RunningContainer(const std::vector<std::string>& options, const std::string& script);
    ~RunningContainer();
    RunningContainer(const RunningContainer&) = delete;
    RunningContainer& operator=(const RunningContainer&) = delete;

    /// dockling's PID.
    [[nodiscard]] pid_t dockling_pid() const { return dockling_->pid(); }
    /// The container's main process (host PID): the one that runs SCRIPT.
    [[nodiscard]] pid_t main_pid() const { return main_pid_; }
    /// The container's cgroup directory in the hierarchy of `controller` (v2: the one).
    [[nodiscard]] std::filesystem::path cgroup(std::string_view controller) const;
    /// All its cgroup directories (one per v1 hierarchy, or one on v2).
    [[nodiscard]] std::vector<std::filesystem::path> cgroup_dirs() const;
    /// The PIDs in its cgroup, from cgroup.procs.
    [[nodiscard]] std::vector<pid_t> processes() const;
    /// Kills the container's main process (SIGKILL) and waits for dockling to end.
    Outcome kill();
    /// Waits for dockling to end by itself.
    Outcome wait();

private:
    void wait_until_ready();
    void shut_down() noexcept;
    void find_cgroups();

    std::optional<Background> dockling_;
    std::map<std::string, std::filesystem::path, std::less<>> cgroups_;  // controller -> directory
    pid_t main_pid_ = -1;
    bool ended_ = false;
};

}  // namespace dockling::test
