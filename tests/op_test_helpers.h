#pragma once
// Shared by the test_ops_*.cpp files: random inputs, the tolerance rule and
// the comparison macro that checks a compiled result against a reference.

#include "frontend/functional.h"
#include "frontend/graph.h"
#include "tests/reference/reference.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace strata::testing {

/// Both float dtypes, the loop every op test runs.
inline constexpr DType float_dtypes[] = {DType::f32, DType::f64};

/// The schedules an op's results are compared under: the default and a structurally different one.
inline constexpr const char *kSchedules[] = {"default", "simple"};

/// Compile options that pick `schedule`.
inline codegen::CompileOptions with_schedule(const char *schedule) {
    codegen::CompileOptions o;
    o.schedule = schedule;
    return o;
}

/// The relative tolerance for a result whose elements each accumulate about
/// `terms` rounded products: 1e-5 (f32) or 1e-12 (f64), growing like the
/// random-walk error sqrt(terms) once there are more than 16 terms.
inline double tolerance(DType dtype, double terms = 1) {
    const double base = dtype == DType::f32 ? 1e-5 : 1e-12;
    return base * std::max(1.0, std::sqrt(terms) / 4.0);
}

/// Standard normal values of the given shape and dtype.
inline Tensor randn(const Shape &shape, DType dtype, Generator &gen) {
    return Tensor::randn(shape, gen, dtype);
}

/// Uniform values in [low, high).
inline Tensor rand(const Shape &shape, DType dtype, Generator &gen, double low, double high) {
    return Tensor::rand(shape, gen, dtype, low, high);
}

/// Class indices in [0, classes) as i32.
inline Tensor random_classes(const Shape &shape, int64_t classes, Generator &gen) {
    Tensor t = Tensor::empty(shape, DType::i32);
    for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, static_cast<double>(gen.below(classes)));
    return t;
}

}  // namespace strata::testing

/// Checks a compiled result against a reference: same shape, the dtype the
/// graph computed in, and values within `rtol` (see reference::mismatch).
#define CHECK_CLOSE(ACTUAL, EXPECTED, DTYPE, RTOL)                                                           \
    do {                                                                                                     \
        const ::strata::Tensor actual_ = (ACTUAL);                                                           \
        const std::string mismatch_ = ::strata::reference::mismatch(actual_, (EXPECTED), (RTOL));            \
        INFO(#ACTUAL << " (" << ::strata::dtype_name(actual_.dtype()) << "): " << mismatch_);                \
        CHECK(actual_.dtype() == (DTYPE));                                                                   \
        CHECK(mismatch_.empty());                                                                            \
    } while (0)

/// Exact equality (integer and boolean results, data movement).
#define CHECK_EXACT(ACTUAL, EXPECTED)                                                                        \
    do {                                                                                                     \
        const std::string mismatch_ = ::strata::reference::mismatch((ACTUAL), (EXPECTED), 0.0);              \
        INFO(#ACTUAL << ": " << mismatch_);                                                                  \
        CHECK(mismatch_.empty());                                                                            \
    } while (0)
