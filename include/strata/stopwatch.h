#pragma once
/// \file
/// Wall-clock seconds since a point in time, on the steady clock: what progress lines, epoch
/// summaries and benchmark reports print.

#include <chrono>

namespace strata {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace strata
