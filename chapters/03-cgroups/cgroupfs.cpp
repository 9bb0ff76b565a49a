#include "cgroupfs.hpp"

#include "error.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace dockling {

namespace {

class KernelCgroupFs : public CgroupFs {
public:
    bool make_directory(const std::filesystem::path& dir) override
    {
        if (::mkdir(dir.c_str(), 0755) == 0) {
            return true;
        }
        if (errno == EEXIST) {
            return false;
        }
        throw_errno("mkdir", dir.string());
    }

    bool remove_directory(const std::filesystem::path& dir) override
    {
        if (::rmdir(dir.c_str()) == 0) {
            return true;
        }
        if (errno == ENOENT) {
            return false;
        }
        throw_errno("rmdir", dir.string());
    }

    [[nodiscard]] bool exists(const std::filesystem::path& path) const override
    {
        return ::access(path.c_str(), F_OK) == 0;
    }

    [[nodiscard]] std::string read(const std::filesystem::path& file) const override
    {
        UniqueFd fd(check(::open(file.c_str(), O_RDONLY | O_CLOEXEC), "open", file.string()));
        std::string text;
        char buffer[4096];
        for (;;) {
            ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            check(n, "read", file.string());
            if (n == 0) {
                return text;
            }
            text.append(buffer, static_cast<size_t>(n));
        }
    }

    void write(const std::filesystem::path& file, std::string_view value) override
    {
        UniqueFd fd(check(::open(file.c_str(), O_WRONLY | O_CLOEXEC), "open", file.string()));
        // One write(2) per value: the kernel parses each write on its own, so a value
        // split over two writes would be read as two values.
        ssize_t n = ::write(fd.get(), value.data(), value.size());
        if (n < 0) {
            throw_errno("write \"" + std::string(value) + "\" to", file.string());
        }
    }

    void kill(pid_t pid, int signal) override
    {
        if (::kill(pid, signal) != 0 && errno != ESRCH) {
            throw_errno("kill", std::to_string(pid));
        }
    }
};

}  // namespace

CgroupFs& kernel_cgroupfs()
{
    static KernelCgroupFs kernel;
    return kernel;
}

}  // namespace dockling
