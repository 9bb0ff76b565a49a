#pragma once
/// \file
/// `--init`: a tiny init as the container's PID 1, like `docker run --init`.

#include "mechanism.hpp"

#include <signal.h>
#include <sys/types.h>

#include <optional>

namespace dockling {

/// `--init`: PID 1 of the container is a small piece of dockling that forwards signals
/// to the command and reaps every process that ends.
///
/// PID 1 of a PID namespace has duties no ordinary program expects: the kernel gives it
/// every orphan to reap, and spares it the default action of signals it has no handler
/// for. A shell or a server that happens to be PID 1 lets zombies pile up and ignores
/// `docker stop`'s SIGTERM. With `--init` the container's first process forks: the
/// child execs the command (as PID 2), and the parent stays behind as PID 1 and runs
/// run_init(). Docker's `--init` does the same with a separate program, tini.
class TinyInit : public Mechanism {
public:
    [[nodiscard]] std::string_view name() const override { return "init"; }
    /// Adds `--init`.
    void add_run_options(CLI::App& run, ContainerSpec& spec) override;
    /// With `--init`: forks. The child returns and goes on to exec the command; this
    /// process becomes the init and never returns. Must be the last mechanism added, so
    /// that the init runs in the container's final state (its root, its capabilities).
    void in_child(const ContainerSpec& spec) override;

private:
    bool enabled_ = false;
};

/// The signals the init waits for and passes on: all but those the kernel raises for a
/// fault of the init itself (SIGSEGV, SIGBUS...) and terminal stops.
[[nodiscard]] sigset_t init_signals();

/// Reaps every child of this process that has ended, without blocking. Returns the wait
/// status of `main_child` when it was one of them.
[[nodiscard]] std::optional<int> reap_children(pid_t main_child);

/// PID 1's loop: passes every signal of `signals` (blocked by the caller) on to
/// `main_child`, reaps every process that ends, and when `main_child` ended exits with
/// its exit code (128 + N when signal N killed it). Never returns.
[[noreturn]] void run_init(pid_t main_child, const sigset_t& signals);

}  // namespace dockling
