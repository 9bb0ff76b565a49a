#pragma once
/// \file
/// The chapter-02 choices that more than one of its mechanisms reads.

#include <string>

namespace dockling {

/// What the `run` flags of chapter 02 asked for, shared by its mechanisms.
///
/// Each mechanism adds the flags it owns (Namespaces: `--network`; UserNamespace:
/// `--userns`; Capabilities: `--privileged`) and reads those that change its own work:
/// PivotRoot, for one, masks nothing for `--privileged`, and in a user namespace, where
/// it may not create device nodes, bind-mounts the host's.
struct IsolationOptions {
    /// `--network`: "" or "none" (a new network namespace with only `lo`), or "host".
    std::string network;
    /// `--userns`: a new user namespace, in which the container's root is not the host's.
    bool user_namespace = false;
    /// `--privileged`: every capability, nothing masked or read-only, the host's devices.
    bool privileged = false;

    /// True for `--network host`: the container shares the host's network namespace.
    [[nodiscard]] bool host_network() const { return network == "host"; }
};

}  // namespace dockling
