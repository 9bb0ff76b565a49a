// Chapter 01 unit tests: the pure functions of the runtime core.
#include "harness.hpp"

#include "error.hpp"
#include "exec.hpp"
#include "process.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>

using namespace dockling;

namespace {

/// The real wait status of a child that runs `body`.
template <typename Body>
int wait_status_of(Body body)
{
    pid_t pid = ::fork();
    if (pid == 0) {
        for (int sig : {SIGTERM, SIGSEGV, SIGINT}) {
            ::signal(sig, SIG_DFL);  // Catch2 installs handlers; the child must die plainly
        }
        body();
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

}  // namespace

TEST_CASE("a normal exit keeps the command's own code", "[ch01][unit]")
{
    CHECK(exit_code_from_wait_status(wait_status_of([] { ::_exit(0); })) == 0);
    CHECK(exit_code_from_wait_status(wait_status_of([] { ::_exit(3); })) == 3);
    CHECK(exit_code_from_wait_status(wait_status_of([] { ::_exit(255); })) == 255);
}

TEST_CASE("a command killed by signal N exits 128+N", "[ch01][unit][ex1.1]")
{
    CHECK(exit_code_from_wait_status(wait_status_of([] { ::raise(SIGKILL); })) == 137);
    CHECK(exit_code_from_wait_status(wait_status_of([] { ::raise(SIGTERM); })) == 143);
    CHECK(exit_code_from_wait_status(wait_status_of([] { ::raise(SIGSEGV); })) == 128 + SIGSEGV);
}

TEST_CASE("find_executable walks PATH in order and skips what cannot run", "[ch01][unit][ex1.2]")
{
    test::TempDir dir;
    auto first = dir.path() / "first";
    auto second = dir.path() / "second";
    std::filesystem::create_directories(first);
    std::filesystem::create_directories(second);
    std::filesystem::create_directories(first / "tool");                 // a directory, not a program
    test::write_file(first / "plain", "not executable");                // a file without x bits
    test::write_file(second / "tool", "#!/bin/sh\n");
    test::write_file(second / "plain", "#!/bin/sh\n");
    std::filesystem::permissions(second / "tool", std::filesystem::perms::owner_all);
    std::filesystem::permissions(second / "plain", std::filesystem::perms::owner_all);
    std::string path = first.string() + ":" + second.string();

    CHECK(find_executable("tool", path) == (second / "tool").string());
    CHECK(find_executable("plain", path) == (second / "plain").string());
    CHECK_FALSE(find_executable("missing", path).has_value());
    CHECK_FALSE(find_executable("tool", first.string()).has_value());
    CHECK(find_executable("tool", "/nonexistent::" + second.string()) == (second / "tool").string());
}

TEST_CASE("--env KEY=VALUE, --env KEY and a bad --env", "[ch01][unit][ex1.3]")
{
    std::map<std::string, std::string> caller{{"EDITOR", "vi"}, {"EMPTY", ""}};
    EnvLookup lookup = [&](const char* name) -> const char* {
        auto it = caller.find(name);
        return it == caller.end() ? nullptr : it->second.c_str();
    };
    CHECK(env_entry_from_flag("A=1", lookup) == "A=1");
    CHECK(env_entry_from_flag("A=x=y", lookup) == "A=x=y");
    CHECK(env_entry_from_flag("A=", lookup) == "A=");
    CHECK(env_entry_from_flag("EDITOR", lookup) == "EDITOR=vi");
    CHECK(env_entry_from_flag("EMPTY", lookup) == "EMPTY=");
    CHECK_FALSE(env_entry_from_flag("UNSET", lookup).has_value());
    CHECK_THROWS_WITH(env_entry_from_flag("=oops", lookup), "invalid environment variable: =oops");
}

TEST_CASE("the container's environment: Docker's defaults, then what was asked for", "[ch01][unit]")
{
    using Env = std::vector<std::string>;
    CHECK(container_environment({}, "") == Env{"PATH=" + std::string(default_path), "HOME=/root"});
    CHECK(container_environment({}, "box") ==
          Env{"PATH=" + std::string(default_path), "HOSTNAME=box", "HOME=/root"});
    CHECK(container_environment({"PATH=/x", "A=1", "HOME=/home/a", "A=2"}, "") ==
          Env{"PATH=/x", "A=2", "HOME=/home/a"});
}

TEST_CASE("a failed system call reads as one line: what, on what, why", "[ch01][unit]")
{
    errno = ENOENT;
    try {
        check(-1, "chroot", "/srv/rootfs");
        FAIL("check(-1) did not throw");
    } catch (const Error& error) {
        CHECK(std::string(error.what()) == "chroot /srv/rootfs: No such file or directory");
        CHECK(error.operation() == "chroot");
        CHECK(error.object() == "/srv/rootfs");
        CHECK(error.error_number() == ENOENT);
        CHECK(error.exit_code() == exit_code::tool_error);
    }
    CHECK(check(7, "read") == 7);
}
