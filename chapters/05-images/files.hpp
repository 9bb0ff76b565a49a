#pragma once
/// \file
/// Small file tools the store is built on: atomic writes, locks, bounded reads.

#include "unique_fd.hpp"

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>

namespace dockling {

/// Replaces `path` with `content` so that readers see the old file or the new one, never
/// a half-written one: write a temporary file in the same directory, fsync it, rename it
/// over `path`, fsync the directory. A crash at any moment leaves one of the two.
void write_file_atomically(const std::filesystem::path& path, std::string_view content, mode_t mode = 0644);

/// The whole file, refusing one larger than `max_size` bytes. Throws Error.
[[nodiscard]] std::string read_whole_file(const std::filesystem::path& path, size_t max_size);

/// The JSON in `path`, or `missing` when the file does not exist. Throws Error when it
/// exists but cannot be read or parsed.
[[nodiscard]] nlohmann::json read_json_file(const std::filesystem::path& path, nlohmann::json missing);

/// fsync(2) on a directory, so that a rename into it survives a crash.
void sync_directory(const std::filesystem::path& dir);

/// An flock(2) lock on a file, held while this object lives.
///
/// flock locks belong to the open file: the kernel drops them when the holder exits,
/// however it exits, so a `kill -9` can never leave the store locked.
class FileLock {
public:
    /// What kind of lock: many holders of `shared` at once, or one `exclusive` holder.
    enum class Mode { shared, exclusive };
    /// Opens (creating it) `path` and waits for the lock.
    FileLock(const std::filesystem::path& path, Mode mode);
    /// Tries to take an exclusive lock without waiting; check held().
    static FileLock try_exclusive(const std::filesystem::path& path);
    /// True when the lock is held.
    [[nodiscard]] bool held() const { return held_; }
    /// Changes the held lock to `mode` (waits if needed).
    void change(Mode mode);

private:
    FileLock() = default;
    UniqueFd fd_;
    bool held_ = false;
};

}  // namespace dockling
