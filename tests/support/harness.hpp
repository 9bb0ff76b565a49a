#pragma once
/// \file
/// What Dockling's tests share: running the binary under test and looking at the result.

#include <catch2/catch.hpp>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace dockling::test {

/// What a finished program did.
struct Outcome {
    int exit_code = -1;  ///< exit code, or 128 + signal like a shell reports it
    std::string out;     ///< everything it wrote to stdout
    std::string err;     ///< everything it wrote to stderr
};

/// Runs `argv` with `input` on its stdin and collects its output. Kills it (and fails
/// the test) when it runs longer than `timeout`.
Outcome run_program(const std::vector<std::string>& argv, const std::string& input = {},
                    std::chrono::seconds timeout = std::chrono::seconds(60));

/// The dockling binary under test: $DOCKLING_BIN, or this build's binary of the chapter.
std::filesystem::path dockling_binary();

/// The chapter of the binary under test ($DOCKLING_CHAPTER); 99 for the final tool.
int chapter_under_test();

/// Runs the binary under test with `args`.
Outcome run_dockling(const std::vector<std::string>& args, const std::string& input = {},
                 std::chrono::seconds timeout = std::chrono::seconds(60));

/// A program started in the background, its output going to files; killed and reaped
/// when the object goes away if it is still running.
class Background {
public:
    /// Starts `argv` with stdin from /dev/null.
    explicit Background(const std::vector<std::string>& argv);
    ~Background();
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    /// Its PID.
    [[nodiscard]] pid_t pid() const { return pid_; }
    /// Sends `signal` to it.
    void signal(int signal) const;
    /// Waits (at most `timeout`, then kills it and fails the test) and returns what it did.
    Outcome wait(std::chrono::seconds timeout = std::chrono::seconds(60));

private:
    pid_t pid_ = -1;
    std::string out_path_, err_path_;
};

/// Waits up to `timeout` for `path` to exist with non-empty contents; returns them.
std::string wait_for_file(const std::filesystem::path& path,
                          std::chrono::seconds timeout = std::chrono::seconds(20));

/// The PID of the first child of process `parent` (for a dockling started in the
/// background: the container's first process, as the host numbers it). Waits up to
/// `timeout` for it to exist; fails the test after that.
pid_t first_child_pid(pid_t parent, std::chrono::seconds timeout = std::chrono::seconds(20));

/// The busybox root filesystem built by tests/fixtures/make-rootfs.sh (read-only use).
const std::filesystem::path& busybox_rootfs();

/// A directory that is removed, with everything in it, when the test ends.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    /// Its path.
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/// A private copy of the busybox rootfs inside `dir`, for tests that write into it.
std::filesystem::path copy_of_busybox_rootfs(const TempDir& dir);

/// A file of this build (e.g. "bin/dockling-escape").
std::filesystem::path build_file(const std::string& relative);

/// Writes `text` to `path`.
void write_file(const std::filesystem::path& path, const std::string& text);
/// The contents of `path` ("" when it cannot be read).
std::string read_file(const std::filesystem::path& path);

/// True when `text` contains `part`.
bool contains(const std::string& text, const std::string& part);
/// True when `text` is exactly one line (ends in its only newline), as an error message must be.
bool one_line(const std::string& text);
/// `text` split into its lines, without the newlines.
std::vector<std::string> lines_of(const std::string& text);

/// True when the tests run as root.
bool running_as_root();

}  // namespace dockling::test

/// Ends the current test as skipped, with a one-line reason. The grader
/// (tools/grade.py) counts such a test as skipped, not as passed.
#define DOCKLING_SKIP(reason)              \
    do {                                   \
        WARN("DOCKLING-SKIP: " << reason); \
        return;                            \
    } while (false)

/// Skips the current test unless it runs as root.
#define DOCKLING_REQUIRE_ROOT()                                                     \
    do {                                                                            \
        if (!::dockling::test::running_as_root()) {                                 \
            DOCKLING_SKIP("needs root: it starts real containers (run with sudo)"); \
        }                                                                           \
    } while (false)
