#include "progress.hpp"

#include "format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ostream>

namespace dockling {

namespace {

constexpr int bar_width = 50;

/// `[=========>                     ]  1.2MB/2.2MB`, as docker pull draws it.
std::string progress_bar(uint64_t done, uint64_t total)
{
    int filled = total == 0 ? bar_width : static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * bar_width);
    filled = std::clamp(filled, 0, bar_width);
    std::string bar = "[" + std::string(static_cast<size_t>(filled), '=') + ">" + std::string(static_cast<size_t>(bar_width - filled), ' ') + "]";
    return fmt::format("{} {:>8}/{}", bar, human_size(static_cast<double>(done)), human_size(static_cast<double>(total)));
}

}  // namespace

ProgressDisplay::ProgressDisplay(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}

void ProgressDisplay::message(const std::string& line)
{
    std::lock_guard lock(mutex_);
    out_ << line << '\n' << std::flush;
    if (terminal_) {
        ids_.clear();  // lines above a message are final: the layers start a new block
        last_status_.clear();
    }
}

void ProgressDisplay::status(const std::string& id, const std::string& text)
{
    std::lock_guard lock(mutex_);
    show(id, text);
}

void ProgressDisplay::progress(const std::string& id, const std::string& action, uint64_t done, uint64_t total)
{
    std::lock_guard lock(mutex_);
    if (!terminal_) {
        show(id, action);  // printed once: show() skips a status that did not change
        return;
    }
    auto now = std::chrono::steady_clock::now();
    if (done != 0 && done != total && now - last_redraw_ < std::chrono::milliseconds(100)) {
        return;  // redrawing on every network read would cost more than the download
    }
    last_redraw_ = now;
    show(id, action + " " + progress_bar(done, total));
}

//! [show]
void ProgressDisplay::show(const std::string& id, const std::string& text)
{
    auto found = std::find(ids_.begin(), ids_.end(), id);
    if (found == ids_.end()) {  // a new layer: a new line at the bottom
        ids_.push_back(id);
        last_status_.push_back(text);
        out_ << id << ": " << text << '\n' << std::flush;
        return;
    }
    size_t line = static_cast<size_t>(found - ids_.begin());
    if (last_status_[line] == text) {
        return;
    }
    last_status_[line] = text;
    if (!terminal_) {
        out_ << id << ": " << text << '\n' << std::flush;
        return;
    }
    // Up to the layer's line, clear it, write, and back down below the last line.
    size_t up = ids_.size() - line;
    out_ << "\x1b[" << up << "A\r\x1b[2K" << id << ": " << text << "\x1b[" << up << "B\r" << std::flush;
}
//! [show]

}  // namespace dockling
