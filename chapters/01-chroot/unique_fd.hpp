#pragma once
/// \file
/// An owned file descriptor.

#include <unistd.h>

#include <utility>

namespace dockling {

/// Owns one file descriptor and closes it when it goes out of scope.
///
/// Every descriptor Dockling opens lives in one of these, so an early return or an
/// exception can never leak it into the container.
class UniqueFd {
public:
    UniqueFd() = default;
    /// Takes ownership of `fd` (-1 means "none").
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    /// Takes over `other`'s descriptor; `other` holds none afterwards.
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    /// Closes the descriptor held so far, then takes over `other`'s.
    UniqueFd& operator=(UniqueFd&& other) noexcept
    {
        reset(other.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    /// The descriptor, still owned by this object.
    [[nodiscard]] int get() const noexcept { return fd_; }
    /// True when a descriptor is held.
    explicit operator bool() const noexcept { return fd_ >= 0; }
    /// Gives up ownership and returns the descriptor.
    int release() noexcept { return std::exchange(fd_, -1); }
    /// Closes the held descriptor, if any, and takes `fd` instead.
    void reset(int fd = -1) noexcept
    {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

}  // namespace dockling
