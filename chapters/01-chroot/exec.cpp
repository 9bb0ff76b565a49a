#include "exec.hpp"

#include "error.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace dockling {

namespace {

/// The key of a `KEY=VALUE` entry (the whole entry when it has no '=').
std::string_view key_of(std::string_view entry) { return entry.substr(0, entry.find('=')); }

/// Sets `entry` in `env`, replacing an entry with the same key.
void set_entry(std::vector<std::string>& env, const std::string& entry)
{
    for (auto& existing : env) {
        if (key_of(existing) == key_of(entry)) {
            existing = entry;
            return;
        }
    }
    env.push_back(entry);
}

/// True when `path` is a regular file that this process may execute.
bool is_executable_file(const std::string& path)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

/// A C-style, null-terminated array of pointers into `strings` (which must outlive it).
std::vector<char*> c_array(const std::vector<std::string>& strings)
{
    std::vector<char*> pointers;
    for (const auto& s : strings) {
        pointers.push_back(const_cast<char*>(s.c_str()));
    }
    pointers.push_back(nullptr);
    return pointers;
}

}  // namespace

std::optional<std::string> env_entry_from_flag(std::string_view flag, const EnvLookup& lookup)
{
    // EXERCISE 1.3 BEGIN: --env KEY=VALUE and --env KEY
    //   hint: split at the first '='; with no '=' the value comes from lookup(KEY); an empty KEY is an Error.
    std::string key(key_of(flag));
    if (key.empty()) {
        throw Error("invalid environment variable: " + std::string(flag));
    }
    if (flag.find('=') != std::string_view::npos) {
        return std::string(flag);
    }
    const char* value = lookup(key.c_str());
    if (value == nullptr) {
        return std::nullopt;
    }
    return key + "=" + value;
    // EXERCISE 1.3 STUB
    //: (void)flag; (void)lookup;
    //: throw ExerciseNotDone("1.3", "split the flag at its first '='; a bare KEY takes lookup(KEY), an empty KEY is an Error");
    // EXERCISE 1.3 END
}

std::vector<std::string> container_environment(const std::vector<std::string>& requested,
                                               std::string_view hostname)
{
    std::vector<std::string> env{"PATH=" + std::string(default_path)};
    if (!hostname.empty()) {
        env.push_back("HOSTNAME=" + std::string(hostname));
    }
    for (const auto& entry : requested) {
        set_entry(env, entry);
    }
    if (!env_value(env, "HOME")) {
        env.emplace_back("HOME=/root");
    }
    return env;
}

std::optional<std::string> env_value(const std::vector<std::string>& env, std::string_view name)
{
    for (const auto& entry : env) {
        if (key_of(entry) == name && entry.size() > name.size()) {
            return entry.substr(name.size() + 1);
        }
    }
    return std::nullopt;
}

std::optional<std::string> find_executable(std::string_view command, std::string_view search_path)
{
    // EXERCISE 1.2 BEGIN: finding the command on PATH
    //   hint: try each ':'-separated directory in order (an empty one means "."); return the first dir/command that is_executable_file().
    std::string_view rest = search_path;
    while (true) {
        auto colon = rest.find(':');
        std::string_view dir = rest.substr(0, colon);
        std::string candidate = (dir.empty() ? std::string(".") : std::string(dir)) + "/" + std::string(command);
        if (is_executable_file(candidate)) {
            return candidate;
        }
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        rest.remove_prefix(colon + 1);
    }
    // EXERCISE 1.2 STUB
    //: (void)command; (void)search_path; (void)is_executable_file;
    //: throw ExerciseNotDone("1.2", "walk the ':'-separated directories of search_path and return the first dir/command that is_executable_file()");
    // EXERCISE 1.2 END
}

void exec_command(const std::vector<std::string>& argv, const std::vector<std::string>& env)
{
    const std::string& command = argv.at(0);
    std::string path = command;
    if (command.find('/') == std::string::npos) {
        auto found = find_executable(command, env_value(env, "PATH").value_or(""));
        if (!found) {
            throw Error("exec: \"" + command + "\": executable file not found in $PATH",
                        exit_code::not_found);
        }
        path = *found;
    }
    auto c_argv = c_array(argv);
    auto c_env = c_array(env);
    ::execve(path.c_str(), c_argv.data(), c_env.data());
    // Only reached when execve failed: Docker's rule is 127 for "no such file", 126 otherwise.
    int code = (errno == ENOENT) ? exit_code::not_found : exit_code::not_executable;
    throw Error("exec", command, errno, code);
}

}  // namespace dockling
