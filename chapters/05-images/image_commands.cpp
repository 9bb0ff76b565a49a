#include "image_commands.hpp"

#include "container_store.hpp"
#include "error.hpp"
#include "format.hpp"
#include "pull.hpp"
#include "push.hpp"
#include "reference.hpp"
#include "registry.hpp"

#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <ctime>
#include <iostream>
#include <regex>
#include <sstream>

namespace dockling {

namespace {

using nlohmann::json;

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

/// An image ID or reference found in the index, and the index key it was found by.
struct Found {
    std::string id;
    std::optional<std::string> key;  // empty when found by ID
};

/// Looks `text` up as a full image ID, then as a reference, then as an ID prefix.
std::optional<Found> lookup(const StoreIndex& index, const std::string& text)
{
    std::string as_id = text.starts_with("sha256:") ? text : "sha256:" + text;
    if (is_valid_digest(as_id) && index.images.contains(as_id)) {
        return Found{as_id, std::nullopt};
    }
    std::optional<ImageReference> reference;
    try {
        reference = parse_reference(text);
    } catch (const Error&) {
        if (!looks_like_image_id(text)) {
            throw;
        }
    }
    if (reference) {
        if (auto named = index.references.find(index_key(*reference)); named != index.references.end()) {
            return Found{named->second, named->first};
        }
    }
    if (!looks_like_image_id(text)) {
        return std::nullopt;
    }
    std::vector<std::string> matches;
    for (const auto& [id, image] : index.images) {
        if (id.starts_with(as_id)) {
            matches.push_back(id);
        }
    }
    if (matches.size() > 1) {
        throw Error(fmt::format("more than one image has an ID starting with {}", text));
    }
    return matches.empty() ? std::nullopt : std::optional(Found{matches.front(), std::nullopt});
}

/// `No such image: busybox:latest`, naming the image the way the user would.
[[noreturn]] void no_such_image(const std::string& text)
{
    std::string shown = text;
    try {
        shown = parse_reference(text).familiar();
    } catch (const Error&) {
    }
    throw Error("No such image: " + shown);
}

/// Docker's rule for deleting by ID without -f: every reference is in one repository,
/// and at most one of them is a tag.
bool in_one_repository(const std::vector<std::string>& keys)
{
    size_t tags = static_cast<size_t>(std::count_if(keys.begin(), keys.end(), is_tag_key));
    return tags <= 1 && std::all_of(keys.begin(), keys.end(), [&](const std::string& key) {
               return repository_of_key(key) == repository_of_key(keys.front());
           });
}

//! [remove-image]
/// What `rmi TEXT` does to the index, as Docker does it; returns the lines to print.
///  - By name: the name goes ("Untagged:"). If that was the repository's last tag of the
///    image, the image's digest references in that repository go too. The image itself
///    goes only when no name is left.
///  - By ID: every name goes, and the image; with names in several repositories only
///    with -f.
std::vector<std::string> remove_from_index(StoreIndex& index, const std::string& text, bool force)
{
    std::optional<Found> found = lookup(index, text);
    if (!found) {
        no_such_image(text);
    }
    std::vector<std::string> lines;
    auto untag = [&](const std::string& key) {
        index.references.erase(key);
        lines.push_back("Untagged: " + familiar_key(key));
    };
    if (found->key) {
        untag(*found->key);
        std::string repository = repository_of_key(*found->key);
        auto left = index.references_to(found->id);
        bool tag_left = std::any_of(left.begin(), left.end(),
                                    [&](const std::string& k) { return is_tag_key(k) && repository_of_key(k) == repository; });
        for (const auto& key : left) {
            if (is_tag_key(*found->key) && !tag_left && !is_tag_key(key) && repository_of_key(key) == repository) {
                untag(key);
            }
        }
        if (!index.references_to(found->id).empty()) {
            return lines;
        }
    } else {
        auto keys = index.references_to(found->id);
        if (!force && !in_one_repository(keys)) {
            throw Error(fmt::format("conflict: unable to delete {} (must be forced) - image is referenced in multiple "
                                    "repositories", short_digest(found->id)));
        }
        for (const auto& key : keys) {
            untag(key);
        }
    }
    index.images.erase(found->id);
    lines.push_back("Deleted: " + found->id);
    return lines;
}
//! [remove-image]

/// What `images` needs to know about one image besides its names.
struct Summary {
    std::time_t created = 0;    // 0 when the config does not say
    uint64_t size = 0;          // the layers' blob sizes
};

Summary summarize(const ImageStore& store, const ImageRecord& image)
{
    Summary summary;
    summary.created = parse_rfc3339(store.config_of(image).created).value_or(0);
    for (const auto& layer : store.manifest_of(image).layers) {
        summary.size += static_cast<uint64_t>(layer.size);
    }
    return summary;
}

/// The REPOSITORY, TAG and DIGEST cells of an image's rows: one row per tag; an image
/// with digests but no tag gets `repo <none>`; one with no name at all `<none> <none>`.
std::vector<std::array<std::string, 3>> name_cells(const StoreIndex& index, const std::string& id)
{
    std::vector<std::array<std::string, 3>> cells;
    auto keys = index.references_to(id);
    auto digest_in = [&](const std::string& repository) {
        for (const auto& key : keys) {
            if (!is_tag_key(key) && repository_of_key(key) == repository) {
                return key.substr(key.find('@') + 1);
            }
        }
        return std::string("<none>");
    };
    for (const auto& key : keys) {
        std::string repository = repository_of_key(key);
        if (is_tag_key(key)) {
            cells.push_back({repository, key.substr(repository.size() + 1), digest_in(repository)});
        }
    }
    for (const auto& key : keys) {
        std::string repository = repository_of_key(key);
        bool listed = std::any_of(cells.begin(), cells.end(), [&](const auto& row) { return row[0] == repository; });
        if (!is_tag_key(key) && !listed) {
            cells.push_back({repository, "<none>", key.substr(key.find('@') + 1)});
        }
    }
    if (cells.empty()) {
        cells.push_back({"<none>", "<none>", "<none>"});
    }
    return cells;
}

/// `{{.Id}}`, `{{.Config.Cmd}}`, `{{json .RootFS}}`: the part of Go's templates that
/// `image inspect --format` is mostly used with.
std::string render_template(const std::string& format, const json& object)
{
    static const std::regex action(R"(\{\{\s*(json\s+)?\.([A-Za-z0-9_.]*)\s*\}\})");
    std::string out;
    auto last = format.cbegin();
    for (std::sregex_iterator it(format.begin(), format.end(), action), end; it != end; ++it) {
        out.append(last, format.cbegin() + it->position());
        const json* value = &object;
        std::istringstream path((*it)[2].str());
        for (std::string field; std::getline(path, field, '.') && value != nullptr;) {
            value = value->is_object() && value->contains(field) ? &(*value)[field] : nullptr;
        }
        if (value == nullptr || value->is_null()) {
            out += (*it)[1].matched ? "null" : "<no value>";
        } else if ((*it)[1].matched || !(value->is_string() || value->is_array())) {
            out += value->dump();
        } else if (value->is_string()) {
            out += value->get<std::string>();
        } else {  // Go prints a list as [a b c]
            std::string items;
            for (const auto& item : *value) {
                items += (items.empty() ? "" : " ") + (item.is_string() ? item.get<std::string>() : item.dump());
            }
            out += "[" + items + "]";
        }
        last = format.cbegin() + it->position() + it->length();
    }
    out.append(last, format.cend());
    return out;
}

json inspect_json(const ImageStore& store, const StoreIndex& index, const std::string& id)
{
    const ImageRecord& image = index.images.at(id);
    ImageConfig config = store.config_of(image);
    json tags = json::array(), digests = json::array();
    for (const auto& key : index.references_to(id)) {
        (is_tag_key(key) ? tags : digests).push_back(familiar_key(key));
    }
    json inspected = {{"Id", id},
                      {"RepoTags", tags},
                      {"RepoDigests", digests},
                      {"Parent", config.json.value("parent", "")},
                      {"Comment", config.json.value("comment", "")},
                      {"Created", config.created},
                      {"DockerVersion", config.json.value("docker_version", "")},
                      {"Author", config.json.value("author", "")},
                      {"Config", config.json.value("config", json(nullptr))},
                      {"Architecture", config.architecture},
                      {"Os", config.os},
                      {"Size", summarize(store, image).size},
                      {"RootFS", {{"Type", "layers"}, {"Layers", config.diff_ids}}},
                      {"Manifest", image.manifest}};
    if (!config.variant.empty()) {
        inspected["Variant"] = config.variant;
    }
    return inspected;
}

/// `SERVER` of login/logout as a registry domain: `https://host:5000/v2/` -> `host:5000`;
/// Docker Hub's names (and no server at all) -> `docker.io`.
std::string registry_domain(std::string server)
{
    if (size_t scheme = server.find("://"); scheme != std::string::npos) {
        server = server.substr(scheme + 3);
    }
    server = server.substr(0, server.find('/'));
    std::transform(server.begin(), server.end(), server.begin(), [](unsigned char c) { return std::tolower(c); });
    if (server.empty() || server == "index.docker.io" || server == "registry-1.docker.io") {
        return "docker.io";
    }
    (void)parse_reference(server + "/x");  // refuses what is not a host[:port]
    return server;
}

/// Reads a line from the terminal; without echo for a password.
std::string prompt(const std::string& question, bool secret)
{
    std::cerr << question << std::flush;
    termios saved{};
    bool restore = secret && ::tcgetattr(STDIN_FILENO, &saved) == 0;
    if (restore) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (restore) {
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        std::cerr << '\n';
    }
    return line;
}

}  // namespace

std::string find_image(const StoreIndex& index, const std::string& text)
{
    std::optional<Found> found = lookup(index, text);
    if (!found) {
        no_such_image(text);
    }
    return found->id;
}

// ---- registering the commands -------------------------------------------------------------

ImageCommands::ImageCommands(CommandLine& cli, Settings& settings) : settings_(settings)
{
    add_pull(*cli.add_command("pull", "Download an image from a registry", [this] { return pull(); }));
    add_images(*cli.add_command("images", "List images", [this] { return images(); }));
    add_tag(*cli.add_command("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", [this] { return tag(); }));
    add_rmi(*cli.add_command("rmi", "Remove one or more images", [this] { return rmi(); }));
    add_push(*cli.add_command("push", "Upload an image to a registry", [this] { return push(); }));
    CLI::App* in = cli.add_command("login", "Log in to a registry", [this] { return login(); });
    in->add_option("-u,--username", username_, "Username");
    in->add_option("-p,--password", password_, "Password (prefer --password-stdin)");
    in->add_flag("--password-stdin", password_stdin_, "Take the password from stdin");
    in->add_option("server", server_, "The registry (default: Docker Hub)");
    CLI::App* out = cli.add_command("logout", "Log out from a registry", [this] { return logout(); });
    out->add_option("server", server_, "The registry (default: Docker Hub)");
    add_image_group(cli);
}

void ImageCommands::add_image_group(CommandLine& cli)
{
    CLI::App* group = cli.add_command("image", "Manage images", [this] { return image_action_(); });
    group->require_subcommand(1);
    auto sub = [&](const char* name, const char* description, int (ImageCommands::*action)()) {
        CLI::App* command = group->add_subcommand(name, description);
        command->callback([this, action] { image_action_ = [this, action] { return (this->*action)(); }; });
        return command;
    };
    add_images(*sub("ls", "List images", &ImageCommands::images)->alias("list"));
    add_inspect(*sub("inspect", "Display detailed information on one or more images", &ImageCommands::inspect));
    add_prune(*sub("prune", "Remove unused images", &ImageCommands::prune));
    add_pull(*sub("pull", "Download an image from a registry", &ImageCommands::pull));
    add_push(*sub("push", "Upload an image to a registry", &ImageCommands::push));
    add_rmi(*sub("rm", "Remove one or more images", &ImageCommands::rmi));
    add_tag(*sub("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", &ImageCommands::tag));
}

void ImageCommands::add_pull(CLI::App& command)
{
    command.add_option("--platform", platform_, "Set platform if the image is multi-platform (os/arch[/variant])");
    command.add_flag("-q,--quiet", quiet_, "Suppress verbose output");
    command.add_option("name", names_, "NAME[:TAG|@DIGEST]")->required()->expected(1);
}

void ImageCommands::add_images(CLI::App& command)
{
    command.add_flag("-a,--all", all_, "Show all images (there are no intermediate images yet)");
    command.add_flag("-q,--quiet", quiet_, "Only show image IDs");
    command.add_flag("--digests", digests_, "Show digests");
    command.add_flag("--no-trunc", no_trunc_, "Don't truncate output");
    command.add_option("repository", filter_, "Only images of REPOSITORY[:TAG]");
}

void ImageCommands::add_tag(CLI::App& command)
{
    command.add_option("names", names_, "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]")->required()->expected(2);
}

void ImageCommands::add_rmi(CLI::App& command)
{
    command.add_flag("-f,--force", force_, "Force removal of the image");
    command.add_option("images", names_, "IMAGE...")->required();
}

void ImageCommands::add_push(CLI::App& command)
{
    command.add_option("name", names_, "NAME[:TAG]")->required()->expected(1);
}

void ImageCommands::add_inspect(CLI::App& command)
{
    command.add_option("-f,--format", format_, "Format the output using a Go-like template ({{.Id}}, {{json .Config}})");
    command.add_option("images", names_, "IMAGE...")->required();
}

void ImageCommands::add_prune(CLI::App& command)
{
    command.add_flag("-a,--all", all_, "Remove all images, not just dangling ones");
    command.add_flag("-f,--force", force_, "Do not prompt for confirmation");
}

// ---- the commands -------------------------------------------------------------------------

//! [pull-command]
int ImageCommands::pull()
{
    ImageReference reference = parse_reference(names_.at(0));
    PullOptions options;
    options.registry = RegistryOptions::from_settings(settings_);
    if (!platform_.empty()) {
        options.platform = parse_platform(platform_);
        options.platform_given = true;
    }
    options.terminal = !quiet_ && stdout_is_terminal();
    std::ostringstream unseen;
    pull_image(store(), reference, options, quiet_ ? unseen : std::cout);
    if (quiet_) {
        std::cout << reference.string() << '\n';
    }
    return 0;
}
//! [pull-command]

int ImageCommands::images()
{
    ImageStore images_store = store();
    StoreIndex index = images_store.load_index();
    std::optional<ImageReference> wanted;
    if (!filter_.empty()) {
        wanted = parse_reference(filter_);
    }
    std::vector<std::pair<Summary, std::string>> listed;  // newest first, as Docker lists them
    for (const auto& [id, image] : index.images) {
        listed.emplace_back(summarize(images_store, image), id);
    }
    std::sort(listed.begin(), listed.end(), [](const auto& a, const auto& b) {
        return a.first.created != b.first.created ? a.first.created > b.first.created : a.second < b.second;
    });
    std::vector<std::vector<std::string>> rows{{"REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"}};
    std::time_t now = std::time(nullptr);
    for (const auto& [summary, id] : listed) {
        for (const auto& [repository, tag_cell, digest] : name_cells(index, id)) {
            if (wanted && (repository != wanted->name() || (!wanted->default_tag && tag_cell != wanted->tag))) {
                continue;
            }
            rows.push_back({repository == "<none>" ? repository : familiar_name(repository), tag_cell, digest,
                            no_trunc_ ? id : short_digest(id),
                            summary.created == 0 ? "N/A" : human_duration(now - summary.created) + " ago",
                            human_size(static_cast<double>(summary.size))});
        }
    }
    if (quiet_) {
        for (size_t i = 1; i < rows.size(); ++i) {
            std::cout << rows[i][3] << '\n';
        }
        return 0;
    }
    if (!digests_) {
        for (auto& row : rows) {
            row.erase(row.begin() + 2);  // the DIGEST column is shown only when asked for
        }
    }
    std::cout << format_table(rows);
    return 0;
}

int ImageCommands::tag()
{
    ImageReference target = parse_reference(names_.at(1));
    if (!target.digest.empty()) {
        throw Error(fmt::format("refusing to create a tag with a digest reference: {}", names_.at(1)));
    }
    store().update_index([&](StoreIndex& index) { index.references[index_key(target)] = find_image(index, names_.at(0)); });
    return 0;
}

namespace {

/// A container (of chapter 04's store) whose read-only layers are image `id`'s, if any.
std::optional<std::string> container_using(const ImageStore& store, const Settings& settings, const std::string& id)
{
    ContainerStore containers(settings.data_root);
    std::vector<std::string> ids = containers.ids();
    ImageConfig config = store.config_of(store.load_index().images.at(id));
    if (ids.empty() || config.diff_ids.empty()) {
        return std::nullopt;
    }
    std::filesystem::path top = store.layer_dir(chain_ids(config.diff_ids).back());
    for (const auto& container : ids) {
        const auto layers = containers.load(container).layers;
        if (std::find(layers.begin(), layers.end(), top) != layers.end()) {
            return container;
        }
    }
    return std::nullopt;
}

}  // namespace

//! [rmi]
int ImageCommands::rmi()
{
    ImageStore images_store = store();
    for (const auto& name : names_) {
        // Like Docker: the last name of an image a container still uses is not removed
        // without -f (its layers are the container's root).
        StoreIndex current = images_store.load_index();
        std::string id = find_image(current, name);
        auto references = current.references_to(id);  // name@digest ones go with the last tag
        if (!force_ && std::count_if(references.begin(), references.end(), is_tag_key) <= 1) {
            if (auto container = container_using(images_store, settings_, id)) {
                throw Error(fmt::format("conflict: unable to remove repository reference \"{}\" (must force) - "
                                        "container {} is using its referenced image {}",
                                        name, container->substr(0, 12), id.substr(7, 12)));
            }
        }
        std::vector<std::string> lines;
        images_store.update_index([&](StoreIndex& index) { lines = remove_from_index(index, name, force_); });
        for (const auto& line : lines) {
            std::cout << line << '\n';
        }
    }
    images_store.collect_garbage();  // blobs no image needs any more (shared ones stay)
    return 0;
}
//! [rmi]

int ImageCommands::inspect()
{
    ImageStore images_store = store();
    StoreIndex index = images_store.load_index();
    json all = json::array();
    for (const auto& name : names_) {
        all.push_back(inspect_json(images_store, index, find_image(index, name)));
    }
    if (format_.empty()) {
        std::cout << all.dump(4) << '\n';
        return 0;
    }
    for (const auto& image : all) {
        std::cout << render_template(format_, image) << '\n';
    }
    return 0;
}

int ImageCommands::prune()
{
    if (!force_) {
        std::cout << (all_ ? "WARNING! This will remove all images without at least one container associated to them.\n"
                           : "WARNING! This will remove all dangling images.\n")
                  << "Are you sure you want to continue? [y/N] " << std::flush;
        std::string answer;
        std::getline(std::cin, answer);
        if (answer != "y" && answer != "Y" && answer != "yes") {
            return 0;
        }
    }
    ImageStore images_store = store();
    std::vector<std::string> lines;
    images_store.update_index([&](StoreIndex& index) {
        lines.clear();
        for (const auto& [id, image] : StoreIndex(index).images) {
            auto keys = index.references_to(id);
            if (all_ || std::none_of(keys.begin(), keys.end(), is_tag_key)) {
                for (const auto& key : keys) {
                    lines.push_back("untagged: " + familiar_key(key));
                }
                index.remove_image(id);
                lines.push_back("deleted: " + id);
            }
        }
    });
    uint64_t reclaimed = images_store.collect_garbage().second;
    if (!lines.empty()) {
        std::cout << "Deleted Images:\n";
        for (const auto& line : lines) {
            std::cout << line << '\n';
        }
        std::cout << '\n';
    }
    std::cout << "Total reclaimed space: " << human_size(static_cast<double>(reclaimed)) << '\n';
    return 0;
}

int ImageCommands::push()
{
    ImageReference reference = parse_reference(names_.at(0));
    if (reference.default_tag) {
        std::cout << "Using default tag: latest\n";
    }
    push_image(store(), reference, RegistryOptions::from_settings(settings_), std::cout, stdout_is_terminal());
    return 0;
}

//! [login-command]
int ImageCommands::login()
{
    std::string domain = registry_domain(server_);
    Credentials credentials{username_, password_};
    if (password_stdin_) {
        if (!password_.empty()) {
            throw Error("--password and --password-stdin are mutually exclusive");
        }
        std::getline(std::cin, credentials.password);
        if (!credentials.password.empty() && credentials.password.back() == '\r') {
            credentials.password.pop_back();
        }
    } else if (!password_.empty()) {
        std::cerr << "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n";
    }
    bool interactive = ::isatty(STDIN_FILENO) == 1;
    if (credentials.username.empty() && interactive) {
        credentials.username = prompt("Username: ", false);
    }
    if (credentials.password.empty() && interactive && !password_stdin_) {
        credentials.password = prompt("Password: ", true);
    }
    if (credentials.username.empty() || credentials.password.empty()) {
        throw Error("login needs a username (-u) and a password (--password-stdin or -p)");
    }
    RegistryOptions options = RegistryOptions::from_settings(settings_);
    RegistryClient client(domain, endpoints_for(domain, options).back(), options);
    client.check_credentials(credentials);
    CredentialStore saved(options.credentials_file);
    saved.save(domain, credentials);
    std::cerr << fmt::format("WARNING! Your password will be stored unencrypted in {}.\n", saved.file().string());
    std::cout << "Login Succeeded\n";
    return 0;
}
//! [login-command]

int ImageCommands::logout()
{
    std::string domain = registry_domain(server_);
    std::string shown = domain == "docker.io" ? "https://index.docker.io/v1/" : domain;
    CredentialStore saved(RegistryOptions::from_settings(settings_).credentials_file);
    std::cout << (saved.remove(domain) ? "Removing login credentials for " : "Not logged in to ") << shown << '\n';
    return 0;
}

}  // namespace dockling
