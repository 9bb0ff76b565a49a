#include "cgroup_layout.hpp"

#include "doctor.hpp"
#include "error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <sstream>

namespace dockling {

namespace {

/// Every controller the kernel has had for cgroup v1; anything else among a cgroup
/// mount's options is a mount option ("rw", "nsdelegate") or a name ("name=systemd").
const std::set<std::string, std::less<>> known_controllers = {
    "cpuset", "cpu", "cpuacct", "blkio", "io", "memory", "devices", "freezer", "net_cls",
    "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc"};

std::vector<std::string> split(std::string_view text, char separator)
{
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        size_t end = text.find(separator, start);
        parts.emplace_back(text.substr(start, end - start));
        if (end == std::string_view::npos) {
            return parts;
        }
        start = end + 1;
    }
}

bool is_octal_digit(char c) { return c >= '0' && c <= '7'; }

/// mountinfo writes a space in a path as \040 (and tab, newline, backslash likewise).
std::string unescape_octal(std::string_view text)
{
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 4 <= text.size() && is_octal_digit(text[i + 1]) &&
            is_octal_digit(text[i + 2]) && is_octal_digit(text[i + 3])) {
            out += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0'));
            i += 3;
        } else {
            out += text[i];
        }
    }
    return out;
}

/// The fields of one mountinfo line that matter here.
struct MountLine {
    std::string root, mount_point, fstype, super_options;
};

std::optional<MountLine> parse_mount_line(std::string_view line)
{
    std::vector<std::string> fields = split_words(line);
    // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER-OPTIONS"
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 6 || dash == fields.end() || fields.end() - dash < 4) {
        return std::nullopt;
    }
    return MountLine{unescape_octal(fields[3]), unescape_octal(fields[4]), *(dash + 1), *(dash + 3)};
}

}  // namespace

std::vector<std::string> split_words(std::string_view text)
{
    std::vector<std::string> words;
    std::istringstream in{std::string(text)};
    for (std::string word; in >> word;) {
        words.push_back(word);
    }
    return words;
}

bool CgroupHierarchy::has(std::string_view controller) const
{
    return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

//! [parse-mounts]
CgroupLayout parse_cgroup_mounts(std::string_view mountinfo)
{
    CgroupLayout layout;
    for (const std::string& text : split(mountinfo, '\n')) {
        auto mount = parse_mount_line(text);
        if (!mount) {
            continue;
        }
        if (mount->fstype == "cgroup2" && !layout.v2) {
            layout.v2 = CgroupHierarchy{CgroupVersion::v2, mount->mount_point, mount->root, {}};
        } else if (mount->fstype == "cgroup") {
            // A v1 hierarchy's controllers are among its mount options: "rw,cpu,cpuacct".
            CgroupHierarchy hierarchy{CgroupVersion::v1, mount->mount_point, mount->root, {}};
            for (const std::string& option : split(mount->super_options, ',')) {
                if (known_controllers.contains(option)) {
                    hierarchy.controllers.push_back(option);
                }
            }
            bool seen = std::any_of(layout.v1.begin(), layout.v1.end(), [&](const auto& other) {
                return other.controllers == hierarchy.controllers;  // the same hierarchy mounted twice
            });
            if (!hierarchy.controllers.empty() && !seen) {
                layout.v1.push_back(std::move(hierarchy));
            }
        }
    }
    return layout;
}
//! [parse-mounts]

CgroupLayout detect_cgroup_layout(CgroupFs& fs)
{
    CgroupLayout layout = parse_cgroup_mounts(read_small_file("/proc/self/mountinfo"));
    if (layout.v2) {
        layout.v2->controllers = split_words(fs.read(layout.v2->mount_point / "cgroup.controllers"));
    }
    return layout;
}

CgroupLayout unified_layout(const std::filesystem::path& mount_point, CgroupFs& fs)
{
    CgroupLayout layout;
    layout.v2 = CgroupHierarchy{CgroupVersion::v2, mount_point, "/",
                                split_words(fs.read(mount_point / "cgroup.controllers"))};
    return layout;
}

CgroupMode CgroupLayout::mode() const
{
    if (!v1.empty()) {
        return v2 ? CgroupMode::hybrid : CgroupMode::legacy;
    }
    return v2 ? CgroupMode::unified : CgroupMode::none;
}

CgroupVersion CgroupLayout::version() const { return v1.empty() ? CgroupVersion::v2 : CgroupVersion::v1; }

const CgroupHierarchy* CgroupLayout::find(std::string_view controller) const
{
    if (version() == CgroupVersion::v2) {
        return v2 && v2->has(controller) ? &*v2 : nullptr;
    }
    auto found = std::find_if(v1.begin(), v1.end(), [&](const auto& h) { return h.has(controller); });
    return found == v1.end() ? nullptr : &*found;
}

std::vector<CgroupHierarchy> CgroupLayout::container_hierarchies() const
{
    if (version() == CgroupVersion::v2) {
        return v2 ? std::vector<CgroupHierarchy>{*v2} : std::vector<CgroupHierarchy>{};
    }
    std::vector<CgroupHierarchy> used;
    for (const auto& hierarchy : v1) {
        if (std::any_of(std::begin(v1_controllers), std::end(v1_controllers),
                        [&](std::string_view c) { return hierarchy.has(c); })) {
            used.push_back(hierarchy);
        }
    }
    return used;
}

CgroupLayout CgroupLayout::unified_only() const
{
    CgroupLayout layout;
    layout.v2 = v2;
    return layout;
}

std::string CgroupLayout::describe() const
{
    std::vector<std::string> v1_names;
    for (const auto& hierarchy : v1) {
        v1_names.insert(v1_names.end(), hierarchy.controllers.begin(), hierarchy.controllers.end());
    }
    std::string v2_text;
    if (v2) {
        std::string controllers = fmt::format("{}", fmt::join(v2->controllers, " "));
        v2_text = fmt::format("cgroup2 at {} ({})", v2->mount_point.string(),
                              controllers.empty() ? "no controllers" : controllers);
    }
    switch (mode()) {
    case CgroupMode::none:
        return "no cgroup filesystem is mounted";
    case CgroupMode::legacy:
        return fmt::format("legacy: cgroup v1 controllers {}", fmt::join(v1_names, " "));
    case CgroupMode::hybrid:
        return fmt::format("hybrid: cgroup v1 controllers {}; {}", fmt::join(v1_names, " "), v2_text);
    case CgroupMode::unified:
        return "unified: " + v2_text;
    }
    return "";
}

std::vector<ProcessCgroup> parse_proc_cgroup(std::string_view text)
{
    std::vector<ProcessCgroup> found;
    for (const std::string& line : split(text, '\n')) {
        // "4:memory:/dockling/3f2a...", "1:cpu,cpuacct:/", "0::/user.slice/..."
        size_t first = line.find(':');
        size_t second = first == std::string::npos ? first : line.find(':', first + 1);
        if (second == std::string::npos) {
            continue;
        }
        std::string names = line.substr(first + 1, second - first - 1);
        ProcessCgroup entry{names.empty() ? std::vector<std::string>{} : split(names, ','), line.substr(second + 1)};
        found.push_back(std::move(entry));
    }
    return found;
}

std::filesystem::path process_cgroup_dir(const CgroupLayout& layout, pid_t pid, std::string_view controller)
{
    const CgroupHierarchy* hierarchy = layout.version() == CgroupVersion::v2 && layout.v2 ? &*layout.v2
                                                                                          : layout.find(controller);
    if (hierarchy == nullptr) {
        throw Error(fmt::format("no cgroup hierarchy holds the {} controller", controller));
    }
    std::string proc_file = fmt::format("/proc/{}/cgroup", pid);
    std::string text = read_small_file(proc_file);
    if (text.empty()) {
        throw Error("read", proc_file, ESRCH);
    }
    for (const auto& entry : parse_proc_cgroup(text)) {
        bool match = hierarchy->version == CgroupVersion::v2
                         ? entry.controllers.empty()
                         : std::count(entry.controllers.begin(), entry.controllers.end(), controller) > 0;
        if (!match) {
            continue;
        }
        // The path is from the hierarchy's root; the mount shows the subtree at `root`.
        auto relative = std::filesystem::path(entry.path).lexically_relative(hierarchy->root);
        if (relative.empty() || *relative.begin() == "..") {
            throw Error(fmt::format("process {} is in {}, outside the mounted part of its hierarchy", pid, entry.path));
        }
        return relative == "." ? hierarchy->mount_point : hierarchy->mount_point / relative;
    }
    throw Error(fmt::format("process {} has no {} cgroup in {}", pid, controller, proc_file));
}

}  // namespace dockling
