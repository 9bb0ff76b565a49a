#include "container_store.hpp"

#include "error.hpp"
#include "overlay.hpp"
#include "tree.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>

namespace dockling {

namespace {

/// Holds an exclusive flock(2) on the containers directory: creating a container (and
/// claiming its name) is one step for concurrent `run`s.
class DirectoryLock {
public:
    explicit DirectoryLock(const std::filesystem::path& dir)
        : fd_(check(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC), "open", dir.string()))
    {
        check(::flock(fd_.get(), LOCK_EX), "flock", dir.string());
    }

private:
    UniqueFd fd_;
};

bool is_hex(std::string_view text)
{
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

nlohmann::json to_json(const ContainerRecord& record)
{
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& layer : record.layers) {
        layers.push_back(layer.string());
    }
    return {{"id", record.id},           {"name", record.name},
            {"layers", layers},          {"storage-driver", driver_name(record.driver)},
            {"created", record.created}};
}

}  // namespace

std::string_view driver_name(StorageDriver driver) noexcept
{
    return driver == StorageDriver::vfs ? "vfs" : "overlay";
}

ContainerPaths::ContainerPaths(std::filesystem::path directory)
    : dir(std::move(directory)),
      config(dir / "config.json"),
      lock(dir / "lock"),
      upper(dir / "upper"),
      work(dir / "work"),
      merged(dir / "merged"),
      rootfs(dir / "rootfs")
{
}

const std::filesystem::path& ContainerPaths::root(StorageDriver driver) const
{
    return driver == StorageDriver::vfs ? rootfs : merged;
}

void check_container_name(std::string_view name)
{
    auto allowed = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
               c == '-';
    };
    bool valid = name.size() >= 2 && allowed(name[0]) && name[0] != '_' && name[0] != '.' && name[0] != '-' &&
                 std::all_of(name.begin(), name.end(), allowed);
    if (!valid) {
        throw Error(fmt::format("invalid container name \"{}\": a name is [a-zA-Z0-9][a-zA-Z0-9_.-]+, two characters or more", name));
    }
}

ContainerStore::ContainerStore(std::filesystem::path data_root) : containers_(std::move(data_root) / "containers") {}

ContainerPaths ContainerStore::paths(const std::string& id) const { return ContainerPaths(containers_ / id); }

void ContainerStore::create(const ContainerRecord& record)
{
    if (!record.name.empty()) {
        check_container_name(record.name);
    }
    std::error_code ec;
    std::filesystem::create_directories(containers_, ec);
    if (ec) {
        throw Error("mkdir", containers_.string(), ec.value());
    }
    DirectoryLock lock(containers_);
    if (!record.name.empty()) {
        for (const auto& id : ids()) {
            if (load(id).name == record.name) {
                throw Error(fmt::format("the container name \"{}\" is already in use by container {}: remove it "
                                        "(rm {}) or choose another name", record.name, id.substr(0, 12), record.name));
            }
        }
    }
    ContainerPaths where = paths(record.id);
    check(::mkdir(where.dir.c_str(), 0700), "mkdir", where.dir.string());
    try {
        save(record);
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove_all(where.dir, ignored);
        throw;
    }
}

void ContainerStore::save(const ContainerRecord& record) const
{
    ContainerPaths where = paths(record.id);
    std::filesystem::path temporary = where.config.string() + ".new";
    {
        std::ofstream out(temporary);
        out << to_json(record).dump(2) << '\n';
        if (!out.flush()) {
            throw Error("write", temporary.string(), errno);
        }
    }
    // rename(2) replaces the record in one step: a reader sees the old or the new one.
    check(::rename(temporary.c_str(), where.config.c_str()), "rename", where.config.string());
}

ContainerRecord ContainerStore::load(const std::string& id) const
{
    ContainerPaths where = paths(id);
    std::ifstream in(where.config);
    if (!in) {
        throw Error("no such container: " + id);
    }
    try {
        nlohmann::json json = nlohmann::json::parse(in);
        ContainerRecord record;
        record.id = json.at("id").get<std::string>();
        record.name = json.at("name").get<std::string>();
        for (const auto& layer : json.at("layers")) {
            record.layers.emplace_back(layer.get<std::string>());
        }
        record.driver = json.at("storage-driver").get<std::string>() == "vfs" ? StorageDriver::vfs
                                                                               : StorageDriver::overlay;
        record.created = json.value("created", "");
        return record;
    } catch (const nlohmann::json::exception& error) {
        throw Error(fmt::format("container record {} is damaged: {}", where.config.string(), error.what()));
    }
}

std::vector<std::string> ContainerStore::ids() const
{
    std::vector<std::string> found;
    std::error_code ec;
    if (!std::filesystem::is_directory(containers_, ec)) {
        return found;
    }
    for (const auto& name : sorted_entries(containers_)) {
        if (name.size() == 64 && is_hex(name)) {
            found.push_back(name);
        }
    }
    return found;
}

std::string ContainerStore::resolve(std::string_view reference) const
{
    std::vector<std::string> all = ids();
    if (std::find(all.begin(), all.end(), reference) != all.end()) {
        return std::string(reference);
    }
    for (const auto& id : all) {
        if (load(id).name == reference) {
            return id;
        }
    }
    std::vector<std::string> prefixed;
    if (is_hex(reference)) {
        std::copy_if(all.begin(), all.end(), std::back_inserter(prefixed),
                     [&](const std::string& id) { return id.starts_with(reference); });
    }
    if (prefixed.size() > 1) {
        throw Error(fmt::format("container reference \"{}\" is ambiguous: {} containers' ids start with it",
                                reference, prefixed.size()));
    }
    if (prefixed.empty()) {
        throw Error(fmt::format("no such container: {}", reference));
    }
    return prefixed.front();
}

UniqueFd ContainerStore::lock_running(const std::string& id) const
{
    ContainerPaths where = paths(id);
    UniqueFd fd(check(::open(where.lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600), "open", where.lock.string()));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            throw Error(fmt::format("container {} is running", id.substr(0, 12)));
        }
        throw_errno("flock", where.lock.string());
    }
    return fd;
}

void ContainerStore::remove(const std::string& id) const
{
    ContainerPaths where = paths(id);
    UniqueFd running;
    try {
        running = lock_running(id);
    } catch (const Error& error) {
        if (error.error_number() != 0) {
            throw;
        }
        throw Error(fmt::format("container {} is running: stop it before removing it", id.substr(0, 12)));
    }
    // A dockling killed by SIGKILL cannot clean up: its root may still be mounted.
    if (!unmount(where.merged)) {
        throw_errno("unmount", where.merged.string());
    }
    remove_tree(where.dir);
}

}  // namespace dockling
