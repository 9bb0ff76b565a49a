#pragma once
/// \file
/// What a container is made of, as the runtime sees it.

#include <filesystem>
#include <string>
#include <vector>

namespace dockling {

/// Everything the runtime needs to start one container.
///
/// The command line fills it in; mechanisms may complete it in Mechanism::prepare()
/// (chapter 02 gives it a hostname, chapter 04 points `rootfs` at an overlay mount).
struct ContainerSpec {
    /// 64 hexadecimal digits, random, like a Docker container id.
    std::string id;
    /// The directory that becomes the container's `/`.
    std::filesystem::path rootfs;
    /// The command and its arguments; `argv[0]` is looked up on the container's PATH.
    std::vector<std::string> argv;
    /// Variables asked for (`KEY=VALUE`), in order; later ones win over earlier ones.
    std::vector<std::string> env;
    /// The working directory inside the container, created if missing (as Docker does).
    std::string workdir = "/";
    /// The container's hostname; empty while no mechanism gives it one.
    std::string hostname;

    /// The first 12 digits of the id, as `docker ps` shows it.
    [[nodiscard]] std::string short_id() const { return id.substr(0, 12); }
};

/// How a container's process ended.
struct ExitInfo {
    /// The raw status from waitpid(2).
    int wait_status = 0;
    /// What dockling exits with: the command's code, or 128 + signal number.
    int exit_code = 0;
    /// Why it ended when that is not obvious from the code (chapter 03: "OOMKilled").
    std::string reason;
};

/// Makes a new random container id.
std::string new_container_id();

}  // namespace dockling
