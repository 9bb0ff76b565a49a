#include "namespaces.hpp"

#include "doctor.hpp"
#include "error.hpp"
#include "unique_fd.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <linux/capability.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dockling {

void Namespaces::add_run_options(CLI::App& run, ContainerSpec& spec)
{
    run.add_option("--hostname", spec.hostname, "The container's hostname (default: its short id)");
    run.add_option("--network", options_.network,
                   "none: a network namespace with only lo (the default); host: the host's network");
}

void Namespaces::prepare(ContainerSpec& spec)
{
    const std::string& network = options_.network;
    if (!network.empty() && network != "none" && !options_.host_network()) {
        throw Error(fmt::format("network {} not found (this chapter knows \"none\" and \"host\")", network));
    }
    if (!options_.user_namespace && !has_effective_capability(CAP_SYS_ADMIN)) {
        throw Error("new namespaces need CAP_SYS_ADMIN: run dockling as root, or with --userns");
    }
    if (spec.hostname.empty()) {
        // Docker's defaults: the short container id, or the host's name when the
        // container uses the host's network.
        spec.hostname = options_.host_network() ? current_hostname() : spec.short_id();
    }
}

unsigned long Namespaces::clone_flags(const ContainerSpec& /*spec*/) const
{
    return namespace_clone_flags(options_.host_network());
}

//! [namespaces-in-child]
void Namespaces::in_child(const ContainerSpec& spec)
{
    // dockling is the container's only keeper. Should it be killed, the kernel is to
    // kill PID 1 too, and with PID 1 goes every process of the PID namespace.
    check(::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "prctl", "PR_SET_PDEATHSIG");
    // This process is in the new UTS namespace: the name is the container's alone.
    set_hostname(spec.hostname);
    if (!options_.host_network()) {
        bring_up_loopback();
    }
}
//! [namespaces-in-child]

//! [clone-flags]
unsigned long namespace_clone_flags(bool host_network)
{
    unsigned long flags = CLONE_NEWNS     // its own mount table: a root, /proc, /dev of its own
                          | CLONE_NEWUTS  // its own hostname
                          | CLONE_NEWIPC  // its own System V IPC objects and POSIX message queues
                          | CLONE_NEWPID; // its own process numbers: the command is PID 1
    if (!host_network) {
        flags |= CLONE_NEWNET;  // its own interfaces, routes and ports
    }
    return flags;
}
//! [clone-flags]

void set_hostname(const std::string& hostname)
{
    check(::sethostname(hostname.data(), hostname.size()), "sethostname", hostname);
}

std::string current_hostname()
{
    char name[HOST_NAME_MAX + 1] = {};
    check(::gethostname(name, sizeof name - 1), "gethostname");
    return name;
}

//! [loopback]
void bring_up_loopback()
{
    // Interface flags are read and set with ioctl(2) on any socket of the namespace.
    UniqueFd socket(check(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket", "AF_INET"));
    ifreq request{};
    std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    check(::ioctl(socket.get(), SIOCGIFFLAGS, &request), "get the flags of", "lo");
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
    check(::ioctl(socket.get(), SIOCSIFFLAGS, &request), "set up", "lo");
}
//! [loopback]

bool succeeds_in_child(const std::function<bool()>& probe)
{
    pid_t pid = ::fork();
    if (pid < 0) {
        return false;
    }
    if (pid == 0) {
        bool ok = false;
        try {
            ok = probe();
        } catch (...) {
        }
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

namespace {

CheckResult check_namespaces()
{
    std::string missing;
    for (const char* ns : {"mnt", "uts", "ipc", "pid", "net", "user", "cgroup"}) {
        if (!std::filesystem::exists(std::string("/proc/self/ns/") + ns)) {
            missing += std::string(" ") + ns;
        }
    }
    if (!missing.empty()) {
        return {false, "this kernel lacks:" + missing, "use a kernel built with CONFIG_NAMESPACES and all its options"};
    }
    bool created = succeeds_in_child(
        [] { return ::unshare(static_cast<int>(namespace_clone_flags(false))) == 0; });
    return {created,
            created ? "mnt uts ipc pid net: a process can get new ones"
                    : "unshare of mnt uts ipc pid net failed",
            "run as root, outside a container that forbids unshare (seccomp) or lacks CAP_SYS_ADMIN"};
}

}  // namespace

std::vector<PreflightCheck> Namespaces::preflight() const { return {{2, "namespaces", check_namespaces}}; }

}  // namespace dockling
