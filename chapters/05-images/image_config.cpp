#include "image_config.hpp"

#include "error.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <sstream>

namespace dockling {

namespace {

using nlohmann::json;

constexpr size_t max_account_file = 4 * 1024 * 1024;
constexpr uint64_t max_id = 2147483647;  // IDs are 0..2^31-1 (as runc enforces)

std::vector<std::string> strings_at(const json& object, const char* key)
{
    std::vector<std::string> values;
    auto found = object.find(key);
    if (found == object.end() || found->is_null()) {
        return values;
    }
    if (!found->is_array() || !std::all_of(found->begin(), found->end(), [](const json& v) { return v.is_string(); })) {
        throw Error(fmt::format("the image config's \"{}\" is not a list of strings", key));
    }
    for (const auto& value : *found) {
        values.push_back(value.get<std::string>());
    }
    return values;
}

std::string string_at(const json& object, const char* key)
{
    auto found = object.find(key);
    if (found == object.end() || found->is_null()) {
        return "";
    }
    if (!found->is_string()) {
        throw Error(fmt::format("the image config's \"{}\" is not a string", key));
    }
    return found->get<std::string>();
}

std::string_view key_of(std::string_view entry) { return entry.substr(0, entry.find('=')); }

/// A decimal ID, or nullopt when `text` is not one.
std::optional<uint32_t> parse_id(std::string_view text)
{
    uint64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    if (value > max_id) {
        throw Error(fmt::format("user or group ID {} is out of range (0-{})", text, max_id));
    }
    return static_cast<uint32_t>(value);
}

/// Reads `relative` inside `root` without ever leaving it: absolute symbolic links and
/// ".." are resolved as if `root` were "/". "" when the file does not exist.
std::string read_in_root(const std::filesystem::path& root, const char* relative)
{
    UniqueFd dir(check(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC), "open", root.string()));
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    int fd = static_cast<int>(::syscall(SYS_openat2, dir.get(), relative, &how, sizeof how));
    if (fd < 0 && errno == ENOENT) {
        return "";
    }
    UniqueFd file(check(fd, "open", (root / relative).string()));
    std::string content;
    char buffer[8192];
    for (ssize_t got; (got = ::read(file.get(), buffer, sizeof buffer)) != 0;) {
        check(got, "read", (root / relative).string());
        content.append(buffer, static_cast<size_t>(got));
        if (content.size() > max_account_file) {
            throw Error(fmt::format("{} is too large", (root / relative).string()));
        }
    }
    return content;
}

/// The colon-separated fields of each line of an /etc/passwd or /etc/group file.
std::vector<std::vector<std::string>> account_entries(const std::string& text)
{
    std::vector<std::vector<std::string>> entries;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line.front() == '#') {
            continue;
        }
        std::vector<std::string> fields;
        std::istringstream parts(line);
        for (std::string field; std::getline(parts, field, ':');) {
            fields.push_back(field);
        }
        entries.push_back(std::move(fields));
    }
    return entries;
}

/// The /etc/passwd entry of a user given by name or number (name, x, uid, gid, gecos, home, shell).
const std::vector<std::string>* find_account(const std::vector<std::vector<std::string>>& entries, std::string_view who,
                                             size_t id_field)
{
    for (const auto& fields : entries) {
        if (fields.size() > id_field && (fields[0] == who || fields[id_field] == who)) {
            return &fields;
        }
    }
    return nullptr;
}

}  // namespace

RunDefaults run_defaults(const json& image_config)
{
    RunDefaults defaults;
    auto config = image_config.find("config");
    if (config == image_config.end() || config->is_null()) {
        return defaults;
    }
    if (!config->is_object()) {
        throw Error("the image config's \"config\" is not an object");
    }
    defaults.env = strings_at(*config, "Env");
    defaults.entrypoint = strings_at(*config, "Entrypoint");
    defaults.cmd = strings_at(*config, "Cmd");
    defaults.working_dir = string_at(*config, "WorkingDir");
    defaults.user = string_at(*config, "User");
    return defaults;
}

//! [container-command]
std::vector<std::string> container_command(const RunDefaults& image, const RunRequest& request)
{
    std::vector<std::string> command = image.entrypoint;
    std::vector<std::string> arguments = image.cmd;
    if (request.entrypoint) {  // --entrypoint replaces the entrypoint and drops the image's Cmd
        command.clear();
        if (!request.entrypoint->empty()) {
            command.push_back(*request.entrypoint);
        }
        arguments.clear();
    }
    if (!request.args.empty()) {
        arguments = request.args;
    }
    command.insert(command.end(), arguments.begin(), arguments.end());
    if (command.empty()) {
        throw Error("no command specified: the image has no Entrypoint or Cmd, and none was given");
    }
    return command;
}
//! [container-command]

std::vector<std::string> container_env(const RunDefaults& image, const RunRequest& request, std::string_view home)
{
    std::vector<std::string> env = image.env;
    for (const auto& entry : request.env) {
        auto same_key = std::find_if(env.begin(), env.end(), [&](const std::string& e) { return key_of(e) == key_of(entry); });
        if (same_key != env.end()) {
            *same_key = entry;
        } else {
            env.push_back(entry);
        }
    }
    if (std::none_of(env.begin(), env.end(), [](const std::string& e) { return key_of(e) == "HOME"; })) {
        env.push_back("HOME=" + std::string(home));
    }
    return env;
}

std::string container_workdir(const RunDefaults& image, const RunRequest& request)
{
    std::string workdir = request.workdir.value_or(image.working_dir);
    if (workdir.empty()) {
        return "/";
    }
    if (workdir.front() != '/') {
        throw Error(fmt::format("the working directory '{}' is invalid, it needs to be an absolute path", workdir));
    }
    return workdir;
}

//! [resolve-user]
ExecUser resolve_user(std::string_view spec, const std::filesystem::path& rootfs)
{
    std::string_view user = spec.substr(0, spec.find(':'));
    std::optional<std::string_view> group;
    if (size_t colon = spec.find(':'); colon != std::string_view::npos) {
        group = spec.substr(colon + 1);
    }
    if (user.empty()) {
        user = "0";  // "" and ":group" mean root
    }
    ExecUser result;
    auto passwd = account_entries(read_in_root(rootfs, "etc/passwd"));
    if (const auto* account = find_account(passwd, user, 2); account != nullptr && account->size() >= 4) {
        result.uid = parse_id((*account)[2]).value_or(0);
        result.gid = parse_id((*account)[3]).value_or(0);
        result.home = account->size() > 5 && !(*account)[5].empty() ? (*account)[5] : "/";
        user = (*account)[0];
    } else if (auto uid = parse_id(user)) {
        result.uid = *uid;  // a number needs no entry: gid 0, home "/", as runc does
        user = {};
    } else {
        throw Error(fmt::format("unable to find user {}: no matching entries in passwd file", user));
    }
    auto groups = account_entries(read_in_root(rootfs, "etc/group"));
    if (group) {
        if (const auto* entry = find_account(groups, *group, 2); entry != nullptr) {
            result.gid = parse_id((*entry)[2]).value_or(0);
        } else if (auto gid = parse_id(*group)) {
            result.gid = *gid;
        } else {
            throw Error(fmt::format("unable to find group {}: no matching entries in group file", *group));
        }
    }
    for (const auto& entry : groups) {  // name:x:gid:member,member...
        std::string members = entry.size() > 3 ? "," + entry[3] + "," : "";
        if (!user.empty() && members.find("," + std::string(user) + ",") != std::string::npos) {
            if (auto gid = parse_id(entry[2]); gid && *gid != result.gid) {
                result.groups.push_back(*gid);
            }
        }
    }
    return result;
}
//! [resolve-user]

}  // namespace dockling
