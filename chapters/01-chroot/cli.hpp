#pragma once
/// \file
/// The command line every Dockling binary shares: `run`, `doctor`, `version`.

#include "runtime.hpp"
#include "settings.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace dockling {

/// What a binary is called and which chapter it belongs to.
struct ProgramInfo {
    std::string name;         ///< "dockling-ch1", "dockling"
    std::string description;  ///< one line for --help
    int chapter = 0;          ///< the last chapter it contains (0 for the final tool)
};

/// A Docker-style command line (`PROGRAM [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS...]`)
/// over one Runtime.
///
/// Global options (before the command): `--data-root DIR`, `--config FILE`.
/// It owns the `run` command, whose flags come from the core (`--rootfs`, `--env`,
/// `--workdir`) and from each mechanism's add_run_options(). Like Docker, `run` stops
/// reading its own options at the first argument that is not one: the rest is the
/// container's command, flags and all (`run --rootfs r ls -l`).
class CommandLine {
public:
    /// Builds the parser; mechanisms add their `run` flags here. `settings` is filled in
    /// from the global options and the config file before any command runs.
    CommandLine(ProgramInfo info, Runtime& runtime, Settings& settings);
    ~CommandLine();
    CommandLine(const CommandLine&) = delete;
    CommandLine& operator=(const CommandLine&) = delete;

    /// The root parser, for binaries that add global options.
    CLI::App& app();
    /// The spec `run` fills in (for subcommands built on run, like the final tool's).
    ContainerSpec& run_spec();

    /// Adds a subcommand. With `command_follows`, its first positional argument and
    /// everything after it are not parsed as options (like `run` and `exec`).
    CLI::App* add_command(const std::string& name, const std::string& description,
                          std::function<int()> action, bool command_follows = false);

    /// Parses argv, runs the chosen command and returns the process exit code. Every
    /// error becomes one line on stderr and Docker's exit code (125 for dockling's own).
    int main(int argc, char** argv);

private:
    int run_command();
    void apply_settings();
    std::vector<std::string> with_command_separator(int argc, char** argv) const;

    ProgramInfo info_;
    Runtime& runtime_;
    Settings& settings_;
    std::string data_root_flag_;
    std::unique_ptr<CLI::App> app_;
    ContainerSpec spec_;
    std::vector<std::string> env_flags_;
    std::vector<std::string> command_style_;  // subcommands with command_follows
    std::function<int()> chosen_;
};

}  // namespace dockling
