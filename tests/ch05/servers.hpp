#pragma once
/// \file
/// Real servers for chapter 05's tests: Debian's docker-registry, the test images pushed
/// into it by tests/fixtures/make-images.sh, and the fault proxy (tests/fixtures/fault-proxy.py).

#include "harness.hpp"

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace dockling::test {

/// A server process started by a test. It is killed (SIGKILL, by its PID) and reaped when
/// the object goes away; if the test program dies first, the kernel kills it too
/// (PR_SET_PDEATHSIG), so no server outlives the tests.
class ServerProcess {
public:
    /// Starts `argv` with stdin from /dev/null and stdout and stderr to `log`.
    ServerProcess(const std::vector<std::string>& argv, const std::filesystem::path& log);
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;
    /// Its PID.
    [[nodiscard]] pid_t pid() const { return pid_; }
    /// True while it has not exited.
    [[nodiscard]] bool running() const;

private:
    pid_t pid_ = -1;
};

/// Debian's docker-registry (CNCF Distribution 2.8) listening on 127.0.0.1 on a free
/// port, with its config and storage in a TempDir that goes away with it.
class LocalRegistry {
public:
    LocalRegistry();
    /// `127.0.0.1:PORT`.
    [[nodiscard]] const std::string& address() const { return address_; }

private:
    TempDir dir_;
    std::unique_ptr<ServerProcess> process_;
    std::string address_;
};

/// True when docker-registry is installed.
bool registry_available();

/// The registry the tests of one test program share, holding the images of
/// tests/fixtures/make-images.sh. Started at first use, stopped when the program ends.
const LocalRegistry& fixture_registry();

/// The manifest digest make-images.sh reported for `name` ("busybox:latest").
std::string fixture_digest(const std::string& name);

/// tests/fixtures/fault-proxy.py in front of `upstream`, with `faults` as its flags.
class FaultProxy {
public:
    FaultProxy(const std::string& upstream, const std::vector<std::string>& faults);
    /// `127.0.0.1:PORT`.
    [[nodiscard]] const std::string& address() const { return address_; }
    /// The requests it saw, one "METHOD PATH STATUS" line each.
    [[nodiscard]] std::string log() const;
    /// A directory for files the proxy writes (e.g. --concurrency FILE).
    [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }

private:
    TempDir dir_;
    std::unique_ptr<ServerProcess> process_;
    std::string address_;
};

/// Runs the dockling under test as `dockling --data-root ROOT/data --config ROOT/config.json
/// ARGS...`, with DOCKLING_CONFIG=ROOT/credentials (where login keeps credentials).
Outcome dockling_in(const TempDir& root, const std::vector<std::string>& args, const std::string& input = {});

/// Like dockling_in, after writing `config` (JSON text) to ROOT/config.json.
Outcome dockling_with(const TempDir& root, const std::string& config, const std::vector<std::string>& args,
                      const std::string& input = {});

/// How many regular files are in `dir` (0 when it does not exist).
size_t count_files(const std::filesystem::path& dir);

}  // namespace dockling::test

/// Skips the test when docker-registry is not installed.
#define DOCKLING_REQUIRE_REGISTRY()                                                        \
    do {                                                                                   \
        if (!::dockling::test::registry_available()) {                                     \
            DOCKLING_SKIP("docker-registry is not installed: the tests need it (make deps)"); \
        }                                                                                  \
    } while (false)
