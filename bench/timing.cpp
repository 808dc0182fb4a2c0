#include "bench/timing.h"

#include <algorithm>
#include <chrono>
#include <vector>

namespace strata::bench {
namespace {

double seconds_of(const std::function<void()> &fn) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Timing time_calls(const std::function<void()> &fn, int reps) {
    double warmup_seconds = 0;
    for (int i = 0; i < kWarmupCalls; ++i) warmup_seconds += seconds_of(fn);
    if (reps <= 0) reps = std::clamp(static_cast<int>(kWarmupCalls / std::max(warmup_seconds, 1e-9)), 10, 200);
    std::vector<double> seconds;
    for (int i = 0; i < reps; ++i) seconds.push_back(seconds_of(fn));
    std::sort(seconds.begin(), seconds.end());
    return {seconds[seconds.size() / 2], seconds.front(), reps};
}

}  // namespace strata::bench
