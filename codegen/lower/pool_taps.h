#pragma once
// Internal to codegen: what max-pooling's argmax and the gather-form pool
// gradients and unpooling share: how a window's taps compete, and which
// windows can contain a position.

#include "codegen/lower/context.h"

#include <limits>

namespace strata::codegen {

/// The output windows that may contain input position i along one dim:
/// o in [first(i), first(i) + count), where window o covers
/// [o*stride - pad, o*stride - pad + span).
struct Candidates {
    int64_t count;
    Halide::Expr first;
};

/// The order in which a max-pool window's taps compete, as integers: the
/// value's order (+0 and -0 equal), and every NaN above every number. PyTorch
/// moves a window's index to a strictly greater value or to any NaN, so ties
/// keep the first maximum and NaNs the last NaN. Integers because Halide
/// compiles float comparisons with LLVM's fast-math flags, under which a NaN
/// test or a comparison with a NaN may be folded away.
struct TapRank {
    Halide::Expr key;   ///< compares like the value; NaN highest
    Halide::Expr nan;   ///< the value is a NaN
};

/// The bit pattern of +inf as an integer of the float's width.
inline Halide::Expr infinity_bits(int bits) {
    return bits == 64 ? Halide::Expr(int64_t{0x7ff0000000000000}) : Halide::Expr(int32_t{0x7f800000});
}

inline TapRank rank_of(const Halide::Expr &v) {
    if (!v.type().is_float()) return {v, Halide::Internal::const_false()};
    const int bits = v.type().bits();
    const Halide::Type it = Halide::Int(bits);
    const Halide::Expr all = bits == 64 ? Halide::Expr(std::numeric_limits<int64_t>::max())
                                        : Halide::Expr(std::numeric_limits<int32_t>::max());
    const Halide::Expr inf = infinity_bits(bits);
    Halide::Expr raw = Halide::reinterpret(it, v);
    Halide::Expr magnitude = raw & all;
    Halide::Expr nan = magnitude > inf;
    return {Halide::select(nan, all, Halide::select(raw < 0, -magnitude, magnitude)), nan};
}

/// Whether a tap of rank `v` takes the window from the best so far.
inline Halide::Expr takes_over(const TapRank &v, const Halide::Expr &best_key) { return v.nan || v.key > best_key; }

inline Candidates candidates(Halide::Expr i, int64_t stride, int64_t pad, int64_t span) {
    // o*stride - pad <= i  and  i < o*stride - pad + span
    //   =>  (i + pad - span) / stride < o <= (i + pad) / stride
    Halide::Expr first = (i + static_cast<int>(pad - span)) / static_cast<int>(stride) + 1;  // Euclidean division
    return {(span + stride - 1) / stride, first};
}

}  // namespace strata::codegen
