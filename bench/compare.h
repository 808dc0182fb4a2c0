#pragma once
/// \file
/// Whether two engines (or two schedules) computed the same results.

#include "runtime/tensor.h"

#include <string>
#include <vector>

namespace strata::bench {

/// Results agree when, for every tensor, max|got - reference| <= kTolerance * max|reference|
/// (f32 sums of up to ~25k terms, added in a different order).
constexpr double kTolerance = 1e-4;

struct Agreement {
    std::string reference;  ///< what `got` was compared with, e.g. "default", "simple", "LibTorch"
    bool passed = false;
    double max_abs_error = 0;  ///< over all tensors
    double max_rel_error = 0;  ///< max over tensors of max|got - reference| / max|reference|
    std::string problem;       ///< a count or shape mismatch, or a NaN, when there was one
};

Agreement compare_results(const std::vector<Tensor> &got, const std::vector<Tensor> &reference,
                          const std::string &reference_name);

}  // namespace strata::bench
