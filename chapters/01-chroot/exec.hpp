#pragma once
/// \file
/// The last step in the child: the environment, finding the command, exec.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockling {

/// The PATH a container gets when nothing else sets one: the same as Docker's.
inline constexpr std::string_view default_path =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Looks a variable up in the caller's environment; returns nullptr when it is not set.
using EnvLookup = std::function<const char*(const char* name)>;

/// Turns one `--env` flag into a `KEY=VALUE` entry, as `docker run -e` does.
///
/// `KEY=VALUE` is taken as it is; a bare `KEY` takes the caller's value of KEY, and is
/// dropped (nullopt) when the caller has none. An empty key throws Error (exit 125).
[[nodiscard]] std::optional<std::string> env_entry_from_flag(std::string_view flag,
                                                             const EnvLookup& lookup);

/// The container's whole environment: Docker's defaults (PATH, HOSTNAME when known,
/// HOME) overridden by the `requested` entries, later entries winning.
[[nodiscard]] std::vector<std::string> container_environment(
    const std::vector<std::string>& requested, std::string_view hostname);

/// The value of `name` in a list of `KEY=VALUE` entries, if present.
[[nodiscard]] std::optional<std::string> env_value(const std::vector<std::string>& env,
                                                   std::string_view name);

/// Finds `command` on a PATH-style list of directories, as a shell would: the first
/// `dir/command` that is a regular file the caller may execute. nullopt when none is.
[[nodiscard]] std::optional<std::string> find_executable(std::string_view command,
                                                         std::string_view search_path);

/// Replaces the calling process with `argv` in environment `env`; returns only by
/// throwing Error with Docker's exit code: 127 when the command does not exist, 126 when
/// it exists but cannot be executed.
[[noreturn]] void exec_command(const std::vector<std::string>& argv,
                               const std::vector<std::string>& env);

}  // namespace dockling
