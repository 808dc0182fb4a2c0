#pragma once
/// \file
/// Whether two engines (or two schedules) computed the same results.

#include "runtime/tensor.h"

#include <string>
#include <vector>

namespace strata::bench {

/// Results agree when, for every tensor, max|got - reference| <= kTolerance * scale, where
/// scale is max|reference| of that tensor (f32 sums of up to ~25k terms, added in a different
/// order), but at least kScaleFloor x the largest max|reference| of all results: a gradient
/// that is zero up to rounding (a bias followed by batch norm) is compared at the scale of
/// the others, not at its own.
constexpr double kTolerance = 1e-4;
constexpr double kScaleFloor = 1e-3;

/// Where a double-precision result exists, Strata's f32 error against it may also be up to
/// this many times the f32 peer's own error (a deep network's early gradients lose more
/// than kTolerance in any f32 engine).
constexpr double kPeerErrorFactor = 2;

/// Two double-precision runs of the same computation agree to this (sums in other orders).
constexpr double kPreciseTolerance = 1e-9;

struct Agreement {
    std::string reference;  ///< what `got` was compared with, e.g. "default", "simple", "LibTorch"
    bool passed = false;
    double max_abs_error = 0;  ///< over all tensors
    double max_rel_error = 0;  ///< max over tensors of max|got - reference| / scale
    /// With a double-precision reference: the same for the f32 peer (LibTorch), else negative.
    double peer_rel_error = -1;
    /// With double-precision twins on both sides: their max relative difference, which
    /// decides `passed` (then max_rel_error is the f32 result's error, reported beside).
    double precise_rel_error = -1;
    std::string problem;  ///< a count or shape mismatch, or a NaN, when there was one
};

Agreement compare_results(const std::vector<Tensor> &got, const std::vector<Tensor> &reference,
                          const std::string &reference_name);

/// Compares Strata's f32 results and the peer's f32 results with the peer's double-precision
/// results (`precise`): passes when each of Strata's tensors is within kTolerance, or within
/// kPeerErrorFactor x the peer's own error on that tensor.
Agreement compare_with_precise(const std::vector<Tensor> &got, const std::vector<Tensor> &peer,
                               const std::vector<Tensor> &precise, const std::string &peer_name);

/// Where both sides also ran in double precision (`got_precise`, `reference_precise`): they
/// agree when those f64 results agree within kPreciseTolerance, i.e. both compute the same
/// function. The f32 results' errors against `reference_precise` are reported beside
/// (`got` as max_rel_error, `reference_f32` as peer_rel_error): f32 runs of a deep network
/// differ where a ReLU's input lies within rounding of zero, in any engine or schedule.
Agreement compare_precise_twins(const std::vector<Tensor> &got, const std::vector<Tensor> &got_precise,
                                const std::vector<Tensor> &reference_f32,
                                const std::vector<Tensor> &reference_precise, const std::string &reference_name);

}  // namespace strata::bench
