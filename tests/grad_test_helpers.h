#pragma once
// Shared by the test_grad_*.cpp files: random f64 sources and the macro that
// runs a finite-difference gradient check under every schedule.

#include "frontend/functional.h"
#include "frontend/graph.h"
#include "tests/reference/gradcheck.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace strata::testing {

using reference::GradSource;
using Syms = std::vector<SymTensor>;

/// Standard normal f64 values, scaled.
inline Tensor randn64(const Shape &shape, Generator &gen, double stddev = 1.0) {
    return Tensor::randn(shape, gen, DType::f64, 0.0, stddev);
}

/// Uniform f64 values in [low, high).
inline Tensor rand64(const Shape &shape, Generator &gen, double low, double high) {
    return Tensor::rand(shape, gen, DType::f64, low, high);
}

/// Standard normal values pushed at least `gap` away from zero, for ops
/// with a kink at 0 (relu, abs, leaky_relu, elu) that a difference step
/// must not cross.
inline Tensor randn64_away_from_zero(const Shape &shape, Generator &gen, double gap = 1e-3) {
    Tensor t = randn64(shape, gen);
    for (int64_t i = 0; i < t.numel(); ++i) {
        const double v = t.get_flat(i);
        if (std::fabs(v) < gap) t.set_flat(i, v < 0 ? -gap : gap);
    }
    return t;
}

/// A random permutation of 0.1 * (0, 1, ..., n-1) - offset, reshaped: values
/// at least 0.1 apart, so no max or max-pool window has a tie or near-tie.
inline Tensor distinct64(const Shape &shape, Generator &gen) {
    Tensor t = Tensor::empty(shape, DType::f64);
    const int64_t n = t.numel();
    std::vector<double> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = 0.1 * static_cast<double>(i) - 0.05 * n;
    for (int64_t i = n - 1; i > 0; --i)
        std::swap(v[static_cast<size_t>(i)], v[static_cast<size_t>(gen.below(static_cast<uint64_t>(i + 1)))]);
    for (int64_t i = 0; i < n; ++i) t.set_flat(i, v[static_cast<size_t>(i)]);
    return t;
}

/// Class indices in [0, classes) as i32.
inline Tensor classes32(const Shape &shape, int64_t classes, Generator &gen) {
    Tensor t = Tensor::empty(shape, DType::i32);
    for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, static_cast<double>(gen.below(classes)));
    return t;
}

/// Class indices with every third entry set to `ignore_index`.
inline Tensor targets_with_ignored(const Shape &shape, int64_t classes, int64_t ignore_index, Generator &gen) {
    Tensor t = classes32(shape, classes, gen);
    for (int64_t i = 0; i < t.numel(); i += 3) t.set_flat(i, static_cast<double>(ignore_index));
    return t;
}

/// Compile options for a schedule name.
inline codegen::CompileOptions schedule_options(const std::string &schedule) {
    codegen::CompileOptions o;
    o.schedule = schedule;
    return o;
}

}  // namespace strata::testing

/// Checks the gradients of the function (the variadic argument, so that a
/// lambda may hold commas) with respect to SOURCES against finite
/// differences (see tests/reference/gradcheck.h) under the default and the
/// "simple" schedule.
#define CHECK_GRADIENTS(SOURCES, ...)                                                                      \
    do {                                                                                                   \
        for (const std::string &schedule_ : ::strata::reference::grad_schedules()) {                     \
            ::strata::reference::GradCheckOptions options_;                                                \
            options_.compile.schedule = schedule_;                                                         \
            const auto result_ = ::strata::reference::gradcheck((SOURCES), (__VA_ARGS__), options_);       \
            INFO(result_.report);                                                                          \
            CHECK(result_.ok);                                                                             \
        }                                                                                                  \
    } while (0)
