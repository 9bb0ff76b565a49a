#include "runtime.hpp"

#include "error.hpp"
#include "exec.hpp"
#include "process.hpp"
#include "startup_channel.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace dockling {

namespace {

/// Calls cleanup() on the mechanisms whose prepare() succeeded, newest first, however
/// the run ends: normal return, error, or exception.
class CleanupGuard {
public:
    CleanupGuard(const std::vector<std::unique_ptr<Mechanism>>& mechanisms, const ContainerSpec& spec)
        : mechanisms_(mechanisms), spec_(spec)
    {
    }
    CleanupGuard(const CleanupGuard&) = delete;
    CleanupGuard& operator=(const CleanupGuard&) = delete;
    ~CleanupGuard()
    {
        while (prepared_ > 0) {
            mechanisms_[--prepared_]->cleanup(spec_);
        }
    }
    void prepared_one() { ++prepared_; }

private:
    const std::vector<std::unique_ptr<Mechanism>>& mechanisms_;
    const ContainerSpec& spec_;
    size_t prepared_ = 0;
};

}  // namespace

ExitInfo Runtime::run(ContainerSpec& spec)
{
    CleanupGuard cleanup(mechanisms_, spec);
    for (auto& mechanism : mechanisms_) {
        mechanism->prepare(spec);
        cleanup.prepared_one();
    }
    spec.env = container_environment(spec.env, spec.hostname);
    return start_and_wait(spec);
}

//! [start-and-wait]
ExitInfo Runtime::start_and_wait(ContainerSpec& spec)
{
    StartupChannel channel;
    SignalForwarder signals;
    pid_t pid = clone_process(clone_flags(spec));
    if (pid == 0) {
        child_main(spec, channel, signals);  // never returns
    }
    ChildProcess child(pid);  // from here on, an exception kills and reaps the child
    channel.parent_side();
    for (auto& mechanism : mechanisms_) {
        mechanism->after_clone(spec, child.pid());
    }
    channel.release_child();
    channel.rethrow_child_error();  // returns once the command was exec'd

    ExitInfo exit;
    exit.wait_status = signals.wait_forwarding(child);
    exit.exit_code = exit_code_from_wait_status(exit.wait_status);
    for (auto& mechanism : mechanisms_) {
        mechanism->after_exit(spec, exit);
    }
    return exit;
}
//! [start-and-wait]

//! [child-main]
void Runtime::child_main(ContainerSpec& spec, StartupChannel& channel, const SignalForwarder& signals)
{
    try {
        signals.restore_in_child();
        channel.child_side();
        channel.wait_for_release();
        for (auto& mechanism : mechanisms_) {
            mechanism->in_child(spec);
        }
        enter_workdir(spec.workdir);
        exec_command(spec.argv, spec.env);
    } catch (const Error& error) {
        channel.send_error(error);
        ::_exit(error.exit_code());
    } catch (const std::exception& error) {
        channel.send_error(Error(error.what()));
        ::_exit(exit_code::tool_error);
    }
}
//! [child-main]

unsigned long Runtime::clone_flags(const ContainerSpec& spec) const
{
    unsigned long flags = 0;
    for (const auto& mechanism : mechanisms_) {
        flags |= mechanism->clone_flags(spec);
    }
    return flags;
}

void enter_workdir(const std::string& workdir)
{
    std::error_code ec;
    std::filesystem::create_directories(workdir, ec);
    if (ec) {
        throw Error("mkdir", workdir, ec.value());
    }
    check(::chdir(workdir.c_str()), "chdir", workdir);
}

}  // namespace dockling
