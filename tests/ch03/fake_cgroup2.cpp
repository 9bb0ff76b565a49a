#include "fake_cgroup2.hpp"

#include "error.hpp"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace dockling::test {

namespace fs = std::filesystem;

namespace {

/// The order in which the kernel lists controllers (its cgroup_subsys order).
const std::vector<std::string> kernel_order{"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"};
/// Controllers that are not "threaded": the no-internal-process rule is about them.
const std::set<std::string> domain_controllers{"io", "memory", "hugetlb", "rdma", "misc"};
/// Files the kernel makes read-only; writing one fails.
const std::set<std::string> read_only{"cgroup.controllers", "cgroup.events", "cgroup.stat", "cpu.stat",
                                      "memory.current", "memory.events", "memory.stat", "memory.swap.current",
                                      "pids.current", "pids.events", "cpuset.cpus.effective",
                                      "cpuset.mems.effective", "io.stat"};
constexpr std::uint64_t page_size = 4096;

[[noreturn]] void fail_write(const fs::path& file, std::string_view value, int error)
{
    throw Error("write \"" + std::string(value) + "\" to", file.string(), error);
}

std::string trim(std::string_view text)
{
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.remove_suffix(1);
    }
    while (!text.empty() && text.front() == ' ') {
        text.remove_prefix(1);
    }
    return std::string(text);
}

std::vector<std::string> words_of(std::string_view text)
{
    std::vector<std::string> words;
    std::istringstream in{std::string(text)};
    for (std::string word; in >> word;) {
        words.push_back(word);
    }
    return words;
}

bool has(const std::vector<std::string>& words, const std::string& word)
{
    return std::find(words.begin(), words.end(), word) != words.end();
}

std::optional<std::uint64_t> parse_u64(std::string_view text)
{
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

/// The kernel's memparse(): a number with an optional K, M, G, T, P or E suffix.
std::optional<std::uint64_t> memparse(std::string_view text)
{
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
        ++digits;
    }
    auto number = parse_u64(text.substr(0, digits));
    std::string_view suffix = text.substr(digits);
    if (!number || suffix.size() > 1) {
        return std::nullopt;
    }
    std::string units = "KMGTPE";
    size_t shift = suffix.empty() ? 0 : units.find(static_cast<char>(std::toupper(suffix.front())));
    if (shift == std::string::npos) {
        return std::nullopt;
    }
    return suffix.empty() ? *number : *number << (10 * (shift + 1));
}

/// A CPU list ("0-2,4") as a set; the fake's own parser, independent of Dockling's.
std::optional<std::set<int>> cpus_of(std::string_view text)
{
    std::set<int> cpus;
    std::stringstream items{std::string(text)};
    for (std::string item; std::getline(items, item, ',');) {
        size_t dash = item.find('-');
        auto first = parse_u64(std::string_view(item).substr(0, dash));
        auto last = dash == std::string::npos ? first : parse_u64(std::string_view(item).substr(dash + 1));
        if (!first || !last || *last < *first || *last > 8191) {
            return std::nullopt;
        }
        for (auto cpu = *first; cpu <= *last; ++cpu) {
            cpus.insert(static_cast<int>(cpu));
        }
    }
    if (cpus.empty() || text.back() == ',') {
        return std::nullopt;
    }
    return cpus;
}

/// A set of CPUs as the kernel prints it: "0-2,4".
std::string cpu_list_text(const std::set<int>& cpus)
{
    std::string text;
    for (auto it = cpus.begin(); it != cpus.end();) {
        int first = *it, last = *it;
        while (++it != cpus.end() && *it == last + 1) {
            last = *it;
        }
        text += (text.empty() ? "" : ",") + std::to_string(first) + (first == last ? "" : "-" + std::to_string(last));
    }
    return text;
}

}  // namespace

FakeCgroup2::FakeCgroup2(fs::path root) : FakeCgroup2(std::move(root), Options{}) {}

FakeCgroup2::FakeCgroup2(fs::path root, Options options) : root_(std::move(root)), options_(std::move(options))
{
    std::string listed;
    for (const auto& controller : kernel_order) {
        if (has(options_.controllers, controller)) {
            listed += (listed.empty() ? "" : " ") + controller;
        }
    }
    put(root_ / "cgroup.controllers", listed + "\n");
    put(root_ / "cgroup.subtree_control", "");
    put(root_ / "cgroup.procs", "");
    put(root_ / "cgroup.threads", "");
    put(root_ / "cgroup.stat", "nr_descendants 0\nnr_dying_descendants 0\n");
    put(root_ / "cgroup.max.depth", "max\n");
    put(root_ / "cgroup.max.descendants", "max\n");
    put(root_ / "cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
    if (has(options_.controllers, "cpuset")) {
        put(root_ / "cpuset.cpus.effective", options_.cpus + "\n");
        put(root_ / "cpuset.mems.effective", "0\n");
    }
    if (has(options_.controllers, "memory")) {
        put(root_ / "memory.stat", "anon 0\nfile 0\n");
    }
    processes_[1] = root_;  // init lives in the root cgroup
    refresh();
}

void FakeCgroup2::put(const fs::path& file, const std::string& text) const { std::ofstream(file) << text; }

std::string FakeCgroup2::get(const fs::path& file) const
{
    std::ifstream in(file);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool FakeCgroup2::is_cgroup(const fs::path& dir) const
{
    auto relative = dir.lexically_normal().lexically_relative(root_);
    bool inside = !relative.empty() && *relative.begin() != "..";
    return inside && fs::is_directory(dir) && fs::exists(dir / "cgroup.procs");
}

std::vector<fs::path> FakeCgroup2::children(const fs::path& dir) const
{
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.is_directory() && fs::exists(entry.path() / "cgroup.procs")) {
            found.push_back(entry.path());
        }
    }
    return found;
}

bool FakeCgroup2::holds_processes(const fs::path& dir, bool subtree) const
{
    return std::any_of(processes_.begin(), processes_.end(), [&](const auto& process) {
        auto relative = process.second.lexically_relative(dir);
        return subtree ? (!relative.empty() && *relative.begin() != "..") : process.second == dir;
    });
}

void FakeCgroup2::add_controller_files(const fs::path& dir, const std::string& controller) const
{
    if (controller == "memory") {
        for (const char* file : {"memory.current", "memory.min", "memory.low", "memory.swap.current"}) {
            put(dir / file, "0\n");
        }
        for (const char* file : {"memory.high", "memory.max", "memory.swap.max"}) {
            put(dir / file, "max\n");
        }
        put(dir / "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
        put(dir / "memory.stat", "anon 0\nfile 0\n");
    } else if (controller == "cpu") {
        put(dir / "cpu.max", "max 100000\n");
        put(dir / "cpu.weight", "100\n");
        put(dir / "cpu.weight.nice", "0\n");
    } else if (controller == "cpuset") {
        put(dir / "cpuset.cpus", "\n");
        put(dir / "cpuset.cpus.effective", get(dir.parent_path() / "cpuset.cpus.effective"));
        put(dir / "cpuset.mems", "\n");
        put(dir / "cpuset.mems.effective", get(dir.parent_path() / "cpuset.mems.effective"));
    } else if (controller == "pids") {
        put(dir / "pids.max", "max\n");
        put(dir / "pids.current", "0\n");
        put(dir / "pids.events", "max 0\n");
    } else if (controller == "io") {
        put(dir / "io.max", "");
        put(dir / "io.weight", "default 100\n");
        put(dir / "io.stat", "");
    }
}

void FakeCgroup2::remove_controller_files(const fs::path& dir, const std::string& controller) const
{
    for (const auto& entry : fs::directory_iterator(dir)) {
        std::string name = entry.path().filename().string();
        if (entry.is_regular_file() && name.rfind(controller + ".", 0) == 0 && name != "cpu.stat") {
            fs::remove(entry.path());
        }
    }
}

/// Recomputes what the kernel derives from the processes: cgroup.procs, pids.current,
/// and cgroup.events ("populated" when the subtree has a process, "frozen" when the
/// cgroup or an ancestor is frozen).
void FakeCgroup2::refresh() const
{
    auto visit = [&](auto& self, const fs::path& dir, bool parent_frozen) -> void {
        std::string procs;
        size_t in_subtree = 0;
        for (const auto& [pid, cgroup] : processes_) {
            procs += cgroup == dir ? std::to_string(pid) + "\n" : "";
            auto relative = cgroup.lexically_relative(dir);
            in_subtree += !relative.empty() && *relative.begin() != ".." ? 1 : 0;
        }
        put(dir / "cgroup.procs", procs);
        if (fs::exists(dir / "pids.current")) {
            put(dir / "pids.current", std::to_string(in_subtree) + "\n");
        }
        bool frozen = parent_frozen || (fs::exists(dir / "cgroup.freeze") && trim(get(dir / "cgroup.freeze")) == "1");
        if (dir != root_) {
            put(dir / "cgroup.events", "populated " + std::to_string(in_subtree > 0 ? 1 : 0) + "\nfrozen " +
                                           std::to_string(frozen ? 1 : 0) + "\n");
        }
        for (const auto& child : children(dir)) {
            self(self, child, frozen);
        }
    };
    visit(visit, root_, false);
}

bool FakeCgroup2::make_directory(const fs::path& dir)
{
    if (!is_cgroup(dir.parent_path())) {
        throw Error("mkdir", dir.string(), ENOENT);
    }
    if (fs::exists(dir)) {
        return false;
    }
    fs::create_directory(dir);
    std::string enabled = trim(get(dir.parent_path() / "cgroup.subtree_control"));
    put(dir / "cgroup.controllers", enabled + "\n");
    put(dir / "cgroup.subtree_control", "");
    put(dir / "cgroup.procs", "");
    put(dir / "cgroup.threads", "");
    put(dir / "cgroup.type", "domain\n");
    put(dir / "cgroup.freeze", "0\n");
    put(dir / "cgroup.stat", "nr_descendants 0\nnr_dying_descendants 0\n");
    put(dir / "cgroup.max.depth", "max\n");
    put(dir / "cgroup.max.descendants", "max\n");
    if (options_.cgroup_kill) {
        put(dir / "cgroup.kill", "");
    }
    put(dir / "cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
    for (const auto& controller : words_of(enabled)) {
        add_controller_files(dir, controller);
    }
    refresh();
    return true;
}

bool FakeCgroup2::remove_directory(const fs::path& dir)
{
    if (!is_cgroup(dir)) {
        return false;
    }
    if (dir.lexically_normal() == root_.lexically_normal() || !children(dir).empty() || holds_processes(dir, true)) {
        throw Error("rmdir", dir.string(), EBUSY);
    }
    fs::remove_all(dir);
    return true;
}

bool FakeCgroup2::exists(const fs::path& path) const { return fs::exists(path); }

std::string FakeCgroup2::read(const fs::path& file) const
{
    if (!fs::is_regular_file(file)) {
        throw Error("open", file.string(), fs::is_directory(file) ? EISDIR : ENOENT);
    }
    return get(file);
}

void FakeCgroup2::write(const fs::path& file, std::string_view value)
{
    std::string name = file.filename().string();
    fs::path dir = file.parent_path();
    if (!fs::is_regular_file(file) || !is_cgroup(dir)) {
        throw Error("open", file.string(), ENOENT);  // cgroupfs does not let anyone create files
    }
    if (read_only.count(name) != 0) {
        fail_write(file, value, EINVAL);
    }
    if (name == "cgroup.subtree_control") {
        write_subtree_control(dir, value);
    } else if (name == "cgroup.procs" || name == "cgroup.threads") {
        write_procs(dir, value);
    } else if (name == "cgroup.freeze") {
        write_freeze(dir, value);
    } else if (name == "cgroup.kill") {
        if (trim(value) != "1") {
            fail_write(file, value, EINVAL);
        }
        std::vector<pid_t> doomed;
        for (const auto& [pid, cgroup] : processes_) {
            auto relative = cgroup.lexically_relative(dir);
            if (!relative.empty() && *relative.begin() != "..") {
                doomed.push_back(pid);
            }
        }
        for (pid_t pid : doomed) {
            end_process(pid);
        }
    } else {
        write_limit(file, value);
    }
}

void FakeCgroup2::write_subtree_control(const fs::path& dir, std::string_view value)
{
    fs::path file = dir / "cgroup.subtree_control";
    auto offered = words_of(get(dir / "cgroup.controllers"));
    auto enabled = words_of(get(file));
    std::set<std::string> enable, disable;
    for (const auto& token : words_of(value)) {
        std::string name = token.substr(1);
        if (token.size() < 2 || (token[0] != '+' && token[0] != '-')) {
            fail_write(file, value, EINVAL);
        }
        if (token[0] == '+' && !has(offered, name)) {
            fail_write(file, value, ENOENT);  // the parent does not offer it
        }
        (token[0] == '+' ? enable : disable).insert(name);
    }
    bool new_domain = std::any_of(enable.begin(), enable.end(), [&](const std::string& name) {
        return domain_controllers.count(name) != 0 && !has(enabled, name);
    });
    if (new_domain && dir != root_ && holds_processes(dir, false)) {
        fail_write(file, value, EBUSY);  // no internal processes
    }
    for (const auto& child : children(dir)) {
        for (const auto& name : disable) {
            if (has(words_of(get(child / "cgroup.subtree_control")), name)) {
                fail_write(file, value, EBUSY);  // a child still hands it on
            }
        }
    }
    std::string now;
    for (const auto& name : kernel_order) {
        if ((has(enabled, name) || enable.count(name) != 0) && disable.count(name) == 0) {
            now += (now.empty() ? "" : " ") + name;
        }
    }
    put(file, now.empty() ? "" : now + "\n");
    for (const auto& child : children(dir)) {
        put(child / "cgroup.controllers", now + "\n");
        for (const auto& name : kernel_order) {
            bool was = has(enabled, name), is = has(words_of(now), name);
            if (!was && is) {
                add_controller_files(child, name);
            } else if (was && !is) {
                remove_controller_files(child, name);
            }
        }
    }
    refresh();
}

void FakeCgroup2::write_procs(const fs::path& dir, std::string_view value)
{
    fs::path file = dir / "cgroup.procs";
    auto pid = parse_u64(trim(value));
    if (!pid) {
        fail_write(file, value, EINVAL);
    }
    if (!alive(static_cast<pid_t>(*pid))) {
        fail_write(file, value, ESRCH);
    }
    auto enabled = words_of(get(dir / "cgroup.subtree_control"));
    bool hands_on_domain = std::any_of(enabled.begin(), enabled.end(),
                                       [](const std::string& name) { return domain_controllers.count(name) != 0; });
    if (dir != root_ && hands_on_domain) {
        fail_write(file, value, EBUSY);  // no internal processes
    }
    processes_[static_cast<pid_t>(*pid)] = dir.lexically_normal();
    refresh();
}

void FakeCgroup2::write_freeze(const fs::path& dir, std::string_view value)
{
    std::string v = trim(value);
    if (v != "0" && v != "1") {
        fail_write(dir / "cgroup.freeze", value, EINVAL);
    }
    put(dir / "cgroup.freeze", v + "\n");
    refresh();
}

void FakeCgroup2::write_limit(const fs::path& file, std::string_view value)
{
    std::string name = file.filename().string();
    std::string v = trim(value);
    auto parent_effective = [&] { return get(file.parent_path().parent_path() / "cpuset.cpus.effective"); };
    if (name == "memory.max" || name == "memory.high" || name == "memory.swap.max" || name == "memory.low" ||
        name == "memory.min") {
        auto bytes = memparse(v);
        if (v != "max" && !bytes) {
            fail_write(file, value, EINVAL);
        }
        put(file, v == "max" ? "max\n" : std::to_string(*bytes / page_size * page_size) + "\n");
    } else if (name == "cpu.max") {
        auto words = words_of(v);
        auto period = parse_u64(words.size() > 1 ? words[1] : words_of(get(file)).at(1));
        auto quota = words.empty() ? std::nullopt : parse_u64(words[0]);
        bool unlimited = !words.empty() && words[0] == "max";
        if (words.empty() || words.size() > 2 || !period || *period < 1000 || *period > 1000000 ||
            (!unlimited && (!quota || *quota < 1000))) {
            fail_write(file, value, EINVAL);
        }
        put(file, (unlimited ? "max" : std::to_string(*quota)) + " " + std::to_string(*period) + "\n");
    } else if (name == "cpu.weight") {
        auto weight = parse_u64(v);
        if (!weight) {
            fail_write(file, value, EINVAL);
        }
        if (*weight < 1 || *weight > 10000) {
            fail_write(file, value, ERANGE);
        }
        put(file, v + "\n");
    } else if (name == "cpuset.cpus") {
        auto wanted = cpus_of(v);
        auto allowed = cpus_of(trim(parent_effective()));
        if (!v.empty() && (!wanted || !allowed ||
                           !std::includes(allowed->begin(), allowed->end(), wanted->begin(), wanted->end()))) {
            fail_write(file, value, EINVAL);
        }
        put(file, (v.empty() ? "" : cpu_list_text(*wanted)) + "\n");
        std::string effective = v.empty() ? parent_effective() : cpu_list_text(*wanted) + "\n";
        put(file.parent_path() / "cpuset.cpus.effective", effective);
    } else if (name == "pids.max") {
        if (v != "max" && !parse_u64(v)) {
            fail_write(file, value, EINVAL);
        }
        put(file, v + "\n");
    } else {
        put(file, v + "\n");
    }
}

void FakeCgroup2::end_process(pid_t pid)
{
    processes_.erase(pid);
    killed_.push_back(pid);
    refresh();
}

void FakeCgroup2::kill(pid_t pid, int signal)
{
    if (signal != 0 && alive(pid)) {
        end_process(pid);  // every signal Dockling sends is fatal, and stays fatal when frozen
    }
}

pid_t FakeCgroup2::spawn(const fs::path& cgroup)
{
    if (!is_cgroup(cgroup) && cgroup != root_) {
        throw Error("spawn", cgroup.string(), ENOENT);
    }
    pid_t pid = next_pid_++;
    processes_[pid] = cgroup.lexically_normal();  // fork(2) puts the child in its parent's cgroup, no rule applies
    refresh();
    return pid;
}

void FakeCgroup2::oom_kill(const fs::path& cgroup)
{
    auto victim = std::find_if(processes_.begin(), processes_.end(),
                               [&](const auto& process) { return process.second == cgroup.lexically_normal(); });
    if (victim == processes_.end() || !fs::exists(cgroup / "memory.events")) {
        throw Error("oom_kill", cgroup.string(), ESRCH);
    }
    end_process(victim->first);
    // memory.events is hierarchical: the event counts in the cgroup and its ancestors.
    for (fs::path dir = cgroup; dir != root_; dir = dir.parent_path()) {
        std::map<std::string, std::uint64_t> events;
        auto words = words_of(get(dir / "memory.events"));
        for (size_t i = 0; i + 1 < words.size(); i += 2) {
            events[words[i]] = parse_u64(words[i + 1]).value_or(0);
        }
        events["max"] += 1;
        events["oom"] += 1;
        events["oom_kill"] += 1;
        std::string text;
        for (const char* key : {"low", "high", "max", "oom", "oom_kill", "oom_group_kill"}) {
            text += std::string(key) + " " + std::to_string(events[key]) + "\n";
        }
        put(dir / "memory.events", text);
    }
}

void FakeCgroup2::set_usage(const fs::path& cgroup, std::uint64_t memory_bytes, std::uint64_t cpu_usec)
{
    if (fs::exists(cgroup / "memory.current")) {
        put(cgroup / "memory.current", std::to_string(memory_bytes) + "\n");
    }
    put(cgroup / "cpu.stat", "usage_usec " + std::to_string(cpu_usec) + "\nuser_usec " + std::to_string(cpu_usec) +
                                 "\nsystem_usec 0\n");
}

}  // namespace dockling::test
