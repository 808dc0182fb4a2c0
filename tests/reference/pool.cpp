// Pooling references: every output looks at its window of input positions
// directly. PyTorch's rules: padded positions never win a max, the average's
// divisor counts the window clipped to [-p, L + p) (count_include_pad) or to
// [0, L), and adaptive windows run from floor(i L / O) to ceil((i + 1) L / O).
// The 1-d forms are the 2-d ones with H = 1 and a kernel of height 1.

#include "tests/reference/indexing.h"
#include "tests/reference/reference.h"

#include <algorithm>
#include <cmath>

namespace strata::reference {

using namespace detail;

int64_t pool_output_size(int64_t length, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation,
                         bool ceil_mode) {
    const double span = static_cast<double>(length + 2 * padding - dilation * (kernel - 1) - 1);
    const double q = span / static_cast<double>(stride);
    int64_t out = static_cast<int64_t>(ceil_mode ? std::ceil(q) : std::floor(q)) + 1;
    // In ceil mode the last window must start inside the input or the left padding.
    if (ceil_mode && (out - 1) * stride >= length + padding) --out;
    return out;
}

namespace {

/// One dim of a window: the input positions it reads and its average divisor.
struct Window {
    std::vector<int64_t> positions;  // inside [0, L)
    int64_t divisor = 0;
};

Window window(int64_t o, int64_t length, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation,
              bool count_include_pad) {
    Window w;
    const int64_t start = o * stride - padding;
    for (int64_t j = 0; j < kernel; ++j) {
        const int64_t p = start + j * dilation;
        if (p >= 0 && p < length) w.positions.push_back(p);
    }
    if (count_include_pad)
        w.divisor = std::min(start + kernel, length + padding) - start;
    else
        w.divisor = std::min(start + kernel, length) - std::max<int64_t>(start, 0);
    return w;
}

/// Max, average, or (want_index) the position h * W + w of the max as PyTorch picks it: a
/// strictly greater value or a NaN takes over, so ties keep the first and NaNs the last NaN.
Tensor pool2d(const Tensor &x, const PoolArgs &a, bool is_max, bool want_index = false) {
    const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
    const Ints dil = a.dilation.empty() ? Ints{1, 1} : a.dilation;
    const int64_t oh = pool_output_size(h, a.kernel[0], a.stride[0], a.padding[0], dil[0], a.ceil_mode);
    const int64_t ow = pool_output_size(w, a.kernel[1], a.stride[1], a.padding[1], dil[1], a.ceil_mode);
    const std::vector<double> v = values(x);
    std::vector<double> out;
    for (int64_t plane = 0; plane < n * c; ++plane)
        for (int64_t y = 0; y < oh; ++y) {
            const Window wy =
                window(y, h, a.kernel[0], a.stride[0], a.padding[0], dil[0], a.count_include_pad);
            for (int64_t xo = 0; xo < ow; ++xo) {
                const Window wx =
                    window(xo, w, a.kernel[1], a.stride[1], a.padding[1], dil[1], a.count_include_pad);
                double best = -INFINITY, total = 0, picked = 0;
                int64_t index = -1;
                for (int64_t iy : wy.positions)
                    for (int64_t ix : wx.positions) {
                        const double e = v[static_cast<size_t>((plane * h + iy) * w + ix)];
                        best = std::isnan(e) || std::isnan(best) ? NAN : std::max(best, e);
                        total += e;
                        if (index < 0 || e > picked || std::isnan(e)) picked = e, index = iy * w + ix;
                    }
                if (want_index) {
                    out.push_back(static_cast<double>(index));
                    continue;
                }
                const int64_t divisor = a.divisor_override != 0 ? a.divisor_override : wy.divisor * wx.divisor;
                out.push_back(is_max ? best : total / static_cast<double>(divisor));
            }
        }
    return want_index ? cast(make_f64(out, {n, c, oh, ow}), DType::i32) : make_f64(out, {n, c, oh, ow});
}

/// Runs a 2-d pool on [N, C, 1, L] with a window of height 1.
Tensor pool1d(const Tensor &x, const PoolArgs &a, bool is_max, bool want_index = false) {
    PoolArgs a2 = a;
    a2.kernel = {1, a.kernel[0]};
    a2.stride = {1, a.stride[0]};
    a2.padding = {0, a.padding[0]};
    a2.dilation = {1, a.dilation.empty() ? 1 : a.dilation[0]};
    const Shape &s = x.shape();
    const Tensor y = pool2d(reshape(x, {s[0], s[1], 1, s[2]}), a2, is_max, want_index);
    return reshape(y, {s[0], s[1], y.shape()[3]});
}

/// floor(i * L / O) and ceil((i + 1) * L / O).
std::pair<int64_t, int64_t> adaptive_range(int64_t i, int64_t length, int64_t out) {
    return {(i * length) / out, ((i + 1) * length + out - 1) / out};
}

}  // namespace

Tensor max_pool1d(const Tensor &x, const PoolArgs &a) { return pool1d(x, a, true); }
Tensor max_pool2d(const Tensor &x, const PoolArgs &a) { return pool2d(x, a, true); }
Tensor avg_pool1d(const Tensor &x, const PoolArgs &a) { return pool1d(x, a, false); }
Tensor max_pool1d_indices(const Tensor &x, const PoolArgs &a) { return pool1d(x, a, true, true); }
Tensor max_pool2d_indices(const Tensor &x, const PoolArgs &a) { return pool2d(x, a, true, true); }

Tensor max_unpool(const Tensor &x, const Tensor &indices, const Shape &output_size) {
    const int64_t planes = x.shape()[0] * x.shape()[1], per_in = x.numel() / planes;
    const int64_t per_out = shape_numel(output_size);
    const std::vector<double> v = values(x), at = values(indices);
    std::vector<double> out(static_cast<size_t>(planes * per_out), 0.0);
    for (int64_t p = 0; p < planes; ++p)
        for (int64_t i = 0; i < per_in; ++i) {
            const int64_t index = static_cast<int64_t>(at[static_cast<size_t>(p * per_in + i)]);
            if (index < 0 || index >= per_out) fail("reference max_unpool: index {} outside the plane", index);
            out[static_cast<size_t>(p * per_out + index)] = v[static_cast<size_t>(p * per_in + i)];
        }
    Shape shape = {x.shape()[0], x.shape()[1]};
    shape.insert(shape.end(), output_size.begin(), output_size.end());
    return make_f64(out, shape);
}
Tensor avg_pool2d(const Tensor &x, const PoolArgs &a) { return pool2d(x, a, false); }

Tensor adaptive_avg_pool2d(const Tensor &x, const Ints &size) {
    const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
    const std::vector<double> v = values(x);
    std::vector<double> out;
    for (int64_t plane = 0; plane < n * c; ++plane)
        for (int64_t y = 0; y < size[0]; ++y) {
            const auto [y0, y1] = adaptive_range(y, h, size[0]);
            for (int64_t xo = 0; xo < size[1]; ++xo) {
                const auto [x0, x1] = adaptive_range(xo, w, size[1]);
                double total = 0;
                for (int64_t iy = y0; iy < y1; ++iy)
                    for (int64_t ix = x0; ix < x1; ++ix)
                        total += v[static_cast<size_t>((plane * h + iy) * w + ix)];
                out.push_back(total / static_cast<double>((y1 - y0) * (x1 - x0)));
            }
        }
    return make_f64(out, {n, c, size[0], size[1]});
}

Tensor adaptive_avg_pool1d(const Tensor &x, int64_t size) {
    const Shape &s = x.shape();
    const Tensor y = adaptive_avg_pool2d(reshape(x, {s[0], s[1], 1, s[2]}), {1, size});
    return reshape(y, {s[0], s[1], size});
}

}  // namespace strata::reference
