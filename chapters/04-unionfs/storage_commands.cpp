#include "storage_commands.hpp"

#include "cgroup_limits.hpp"

#include "error.hpp"
#include "layer_view.hpp"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <iostream>
#include <memory>

namespace dockling {

std::vector<Change> container_changes(const ContainerStore& store, const std::string& id)
{
    ContainerRecord record = store.load(id);
    ContainerPaths where = store.paths(id);
    LayerView layers(record.layers);
    if (record.driver == StorageDriver::vfs) {
        return changes_between(layers, where.rootfs);
    }
    return changes_in_upper(where.upper, layers);
}

void write_container_layer(const ContainerStore& store, const std::string& id, const std::filesystem::path& out,
                           Compression compression, const ByteObserver& on_uncompressed_bytes)
{
    ContainerRecord record = store.load(id);
    ContainerPaths where = store.paths(id);
    if (record.driver == StorageDriver::vfs) {
        write_changes_tar(where.rootfs, container_changes(store, id), out, compression, on_uncompressed_bytes);
    } else {
        write_layer_tar(where.upper, out, compression, on_uncompressed_bytes);
    }
}

namespace {

/// The arguments of the storage commands, alive for as long as the parser.
struct StorageArguments {
    std::string container;
    std::vector<std::string> containers;
    std::string file;
    std::string directory;
    std::string compression = "none";
};

int remove_containers(const ContainerStore& store, const std::vector<std::string>& references)
{
    int status = 0;
    for (const auto& reference : references) {
        try {
            std::string id = store.resolve(reference);
            store.remove(id);
            remove_leftover_cgroup(id);  // left behind if dockling itself was killed
            std::cout << reference << '\n';
        } catch (const Error& error) {  // like docker rm: report it, go on with the others
            std::cerr << program_invocation_short_name << ": " << error.what() << '\n';
            status = exit_code::tool_error;
        }
    }
    return status;
}

void add_layer_commands(CommandLine& cli, const Settings& settings, const std::shared_ptr<StorageArguments>& args)
{
    auto chosen = std::make_shared<std::function<int()>>();
    CLI::App* layer = cli.add_command("layer", "Save a container's changes as a layer tarball, or unpack one",
                                      [chosen] { return (*chosen)(); });
    layer->require_subcommand(1);

    CLI::App* save = layer->add_subcommand("save", "Write a container's changes as an OCI layer tarball");
    save->add_option("--compression", args->compression, "none, gzip or zstd (default none)");
    save->add_option("container", args->container, "The container (name, id or id prefix)")->required();
    save->add_option("file", args->file, "The tarball to write")->required();
    save->callback([chosen, args, &settings] {
        *chosen = [args, &settings] {
            ContainerStore store(settings.data_root);
            write_container_layer(store, store.resolve(args->container), args->file,
                                  parse_compression(args->compression));
            return 0;
        };
    });

    CLI::App* apply = layer->add_subcommand("apply", "Unpack a layer tarball (tar, gzip or zstd) into a directory");
    apply->add_option("file", args->file, "The layer tarball")->required();
    apply->add_option("directory", args->directory, "Where to unpack it (made if missing)")->required();
    apply->callback([chosen, args] {
        *chosen = [args] {
            apply_layer_tar(args->file, args->directory);
            return 0;
        };
    });
}

}  // namespace

void add_storage_commands(CommandLine& cli, const Settings& settings)
{
    auto args = std::make_shared<StorageArguments>();
    CLI::App* diff = cli.add_command("diff", "List the changes a container made to its layers", [args, &settings] {
        ContainerStore store(settings.data_root);
        std::cout << format_changes(container_changes(store, store.resolve(args->container)));
        return 0;
    });
    diff->add_option("container", args->container, "The container (name, id or id prefix)")->required();

    CLI::App* rm = cli.add_command("rm", "Remove containers and their files", [args, &settings] {
        return remove_containers(ContainerStore(settings.data_root), args->containers);
    });
    rm->add_option("containers", args->containers, "The containers (names, ids or id prefixes)")->required();

    add_layer_commands(cli, settings, args);
}

}  // namespace dockling
