#pragma once
/// \file
/// Capabilities: what root inside a container may still do, and no_new_privs.

#include "isolation.hpp"
#include "mechanism.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dockling {

/// A set of capabilities: bit N is capability N (CAP_CHOWN is bit 0, CAP_SYS_ADMIN 21),
/// the layout of the kernel's masks in /proc/PID/status.
using CapabilitySet = std::uint64_t;

/// The set with just capability `cap`.
[[nodiscard]] constexpr CapabilitySet capability_bit(int cap) { return CapabilitySet{1} << cap; }

/// The 14 capabilities a Docker container gets by default: CHOWN, DAC_OVERRIDE, FSETID,
/// FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE,
/// SYS_CHROOT, KILL, AUDIT_WRITE.
[[nodiscard]] CapabilitySet docker_default_capabilities();

/// The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap).
[[nodiscard]] int last_capability();

/// Every capability this kernel knows.
[[nodiscard]] CapabilitySet all_capabilities();

/// The capability a `--cap-add`/`--cap-drop` name means, as Docker reads it: with or
/// without "CAP_", in any case ("net_admin", "CAP_NET_ADMIN"). Throws Error
/// (`unknown capability: "CAP_FOO"`) for a name it does not know.
[[nodiscard]] int capability_from_name(std::string_view name);

/// The kernel's name of capability `cap` ("CAP_NET_ADMIN"), or "CAP_<number>" for one
/// newer than this program.
[[nodiscard]] std::string capability_name(int cap);

/// The set a container gets from `defaults` and its flags, by Docker's rules: "ALL" in
/// `add` means every capability except those in `drop`; else "ALL" in `drop` means only
/// those in `add`; else `defaults` without `drop`, then with `add`.
[[nodiscard]] CapabilitySet resolve_capabilities(CapabilitySet defaults, const std::vector<std::string>& add,
                                                 const std::vector<std::string>& drop);

/// Reads one mask ("CapBnd", "CapEff", ...) from the text of a /proc/PID/status file;
/// throws Error when it is not there.
[[nodiscard]] CapabilitySet capability_set_from_status(const std::string& status, std::string_view field);

/// Leaves this process, and every program it will exec, with the capabilities in `keep`
/// only: the rest is dropped from the bounding set, the ambient and inheritable sets are
/// emptied, and the permitted and effective sets become `keep`.
void limit_capabilities(CapabilitySet keep);

/// `--cap-add`, `--cap-drop` and `--privileged`: the container's root gets Docker's
/// default capabilities (or what the flags say) and runs with no_new_privs.
class Capabilities : public Mechanism {
public:
    /// `options` is shared with the other chapter-02 mechanisms; it must outlive this.
    explicit Capabilities(IsolationOptions& options) : options_(options) {}

    [[nodiscard]] std::string_view name() const override { return "capabilities"; }
    /// Adds `--cap-add CAP`, `--cap-drop CAP` and `--privileged`.
    void add_run_options(CLI::App& run, ContainerSpec& spec) override;
    /// Works out the set and checks that dockling has it to give.
    void prepare(ContainerSpec& spec) override;
    /// Limits the capabilities and sets no_new_privs (except for `--privileged`). Runs
    /// after every mount: mounting needs CAP_SYS_ADMIN, which the container loses here.
    void in_child(const ContainerSpec& spec) override;
    /// Can dockling change capability sets?
    [[nodiscard]] std::vector<PreflightCheck> preflight() const override;

private:
    IsolationOptions& options_;
    std::vector<std::string> add_, drop_;
    CapabilitySet keep_ = 0;
};

}  // namespace dockling
