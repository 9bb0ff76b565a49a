#include "capabilities.hpp"

#include "doctor.hpp"
#include "error.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <sstream>
#include <utility>

namespace dockling {

namespace {

/// The capabilities by number, as <linux/capability.h> names them (without "CAP_").
constexpr std::array<std::pair<int, std::string_view>, 41> capability_names{{
    {CAP_CHOWN, "CHOWN"},
    {CAP_DAC_OVERRIDE, "DAC_OVERRIDE"},
    {CAP_DAC_READ_SEARCH, "DAC_READ_SEARCH"},
    {CAP_FOWNER, "FOWNER"},
    {CAP_FSETID, "FSETID"},
    {CAP_KILL, "KILL"},
    {CAP_SETGID, "SETGID"},
    {CAP_SETUID, "SETUID"},
    {CAP_SETPCAP, "SETPCAP"},
    {CAP_LINUX_IMMUTABLE, "LINUX_IMMUTABLE"},
    {CAP_NET_BIND_SERVICE, "NET_BIND_SERVICE"},
    {CAP_NET_BROADCAST, "NET_BROADCAST"},
    {CAP_NET_ADMIN, "NET_ADMIN"},
    {CAP_NET_RAW, "NET_RAW"},
    {CAP_IPC_LOCK, "IPC_LOCK"},
    {CAP_IPC_OWNER, "IPC_OWNER"},
    {CAP_SYS_MODULE, "SYS_MODULE"},
    {CAP_SYS_RAWIO, "SYS_RAWIO"},
    {CAP_SYS_CHROOT, "SYS_CHROOT"},
    {CAP_SYS_PTRACE, "SYS_PTRACE"},
    {CAP_SYS_PACCT, "SYS_PACCT"},
    {CAP_SYS_ADMIN, "SYS_ADMIN"},
    {CAP_SYS_BOOT, "SYS_BOOT"},
    {CAP_SYS_NICE, "SYS_NICE"},
    {CAP_SYS_RESOURCE, "SYS_RESOURCE"},
    {CAP_SYS_TIME, "SYS_TIME"},
    {CAP_SYS_TTY_CONFIG, "SYS_TTY_CONFIG"},
    {CAP_MKNOD, "MKNOD"},
    {CAP_LEASE, "LEASE"},
    {CAP_AUDIT_WRITE, "AUDIT_WRITE"},
    {CAP_AUDIT_CONTROL, "AUDIT_CONTROL"},
    {CAP_SETFCAP, "SETFCAP"},
    {CAP_MAC_OVERRIDE, "MAC_OVERRIDE"},
    {CAP_MAC_ADMIN, "MAC_ADMIN"},
    {CAP_SYSLOG, "SYSLOG"},
    {CAP_WAKE_ALARM, "WAKE_ALARM"},
    {CAP_BLOCK_SUSPEND, "BLOCK_SUSPEND"},
    {CAP_AUDIT_READ, "AUDIT_READ"},
    {CAP_PERFMON, "PERFMON"},
    {CAP_BPF, "BPF"},
    {CAP_CHECKPOINT_RESTORE, "CHECKPOINT_RESTORE"},
}};

/// True when `names` holds "ALL" (in any case), Docker's word for every capability.
bool mentions_all(const std::vector<std::string>& names)
{
    return std::any_of(names.begin(), names.end(), [](const std::string& name) {
        std::string upper = name;
        std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
        return upper == "ALL";
    });
}

/// The union of the capabilities `names` mean, "ALL" left out.
CapabilitySet set_of(const std::vector<std::string>& names)
{
    CapabilitySet set = 0;
    for (const auto& name : names) {
        if (!mentions_all({name})) {
            set |= capability_bit(capability_from_name(name));
        }
    }
    return set;
}

}  // namespace

//! [default-capabilities]
CapabilitySet docker_default_capabilities()
{
    CapabilitySet set = 0;
    for (int cap : {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID,
                    CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL,
                    CAP_AUDIT_WRITE}) {
        set |= capability_bit(cap);
    }
    return set;
}
//! [default-capabilities]

int last_capability()
{
    std::string text = read_small_file("/proc/sys/kernel/cap_last_cap");
    int last = 0;
    if (std::sscanf(text.c_str(), "%d", &last) != 1 || last < 0 || last > 63) {
        throw Error("read /proc/sys/kernel/cap_last_cap: \"" + text + "\" is not a capability number");
    }
    return last;
}

CapabilitySet all_capabilities()
{
    int last = last_capability();
    return last == 63 ? ~CapabilitySet{0} : capability_bit(last + 1) - 1;
}

int capability_from_name(std::string_view name)
{
    // EXERCISE 2.2 BEGIN: capability names, as Docker reads them
    //   hint: upper-case the name and put "CAP_" in front when it lacks it; then find it (after "CAP_") in capability_names;
    //   hint: a name that is not there is an Error("unknown capability: \"CAP_...\"").
    std::string canonical(name);
    std::transform(canonical.begin(), canonical.end(), canonical.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    if (canonical.rfind("CAP_", 0) != 0) {
        canonical = "CAP_" + canonical;
    }
    for (const auto& [cap, known] : capability_names) {
        if (canonical.substr(4) == known) {
            return cap;
        }
    }
    throw Error(fmt::format("unknown capability: \"{}\"", canonical));
    // EXERCISE 2.2 STUB
    //: (void)name; (void)capability_names;
    //: throw ExerciseNotDone("2.2", "upper-case the name, add \"CAP_\" when missing, and look it up in capability_names");
    // EXERCISE 2.2 END
}

std::string capability_name(int cap)
{
    for (const auto& [number, known] : capability_names) {
        if (number == cap) {
            return "CAP_" + std::string(known);
        }
    }
    return "CAP_" + std::to_string(cap);
}

//! [resolve-capabilities]
CapabilitySet resolve_capabilities(CapabilitySet defaults, const std::vector<std::string>& add,
                                   const std::vector<std::string>& drop)
{
    if (mentions_all(add)) {
        return all_capabilities() & ~set_of(drop);
    }
    if (mentions_all(drop)) {
        return set_of(add);
    }
    return (defaults & ~set_of(drop)) | set_of(add);
}
//! [resolve-capabilities]

CapabilitySet capability_set_from_status(const std::string& status, std::string_view field)
{
    std::istringstream lines(status);
    std::string prefix = std::string(field) + ":";
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(prefix, 0) == 0) {
            return std::stoull(line.substr(prefix.size()), nullptr, 16);
        }
    }
    throw Error("no " + std::string(field) + " line in /proc/PID/status");
}

//! [limit-capabilities]
void limit_capabilities(CapabilitySet keep)
{
    // The bounding set caps what any later exec can give: root's programs get exactly
    // their bounding set. Dropping from it needs CAP_SETPCAP, so it goes first.
    for (int cap = 0; cap <= last_capability(); ++cap) {
        if (!(keep & capability_bit(cap))) {
            check(::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "drop from the bounding set", capability_name(cap));
        }
    }
    check(::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear the ambient capabilities");
    // capset(2) sets permitted, effective and inheritable at once, 32 bits per word.
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    for (int word = 0; word < 2; ++word) {
        auto bits = static_cast<std::uint32_t>(keep >> (32 * word));
        data[word].permitted = bits;
        data[word].effective = bits;
        data[word].inheritable = 0;
    }
    check(::syscall(SYS_capset, &header, data), "capset");
}
//! [limit-capabilities]

void Capabilities::add_run_options(CLI::App& run, ContainerSpec& /*spec*/)
{
    run.add_option("--cap-add", add_, "Add a Linux capability (NET_ADMIN, CAP_SYS_TIME, ALL)");
    run.add_option("--cap-drop", drop_, "Drop a Linux capability (CHOWN, ALL)");
    run.add_flag("--privileged", options_.privileged,
                 "Every capability, nothing masked or read-only, and the host's devices");
}

void Capabilities::prepare(ContainerSpec& /*spec*/)
{
    keep_ = options_.privileged ? all_capabilities() : resolve_capabilities(docker_default_capabilities(), add_, drop_);
    // In a new user namespace the child starts with every capability (of that
    // namespace); otherwise it can keep only what dockling has.
    CapabilitySet own = options_.user_namespace
                            ? all_capabilities()
                            : capability_set_from_status(read_small_file("/proc/self/status"), "CapPrm");
    if (options_.privileged) {
        keep_ &= own;  // every capability there is to give
    }
    if (CapabilitySet missing = keep_ & ~own; missing != 0) {
        throw Error(fmt::format("cannot give the container {}: dockling does not have it itself",
                                capability_name(std::countr_zero(missing))));
    }
}

//! [capabilities-in-child]
void Capabilities::in_child(const ContainerSpec& /*spec*/)
{
    limit_capabilities(keep_);
    if (!options_.privileged) {
        // From here on no exec can gain privileges: setuid bits and file capabilities
        // are ignored, so the container cannot climb back above `keep_`.
        check(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl", "PR_SET_NO_NEW_PRIVS");
    }
}
//! [capabilities-in-child]

std::vector<PreflightCheck> Capabilities::preflight() const
{
    auto probe = [] {
        bool ok = has_effective_capability(CAP_SETPCAP);
        return CheckResult{ok,
                           fmt::format("CAP_SETPCAP is {}; this kernel knows {} capabilities",
                                       ok ? "effective" : "missing", last_capability() + 1),
                           "run as root: dropping capabilities from the bounding set needs CAP_SETPCAP"};
    };
    return {{2, "capabilities", probe}};
}

}  // namespace dockling
