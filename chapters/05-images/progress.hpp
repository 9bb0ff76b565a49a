#pragma once
/// \file
/// The progress display of pull and push: a line per layer, like `docker pull`'s.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <string>
#include <vector>

namespace dockling {

/// Prints what a pull or push is doing, one line per layer (`a3ed95caeb02: Downloading`).
///
/// On a terminal, each layer keeps its line and the line is redrawn in place (the cursor
/// moves up with ANSI escapes), with a progress bar while bytes move. Anywhere else (a
/// pipe, a log file) every change of status is a new plain line and byte counts are left
/// out. Several download threads may report at once.
class ProgressDisplay {
public:
    /// Writes to `out`; `terminal` chooses redrawing over plain lines.
    ProgressDisplay(std::ostream& out, bool terminal);

    /// A line of its own ("latest: Pulling from library/busybox", "Digest: ...").
    void message(const std::string& line);
    /// Sets the status of layer `id` ("Waiting", "Verifying Checksum", "Download complete").
    void status(const std::string& id, const std::string& text);
    /// Reports that `done` of `total` bytes of layer `id` moved; `action` is
    /// "Downloading" or "Pushing".
    void progress(const std::string& id, const std::string& action, uint64_t done, uint64_t total);

private:
    void show(const std::string& id, const std::string& text);

    std::mutex mutex_;
    std::ostream& out_;
    bool terminal_;
    std::vector<std::string> ids_;  // the layers' lines, top to bottom (terminal mode)
    std::vector<std::string> last_status_;
    std::chrono::steady_clock::time_point last_redraw_{};
};

}  // namespace dockling
