#include "servers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace dockling::test {

namespace fs = std::filesystem;

namespace {

const fs::path fixtures = fs::path(DOCKLING_SOURCE_DIR) / "tests" / "fixtures";

/// A TCP port on 127.0.0.1 that nothing listens on right now.
int free_port()
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        ::close(fd);
        throw std::runtime_error(std::string("bind 127.0.0.1:0: ") + std::strerror(errno));
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

/// Waits until `url` answers 200 (curl), while `process` runs.
bool wait_until_serving(const std::string& url, const ServerProcess& process)
{
    for (int i = 0; i < 200 && process.running(); ++i) {
        if (run_program({"curl", "-fsS", "-o", "/dev/null", url}).exit_code == 0) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

std::map<std::string, std::string>& fixture_digests()
{
    static std::map<std::string, std::string> digests;
    return digests;
}

}  // namespace

ServerProcess::ServerProcess(const std::vector<std::string>& argv, const fs::path& log)
{
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // if the test program dies, so does the server
        if (::getppid() != parent) {
            ::_exit(1);
        }
        ::setpgid(0, 0);  // not in the test's process group: a Ctrl-C there is not for us
        int in = ::open("/dev/null", O_RDONLY);
        int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(out, 2);
        std::vector<char*> args;
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
}

ServerProcess::~ServerProcess()
{
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

bool ServerProcess::running() const
{
    int status = 0;
    return ::waitpid(pid_, &status, WNOHANG) == 0;
}

bool registry_available() { return ::access("/usr/bin/docker-registry", X_OK) == 0; }

LocalRegistry::LocalRegistry()
{
    for (int attempt = 0; attempt < 3 && address_.empty(); ++attempt) {
        int port = free_port();
        std::ostringstream config;
        config << "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
               << "storage:\n  filesystem:\n    rootdirectory: " << (dir_.path() / "storage").string() << "\n"
               << "  delete:\n    enabled: true\n"
               << "http:\n  addr: 127.0.0.1:" << port << "\n  secret: dockling-test-registry\n";
        write_file(dir_.path() / "config.yml", config.str());
        process_ = std::make_unique<ServerProcess>(
            std::vector<std::string>{"/usr/bin/docker-registry", "serve", (dir_.path() / "config.yml").string()},
            dir_.path() / "registry.log");
        std::string address = "127.0.0.1:" + std::to_string(port);
        if (wait_until_serving("http://" + address + "/v2/", *process_)) {
            address_ = address;
        } else {
            process_.reset();  // the port was taken meanwhile, or it failed: try again
        }
    }
    if (address_.empty()) {
        throw std::runtime_error("docker-registry did not start: " + read_file(dir_.path() / "registry.log"));
    }
}

const LocalRegistry& fixture_registry()
{
    static const std::unique_ptr<LocalRegistry> registry = [] {
        auto started = std::make_unique<LocalRegistry>();
        TempDir work;
        fs::path digests = work.path() / "digests";
        Outcome pushed = run_program({"env", "MAKE_IMAGES_DIGESTS=" + digests.string(),
                                      (fixtures / "make-images.sh").string(), started->address()},
                                     "", std::chrono::seconds(180));
        if (pushed.exit_code != 0) {
            throw std::runtime_error("make-images.sh failed: " + pushed.err);
        }
        std::istringstream lines(read_file(digests));
        for (std::string name, digest; lines >> name >> digest;) {
            fixture_digests()[name] = digest;
        }
        return started;
    }();
    return *registry;
}

std::string fixture_digest(const std::string& name)
{
    (void)fixture_registry();
    auto found = fixture_digests().find(name);
    if (found == fixture_digests().end()) {
        throw std::runtime_error("make-images.sh pushed no " + name);
    }
    return found->second;
}

FaultProxy::FaultProxy(const std::string& upstream, const std::vector<std::string>& faults)
{
    fs::path port_file = dir_.path() / "port";
    std::vector<std::string> argv{"/usr/bin/python3", (fixtures / "fault-proxy.py").string(), "--upstream", upstream,
                                  "--port-file", port_file.string(), "--log", (dir_.path() / "requests.log").string()};
    argv.insert(argv.end(), faults.begin(), faults.end());
    process_ = std::make_unique<ServerProcess>(argv, dir_.path() / "proxy.log");
    for (int i = 0; i < 400 && read_file(port_file).empty(); ++i) {
        if (!process_->running()) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    std::string port = read_file(port_file);
    if (port.empty()) {
        throw std::runtime_error("fault-proxy.py did not start: " + read_file(dir_.path() / "proxy.log"));
    }
    address_ = "127.0.0.1:" + port.substr(0, port.find('\n'));
}

std::string FaultProxy::log() const { return read_file(dir_.path() / "requests.log"); }

Outcome dockling_in(const TempDir& root, const std::vector<std::string>& args, const std::string& input)
{
    // Always our own config file (absent unless dockling_with wrote it) and credentials
    // directory: the machine's /etc/dockling/config.json and ~/.dockling must not matter.
    std::vector<std::string> argv{"env", "DOCKLING_CONFIG=" + (root.path() / "credentials").string(),
                                  dockling_binary().string(), "--data-root", (root.path() / "data").string(),
                                  "--config", (root.path() / "config.json").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, input, std::chrono::seconds(120));
}

Outcome dockling_with(const TempDir& root, const std::string& config, const std::vector<std::string>& args,
                      const std::string& input)
{
    write_file(root.path() / "config.json", config);
    return dockling_in(root, args, input);
}

size_t count_files(const fs::path& dir)
{
    size_t count = 0;
    std::error_code ignored;
    for (const auto& entry : fs::recursive_directory_iterator(dir, ignored)) {
        count += entry.is_regular_file() ? 1 : 0;
    }
    return count;
}

}  // namespace dockling::test
