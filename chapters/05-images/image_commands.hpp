#pragma once
/// \file
/// Chapter 05's commands: pull, images, tag, rmi, push, login, logout, and `image ...`.

#include "cli.hpp"
#include "layers.hpp"
#include "settings.hpp"
#include "store.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace dockling {

/// Adds the image commands to a CommandLine, Docker's way:
///
///     pull [--platform P] [-q] NAME[:TAG|@DIGEST]
///     images [-q] [--digests] [--no-trunc] [REPOSITORY[:TAG]]
///     tag SOURCE TARGET
///     rmi [-f] IMAGE...
///     push NAME[:TAG]
///     login [-u USER] [-p PASSWORD | --password-stdin] [SERVER]
///     logout [SERVER]
///     image ls | inspect | prune | pull | push | rm | tag
///
/// The store is `<data-root>/images`; the registry settings come from the config file
/// (`registry-mirrors`, `insecure-registries`, `max-concurrent-downloads`).
class ImageCommands {
public:
    /// Registers the commands on `cli`; they read `settings` when they run.
    ImageCommands(CommandLine& cli, Settings& settings);

private:
    void add_pull(CLI::App& command);
    void add_images(CLI::App& command);
    void add_tag(CLI::App& command);
    void add_rmi(CLI::App& command);
    void add_push(CLI::App& command);
    void add_inspect(CLI::App& command);
    void add_prune(CLI::App& command);
    void add_image_group(CommandLine& cli);

    int pull();
    int images();
    int tag();
    int rmi();
    int push();
    int inspect();
    int prune();
    int login();
    int logout();

    [[nodiscard]] ImageStore store() const { return ImageStore(settings_.data_root); }

    Settings& settings_;
    std::function<int()> image_action_;  // the chosen `image ...` subcommand

    // The commands' flags and arguments (only one command runs per process).
    std::string platform_;
    bool quiet_ = false;
    bool digests_ = false;
    bool no_trunc_ = false;
    bool all_ = false;
    bool force_ = false;
    bool password_stdin_ = false;
    std::string format_;
    std::string username_;
    std::string password_;
    std::string server_;
    std::string filter_;
    std::vector<std::string> names_;
};

/// Finds the image `text` names in `index`: a reference (`busybox`, `name@sha256:...`),
/// an image ID, or a unique prefix of one (`3f57d9401f8d`). Returns its ID; throws Error
/// `No such image: TEXT` when there is none.
[[nodiscard]] std::string find_image(const StoreIndex& index, const std::string& text);

}  // namespace dockling
