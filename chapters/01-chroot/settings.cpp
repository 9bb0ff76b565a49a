#include "settings.hpp"

#include "error.hpp"

#include <fstream>
#include <system_error>

namespace dockling {

void Settings::load_config()
{
    std::error_code ec;
    if (!std::filesystem::exists(config_file, ec)) {
        return;  // no config file is the normal case: every setting has a default
    }
    std::ifstream in(config_file);
    if (!in) {
        throw Error("open", config_file.string(), errno);
    }
    try {
        config = nlohmann::json::parse(in);
    } catch (const nlohmann::json::parse_error& error) {
        throw Error("config file " + config_file.string() + " is not valid JSON: " + error.what());
    }
    if (!config.is_object()) {
        throw Error("config file " + config_file.string() + ": the top level must be a JSON object");
    }
}

}  // namespace dockling
