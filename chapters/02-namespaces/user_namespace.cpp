#include "user_namespace.hpp"

#include "doctor.hpp"
#include "error.hpp"
#include "namespaces.hpp"
#include "unique_fd.hpp"

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <sched.h>
#include <unistd.h>

#include <charconv>
#include <string_view>

namespace dockling {

namespace {

/// Writes `text` to a /proc file in one write(2): the kernel reads a map only whole.
void write_proc_file(const std::string& path, const std::string& text)
{
    UniqueFd file(check(::open(path.c_str(), O_WRONLY | O_CLOEXEC), "open", path));
    ssize_t written = check(::write(file.get(), text.data(), text.size()), "write", path);
    if (static_cast<size_t>(written) != text.size()) {
        throw Error("write " + path + ": short write");
    }
}

/// Parses a whole unsigned decimal number.
bool parse_unsigned(std::string_view text, unsigned& value)
{
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

std::string id_map_line(const IdMapping& mapping)
{
    return fmt::format("{} {} {}\n", mapping.inside, mapping.outside, mapping.count);
}

IdMapping userns_range(const Settings& settings)
{
    auto configured = settings.config.find("userns-range");
    if (configured == settings.config.end()) {
        return {0, 100000, 65536};
    }
    auto bad = [&] {
        return Error(fmt::format("config file {}: \"userns-range\" must be \"START:COUNT\" with START > 0, like "
                                 "\"100000:65536\"",
                                 settings.config_file.string()));
    };
    if (!configured->is_string()) {
        throw bad();
    }
    std::string text = configured->get<std::string>();
    auto colon = text.find(':');
    IdMapping range;
    if (colon == std::string::npos || !parse_unsigned(std::string_view(text).substr(0, colon), range.outside) ||
        !parse_unsigned(std::string_view(text).substr(colon + 1), range.count) || range.outside == 0 ||
        range.count == 0) {
        throw bad();
    }
    return range;
}

void write_id_maps(pid_t pid, const IdMapping& uids, const IdMapping& gids, bool deny_setgroups)
{
    // EXERCISE 2.3 BEGIN: the uid and gid maps
    //   hint: write id_map_line(uids) to /proc/PID/uid_map and id_map_line(gids) to /proc/PID/gid_map (write_proc_file);
    //   hint: when deny_setgroups, write "deny" to /proc/PID/setgroups before the gid map.
    std::string proc = "/proc/" + std::to_string(pid);
    write_proc_file(proc + "/uid_map", id_map_line(uids));
    if (deny_setgroups) {
        // Else an unprivileged user could drop a group that was keeping them out of a file.
        write_proc_file(proc + "/setgroups", "deny");
    }
    write_proc_file(proc + "/gid_map", id_map_line(gids));
    // EXERCISE 2.3 STUB
    //: (void)pid; (void)uids; (void)gids; (void)deny_setgroups; (void)write_proc_file;
    //: throw ExerciseNotDone("2.3", "write id_map_line(uids) to /proc/PID/uid_map, \"deny\" to /proc/PID/setgroups when asked, then id_map_line(gids) to /proc/PID/gid_map");
    // EXERCISE 2.3 END
}

void UserNamespace::add_run_options(CLI::App& run, ContainerSpec& /*spec*/)
{
    run.add_flag("--userns", options_.user_namespace,
                 "Run in a new user namespace: root inside is an unprivileged user outside");
}

void UserNamespace::prepare(ContainerSpec& /*spec*/)
{
    if (!options_.user_namespace) {
        return;
    }
    if (options_.privileged) {
        throw Error("--privileged cannot be combined with --userns: a privileged container is root on the host");
    }
    if (options_.host_network()) {
        throw Error("--network host cannot be combined with --userns: the host's network belongs to the host's root");
    }
    if (::geteuid() == 0) {
        uids_ = gids_ = userns_range(settings_);
        deny_setgroups_ = false;
    } else {
        // Without privilege the kernel lets a user map exactly one id: their own.
        uids_ = {0, ::geteuid(), 1};
        gids_ = {0, ::getegid(), 1};
        deny_setgroups_ = true;
    }
}

unsigned long UserNamespace::clone_flags(const ContainerSpec& /*spec*/) const
{
    return options_.user_namespace ? CLONE_NEWUSER : 0;
}

void UserNamespace::after_clone(const ContainerSpec& /*spec*/, pid_t child)
{
    if (options_.user_namespace) {
        write_id_maps(child, uids_, gids_, deny_setgroups_);
    }
}

//! [become-root]
void UserNamespace::in_child(const ContainerSpec& /*spec*/)
{
    if (!options_.user_namespace) {
        return;
    }
    // Until now this process had the host's uid 0, which the new namespace does not map:
    // it could not even create a file in a filesystem mounted there. The group first:
    // setresuid(2) away from the host's root could take the right to change it.
    check(::setresgid(0, 0, 0), "setresgid", "0");
    if (!deny_setgroups_) {
        check(::setgroups(0, nullptr), "setgroups", "[]");  // drop the host's supplementary groups
    }
    check(::setresuid(0, 0, 0), "setresuid", "0");
}
//! [become-root]

namespace {

CheckResult check_user_namespaces()
{
    std::string limit = read_small_file("/proc/sys/user/max_user_namespaces");
    while (!limit.empty() && limit.back() == '\n') {
        limit.pop_back();
    }
    bool ok = succeeds_in_child([] { return ::unshare(CLONE_NEWUSER) == 0; });
    return {ok, fmt::format("{} (max_user_namespaces = {})", ok ? "can be created" : "cannot be created",
                            limit.empty() ? "?" : limit),
            "set the sysctl user.max_user_namespaces above 0 (only --userns needs them)"};
}

}  // namespace

std::vector<PreflightCheck> UserNamespace::preflight() const
{
    return {{2, "user namespaces", check_user_namespaces}};
}

}  // namespace dockling
