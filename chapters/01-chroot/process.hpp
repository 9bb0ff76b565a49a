#pragma once
/// \file
/// Creating the container's process, waiting for it, and Docker's exit status rules.

#include <signal.h>
#include <sys/types.h>

namespace dockling {

/// Docker's exit code for a wait(2) status: the command's own exit code, or 128 + N
/// when signal N killed it (so `kill -9` gives 137, as `docker run` reports).
[[nodiscard]] int exit_code_from_wait_status(int wait_status);

/// A child process that this object owns: if it is still running when the owner goes
/// away (an error on the parent's side), it is killed and reaped, never leaked.
class ChildProcess {
public:
    ChildProcess() = default;
    /// Takes ownership of the running child `pid`.
    explicit ChildProcess(pid_t pid) noexcept : pid_(pid) {}
    /// Takes over `other`'s child; `other` owns nothing afterwards.
    ChildProcess(ChildProcess&& other) noexcept;
    /// Kills and reaps the child held so far, then takes over `other`'s.
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess();

    /// The child's PID as the parent sees it.
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    /// Waits for the child to end and returns its wait status.
    int wait();
    /// Non-blocking wait: true and the status in `wait_status` when the child has ended.
    bool try_wait(int& wait_status);
    /// Marks the child as reaped by someone else (so the destructor leaves it alone).
    void forget() noexcept { pid_ = -1; }

private:
    void kill_and_reap() noexcept;
    pid_t pid_ = -1;
};

/// Like fork(2), but with clone(2) flags, so the child can start in new namespaces.
///
/// Returns 0 in the child and the child's PID in the parent. `flags` may hold
/// CLONE_NEW* flags; the child always reports its exit to the parent with SIGCHLD.
[[nodiscard]] pid_t clone_process(unsigned long flags);

/// Blocks the signals dockling forwards to the container, for as long as it lives.
///
/// While a container runs, signals sent to dockling (Ctrl-C, `kill`) are not acted on
/// but passed to the container's process, as `docker run` does. The child must call
/// restore_in_child() before exec so the command starts with the caller's signal mask.
class SignalForwarder {
public:
    SignalForwarder();
    ~SignalForwarder();
    SignalForwarder(const SignalForwarder&) = delete;
    SignalForwarder& operator=(const SignalForwarder&) = delete;

    /// In the child: puts the original signal mask back.
    void restore_in_child() const noexcept;
    /// Waits for `child` to end, forwarding every blocked signal that arrives meanwhile;
    /// returns the wait status.
    int wait_forwarding(ChildProcess& child);

private:
    sigset_t forwarded_{};
    sigset_t original_{};
};

}  // namespace dockling
