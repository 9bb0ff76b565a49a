// Chapter 02: PID 1. The command is PID 1 of its PID namespace, with PID 1's duties: the
// kernel spares it unhandled signals, orphans become its children, and when it ends the
// whole namespace ends. --init puts a tiny init in that place.
#include "container.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

using namespace dockling::test;
using namespace dockling::test::ch02;
namespace fs = std::filesystem;

namespace {

/// A script that leaves an orphan behind: a subshell starts a waiter in the background
/// and exits at once, so the kernel hands the waiter to PID 1. The waiter ends when
/// /tmp/go appears. Then the script becomes `sleep`, which never waits for anyone.
const std::string orphan_then_sleep =
    "(sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done' &); exec sleep 60";

/// The processes of the container's PID namespace other than its PID 1, polled until
/// `done` says the list is what the test waits for (or 20 seconds passed).
template <typename Done>
std::vector<pid_t> wait_for_processes(pid_t pid1, Done done)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::vector<pid_t> found;
    do {
        found.clear();
        for (pid_t pid : processes_in_pid_namespace_of(pid1)) {
            if (pid != pid1) {
                found.push_back(pid);
            }
        }
        if (done(found)) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < deadline);
    return found;
}

/// Waits until process `pid` runs the program `comm` (until `exec sleep` happened).
void wait_for_program(pid_t pid, const std::string& comm)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (read_file("/proc/" + std::to_string(pid) + "/comm") != comm + "\n") {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

bool any_zombie(const std::vector<pid_t>& pids)
{
    return std::any_of(pids.begin(), pids.end(), [](pid_t pid) { return process_state(pid) == 'Z'; });
}

}  // namespace

TEST_CASE("the command is PID 1 and the kernel spares it the signals it does not handle", "[ch02][pid1]")
{
    DOCKLING_REQUIRE_ROOT();
    // From inside: a process cannot kill its PID 1 with a signal PID 1 does not handle.
    Outcome self = run_in_busybox({}, {"/bin/sh", "-c", "kill -TERM $$; kill -KILL 1; echo survived"});
    CHECK(self.exit_code == 0);
    CHECK(self.out == "survived\n");

    // From the host: SIGTERM is dropped too (kill(2) has decided by the time it returns)...
    RunningContainer container({}, "while [ ! -e /tmp/go ]; do sleep 0.05; done; echo survived");
    REQUIRE(::kill(container.pid(), SIGTERM) == 0);
    write_file(container.file("go"), "");
    Outcome ended = container.wait();
    CHECK(ended.exit_code == 0);
    CHECK(ended.out == "survived\n");

    // ...but SIGKILL from outside the namespace always works.
    RunningContainer killed;
    REQUIRE(::kill(killed.pid(), SIGKILL) == 0);
    CHECK(killed.wait().exit_code == 137);
}

TEST_CASE("when PID 1 ends, every other process of the container ends", "[ch02][pid1]")
{
    DOCKLING_REQUIRE_ROOT();
    RunningContainer container({}, "sleep 1000 & sleep 1000 & while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 3");
    std::vector<pid_t> others = wait_for_processes(container.pid(), [](const auto& found) { return found.size() >= 2; });
    REQUIRE(others.size() >= 2);
    std::string ns = namespace_of(container.pid(), "pid");
    write_file(container.file("go"), "");
    CHECK(container.wait().exit_code == 3);
    for (pid_t pid : others) {
        std::error_code gone;
        auto still = fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/pid", gone);
        CHECK((gone || still.string() != ns));
    }
}

TEST_CASE("without an init, an orphan that ends stays a zombie under PID 1", "[ch02][pid1][zombies]")
{
    DOCKLING_REQUIRE_ROOT();
    // PID 1 here ends up as `sleep`: it never calls wait(2), so nobody reaps the orphan.
    RunningContainer container({}, orphan_then_sleep);
    wait_for_program(container.pid(), "sleep");  // the orphan is PID 1's by now
    write_file(container.file("go"), "");
    auto left = wait_for_processes(container.pid(), [](const auto& found) { return any_zombie(found); });
    CHECK(any_zombie(left));
}

TEST_CASE("--init reaps the orphans PID 1 is given", "[ch02][pid1][init][ex2.4]")
{
    DOCKLING_REQUIRE_ROOT();
    RunningContainer container({"--init"}, orphan_then_sleep);
    wait_for_program(first_child_pid(container.pid()), "sleep");  // the orphan is the init's by now
    REQUIRE(processes_in_pid_namespace_of(container.pid()).size() >= 3);  // init, sleep, the orphan...
    write_file(container.file("go"), "");
    // Left in the end: only the command (sleep), under the init; no zombie.
    auto left = wait_for_processes(container.pid(),
                                   [](const auto& found) { return found.size() == 1 && !any_zombie(found); });
    CHECK(left.size() == 1);
    CHECK_FALSE(any_zombie(left));
    CHECK(read_file("/proc/" + std::to_string(container.pid()) + "/comm") == "dockling-init\n");
}

TEST_CASE("--init runs the command as PID 2 and ends with its exit code", "[ch02][pid1][init][ex2.4]")
{
    DOCKLING_REQUIRE_ROOT();
    Outcome ps = run_in_busybox({"--init"}, {"/bin/sh", "-c", "ps -o pid,comm; exit 7"});
    CHECK(ps.exit_code == 7);
    CHECK(ps.out.find("    1 dockling-init\n    2 sh\n") != std::string::npos);

    // A signal that kills the command: the init reports it as 128 + N, like Docker.
    Outcome killed = run_in_busybox({"--init"}, {"/bin/sh", "-c", "kill -TERM $$; sleep 10"});
    CHECK(killed.exit_code == 143);
}

TEST_CASE("--init forwards the signals sent to the container", "[ch02][pid1][init][ex2.4]")
{
    DOCKLING_REQUIRE_ROOT();
    // The command is `sleep`, with no handler for SIGTERM: as PID 1 it would ignore it;
    // as the init's child it dies of it.
    RunningContainer container({"--init"}, "exec sleep 60");
    container.signal_dockling(SIGTERM);
    CHECK(container.wait().exit_code == 143);
}
