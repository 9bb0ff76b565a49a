#pragma once
/// \file
/// Chapter 02's first mechanism: new namespaces for every container, its hostname and
/// its loopback interface.

#include "isolation.hpp"
#include "mechanism.hpp"

#include <functional>
#include <string>

namespace dockling {

/// Starts the container in new mount, UTS, IPC, PID and network namespaces.
///
/// Each namespace gives the container its own copy of one kind of kernel object: its
/// own mount table, hostname, IPC objects, process numbers and network stack. The
/// command becomes PID 1 of its PID namespace. `--network host` keeps the host's
/// network namespace (and, as in Docker, the host's hostname as the default).
class Namespaces : public Mechanism {
public:
    /// `options` is shared with the other chapter-02 mechanisms; it must outlive this.
    explicit Namespaces(IsolationOptions& options) : options_(options) {}

    [[nodiscard]] std::string_view name() const override { return "namespaces"; }
    /// Adds `--hostname NAME` and `--network none|host`.
    void add_run_options(CLI::App& run, ContainerSpec& spec) override;
    /// Checks `--network`; gives the container its hostname (default: its short id).
    void prepare(ContainerSpec& spec) override;
    /// The CLONE_NEW* flags of namespace_clone_flags().
    [[nodiscard]] unsigned long clone_flags(const ContainerSpec& spec) const override;
    /// Sets the hostname in the new UTS namespace; brings `lo` up in the new network
    /// namespace. Also asks the kernel to kill the container if dockling dies.
    void in_child(const ContainerSpec& spec) override;
    /// Can this machine create each namespace?
    [[nodiscard]] std::vector<PreflightCheck> preflight() const override;

private:
    IsolationOptions& options_;
};

/// The clone(2) flags for a container's namespaces: mount, UTS, IPC, PID, and network
/// unless it shares the host's (`host_network`).
[[nodiscard]] unsigned long namespace_clone_flags(bool host_network);

/// sethostname(2): names the machine for every process of this UTS namespace.
void set_hostname(const std::string& hostname);

/// The host's hostname (gethostname(2)).
[[nodiscard]] std::string current_hostname();

/// Sets the loopback interface `lo` up. A new network namespace has one, but down:
/// until it is up not even 127.0.0.1 answers.
void bring_up_loopback();

/// Runs `probe` in a forked child and returns what it returned there. For `doctor`
/// checks that must try something (create a namespace, mount in it) without changing
/// dockling itself or the machine: whatever the child created ends with it.
[[nodiscard]] bool succeeds_in_child(const std::function<bool()>& probe);

}  // namespace dockling
