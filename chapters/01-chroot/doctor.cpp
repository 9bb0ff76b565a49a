#include "doctor.hpp"

#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <ostream>
#include <sstream>

namespace dockling {

namespace {

CheckResult check_root()
{
    if (::geteuid() == 0) {
        return {true, "running as root (uid 0)", ""};
    }
    return {false, fmt::format("running as uid {}", ::geteuid()),
            "run dockling with sudo: namespaces, mounts and cgroups need root"};
}

CheckResult check_kernel()
{
    utsname name{};
    ::uname(&name);
    int major = 0, minor = 0;
    std::sscanf(name.release, "%d.%d", &major, &minor);
    bool recent = major > 4 || (major == 4 && minor >= 18);
    return {recent, fmt::format("Linux kernel {}", name.release),
            "Dockling needs Linux 4.18 or newer (overlayfs, cgroup v2, user namespaces)"};
}

}  // namespace

std::vector<PreflightCheck> core_preflight()
{
    return {{1, "root", check_root}, {1, "kernel", check_kernel}};
}

std::string read_small_file(const std::string& path)
{
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool has_effective_capability(int cap)
{
    std::istringstream status(read_small_file("/proc/self/status"));
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("CapEff:", 0) == 0) {
            unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
            return (mask >> cap) & 1ULL;
        }
    }
    return false;
}

int run_doctor(std::vector<PreflightCheck> checks, std::ostream& out)
{
    std::stable_sort(checks.begin(), checks.end(),
                     [](const auto& a, const auto& b) { return a.chapter < b.chapter; });
    int failed = 0;
    int chapter = 0;
    for (const auto& check : checks) {
        if (check.chapter != chapter) {
            chapter = check.chapter;
            out << fmt::format("chapter {:02}\n", chapter);
        }
        CheckResult result = check.probe();
        out << fmt::format("  {:<4}  {:<22} {}", result.ok ? "ok" : "FAIL", check.what, result.detail);
        if (!result.ok) {
            out << " -- " << result.advice;
            ++failed;
        }
        out << '\n';
    }
    out << (failed == 0 ? "this machine can run every chapter above\n"
                        : fmt::format("{} check(s) failed: see the advice above\n", failed));
    return failed == 0 ? 0 : 1;
}

}  // namespace dockling
