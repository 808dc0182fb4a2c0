// F.interpolate's nearest and (bi)linear modes, written from aten's formulas output element by
// output element (no tables, nothing shared with codegen/lower/resample.cpp). The source
// coordinate is computed in the input's precision as aten's CPU kernel does; values in double.

#include "tests/reference/indexing.h"
#include "tests/reference/reference.h"

#include <algorithm>
#include <cmath>

namespace strata::reference {

using namespace detail;

namespace {

/// aten: scale > 0 ? 1 / scale : in / out, in T.
template <typename T> T source_scale(double scale, int64_t in, int64_t out) {
    if (scale > 0) return static_cast<T>(1.0 / scale);
    return static_cast<T>(in) / static_cast<T>(out);
}

/// The input position output position o reads along one axis (nearest).
template <typename T> int64_t nearest_source(int64_t o, int64_t in, int64_t out, double scale) {
    const T position = source_scale<T>(scale, in, out) * static_cast<T>(o);
    return std::min(static_cast<int64_t>(std::floor(static_cast<float>(position))), in - 1);
}

/// The two input positions and their weights output position o reads along one axis (linear).
struct Taps {
    int64_t i0, i1;
    double w0, w1;
};
template <typename T> Taps linear_source(int64_t o, int64_t in, int64_t out, bool align_corners, double scale) {
    if (in == out) return {o, o, 1.0, 0.0};
    T ratio = 0;
    if (align_corners) {
        if (out > 1) ratio = static_cast<T>(in - 1) / static_cast<T>(out - 1);
    } else {
        ratio = source_scale<T>(scale, in, out);
    }
    double position = align_corners ? static_cast<double>(ratio) * static_cast<double>(o)
                                    : static_cast<double>(ratio) * (static_cast<double>(o) + 0.5) - 0.5;
    position = std::max(position, 0.0);
    const int64_t i0 = std::min(static_cast<int64_t>(position), in - 1);
    const T lambda1 = static_cast<T>(position - static_cast<double>(i0));
    return {i0, i0 < in - 1 ? i0 + 1 : i0, static_cast<double>(static_cast<T>(1) - lambda1),
            static_cast<double>(lambda1)};
}

Taps axis_taps(const Tensor &x, int64_t o, int64_t in, int64_t out, bool linear, bool align_corners, double scale) {
    const bool f32 = x.dtype() == DType::f32;
    if (!linear) {
        const int64_t i = f32 ? nearest_source<float>(o, in, out, scale) : nearest_source<double>(o, in, out, scale);
        return {i, i, 1.0, 0.0};
    }
    return f32 ? linear_source<float>(o, in, out, align_corners, scale)
               : linear_source<double>(o, in, out, align_corners, scale);
}

Tensor resample(const Tensor &x, const Shape &size, bool linear, bool align_corners, const std::vector<double> &scales) {
    const Shape &xs = x.shape();
    const size_t s = xs.size() - 2;
    if (size.size() != s || scales.size() != s) fail("reference upsample: size and scales need {} values", s);
    Shape os = {xs[0], xs[1]};
    os.insert(os.end(), size.begin(), size.end());
    const std::vector<double> v = values(x);
    std::vector<double> out(static_cast<size_t>(shape_numel(os)));
    for (int64_t flat = 0; flat < shape_numel(os); ++flat) {
        const Ints at = unravel(flat, os);
        std::vector<Taps> taps;
        for (size_t d = 0; d < s; ++d) taps.push_back(axis_taps(x, at[2 + d], xs[2 + d], size[d], linear, align_corners, scales[d]));
        // The sum over every corner (each axis: tap 0 or 1) of the product of its weights; nearest
        // reads one corner (a zero weight times an infinite value would be NaN).
        double sum = 0;
        for (int corner = 0; corner < (linear ? 1 << s : 1); ++corner) {
            Ints from = {at[0], at[1]};
            double weight = 1;
            for (size_t d = 0; d < s; ++d) {
                const bool second = (corner >> d) & 1;
                from.push_back(second ? taps[d].i1 : taps[d].i0);
                weight *= second ? taps[d].w1 : taps[d].w0;
            }
            sum += weight * v[static_cast<size_t>(ravel(from, xs))];
        }
        out[static_cast<size_t>(flat)] = sum;
    }
    return make_f64(out, os);
}

}  // namespace

Tensor upsample_nearest(const Tensor &x, const Shape &size, const std::vector<double> &scales) {
    return resample(x, size, false, false, scales);
}

Tensor upsample_linear(const Tensor &x, const Shape &size, bool align_corners, const std::vector<double> &scales) {
    return resample(x, size, true, align_corners, scales);
}

}  // namespace strata::reference
