#pragma once
// The 1-D CNN of "spot the seismogram": two strided convolutions with 16-tap
// kernels and max-pooling, then a small classifier head.

#include <strata/strata.h>

namespace spot {

namespace nn = strata::nn;

inline nn::Sequential make_model() {
    return nn::Sequential(nn::Conv1d(nn::Conv1dOptions(1, 8, 16).stride(2)), nn::ReLU(), nn::MaxPool1d(2),
                          nn::Conv1d(nn::Conv1dOptions(8, 16, 16).stride(2)), nn::ReLU(), nn::MaxPool1d(2),
                          nn::Flatten(), nn::Linear(16 * 26, 32), nn::ReLU(), nn::Linear(32, 4));
}

/// Parameters of a fully-connected network with the same layer widths
/// (500 -> 8x243 -> 16x53 -> 32 -> 4 units), for comparison.
inline int64_t dense_equivalent_parameters() {
    const int64_t widths[] = {500, 8 * 243, 16 * 53, 32, 4};
    int64_t total = 0;
    for (int i = 0; i + 1 < 5; ++i) total += widths[i] * widths[i + 1] + widths[i + 1];
    return total;
}

}  // namespace spot
