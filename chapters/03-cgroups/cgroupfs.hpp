#pragma once
/// \file
/// The few operations Dockling performs on a cgroup filesystem, behind one interface.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace dockling {

/// How the cgroup code touches cgroupfs: directories, small files, and signals.
///
/// A cgroup filesystem looks like ordinary files, but the kernel acts on every
/// operation: `mkdir` creates a cgroup and fills it with interface files, a write to
/// `cgroup.procs` moves a process, `rmdir` fails while processes remain. The
/// production implementation (kernel_cgroupfs()) makes the plain system calls and
/// lets the kernel do that work. Tests substitute a fake that plays the kernel's part
/// on a directory tree, so the cgroup v2 code can be tested on hosts without cgroup v2
/// controllers. Every failure is thrown as Error carrying the kernel's errno.
class CgroupFs {
public:
    virtual ~CgroupFs() = default;

    /// mkdir(2): creates a cgroup. Returns false when it existed already.
    virtual bool make_directory(const std::filesystem::path& dir) = 0;
    /// rmdir(2): removes an empty cgroup. Returns false when there was none.
    virtual bool remove_directory(const std::filesystem::path& dir) = 0;
    /// True when `path` exists (a cgroup directory or an interface file).
    [[nodiscard]] virtual bool exists(const std::filesystem::path& path) const = 0;
    /// The whole contents of an interface file.
    [[nodiscard]] virtual std::string read(const std::filesystem::path& file) const = 0;
    /// Writes `value` to an interface file in one write(2), as the kernel expects.
    virtual void write(const std::filesystem::path& file, std::string_view value) = 0;
    /// Sends `signal` to process `pid`; a process that is already gone is no error.
    virtual void kill(pid_t pid, int signal) = 0;
};

/// The real cgroup filesystem: plain system calls on the kernel's cgroupfs.
CgroupFs& kernel_cgroupfs();

}  // namespace dockling
