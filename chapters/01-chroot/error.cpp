#include "error.hpp"

#include <cerrno>
#include <cstring>

namespace dockling {

namespace {

/// "operation object: strerror", or "operation: strerror" when there is no object.
std::string describe(const std::string& operation, const std::string& object, int error_number)
{
    std::string line = operation;
    if (!object.empty()) {
        line += ' ';
        line += object;
    }
    return line + ": " + std::strerror(error_number);
}

}  // namespace

Error::Error(const std::string& message, int exit_code)
    : std::runtime_error(message), exit_code_(exit_code)
{
}

Error::Error(std::string operation, std::string object, int error_number, int exit_code)
    : std::runtime_error(describe(operation, object, error_number)),
      operation_(std::move(operation)),
      object_(std::move(object)),
      error_number_(error_number),
      exit_code_(exit_code)
{
}

void throw_errno(std::string_view operation, std::string_view object)
{
    throw Error(std::string(operation), std::string(object), errno);
}

ExerciseNotDone::ExerciseNotDone(std::string_view exercise, std::string_view hint)
    : Error("exercise " + std::string(exercise) + " is not done yet: " + std::string(hint))
{
}

}  // namespace dockling
