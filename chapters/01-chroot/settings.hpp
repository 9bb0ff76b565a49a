#pragma once
/// \file
/// Where Dockling keeps its data, and its configuration file.

#include <nlohmann/json.hpp>

#include <filesystem>

namespace dockling {

/// Settings every command shares, like Docker's daemon.json and `--data-root`.
///
/// Filled in by CommandLine before any command runs: the global options
/// `--data-root DIR` and `--config FILE` (before the command, as in
/// `dockling --data-root /srv/dockling run ...`) win over the config file's
/// `"data-root"` key, which wins over the default. Chapters that store things
/// (layers, images, containers) keep them under `data_root` and read the config keys
/// they own from `config`.
struct Settings {
    /// Where images, layers and containers live (default /var/lib/dockling).
    std::filesystem::path data_root = "/var/lib/dockling";
    /// The JSON configuration file (default /etc/dockling/config.json; may be absent).
    std::filesystem::path config_file = "/etc/dockling/config.json";
    /// The parsed configuration file: an empty object when there is none.
    nlohmann::json config = nlohmann::json::object();

    /// Reads `config_file` if it exists; throws Error (exit 125) naming the file and the
    /// problem when it cannot be read or is not a JSON object.
    void load_config();
};

}  // namespace dockling
