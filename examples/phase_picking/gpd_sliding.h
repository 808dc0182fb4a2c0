#pragma once
// GPD applied to continuous data (Ross et al. 2018, section 3): a 4-second window slides along
// a three-component record; each window's class probabilities are those of its centre sample;
// a pick is the peak of a stretch where the P (or S) probability stays above a threshold.

#include "gpd_windows.h"

#include <strata/strata.h>

#include <array>
#include <cstdint>
#include <vector>

namespace picking {

/// The GPD network compiled for inference on batches of windows (batch norm in eval mode),
/// with the windows prepared as in training (demeaned, divided by their largest |sample|).
class GpdClassifier {
public:
    GpdClassifier(strata::models::GPD &net, int64_t window, int64_t batch = 64);

    /// Class probabilities (P, S, noise) of the windows starting at 0, stride, 2 stride, ... of
    /// `record` f32 [3, T] (the last window may end before T). T must be at least one window.
    std::vector<std::array<float, 3>> classify(const strata::Tensor &record, int64_t stride) const;
    int64_t window() const { return window_; }

private:
    int64_t window_, batch_;
    strata::CompiledGraph compiled_;
};

struct Pick {
    GpdClass phase = kP;
    int64_t sample = 0;       ///< the centre of the window with the peak probability
    double probability = 0;
};

/// The picks of the window probabilities `probabilities` (windows `stride` apart, each `window`
/// samples long): for P and S, each run of windows whose probability is >= threshold gives one
/// pick at its maximum (the first one on a tie). Sorted by sample.
std::vector<Pick> find_picks(const std::vector<std::array<float, 3>> &probabilities, int64_t stride, int64_t window,
                             double threshold);

}  // namespace picking
