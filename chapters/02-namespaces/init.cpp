#include "init.hpp"

#include "error.hpp"
#include "process.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace dockling {

void TinyInit::add_run_options(CLI::App& run, ContainerSpec& /*spec*/)
{
    run.add_flag("--init", enabled_, "Run a tiny init as PID 1 that forwards signals and reaps zombies");
}

//! [init-in-child]
void TinyInit::in_child(const ContainerSpec& /*spec*/)
{
    if (!enabled_) {
        return;
    }
    // Block the signals before fork: one that arrives in between waits for the init.
    sigset_t signals = init_signals();
    sigset_t original;
    ::pthread_sigmask(SIG_BLOCK, &signals, &original);
    pid_t command = check(::fork(), "fork", "the init");
    if (command == 0) {
        ::pthread_sigmask(SIG_SETMASK, &original, nullptr);
        return;  // the command's process: on to exec, as PID 2
    }
    // PID 1 keeps no descriptor of dockling's: the parent learns that the command runs
    // when the startup pipe closes, and that must not wait for the init.
    ::close_range(3, ~0U, 0);
    ::prctl(PR_SET_NAME, "dockling-init", 0, 0, 0);
    try {
        run_init(command, signals);
    } catch (const std::exception& error) {
        // The startup pipe is gone: the container's stderr is the only way left to tell.
        std::fprintf(stderr, "dockling-init: %s\n", error.what());
        ::_exit(exit_code::tool_error);
    }
}
//! [init-in-child]

sigset_t init_signals()
{
    sigset_t set;
    sigfillset(&set);
    for (int sig : {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU, SIGTSTP}) {
        sigdelset(&set, sig);
    }
    return set;
}

std::optional<int> reap_children(pid_t main_child)
{
    // EXERCISE 2.4 BEGIN: reaping zombies as PID 1
    //   hint: loop on waitpid(-1, &status, WNOHANG): a PID is one child reaped (remember its status if it is main_child);
    //   hint: 0 means no other child has ended yet, -1 with ECHILD that no child is left: both end the loop.
    std::optional<int> main_status;
    while (true) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid == 0 || (pid < 0 && errno == ECHILD)) {
            return main_status;
        }
        if (pid < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_errno("waitpid", "-1");
        }
        if (pid == main_child) {
            main_status = status;
        }
    }
    // EXERCISE 2.4 STUB
    //: (void)main_child;
    //: throw ExerciseNotDone("2.4", "loop on waitpid(-1, &status, WNOHANG) until it returns 0 or fails with ECHILD; keep main_child's status");
    // EXERCISE 2.4 END
}

//! [run-init]
void run_init(pid_t main_child, const sigset_t& signals)
{
    while (true) {
        siginfo_t info{};
        int sig = ::sigwaitinfo(&signals, &info);
        if (sig < 0) {
            continue;  // EINTR: nothing arrived
        }
        if (sig != SIGCHLD) {
            ::kill(main_child, sig);  // `docker stop`'s SIGTERM, Ctrl-C's SIGINT...
            continue;
        }
        // Some child ended: the command, or an orphan the kernel handed to PID 1.
        if (std::optional<int> status = reap_children(main_child)) {
            // When PID 1 exits the kernel kills every other process of the namespace.
            ::_exit(exit_code_from_wait_status(*status));
        }
    }
}
//! [run-init]

}  // namespace dockling
