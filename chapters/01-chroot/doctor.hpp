#pragma once
/// \file
/// `dockling doctor`: can this machine run each chapter?

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace dockling {

/// The outcome of one preflight check.
struct CheckResult {
    bool ok = false;      ///< true when the machine has what the check looks for
    std::string detail;   ///< what was found, e.g. "kernel 6.1.0"
    std::string advice;   ///< when not ok: what the reader can do about it
};

/// One thing a chapter needs from the machine, and how to find out whether it is there.
struct PreflightCheck {
    int chapter = 0;                     ///< the chapter that needs it (1..7)
    std::string what;                    ///< what is checked, e.g. "running as root"
    std::function<CheckResult()> probe;  ///< looks at the machine; must not change it
};

/// The checks every chapter needs: root and a recent enough kernel.
[[nodiscard]] std::vector<PreflightCheck> core_preflight();

/// Runs `checks`, prints one line each grouped by chapter, and returns 0 when all
/// passed, 1 otherwise.
int run_doctor(std::vector<PreflightCheck> checks, std::ostream& out);

/// Reads a whole small file (a /proc or /sys file); nullopt-like empty string on failure.
[[nodiscard]] std::string read_small_file(const std::string& path);

/// True when capability number `cap` is in this process's effective set.
[[nodiscard]] bool has_effective_capability(int cap);

}  // namespace dockling
