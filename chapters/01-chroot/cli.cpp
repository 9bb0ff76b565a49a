#include "cli.hpp"

#include "doctor.hpp"
#include "error.hpp"
#include "exec.hpp"
#include "version.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

namespace dockling {

CommandLine::CommandLine(ProgramInfo info, Runtime& runtime, Settings& settings)
    : info_(std::move(info)),
      runtime_(runtime),
      settings_(settings),
      app_(std::make_unique<CLI::App>(info_.description, info_.name))
{
    app_->require_subcommand(1);
    app_->add_option("--data-root", data_root_flag_, "Where Dockling keeps its data (default /var/lib/dockling)");
    app_->add_option("--config", settings_.config_file, "The configuration file (default /etc/dockling/config.json)");
    app_->set_version_flag("--version", version_line(info_.name, info_.chapter));

    CLI::App* run = add_command("run", "Run a command in a new container", [this] { return run_command(); }, true);
    run->add_option("--rootfs", spec_.rootfs, "Directory to use as the container's root filesystem");
    run->add_option("-e,--env", env_flags_, "Set an environment variable (KEY=VALUE, or KEY to pass the caller's)");
    run->add_option("-w,--workdir", spec_.workdir, "Working directory inside the container");
    run->add_option("command", spec_.argv, "The command to run and its arguments")->required();
    for (const auto& mechanism : runtime_.mechanisms()) {
        mechanism->add_run_options(*run, spec_);
    }

    add_command("doctor", "Check whether this machine can run each chapter", [this] {
        auto checks = core_preflight();
        for (const auto& mechanism : runtime_.mechanisms()) {
            auto more = mechanism->preflight();
            checks.insert(checks.end(), more.begin(), more.end());
        }
        return run_doctor(std::move(checks), std::cout);
    });
    add_command("version", "Show the version and what it was built with", [this] {
        std::cout << version_report(info_.name, info_.chapter);
        return 0;
    });
}

CommandLine::~CommandLine() = default;

CLI::App& CommandLine::app() { return *app_; }

ContainerSpec& CommandLine::run_spec() { return spec_; }

CLI::App* CommandLine::add_command(const std::string& name, const std::string& description,
                                   std::function<int()> action, bool command_follows)
{
    CLI::App* command = app_->add_subcommand(name, description);
    command->callback([this, action = std::move(action)] { chosen_ = action; });
    if (command_follows) {
        command_style_.push_back(name);
    }
    return command;
}

void CommandLine::apply_settings()
{
    settings_.load_config();
    if (!data_root_flag_.empty()) {
        settings_.data_root = data_root_flag_;
    } else if (auto configured = settings_.config.find("data-root"); configured != settings_.config.end()) {
        if (!configured->is_string() || configured->get<std::string>().empty()) {
            throw Error("config file " + settings_.config_file.string() + ": \"data-root\" must be a path");
        }
        settings_.data_root = configured->get<std::string>();
    }
    if (!settings_.data_root.is_absolute()) {
        settings_.data_root = std::filesystem::absolute(settings_.data_root);
    }
}

int CommandLine::run_command()
{
    spec_.id = new_container_id();
    for (const auto& flag : env_flags_) {
        if (auto entry = env_entry_from_flag(flag, ::getenv)) {
            spec_.env.push_back(*entry);
        }
    }
    if (spec_.workdir.empty() || spec_.workdir.front() != '/') {
        throw Error("the working directory '" + spec_.workdir + "' is invalid, it needs to be an absolute path");
    }
    return runtime_.run(spec_).exit_code;
}

int CommandLine::main(int argc, char** argv)
{
    try {
        // A repeatable option (`-e A=1 -e B=2`) takes one value per use: CLI11 would let
        // it take more, and swallow the "--" that with_command_separator() puts in front
        // of the container's command (`run -e A=1 sh -c ...` would lose its "--").
        for (const auto& name : command_style_) {
            for (CLI::Option* option : app_->get_subcommand(name)->get_options()) {
                if (!option->get_positional()) {
                    option->allow_extra_args(false);
                }
            }
        }
        auto args = with_command_separator(argc, argv);
        std::reverse(args.begin(), args.end());  // CLI11 takes the arguments reversed
        app_->parse(args);
        apply_settings();
        return chosen_();
    } catch (const CLI::CallForHelp&) {
        std::cout << app_->help("", CLI::AppFormatMode::Normal);
        return 0;
    } catch (const CLI::CallForVersion&) {
        std::cout << version_line(info_.name, info_.chapter) << '\n';
        return 0;
    } catch (const CLI::ParseError& error) {
        std::cerr << fmt::format("{}: {} (see '{} --help')\n", info_.name, error.what(), info_.name);
        return exit_code::tool_error;
    } catch (const Error& error) {
        std::cerr << info_.name << ": " << error.what() << '\n';
        return error.exit_code();
    } catch (const std::exception& error) {
        std::cerr << info_.name << ": " << error.what() << '\n';
        return exit_code::tool_error;
    }
}

}  // namespace dockling

namespace dockling {

namespace {

/// True when option `name` ("--env", "-e") of `command` is followed by a value.
bool takes_value(const CLI::App& command, const std::string& name)
{
    const CLI::Option* option = command.get_option_no_throw(name);
    return option != nullptr && option->get_expected_max() > 0;  // flags expect 0 values
}

/// How many arguments the option token `arg` uses up: 1 for a flag or `--name=value`,
/// 2 when its value is the next argument (`--env A=1`, `-e A=1`, `-ie A=1`).
size_t option_width(const CLI::App& command, const std::string& arg)
{
    if (arg.rfind("--", 0) == 0) {
        bool inline_value = arg.find('=') != std::string::npos;
        return (!inline_value && takes_value(command, arg)) ? 2 : 1;
    }
    for (size_t i = 1; i < arg.size(); ++i) {  // a cluster of short options: -it, -eKEY=v
        if (takes_value(command, std::string("-") + arg[i])) {
            return i + 1 == arg.size() ? 2 : 1;
        }
    }
    return 1;
}

/// The subcommand of `command` called `name`, or nullptr.
const CLI::App* find_subcommand(const CLI::App& command, const std::string& name)
{
    auto matches = command.get_subcommands([&](const CLI::App* sub) { return sub->check_name(name); });
    return matches.empty() ? nullptr : matches.front();
}

}  // namespace

//! [command-separator]
// Docker reads `run`'s own options only up to the container's command; everything from
// there on belongs to the command. CLI11 has no such mode, so we find that first
// positional argument ourselves and put CLI11's "--" separator in front of it.
std::vector<std::string> CommandLine::with_command_separator(int argc, char** argv) const
{
    std::vector<std::string> args(argv + 1, argv + argc);
    const CLI::App* command = app_.get();
    bool command_follows = false;
    for (size_t i = 0; i < args.size();) {
        const std::string& arg = args[i];
        if (arg == "--") {
            break;
        }
        if (arg.size() > 1 && arg[0] == '-') {
            i += option_width(*command, arg);
            continue;
        }
        if (command_follows) {
            args.insert(args.begin() + static_cast<std::ptrdiff_t>(i), "--");
            break;
        }
        const CLI::App* sub = find_subcommand(*command, arg);
        if (sub == nullptr) {
            if (command == app_.get()) {
                throw Error(fmt::format("unknown command \"{}\" (see '{} --help')", arg, info_.name));
            }
            break;  // a stray argument of a command: CLI11 reports it
        }
        command = sub;
        command_follows = std::find(command_style_.begin(), command_style_.end(), arg) != command_style_.end();
        ++i;
    }
    return args;
}
//! [command-separator]

}  // namespace dockling
