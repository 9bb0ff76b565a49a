#pragma once
/// \file
/// The one error type of Dockling, and Docker's exit codes.

#include <stdexcept>
#include <string>
#include <string_view>

namespace dockling {

/// Exit codes that Docker reserves for failures that are not the command's own.
namespace exit_code {
inline constexpr int tool_error = 125;      ///< dockling itself failed: a bad flag, a missing rootfs, a syscall
inline constexpr int not_executable = 126;  ///< the command exists but cannot be executed
inline constexpr int not_found = 127;       ///< the command does not exist
}  // namespace exit_code

/// A failure the user sees as one line, with the exit code dockling ends with.
///
/// When a system call failed, the error also carries the operation (the syscall, or a
/// step such as "exec"), the object it failed on (usually a path) and errno, so that the
/// line reads `chroot /srv/rootfs: No such file or directory`.
class Error : public std::runtime_error {
public:
    /// An error that is not a failed system call (a bad flag, a bad value).
    explicit Error(const std::string& message, int exit_code = exit_code::tool_error);

    /// A failed system call: `operation` on `object` failed with `error_number`.
    Error(std::string operation, std::string object, int error_number,
          int exit_code = exit_code::tool_error);

    /// The exit code dockling ends with because of this error.
    [[nodiscard]] int exit_code() const noexcept { return exit_code_; }
    /// The syscall or step that failed; empty when this is not a system error.
    [[nodiscard]] const std::string& operation() const noexcept { return operation_; }
    /// The path or object the operation failed on; may be empty.
    [[nodiscard]] const std::string& object() const noexcept { return object_; }
    /// errno of the failed call; 0 when this is not a system error.
    [[nodiscard]] int error_number() const noexcept { return error_number_; }

private:
    std::string operation_;
    std::string object_;
    int error_number_ = 0;
    int exit_code_;
};

/// Throws Error(operation, object, errno) with the current errno.
[[noreturn]] void throw_errno(std::string_view operation, std::string_view object = {});

/// Throws Error(operation, object, errno) when `result` is -1, else returns `result`.
///
/// Most system calls report failure as -1 with errno set; this turns that convention
/// into an exception so the happy path reads straight down.
template <typename T>
T check(T result, std::string_view operation, std::string_view object = {})
{
    if (result == static_cast<T>(-1)) {
        throw_errno(operation, object);
    }
    return result;
}

/// Thrown by an exercise's stub in a lab workspace: names the exercise and gives its hint.
class ExerciseNotDone : public Error {
public:
    /// `exercise` is its number ("1.2"), `hint` one sentence on how to start.
    ExerciseNotDone(std::string_view exercise, std::string_view hint);
};

}  // namespace dockling
