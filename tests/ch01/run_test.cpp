// Chapter 01 integration tests: run the real binary as root and look from outside.
#include "harness.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

using dockling::test::run_dockling;
using dockling::test::one_line;
using dockling::test::Outcome;
namespace fs = std::filesystem;

namespace {

/// `dockling run --rootfs <busybox> ARGS...`
Outcome run_in_busybox(const std::vector<std::string>& args, const std::string& input = {})
{
    std::vector<std::string> full{"run", "--rootfs", dockling::test::busybox_rootfs().string()};
    full.insert(full.end(), args.begin(), args.end());
    return run_dockling(full, input);
}

}  // namespace

TEST_CASE("the command's exit code becomes dockling's", "[ch01][run]")
{
    DOCKLING_REQUIRE_ROOT();
    CHECK(run_in_busybox({"/bin/true"}).exit_code == 0);
    CHECK(run_in_busybox({"/bin/false"}).exit_code == 1);
    CHECK(run_in_busybox({"/bin/sh", "-c", "exit 42"}).exit_code == 42);
}

TEST_CASE("a command killed by a signal exits 128+N", "[ch01][run][ex1.1]")
{
    DOCKLING_REQUIRE_ROOT();
    // Killed from outside, by the host.
    dockling::test::TempDir dir;
    fs::path rootfs = dockling::test::copy_of_busybox_rootfs(dir);
    dockling::test::Background container({dockling::test::dockling_binary().string(), "run", "--rootfs",
                                          rootfs.string(), "/bin/sh", "-c", "echo ready > /ready; exec sleep 30"});
    dockling::test::wait_for_file(rootfs / "ready");
    ::kill(dockling::test::first_child_pid(container.pid()), SIGKILL);
    CHECK(container.wait().exit_code == 137);

    // Killed by itself. From chapter 02 on the command is PID 1 of a PID namespace, and
    // the kernel spares PID 1 the signals it sends itself: chapter 02's tests show that.
    if (dockling::test::chapter_under_test() < 2) {
        CHECK(run_in_busybox({"/bin/sh", "-c", "kill -KILL $$"}).exit_code == 137);
        CHECK(run_in_busybox({"/bin/sh", "-c", "kill -TERM $$"}).exit_code == 143);
    }
}

TEST_CASE("a bare command name is found on the container's PATH", "[ch01][run][ex1.2]")
{
    DOCKLING_REQUIRE_ROOT();
    Outcome ran = run_in_busybox({"echo", "found", "on", "PATH"});
    CHECK(ran.exit_code == 0);
    CHECK(ran.out == "found on PATH\n");
}

TEST_CASE("a command that does not exist exits 127 with one line", "[ch01][run][ex1.2]")
{
    DOCKLING_REQUIRE_ROOT();
    Outcome ran = run_in_busybox({"no-such-command"});
    CHECK(ran.exit_code == 127);
    CHECK(ran.err.find("exec: \"no-such-command\": executable file not found in $PATH") != std::string::npos);
    CHECK(one_line(ran.err));
}

TEST_CASE("a path that does not exist exits 127, a file that cannot run 126", "[ch01][run]")
{
    DOCKLING_REQUIRE_ROOT();
    Outcome missing = run_in_busybox({"/bin/no-such-program"});
    CHECK(missing.exit_code == 127);
    CHECK(missing.err.find("exec /bin/no-such-program: No such file or directory") != std::string::npos);
    CHECK(one_line(missing.err));

    Outcome not_executable = run_in_busybox({"/etc/passwd"});
    CHECK(not_executable.exit_code == 126);
    CHECK(not_executable.err.find("exec /etc/passwd: Permission denied") != std::string::npos);
    CHECK(one_line(not_executable.err));

    Outcome directory = run_in_busybox({"/etc"});
    CHECK(directory.exit_code == 126);
    CHECK(one_line(directory.err));
}

TEST_CASE("dockling's own errors exit 125 with one line naming the problem", "[ch01][run][errors]")
{
    dockling::test::TempDir dir;
    dockling::test::write_file(dir.path() / "file", "x");
    struct Case {
        std::vector<std::string> args;
        std::string says;
    };
    std::vector<Case> cases{
        {{"run", "--rootfs", "/nonexistent/rootfs", "/bin/true"}, "rootfs /nonexistent/rootfs: No such file or directory"},
        {{"run", "--rootfs", (dir.path() / "file").string(), "/bin/true"}, "not a directory"},
        // From chapter 05 on, without --rootfs the first word names an image.
        {{"run", "/bin/true"}, dockling::test::chapter_under_test() >= 5 ? "invalid reference format \"/bin/true\""
                                                                         : "no root filesystem: give one with --rootfs DIR"},
        {{"run", "--rootfs", dir.path().string()}, "command is required"},
        {{"run", "--no-such-flag", "/bin/true"}, "--no-such-flag"},
        {{"run", "--rootfs", dir.path().string(), "-w", "relative", "/bin/true"}, "needs to be an absolute path"},
        {{"no-such-command"}, "no-such-command"},
        {{}, "A subcommand is required"},
    };
    for (const auto& c : cases) {
        INFO("dockling " << [&] { std::string s; for (auto& a : c.args) s += a + " "; return s; }());
        Outcome ran = run_dockling(c.args);
        CHECK(ran.exit_code == 125);
        CHECK(ran.err.find(c.says) != std::string::npos);
        CHECK(one_line(ran.err));
        CHECK(ran.out.empty());
    }
}

TEST_CASE("the container's root is the rootfs", "[ch01][run]")
{
    DOCKLING_REQUIRE_ROOT();
    // A file only the fixture rootfs has.
    Outcome ran = run_in_busybox({"/bin/cat", "/etc/dockling-rootfs"});
    CHECK(ran.exit_code == 0);
    CHECK(ran.out.rfind("dockling test rootfs", 0) == 0);

    // From outside: the kernel's own record of the process's root.
    dockling::test::TempDir dir;
    fs::path rootfs = dockling::test::copy_of_busybox_rootfs(dir);
    dockling::test::Background container({dockling::test::dockling_binary().string(), "run", "--rootfs",
                                          rootfs.string(), "/bin/sh", "-c",
                                          "trap 'exit 0' TERM; echo $$ > /pid; while true; do sleep 0.1; done"});
    std::string pid = dockling::test::wait_for_file(rootfs / "pid");
    pid.pop_back();
    if (dockling::test::chapter_under_test() < 2) {  // later chapters use a PID namespace: $$ is 1 there
        CHECK(fs::read_symlink("/proc/" + pid + "/root") == rootfs);
    }
    // End the container, not only dockling: a dockling killed with SIGKILL cannot clean
    // up, and its container would outlive the test (with its cgroup, from chapter 03 on).
    container.signal(SIGTERM);
    CHECK(container.wait().exit_code == 0);
}

TEST_CASE("the environment is Docker's defaults plus --env, nothing of the caller's", "[ch01][run]")
{
    DOCKLING_REQUIRE_ROOT();
    ::setenv("DOCKLING_TEST_SECRET", "leaked", 1);
    Outcome ran = run_in_busybox({"/usr/bin/env"});
    ::unsetenv("DOCKLING_TEST_SECRET");
    CHECK(ran.exit_code == 0);
    CHECK(ran.out.find("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n") != std::string::npos);
    CHECK(ran.out.find("HOME=/root\n") != std::string::npos);
    CHECK(ran.out.find("DOCKLING_TEST_SECRET") == std::string::npos);
}

TEST_CASE("--env sets, overrides and passes variables", "[ch01][run][ex1.3]")
{
    DOCKLING_REQUIRE_ROOT();
    ::setenv("DOCKLING_TEST_PASSED", "from-caller", 1);
    Outcome ran = run_in_busybox({"-e", "GREETING=hello world", "--env", "HOME=/home/x", "-e", "DOCKLING_TEST_PASSED",
                                  "-e", "DOCKLING_TEST_UNSET", "/usr/bin/env"});
    ::unsetenv("DOCKLING_TEST_PASSED");
    CHECK(ran.exit_code == 0);
    CHECK(ran.out.find("GREETING=hello world\n") != std::string::npos);
    CHECK(ran.out.find("HOME=/home/x\n") != std::string::npos);
    CHECK(ran.out.find("HOME=/root") == std::string::npos);
    CHECK(ran.out.find("DOCKLING_TEST_PASSED=from-caller\n") != std::string::npos);
    CHECK(ran.out.find("DOCKLING_TEST_UNSET") == std::string::npos);

    // --env takes one value: right before the command, the command keeps its own flags.
    Outcome before_command = run_in_busybox({"-e", "A=1", "-e", "B=2", "/bin/sh", "-c", "echo $A$B"});
    CHECK(before_command.exit_code == 0);
    CHECK(before_command.out == "12\n");

    Outcome bad = run_in_busybox({"-e", "=x", "/bin/true"});
    CHECK(bad.exit_code == 125);
    CHECK(bad.err.find("invalid environment variable: =x") != std::string::npos);
}

TEST_CASE("stdin, stdout and stderr are the container's", "[ch01][run]")
{
    DOCKLING_REQUIRE_ROOT();
    Outcome cat = run_in_busybox({"/bin/cat"}, "line one\nline two\n");
    CHECK(cat.exit_code == 0);
    CHECK(cat.out == "line one\nline two\n");

    Outcome split = run_in_busybox({"/bin/sh", "-c", "echo to-out; echo to-err >&2"});
    CHECK(split.out == "to-out\n");
    CHECK(split.err == "to-err\n");
}

TEST_CASE("the options stop at the command: its flags are its own", "[ch01][run]")
{
    DOCKLING_REQUIRE_ROOT();
    Outcome ran = run_in_busybox({"/bin/echo", "-n", "--rootfs", "-e", "x"});
    CHECK(ran.exit_code == 0);
    CHECK(ran.out == "--rootfs -e x");
}

TEST_CASE("--workdir sets the working directory, creating it", "[ch01][run]")
{
    DOCKLING_REQUIRE_ROOT();
    dockling::test::TempDir dir;
    fs::path rootfs = dockling::test::copy_of_busybox_rootfs(dir);
    Outcome ran = run_dockling({"run", "--rootfs", rootfs.string(), "-w", "/srv/app", "/bin/pwd"});
    CHECK(ran.exit_code == 0);
    CHECK(ran.out == "/srv/app\n");
    CHECK(fs::is_directory(rootfs / "srv/app"));
    CHECK(run_in_busybox({"--workdir=/etc", "/bin/pwd"}).out == "/etc\n");
}

TEST_CASE("signals sent to dockling reach the container's process", "[ch01][run]")
{
    DOCKLING_REQUIRE_ROOT();
    dockling::test::TempDir dir;
    fs::path rootfs = dockling::test::copy_of_busybox_rootfs(dir);
    dockling::test::Background container(
        {dockling::test::dockling_binary().string(), "run", "--rootfs", rootfs.string(), "/bin/sh", "-c",
         "trap 'echo got TERM; exit 42' TERM; echo ready > /ready; while true; do sleep 0.1; done"});
    dockling::test::wait_for_file(rootfs / "ready");
    container.signal(SIGTERM);
    Outcome ended = container.wait();
    CHECK(ended.exit_code == 42);
    CHECK(ended.out == "got TERM\n");
}
