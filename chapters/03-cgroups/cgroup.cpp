#include "cgroup.hpp"

#include "error.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <iostream>
#include <set>
#include <utility>

namespace dockling {

namespace {

using Clock = std::chrono::steady_clock;

/// How long to wait for the kernel to finish freezing or killing a cgroup's processes
/// before giving up: long enough for a loaded machine, short enough to notice a stuck one.
constexpr auto settle_timeout = std::chrono::seconds(10);
/// How often to look again meanwhile.
constexpr useconds_t poll_interval_us = 5000;

/// How many times to retry creating a cgroup whose parent another container removed
/// at the same moment (a race between parallel runs sharing the parent "dockling").
constexpr int create_attempts = 5;

std::optional<std::uint64_t> parse_unsigned(std::string_view text)
{
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.remove_suffix(1);
    }
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return value;
}

/// v1 shows "no limit" as the largest page-aligned number, v2 as "max".
std::optional<std::uint64_t> limit_value(std::optional<std::uint64_t> value)
{
    constexpr std::uint64_t unlimited_v1 = 0x7FFFFFFFFFFFF000ULL;
    return value && *value < unlimited_v1 ? value : std::nullopt;
}

std::string trimmed(std::string text)
{
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

bool contains(const std::vector<std::string>& words, std::string_view word)
{
    return std::find(words.begin(), words.end(), word) != words.end();
}

}  // namespace

std::optional<std::uint64_t> flat_keyed_value(std::string_view text, std::string_view key)
{
    std::vector<std::string> words = split_words(text);
    for (size_t i = 0; i + 1 < words.size(); i += 2) {
        if (words[i] == key) {
            return parse_unsigned(words[i + 1]);
        }
    }
    return std::nullopt;
}

Cgroup::Cgroup(CgroupVersion version, std::filesystem::path relative, CgroupFs& fs, bool owned)
    : version_(version), relative_(std::move(relative)), fs_(&fs), owned_(owned)
{
}

Cgroup::Cgroup(Cgroup&& other) noexcept
    : version_(other.version_),
      relative_(std::move(other.relative_)),
      fs_(other.fs_),
      owned_(std::exchange(other.owned_, false)),
      places_(std::move(other.places_))
{
    other.places_.clear();
}

Cgroup& Cgroup::operator=(Cgroup&& other) noexcept
{
    if (this != &other) {
        Cgroup old(std::move(*this));  // removes what this object owned, when `old` ends
        version_ = other.version_;
        relative_ = std::move(other.relative_);
        fs_ = other.fs_;
        owned_ = std::exchange(other.owned_, false);
        places_ = std::move(other.places_);
        other.places_.clear();
    }
    return *this;
}

Cgroup::~Cgroup()
{
    if (!owned_) {
        return;
    }
    try {
        remove();
    } catch (const std::exception& error) {
        std::cerr << program_invocation_short_name << ": removing cgroup " << relative_.string() << ": "
                  << error.what() << '\n';
    }
}

//! [create]
Cgroup Cgroup::create(const CgroupLayout& layout, const std::filesystem::path& relative, CgroupFs& fs)
{
    bool plain = relative.is_relative() && !relative.empty() &&
                 std::none_of(relative.begin(), relative.end(), [](const auto& part) { return part == ".."; });
    if (!plain) {
        throw Error("a cgroup path must be relative and stay below its hierarchy: " + relative.string());
    }
    auto hierarchies = layout.container_hierarchies();
    if (hierarchies.empty()) {
        throw Error("no cgroup filesystem is mounted (see dockling doctor)");
    }
    Cgroup cgroup(layout.version(), relative, fs, true);
    for (const auto& hierarchy : hierarchies) {
        cgroup.create_in(hierarchy);  // if this throws, ~Cgroup removes what exists so far
    }
    return cgroup;
}
//! [create]

void Cgroup::create_in(const CgroupHierarchy& hierarchy)
{
    std::filesystem::path leaf = hierarchy.mount_point / relative_;
    for (int attempt = 1;; ++attempt) {
        try {
            std::filesystem::path dir = hierarchy.mount_point;
            prepare_parent(hierarchy, dir);
            for (auto part = relative_.begin(); std::next(part) != relative_.end(); ++part) {
                dir /= *part;
                fs_->make_directory(dir);  // shared by all containers: it may exist already
                prepare_parent(hierarchy, dir);
            }
            if (!fs_->make_directory(leaf)) {
                throw Error("mkdir", leaf.string(), EEXIST);
            }
            places_.push_back({hierarchy, leaf});
            if (hierarchy.version == CgroupVersion::v1 && hierarchy.has("cpuset")) {
                prepare_parent(hierarchy, leaf);  // the leaf needs CPUs too, or no process may join
            }
            return;
        } catch (const Error& error) {
            // ENOENT: a parent vanished between our mkdir and the next step, because a
            // container that just ended removed it; create it again.
            if (error.error_number() != ENOENT || attempt == create_attempts) {
                throw;
            }
        }
    }
}

//! [prepare-parent]
/// Makes `dir` fit to have the container's cgroup below it.
void Cgroup::prepare_parent(const CgroupHierarchy& hierarchy, const std::filesystem::path& dir)
{
    if (hierarchy.version == CgroupVersion::v2) {
        // v2: a controller's files exist in a cgroup only if its parent enabled the
        // controller in cgroup.subtree_control. Enable ours, where the parent offers them.
        auto offered = split_words(fs_->read(dir / "cgroup.controllers"));
        auto enabled = split_words(fs_->read(dir / "cgroup.subtree_control"));
        std::string change;
        for (std::string_view controller : v2_controllers) {
            if (contains(offered, controller) && !contains(enabled, controller)) {
                change += fmt::format("{}+{}", change.empty() ? "" : " ", controller);
            }
        }
        if (!change.empty()) {
            fs_->write(dir / "cgroup.subtree_control", change);
        }
    } else if (hierarchy.has("cpuset") && dir != hierarchy.mount_point) {
        // v1: a new cpuset cgroup has no CPUs and no memory nodes, and a process cannot
        // join it until it has some; give it its parent's.
        for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
            if (trimmed(fs_->read(dir / file)).empty()) {
                fs_->write(dir / file, trimmed(fs_->read(dir.parent_path() / file)));
            }
        }
    }
}
//! [prepare-parent]

Cgroup Cgroup::open(const CgroupLayout& layout, const std::filesystem::path& relative, CgroupFs& fs)
{
    Cgroup cgroup(layout.version(), relative, fs, false);
    for (const auto& hierarchy : layout.container_hierarchies()) {
        std::filesystem::path dir = hierarchy.mount_point / relative;
        if (!fs.exists(dir)) {
            throw Error("cgroup", dir.string(), ENOENT);
        }
        cgroup.places_.push_back({hierarchy, dir});
    }
    if (cgroup.places_.empty()) {
        throw Error("no cgroup filesystem is mounted (see dockling doctor)");
    }
    return cgroup;
}

std::vector<std::filesystem::path> Cgroup::directories() const
{
    std::vector<std::filesystem::path> dirs;
    for (const auto& place : places_) {
        dirs.push_back(place.dir);
    }
    return dirs;
}

const Cgroup::Place* Cgroup::place_of(std::string_view controller) const
{
    auto found = std::find_if(places_.begin(), places_.end(), [&](const Place& place) {
        return place.hierarchy.version == CgroupVersion::v2 || place.hierarchy.has(controller);
    });
    return found == places_.end() ? nullptr : &*found;
}

std::optional<std::filesystem::path> Cgroup::directory_of(std::string_view controller) const
{
    const Place* place = place_of(controller);
    return place == nullptr ? std::nullopt : std::optional(place->dir);
}

//! [apply]
void Cgroup::apply(const std::vector<CgroupWrite>& writes)
{
    for (const CgroupWrite& write : writes) {
        const Place* place = place_of(write.controller);
        bool available = place != nullptr && fs_->exists(place->dir / write.file);
        if (!available && write.optional) {
            continue;  // e.g. no swap accounting: Docker's default swap limit cannot apply
        }
        if (!available) {
            throw Error(fmt::format("{}: this machine's cgroups cannot do it: {} is missing (the {} controller{})",
                                    write.flag, write.file, write.controller,
                                    place == nullptr ? " is not mounted" : " is not enabled or lacks this file"));
        }
        try {
            fs_->write(place->dir / write.file, write.value);
        } catch (const Error& error) {
            throw Error(write.flag + ": " + error.what());
        }
    }
}
//! [apply]

void Cgroup::add_process(pid_t pid)
{
    for (const auto& place : places_) {
        fs_->write(place.dir / "cgroup.procs", std::to_string(pid));
    }
}

std::vector<pid_t> Cgroup::processes() const
{
    std::set<pid_t> pids;
    for (const auto& place : places_) {
        for (const std::string& word : split_words(fs_->read(place.dir / "cgroup.procs"))) {
            if (auto pid = parse_unsigned(word)) {
                pids.insert(static_cast<pid_t>(*pid));
            }
        }
    }
    return {pids.begin(), pids.end()};
}

void Cgroup::freeze()
{
    const Place* place = place_of("freezer");
    if (place == nullptr) {
        throw Error("freeze " + relative_.string() + ": this machine has no freezer cgroup controller");
    }
    fs_->write(place->dir / (version_ == CgroupVersion::v1 ? "freezer.state" : "cgroup.freeze"),
               version_ == CgroupVersion::v1 ? "FROZEN" : "1");
    // Freezing is not instantaneous: the kernel stops each task at a safe point.
    auto deadline = Clock::now() + settle_timeout;
    while (!frozen()) {
        if (Clock::now() > deadline) {
            throw Error("freeze " + place->dir.string() + ": its processes did not stop");
        }
        ::usleep(poll_interval_us);
    }
}

void Cgroup::thaw()
{
    const Place* place = place_of("freezer");
    if (place == nullptr) {
        throw Error("thaw " + relative_.string() + ": this machine has no freezer cgroup controller");
    }
    fs_->write(place->dir / (version_ == CgroupVersion::v1 ? "freezer.state" : "cgroup.freeze"),
               version_ == CgroupVersion::v1 ? "THAWED" : "0");
}

bool Cgroup::frozen() const
{
    const Place* place = place_of("freezer");
    if (place == nullptr) {
        return false;
    }
    if (version_ == CgroupVersion::v1) {
        return trimmed(fs_->read(place->dir / "freezer.state")) == "FROZEN";
    }
    return flat_keyed_value(fs_->read(place->dir / "cgroup.events"), "frozen") == 1u;
}

std::optional<std::uint64_t> Cgroup::read_number(std::string_view controller, std::string_view file) const
{
    const Place* place = place_of(controller);
    if (place == nullptr || !fs_->exists(place->dir / file)) {
        return std::nullopt;
    }
    return parse_unsigned(fs_->read(place->dir / file));
}

std::optional<std::uint64_t> Cgroup::read_key(std::string_view controller, std::string_view file,
                                              std::string_view key) const
{
    const Place* place = place_of(controller);
    if (place == nullptr || !fs_->exists(place->dir / file)) {
        return std::nullopt;
    }
    return flat_keyed_value(fs_->read(place->dir / file), key);
}

//! [usage]
CgroupUsage Cgroup::usage() const
{
    CgroupUsage usage;
    if (version_ == CgroupVersion::v1) {
        usage.memory_bytes = read_number("memory", "memory.usage_in_bytes");
        usage.memory_limit_bytes = limit_value(read_number("memory", "memory.limit_in_bytes"));
        usage.cpu_nanoseconds = read_number("cpuacct", "cpuacct.usage");
    } else {
        usage.memory_bytes = read_number("memory", "memory.current");
        usage.memory_limit_bytes = read_number("memory", "memory.max");  // "max" reads as none
        auto usec = read_key("cpu", "cpu.stat", "usage_usec");
        usage.cpu_nanoseconds = usec ? std::optional(*usec * 1000) : std::nullopt;
    }
    usage.pids = read_number("pids", "pids.current");
    usage.pids_limit = read_number("pids", "pids.max");
    return usage;
}
//! [usage]

//! [oom-kills]
std::uint64_t Cgroup::oom_kills() const
{
    auto kills = version_ == CgroupVersion::v1 ? read_key("memory", "memory.oom_control", "oom_kill")
                                               : read_key("memory", "memory.events", "oom_kill");
    return kills.value_or(0);
}
//! [oom-kills]

//! [kill-all]
void Cgroup::kill_all()
{
    if (places_.empty()) {
        return;  // removed already, or moved from
    }
    const Place* freezer = place_of("freezer");
    if (version_ == CgroupVersion::v2 && fs_->exists(places_.front().dir / "cgroup.kill")) {
        fs_->write(places_.front().dir / "cgroup.kill", "1");  // Linux 5.14+: the kernel does it all
    } else if (!processes().empty()) {
        // Freeze first, so that no process can fork a new one between our reading the
        // list and our kill. A frozen process dies of SIGKILL as soon as it is thawed.
        bool freezable = freezer != nullptr;
        if (freezable) {
            freeze();
        }
        for (pid_t pid : processes()) {
            fs_->kill(pid, SIGKILL);
        }
        if (freezable) {
            thaw();
        }
    }
    wait_until_empty();
}
//! [kill-all]

void Cgroup::wait_until_empty()
{
    auto deadline = Clock::now() + settle_timeout;
    for (;;) {
        auto left = processes();
        if (left.empty()) {
            return;
        }
        if (Clock::now() > deadline) {
            throw Error(fmt::format("{} process(es) in cgroup {} did not die (the first is PID {})", left.size(),
                                    relative_.string(), left.front()));
        }
        for (pid_t pid : left) {
            fs_->kill(pid, SIGKILL);  // without a freezer, new ones may have been forked
        }
        ::usleep(poll_interval_us);
    }
}

void Cgroup::remove()
{
    kill_all();
    while (!places_.empty()) {  // one hierarchy at a time, so a retry starts where this stopped
        remove_when_idle(places_.back().dir);
        remove_empty_parents(places_.back());
        places_.pop_back();
    }
}

/// rmdir(2) of a cgroup whose processes are gone: right after its last process died, a
/// cgroup can still be busy (EBUSY) for a moment.
void Cgroup::remove_when_idle(const std::filesystem::path& dir)
{
    auto deadline = Clock::now() + settle_timeout;
    for (;;) {
        try {
            fs_->remove_directory(dir);
            return;
        } catch (const Error& error) {
            if (error.error_number() != EBUSY || Clock::now() > deadline) {
                throw;
            }
            ::usleep(poll_interval_us);
        }
    }
}

/// Removes the shared parents ("dockling") that are empty now; another container still
/// running below one keeps it (rmdir says EBUSY or ENOTEMPTY, and that is fine).
void Cgroup::remove_empty_parents(const Place& place)
{
    for (auto dir = place.dir.parent_path(); dir != place.hierarchy.mount_point && dir.has_relative_path();
         dir = dir.parent_path()) {
        try {
            fs_->remove_directory(dir);
        } catch (const Error&) {
            return;
        }
    }
}

}  // namespace dockling
