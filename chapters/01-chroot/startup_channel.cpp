#include "startup_channel.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

namespace dockling {

namespace {

/// Makes a close-on-exec pipe: the container's command must never inherit it.
void make_pipe(UniqueFd& read_end, UniqueFd& write_end)
{
    int fds[2];
    check(::pipe2(fds, O_CLOEXEC), "pipe2");
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
}

/// Reads exactly `size` bytes unless end-of-file comes first; returns the count read.
size_t read_fully(int fd, void* buffer, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t n = ::read(fd, static_cast<char*>(buffer) + done, size - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw_errno("read", "startup pipe");
        }
        if (n == 0) {
            break;
        }
        done += static_cast<size_t>(n);
    }
    return done;
}

/// The wire form of an Error: four integers, then the three strings they size.
struct ErrorHeader {
    int32_t exit_code;
    int32_t error_number;
    uint32_t operation_size;
    uint32_t object_size;
    uint32_t message_size;
};

std::string read_string(int fd, uint32_t size)
{
    std::string text(size, '\0');
    if (read_fully(fd, text.data(), size) != size) {
        throw Error("the container's process ended while reporting an error");
    }
    return text;
}

}  // namespace

StartupChannel::StartupChannel()
{
    make_pipe(go_read_, go_write_);
    make_pipe(error_read_, error_write_);
}

void StartupChannel::parent_side() noexcept
{
    go_read_.reset();
    error_write_.reset();
}

void StartupChannel::child_side() noexcept
{
    go_write_.reset();
    error_read_.reset();
}

void StartupChannel::release_child()
{
    char go = 'g';
    check(::write(go_write_.get(), &go, 1), "write", "startup pipe");
    go_write_.reset();
}

void StartupChannel::wait_for_release()
{
    char go = 0;
    if (read_fully(go_read_.get(), &go, 1) != 1) {
        // The parent failed before releasing us: there is nothing to start.
        ::_exit(exit_code::tool_error);
    }
    go_read_.reset();
}

void StartupChannel::send_error(const Error& error) noexcept
{
    std::string message = error.what();
    ErrorHeader header{error.exit_code(), error.error_number(),
                       static_cast<uint32_t>(error.operation().size()),
                       static_cast<uint32_t>(error.object().size()),
                       static_cast<uint32_t>(message.size())};
    std::string wire(reinterpret_cast<const char*>(&header), sizeof header);
    wire += error.operation() + error.object() + message;
    // One write of a small buffer to a pipe is atomic; if it fails there is no one to tell.
    [[maybe_unused]] ssize_t ignored = ::write(error_write_.get(), wire.data(), wire.size());
}

void StartupChannel::rethrow_child_error()
{
    int fd = error_read_.get();
    ErrorHeader header{};
    size_t got = read_fully(fd, &header, sizeof header);
    if (got == 0) {
        error_read_.reset();
        return;  // end-of-file: exec closed the pipe, the command runs
    }
    if (got != sizeof header) {
        throw Error("the container's process ended while reporting an error");
    }
    std::string operation = read_string(fd, header.operation_size);
    std::string object = read_string(fd, header.object_size);
    std::string message = read_string(fd, header.message_size);
    error_read_.reset();
    if (header.error_number != 0) {
        throw Error(operation, object, header.error_number, header.exit_code);
    }
    throw Error(message, header.exit_code);
}

}  // namespace dockling
