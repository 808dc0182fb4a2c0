#pragma once
/// \file
/// A one-line progress bar on stderr: count, rate, ETA and a few metrics.
/// On a terminal it redraws in place (at most every 100 ms); otherwise it
/// prints only the final line, so logs stay short.

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace strata {

class ProgressBar {
public:
    /// `total` steps of `unit_per_step` units each (e.g. images per batch).
    ProgressBar(std::string label, int64_t total, int64_t units_per_step = 1, bool enabled = true);
    /// Marks `done` steps complete and shows the given metrics ("loss", 0.53).
    void update(int64_t done, const std::vector<std::pair<std::string, double>> &metrics = {});
    /// Draws the final line and ends it.
    void finish(const std::vector<std::pair<std::string, double>> &metrics = {});
    double elapsed_seconds() const;

private:
    std::string line(int64_t done, const std::vector<std::pair<std::string, double>> &metrics) const;
    std::string label_;
    int64_t total_, units_;
    bool enabled_, tty_;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace strata
