#pragma once
/// \file
/// How an image's config becomes a container's command, environment, directory and user,
/// by Docker's rules. `run IMAGE` (at the integration with chapter 04) calls these.

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockling {

/// The run defaults an image carries (the `config` object of its config JSON).
struct RunDefaults {
    std::vector<std::string> env;         ///< `Env`: KEY=VALUE entries
    std::vector<std::string> entrypoint;  ///< `Entrypoint`
    std::vector<std::string> cmd;         ///< `Cmd`
    std::string working_dir;              ///< `WorkingDir`, or ""
    std::string user;                     ///< `User`, or "" (root)
};

/// Reads the run defaults from a whole image config. Throws Error when a field has the
/// wrong type (untrusted data: a number where strings belong must not crash us).
[[nodiscard]] RunDefaults run_defaults(const nlohmann::json& image_config);

/// What `run` was asked on its command line, beyond the image.
struct RunRequest {
    std::optional<std::string> entrypoint;  ///< `--entrypoint` ("" clears the image's)
    std::vector<std::string> args;          ///< the words after IMAGE
    std::vector<std::string> env;           ///< `-e` entries, already KEY=VALUE
    std::optional<std::string> workdir;     ///< `-w`
    std::optional<std::string> user;        ///< `-u`
};

/// The command a container runs, by Docker's rules:
///  - the entrypoint is `--entrypoint` if given (and then the image's Cmd is dropped too),
///    else the image's Entrypoint;
///  - the arguments are the words after IMAGE if any, else the image's Cmd (unless
///    `--entrypoint` dropped it);
///  - the command is entrypoint + arguments. Throws Error when that is empty.
[[nodiscard]] std::vector<std::string> container_command(const RunDefaults& image, const RunRequest& request);

/// The image's Env with `-e` entries applied over it: an entry replaces the image's entry
/// with the same key, in place; new keys come after. HOME is `home` unless set.
[[nodiscard]] std::vector<std::string> container_env(const RunDefaults& image, const RunRequest& request,
                                                     std::string_view home);

/// `-w` if given, else the image's WorkingDir, else "/". Throws Error when it is relative.
[[nodiscard]] std::string container_workdir(const RunDefaults& image, const RunRequest& request);

/// A user as the kernel knows it, resolved from a `User` / `-u` value.
struct ExecUser {
    uid_t uid = 0;               ///< the user ID
    gid_t gid = 0;               ///< the primary group ID
    std::vector<gid_t> groups;   ///< supplementary groups (from the image's /etc/group)
    std::string home = "/";      ///< the home directory (for HOME)
};

/// Resolves `spec` (`name`, `uid`, `name:group`, `uid:gid`, mixed; "" is root) through the
/// image's /etc/passwd and /etc/group under `rootfs`, as runc does:
///  - a name must be in /etc/passwd; a number need not be (then gid 0, home "/");
///  - a group, if given, replaces the primary group; a group name must be in /etc/group;
///  - the supplementary groups are the /etc/group entries that list the user's name.
/// The files are opened with openat2(RESOLVE_IN_ROOT), so a symbolic link in the image
/// cannot point them at the host's files. Throws Error (exit 125) naming what is missing.
[[nodiscard]] ExecUser resolve_user(std::string_view spec, const std::filesystem::path& rootfs);

}  // namespace dockling
