#pragma once
/// \file
/// How the parent and the paused child talk while the container starts.

#include "error.hpp"
#include "unique_fd.hpp"

namespace dockling {

/// Two pipes between dockling and the container's process while it starts.
///
/// - "go": the child waits on it until the parent has done its after_clone() work
///   (placing it in a cgroup, writing its uid map), then runs on.
/// - "errors": if setting up the container fails in the child, the child writes the
///   Error down this pipe and exits; the parent rethrows it, so the user sees the same
///   one-line message as for a failure on the parent's side. The pipe is close-on-exec:
///   when exec succeeds the parent reads end-of-file and knows the command is running.
class StartupChannel {
public:
    /// Creates both pipes; call before clone.
    StartupChannel();

    /// In the parent, right after clone: closes the child's ends.
    void parent_side() noexcept;
    /// In the child, right after clone: closes the parent's ends.
    void child_side() noexcept;

    /// Parent: lets the paused child run on.
    void release_child();
    /// Child: blocks until the parent calls release_child(); exits if the parent is gone.
    void wait_for_release();

    /// Child: sends `error` to the parent. Never throws (the child is about to exit).
    void send_error(const Error& error) noexcept;
    /// Parent: blocks until the child has exec'd (returns) or failed (throws its Error).
    void rethrow_child_error();

private:
    UniqueFd go_read_, go_write_;
    UniqueFd error_read_, error_write_;
};

}  // namespace dockling
