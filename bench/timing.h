#pragma once
/// \file
/// Wall-clock timing of repeated calls: median and minimum after warm-ups.

#include <functional>

namespace strata::bench {

struct Timing {
    double median_seconds = 0;
    double min_seconds = 0;
    int reps = 0;
};

/// Calls of `fn` before the timed ones.
constexpr int kWarmupCalls = 3;

/// Times `reps` calls of `fn` after kWarmupCalls warm-up calls. `reps` 0 picks as many
/// as fit in about a second (10 to 200).
Timing time_calls(const std::function<void()> &fn, int reps);

}  // namespace strata::bench
