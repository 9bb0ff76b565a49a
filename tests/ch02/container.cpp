#include "container.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

namespace fs = std::filesystem;

namespace dockling::test::ch02 {

namespace {

/// Where there is certainly no config file: tests must not depend on /etc/dockling.
std::string no_config() { return (fs::temp_directory_path() / "dockling-test-no-config.json").string(); }

std::vector<std::string> run_args(const std::vector<std::string>& options, const fs::path& rootfs,
                                  const std::vector<std::string>& command)
{
    std::vector<std::string> args{"--config", no_config(), "run", "--rootfs", rootfs.string()};
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), command.begin(), command.end());
    return args;
}

fs::path enterable_copy(const TempDir& dir)
{
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
    fs::path rootfs = copy_of_busybox_rootfs(dir);
    fs::permissions(rootfs, fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                                fs::perms::others_exec, fs::perm_options::add);
    return rootfs;
}

std::vector<std::string> dockling_command(const std::vector<std::string>& args)
{
    std::vector<std::string> argv{dockling_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

}  // namespace

Outcome run_in_busybox(const std::vector<std::string>& options, const std::vector<std::string>& command,
                       const std::string& input)
{
    return run_dockling(run_args(options, busybox_rootfs(), command), input);
}

RunningContainer::RunningContainer(const std::vector<std::string>& options, const std::string& script)
    : rootfs_(enterable_copy(dir_)),
      dockling_(dockling_command(run_args(options, rootfs_, {"/bin/sh", "-c", "echo ready > /tmp/ready; " + script})))
{
    wait_for_file(file("ready"));
    pid_ = first_child_pid(dockling_.pid());
}

RunningContainer::~RunningContainer()
{
    if (pid_ <= 0) {
        return;
    }
    // Kill PID 1 (the kernel then kills the whole namespace) and let dockling end by
    // itself, cleaning up what its mechanisms made; killing dockling would prevent that.
    ::kill(pid_, SIGKILL);
    try {
        dockling_.wait();
    } catch (...) {  // a timeout: Background's destructor kills dockling after all
    }
}

Outcome RunningContainer::wait()
{
    Outcome outcome = dockling_.wait();
    pid_ = -1;
    return outcome;
}

std::string namespace_of(pid_t pid, const std::string& ns)
{
    return fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/" + ns).string();
}

std::vector<pid_t> processes_in_pid_namespace_of(pid_t pid)
{
    std::string ns = namespace_of(pid, "pid");
    std::vector<pid_t> found;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::error_code ec;
        if (fs::read_symlink(entry.path() / "ns/pid", ec).string() == ns && !ec) {
            found.push_back(std::stoi(name));
        }
    }
    return found;
}

char process_state(pid_t pid)
{
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    auto end_of_name = stat.rfind(") ");
    return end_of_name == std::string::npos ? 0 : stat[end_of_name + 2];
}

std::vector<std::string> host_mounts_under(const fs::path& dir)
{
    std::istringstream mounts(read_file("/proc/self/mountinfo"));
    std::vector<std::string> found;
    for (std::string line; std::getline(mounts, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, mount_point;
        fields >> id >> parent >> device >> root >> mount_point;
        if (mount_point.rfind(dir.string(), 0) == 0) {
            found.push_back(line);
        }
    }
    return found;
}

std::string status_field(pid_t pid, const std::string& field)
{
    std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
    for (std::string line; std::getline(status, line);) {
        if (line.rfind(field + ":", 0) == 0) {
            auto value = line.find_first_not_of(" \t", field.size() + 1);
            return value == std::string::npos ? "" : line.substr(value);
        }
    }
    return "";
}

std::string mount_at(const std::string& mountinfo, const std::string& path)
{
    std::istringstream lines(mountinfo);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, mount_point;
        fields >> id >> parent >> device >> root >> mount_point;
        if (mount_point == path) {
            return line;
        }
    }
    return "";
}

std::string mount_options(const std::string& line)
{
    std::istringstream fields(line);
    std::string skip, options;
    for (int i = 0; i < 5; ++i) {
        fields >> skip;
    }
    fields >> options;
    return options;
}

bool has_option(const std::string& options, const std::string& option)
{
    return ("," + options + ",").find("," + option + ",") != std::string::npos;
}

std::vector<std::string> names_in(const fs::path& dir)
{
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace dockling::test::ch02
