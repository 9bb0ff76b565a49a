#include "support.hpp"

#include "cgroup.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>

namespace dockling::test {

namespace fs = std::filesystem;

const CgroupLayout& host_layout()
{
    static const CgroupLayout layout = detect_cgroup_layout();
    return layout;
}

bool host_is_v1() { return host_layout().version() == CgroupVersion::v1; }

namespace {

/// Field 4 of /proc/PID/stat (the parent PID) and field 3 (the state); the command
/// name before them is in parentheses and may hold spaces.
std::optional<std::pair<char, pid_t>> state_and_parent(pid_t pid)
{
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream rest(stat.substr(close + 1));
    char state = 0;
    pid_t parent = 0;
    rest >> state >> parent;
    return std::pair{state, parent};
}

}  // namespace

std::vector<pid_t> descendants(pid_t pid)
{
    std::vector<pid_t> found{pid};
    for (size_t i = 0; i < found.size(); ++i) {
        for (const auto& entry : fs::directory_iterator("/proc")) {
            std::string name = entry.path().filename().string();
            if (name.find_first_not_of("0123456789") != std::string::npos) {
                continue;
            }
            auto info = state_and_parent(std::stoi(name));
            if (info && info->second == found[i]) {
                found.push_back(std::stoi(name));
            }
        }
    }
    found.erase(found.begin());
    return found;
}

bool has_exited(pid_t pid)
{
    auto info = state_and_parent(pid);
    return !info || info->first == 'Z';
}

std::vector<pid_t> pids_in(const fs::path& file)
{
    std::vector<pid_t> pids;
    std::istringstream in(read_file(file));
    for (pid_t pid = 0; in >> pid;) {
        pids.push_back(pid);
    }
    return pids;
}

std::string cgroup_value(const fs::path& file)
{
    std::string text = read_file(file);
    while (!text.empty() && text.back() == '\n') {
        text.pop_back();
    }
    return text;
}

TestChild::TestChild(std::function<void()> body)
{
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
        for (int sig : {SIGTERM, SIGSEGV, SIGINT, SIGABRT}) {
            ::signal(sig, SIG_DFL);  // Catch2's handlers must not outlive the fork
        }
        ::close(fds[1]);
        char go = 0;
        if (::read(fds[0], &go, 1) == 1) {
            body();
        }
        for (;;) {
            ::pause();
        }
    }
    ::close(fds[0]);
    go_fd_ = fds[1];
}

TestChild::~TestChild()
{
    if (go_fd_ >= 0) {
        ::close(go_fd_);
    }
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

void TestChild::go()
{
    REQUIRE(::write(go_fd_, "g", 1) == 1);
}

int TestChild::wait()
{
    int status = 0;
    REQUIRE(::waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    return status;
}

void touch_memory(size_t bytes)
{
    void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory != MAP_FAILED) {
        std::memset(memory, 1, bytes);  // every page written, so every page charged
    }
}

void burn_cpu(std::chrono::milliseconds duration)
{
    auto cpu_time = [] {
        timespec now{};
        ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
        return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
    };
    auto end = cpu_time() + duration;
    volatile unsigned long spins = 0;  // a loop with a side effect: the compiler keeps it
    while (duration.count() == 0 || cpu_time() < end) {
        spins = spins + 1;
    }
}

RunningContainer::RunningContainer(const std::vector<std::string>& options, const std::string& script)
{
    std::vector<std::string> argv{dockling_binary().string(), "run", "--rootfs", busybox_rootfs().string()};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.insert(argv.end(), {"/bin/sh", "-c", script});
    dockling_.emplace(argv);
    try {
        wait_until_ready();
        find_cgroups();
    } catch (...) {
        shut_down();  // the destructor will not run: leave nothing behind
        throw;
    }
}

void RunningContainer::wait_until_ready()
{
    // Until it execs, the container's process is a copy of dockling: same executable.
    fs::path dockling_exe = fs::canonical(dockling_binary());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
        for (pid_t pid : descendants(dockling_pid())) {
            std::error_code error;
            fs::path exe = fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", error);
            if (!error && exe != dockling_exe) {
                main_pid_ = pid;
                return;
            }
        }
        if (has_exited(dockling_pid())) {
            Outcome ended = wait();
            FAIL("dockling ended before the container ran: exit " << ended.exit_code << ", " << ended.err);
        }
        if (std::chrono::steady_clock::now() > deadline) {
            FAIL("the container did not start within 30 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void RunningContainer::find_cgroups()
{
    std::vector<std::string> controllers;
    if (host_is_v1()) {
        controllers = {"memory", "cpu", "cpuacct", "cpuset", "pids", "freezer"};
    } else {
        controllers = {"memory"};  // on v2 one directory serves them all
    }
    for (const auto& controller : controllers) {
        if (host_layout().find(controller) == nullptr) {
            continue;
        }
        fs::path dir = process_cgroup_dir(host_layout(), main_pid_, controller);
        if (dir.parent_path().filename() != "dockling") {
            FAIL("the container (PID " << main_pid_ << ") is in " << dir << ", not in a cgroup below dockling/");
        }
        cgroups_[controller] = dir;
    }
}

fs::path RunningContainer::cgroup(std::string_view controller) const
{
    auto found = cgroups_.find(host_is_v1() ? controller : "memory");
    if (found == cgroups_.end()) {
        FAIL("the container has no cgroup for " << controller);
    }
    return found->second;
}

std::vector<fs::path> RunningContainer::cgroup_dirs() const
{
    std::vector<fs::path> dirs;
    for (const auto& [controller, dir] : cgroups_) {
        if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) {
            dirs.push_back(dir);
        }
    }
    return dirs;
}

std::vector<pid_t> RunningContainer::processes() const { return pids_in(cgroup("pids") / "cgroup.procs"); }

Outcome RunningContainer::kill()
{
    ::kill(main_pid_, SIGKILL);
    return wait();
}

Outcome RunningContainer::wait()
{
    ended_ = true;
    return dockling_->wait(std::chrono::seconds(60));
}

RunningContainer::~RunningContainer() { shut_down(); }

void RunningContainer::shut_down() noexcept
{
    if (!ended_ && dockling_) {
        if (main_pid_ > 0) {
            ::kill(main_pid_, SIGKILL);
        }
        dockling_->signal(SIGTERM);
        for (int i = 0; i < 1000 && !has_exited(dockling_pid()); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (has_exited(dockling_pid())) {
            ended_ = true;
            try {
                dockling_->wait();
            } catch (...) {
            }
        }
    }
    dockling_.reset();  // kills dockling if it is still there
    // Whatever dockling did not clean up, the test does: nothing may stay behind.
    for (const auto& dir : cgroup_dirs()) {
        if (fs::exists(dir)) {
            try {
                Cgroup::open(host_layout(), fs::path("dockling") / dir.filename()).remove();
            } catch (const std::exception& error) {
                WARN("could not remove " << dir << ": " << error.what());
            }
        }
    }
}

}  // namespace dockling::test
