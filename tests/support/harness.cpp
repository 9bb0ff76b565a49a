#include "harness.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace dockling::test {

/// The chapter a test executable belongs to (written by tests/CMakeLists.txt).
extern const int default_chapter;

namespace {

void make_pipe(int fds[2])
{
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    }
}

[[noreturn]] void exec_child(const std::vector<std::string>& argv, int in, int out, int err)
{
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "test harness: exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
}

/// Feeds `input` to the child and drains its stdout and stderr until both close.
void pump(int to_child, int from_out, int from_err, const std::string& input, Outcome& outcome,
          std::chrono::steady_clock::time_point deadline, pid_t pid)
{
    size_t written = 0;
    if (input.empty()) {
        ::close(to_child);
        to_child = -1;
    }
    while (from_out >= 0 || from_err >= 0) {
        pollfd fds[3] = {{from_out, POLLIN, 0}, {from_err, POLLIN, 0}, {to_child, POLLOUT, 0}};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::kill(pid, SIGKILL);
            FAIL("timed out; killed PID " << pid);
        }
        if (::poll(fds, 3, static_cast<int>(left.count())) < 0 && errno != EINTR) {
            FAIL("poll: " << std::strerror(errno));
        }
        char buffer[4096];
        for (int i = 0; i < 2; ++i) {
            int& fd = i == 0 ? from_out : from_err;
            if (fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP))) {
                ssize_t n = ::read(fd, buffer, sizeof buffer);
                if (n <= 0) {
                    ::close(fd);
                    fd = -1;
                } else {
                    (i == 0 ? outcome.out : outcome.err).append(buffer, static_cast<size_t>(n));
                }
            }
        }
        if (to_child >= 0 && (fds[2].revents & (POLLOUT | POLLERR))) {
            ssize_t n = ::write(to_child, input.data() + written, input.size() - written);
            written += n > 0 ? static_cast<size_t>(n) : 0;
            if (n < 0 || written == input.size()) {
                ::close(to_child);
                to_child = -1;
            }
        }
    }
    if (to_child >= 0) {
        ::close(to_child);
    }
}

}  // namespace

Outcome run_program(const std::vector<std::string>& argv, const std::string& input, std::chrono::seconds timeout)
{
    int in[2], out[2], err[2];
    make_pipe(in);
    make_pipe(out);
    make_pipe(err);
    ::signal(SIGPIPE, SIG_IGN);
    pid_t pid = ::fork();
    if (pid == 0) {
        exec_child(argv, in[0], out[1], err[1]);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    Outcome outcome;
    pump(in[1], out[0], err[0], input, outcome, std::chrono::steady_clock::now() + timeout, pid);
    int status = 0;
    ::waitpid(pid, &status, 0);
    outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return outcome;
}

std::filesystem::path build_file(const std::string& relative)
{
    return std::filesystem::path(DOCKLING_BUILD_DIR) / relative;
}

std::filesystem::path dockling_binary()
{
    if (const char* bin = std::getenv("DOCKLING_BIN"); bin != nullptr && *bin != '\0') {
        return bin;
    }
    int chapter = chapter_under_test();
    return build_file(chapter >= 99 ? "bin/dockling" : "bin/dockling-ch" + std::to_string(chapter));
}

int chapter_under_test()
{
    const char* chapter = std::getenv("DOCKLING_CHAPTER");
    return chapter != nullptr ? std::atoi(chapter) : default_chapter;
}

Outcome run_dockling(const std::vector<std::string>& args, const std::string& input, std::chrono::seconds timeout)
{
    std::vector<std::string> argv{dockling_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, input, timeout);
}

const std::filesystem::path& busybox_rootfs()
{
    static const std::filesystem::path rootfs = [] {
        std::filesystem::path path = build_file("fixtures/busybox-rootfs");
        if (!std::filesystem::exists(path / "bin/busybox")) {
            std::string script = std::string(DOCKLING_SOURCE_DIR) + "/tests/fixtures/make-rootfs.sh";
            Outcome made = run_program({script, path.string()});
            if (made.exit_code != 0) {
                throw std::runtime_error("make-rootfs.sh failed: " + made.err);
            }
        }
        return path;
    }();
    return rootfs;
}

TempDir::TempDir()
{
    std::string pattern = (std::filesystem::temp_directory_path() / "dockling-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    }
    path_ = pattern;
}

TempDir::~TempDir()
{
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path copy_of_busybox_rootfs(const TempDir& dir)
{
    auto copy = dir.path() / "rootfs";
    Outcome copied = run_program({"cp", "-a", busybox_rootfs().string(), copy.string()});
    if (copied.exit_code != 0) {
        throw std::runtime_error("cp -a failed: " + copied.err);
    }
    return copy;
}

void write_file(const std::filesystem::path& path, const std::string& text)
{
    std::ofstream(path) << text;
}

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

Background::Background(const std::vector<std::string>& argv)
{
    char out_template[] = "/tmp/dockling-bg-out-XXXXXX";
    char err_template[] = "/tmp/dockling-bg-err-XXXXXX";
    int out = ::mkostemp(out_template, O_CLOEXEC);
    int err = ::mkostemp(err_template, O_CLOEXEC);
    int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    out_path_ = out_template;
    err_path_ = err_template;
    pid_ = ::fork();
    if (pid_ == 0) {
        exec_child(argv, in, out, err);
    }
    ::close(in);
    ::close(out);
    ::close(err);
}

Background::~Background()
{
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove(out_path_);
    std::filesystem::remove(err_path_);
}

void Background::signal(int sig) const { ::kill(pid_, sig); }

Outcome Background::wait(std::chrono::seconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            FAIL("PID " << pid_ << " still running after the timeout");
        }
        ::usleep(10000);
    }
    pid_ = -1;
    Outcome outcome;
    outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    outcome.out = read_file(out_path_);
    outcome.err = read_file(err_path_);
    return outcome;
}

std::string wait_for_file(const std::filesystem::path& path, std::chrono::seconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (std::string text = read_file(path); !text.empty()) {
            return text;
        }
        ::usleep(10000);
    }
    FAIL("nothing appeared in " << path);
    return {};
}

pid_t first_child_pid(pid_t parent, std::chrono::seconds timeout)
{
    // The kernel lists a thread's children in /proc/PID/task/TID/children.
    auto path = "/proc/" + std::to_string(parent) + "/task/" + std::to_string(parent) + "/children";
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (std::string children = read_file(path); !children.empty()) {
            return static_cast<pid_t>(std::stol(children));
        }
        ::usleep(10000);
    }
    FAIL("process " << parent << " has no child");
    return -1;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool one_line(const std::string& text) { return !text.empty() && text.find('\n') == text.size() - 1; }

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

bool running_as_root() { return ::geteuid() == 0; }

}  // namespace dockling::test
