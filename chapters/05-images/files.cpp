#include "files.hpp"

#include "error.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <random>

namespace dockling {

namespace {

/// A name no other writer picks: ".NAME.tmp-<random>" next to NAME.
std::filesystem::path temporary_sibling(const std::filesystem::path& path)
{
    thread_local std::mt19937_64 random{std::random_device{}()};
    return path.parent_path() / fmt::format(".{}.tmp-{:016x}", path.filename().string(), random());
}

void write_all(int fd, std::string_view content, const std::filesystem::path& path)
{
    while (!content.empty()) {
        ssize_t written = ::write(fd, content.data(), content.size());
        if (written < 0 && errno == EINTR) {
            continue;
        }
        check(written, "write", path.string());
        content.remove_prefix(static_cast<size_t>(written));
    }
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view content, mode_t mode)
{
    std::filesystem::path temporary = temporary_sibling(path);
    UniqueFd fd(check(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode), "create", temporary.string()));
    try {
        check(::fchmod(fd.get(), mode), "chmod", temporary.string());  // the umask may have taken bits away
        write_all(fd.get(), content, temporary);
        check(::fsync(fd.get()), "fsync", temporary.string());
        fd.reset();
        check(::rename(temporary.c_str(), path.c_str()), "rename", path.string());
    } catch (...) {
        ::unlink(temporary.c_str());
        throw;
    }
    sync_directory(path.parent_path());
}

std::string read_whole_file(const std::filesystem::path& path, size_t max_size)
{
    UniqueFd fd(check(::open(path.c_str(), O_RDONLY | O_CLOEXEC), "open", path.string()));
    struct stat st {};
    check(::fstat(fd.get(), &st), "stat", path.string());
    if (static_cast<uint64_t>(st.st_size) > max_size) {
        throw Error(fmt::format("{} is larger than {} bytes", path.string(), max_size));
    }
    std::string content(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < content.size()) {
        ssize_t got = ::read(fd.get(), content.data() + done, content.size() - done);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        check(got, "read", path.string());
        if (got == 0) {
            break;
        }
        done += static_cast<size_t>(got);
    }
    content.resize(done);
    return content;
}

nlohmann::json read_json_file(const std::filesystem::path& path, nlohmann::json missing)
{
    if (!std::filesystem::exists(path)) {
        return missing;
    }
    std::string text = read_whole_file(path, 64 * 1024 * 1024);
    nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
        throw Error(fmt::format("{} is not a JSON object: is the file damaged?", path.string()));
    }
    return parsed;
}

void sync_directory(const std::filesystem::path& dir)
{
    UniqueFd fd(check(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC), "open", dir.string()));
    check(::fsync(fd.get()), "fsync", dir.string());
}

FileLock::FileLock(const std::filesystem::path& path, Mode mode)
    : fd_(check(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600), "open", path.string()))
{
    change(mode);
}

FileLock FileLock::try_exclusive(const std::filesystem::path& path)
{
    FileLock lock;
    lock.fd_ = UniqueFd(check(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600), "open", path.string()));
    if (::flock(lock.fd_.get(), LOCK_EX | LOCK_NB) == 0) {
        lock.held_ = true;
    } else if (errno != EWOULDBLOCK) {
        throw_errno("flock", path.string());
    }
    return lock;
}

void FileLock::change(Mode mode)
{
    int operation = mode == Mode::shared ? LOCK_SH : LOCK_EX;
    while (::flock(fd_.get(), operation) != 0) {
        if (errno != EINTR) {
            throw_errno("flock", "the image store's lock");
        }
    }
    held_ = true;
}

}  // namespace dockling
