#pragma once
/// \file
/// The runtime core: a container is a process started from a spec and waited for.

#include "mechanism.hpp"
#include "spec.hpp"

#include <memory>
#include <utility>
#include <vector>

namespace dockling {

/// Starts containers: runs the hooks of its mechanisms around clone, exec and wait.
///
/// Each chapter's main.cpp builds one Runtime and adds its chapter's mechanisms; the
/// core itself knows none of them by name.
class Runtime {
public:
    /// Adds a mechanism; hooks run in the order mechanisms were added.
    template <typename M, typename... Args>
    M& add(Args&&... args)
    {
        auto mechanism = std::make_unique<M>(std::forward<Args>(args)...);
        M& ref = *mechanism;
        mechanisms_.push_back(std::move(mechanism));
        return ref;
    }

    /// The mechanisms, in the order they were added.
    [[nodiscard]] const std::vector<std::unique_ptr<Mechanism>>& mechanisms() const
    {
        return mechanisms_;
    }

    /// Runs the container described by `spec` to its end and returns how it ended.
    ///
    /// Throws Error when the container could not be started (exit code 125, or 126/127
    /// when the command cannot be executed). Whatever the mechanisms created is cleaned
    /// up in every case.
    ExitInfo run(ContainerSpec& spec);

private:
    unsigned long clone_flags(const ContainerSpec& spec) const;
    [[noreturn]] void child_main(ContainerSpec& spec, class StartupChannel& channel,
                                 const class SignalForwarder& signals);
    ExitInfo start_and_wait(ContainerSpec& spec);

    std::vector<std::unique_ptr<Mechanism>> mechanisms_;
};

/// Makes `workdir` the current directory, creating it (and its parents) if missing,
/// as Docker does for `--workdir`.
void enter_workdir(const std::string& workdir);

}  // namespace dockling
