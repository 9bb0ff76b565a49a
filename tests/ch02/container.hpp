#pragma once
// What chapter 02's tests share: containers run from a busybox rootfs, and how to look at
// them from outside (their namespaces, their processes, the host's mount table).
#include "harness.hpp"

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace dockling::test::ch02 {

/// `dockling run OPTIONS --rootfs <busybox> COMMAND...`, with no config file.
Outcome run_in_busybox(const std::vector<std::string>& options, const std::vector<std::string>& command,
                       const std::string& input = {});

/// A container running in the background in a private copy of the busybox rootfs. Its
/// command is `/bin/sh -c "echo ready > /tmp/ready; SCRIPT"`; the constructor returns
/// once /tmp/ready exists. The copy (and the temporary directory above it) may be
/// entered by any user, for --userns.
class RunningContainer {
public:
    explicit RunningContainer(const std::vector<std::string>& options = {}, const std::string& script = "exec sleep 60");
    /// Kills what is left of the container (its PID 1, hence all of it) and reaps dockling.
    ~RunningContainer();
    RunningContainer(const RunningContainer&) = delete;
    RunningContainer& operator=(const RunningContainer&) = delete;

    /// The container's first process, as the host numbers it.
    [[nodiscard]] pid_t pid() const { return pid_; }
    /// The dockling process.
    [[nodiscard]] pid_t dockling_pid() const { return dockling_.pid(); }
    /// The rootfs copy, as the host sees it.
    [[nodiscard]] const std::filesystem::path& rootfs() const { return rootfs_; }
    /// The file /tmp/NAME of the container, as the host sees it.
    [[nodiscard]] std::filesystem::path file(const std::string& name) const { return rootfs_ / "tmp" / name; }
    /// Sends `signal` to dockling.
    void signal_dockling(int signal) const { dockling_.signal(signal); }
    /// Waits for dockling to end and returns what it did.
    Outcome wait();

private:
    TempDir dir_;
    std::filesystem::path rootfs_;
    Background dockling_;
    pid_t pid_ = -1;
};

/// The namespace `ns` ("pid", "net"...) of process `pid`, like "pid:[4026531836]".
std::string namespace_of(pid_t pid, const std::string& ns);

/// Every process in the PID namespace of `pid` (host PIDs), `pid` included.
std::vector<pid_t> processes_in_pid_namespace_of(pid_t pid);

/// The state letter of process `pid` from /proc/PID/stat ('S', 'R', 'Z'...), or 0 when
/// it is gone.
char process_state(pid_t pid);

/// The host's mounts whose mount point lies in `dir` (they should never exist).
std::vector<std::string> host_mounts_under(const std::filesystem::path& dir);

/// The line of a mountinfo text whose mount point is `path`, or "" when none is.
std::string mount_at(const std::string& mountinfo, const std::string& path);

/// The per-mount options ("ro,nosuid,...") of a mountinfo line.
std::string mount_options(const std::string& line);

/// True when the comma-separated `options` hold `option`.
bool has_option(const std::string& options, const std::string& option);

/// The file names directly in `dir`, sorted.
std::vector<std::string> names_in(const std::filesystem::path& dir);

/// One line of /proc/PID/status ("CapEff", "NoNewPrivs"...), without the name.
std::string status_field(pid_t pid, const std::string& field);

}  // namespace dockling::test::ch02
