// Convolution references. conv2d pads explicitly (any padding mode, as
// PyTorch does for non-zero modes) and then slides the kernel; the transposed
// convolution scatters each input element through the kernel, which is its
// definition as the adjoint of conv. The 1-d forms are the 2-d ones with H = 1.

#include "tests/reference/indexing.h"
#include "tests/reference/reference.h"

namespace strata::reference {

using namespace detail;

void same_padding(const Ints &kernel, const Ints &dilation, Ints *lo, Ints *hi) {
    lo->clear();
    hi->clear();
    for (size_t i = 0; i < kernel.size(); ++i) {
        const int64_t total = dilation[i] * (kernel[i] - 1);
        lo->push_back(total / 2);
        hi->push_back(total - total / 2);
    }
}

Tensor conv2d(const Tensor &x, const Tensor &weight, const Tensor &bias, const ConvArgs &a) {
    const std::string mode = a.padding_mode == "zeros" ? "constant" : a.padding_mode;
    const Tensor xp = pad(x, {a.padding_lo[1], a.padding_hi[1], a.padding_lo[0], a.padding_hi[0]}, mode);
    const int64_t n_batch = xp.shape()[0], cin = xp.shape()[1], h = xp.shape()[2], w = xp.shape()[3];
    const int64_t cout = weight.shape()[0], cin_g = weight.shape()[1];
    const int64_t kh = weight.shape()[2], kw = weight.shape()[3];
    const int64_t groups = a.groups, cout_g = cout / groups;
    if (cin_g * groups != cin)
        fail("reference conv2d: channels {} vs weight {}", cin, shape_str(weight.shape()));
    const int64_t oh = (h - a.dilation[0] * (kh - 1) - 1) / a.stride[0] + 1;
    const int64_t ow = (w - a.dilation[1] * (kw - 1) - 1) / a.stride[1] + 1;
    const std::vector<double> vx = values(xp), vw = values(weight);
    const std::vector<double> vb =
        bias.defined() ? values(bias) : std::vector<double>(static_cast<size_t>(cout));
    std::vector<double> out(static_cast<size_t>(n_batch * cout * oh * ow));
    size_t o = 0;
    for (int64_t n = 0; n < n_batch; ++n)
        for (int64_t co = 0; co < cout; ++co) {
            const int64_t g = co / cout_g;
            for (int64_t y = 0; y < oh; ++y)
                for (int64_t xo = 0; xo < ow; ++xo) {
                    double acc = vb[static_cast<size_t>(co)];
                    for (int64_t ci = 0; ci < cin_g; ++ci) {
                        const int64_t c = g * cin_g + ci;
                        for (int64_t i = 0; i < kh; ++i)
                            for (int64_t j = 0; j < kw; ++j) {
                                const int64_t iy = y * a.stride[0] + i * a.dilation[0];
                                const int64_t ix = xo * a.stride[1] + j * a.dilation[1];
                                acc += vx[static_cast<size_t>(((n * cin + c) * h + iy) * w + ix)] *
                                       vw[static_cast<size_t>(((co * cin_g + ci) * kh + i) * kw + j)];
                            }
                    }
                    out[o++] = acc;
                }
        }
    return make_f64(out, {n_batch, cout, oh, ow});
}

Tensor conv1d(const Tensor &x, const Tensor &weight, const Tensor &bias, const ConvArgs &a) {
    const Shape &xs = x.shape(), &ws = weight.shape();
    ConvArgs a2 = a;
    a2.stride = {1, a.stride[0]};
    a2.padding_lo = {0, a.padding_lo[0]};
    a2.padding_hi = {0, a.padding_hi[0]};
    a2.dilation = {1, a.dilation[0]};
    const Tensor y =
        conv2d(reshape(x, {xs[0], xs[1], 1, xs[2]}), reshape(weight, {ws[0], ws[1], 1, ws[2]}), bias, a2);
    return reshape(y, {y.shape()[0], y.shape()[1], y.shape()[3]});
}

Tensor conv_transpose2d(const Tensor &x, const Tensor &weight, const Tensor &bias,
                        const ConvTransposeArgs &a) {
    const int64_t n_batch = x.shape()[0], cin = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
    const int64_t cout_g = weight.shape()[1], kh = weight.shape()[2], kw = weight.shape()[3];
    const int64_t groups = a.groups, cin_g = cin / groups, cout = cout_g * groups;
    if (weight.shape()[0] != cin) fail("reference conv_transpose2d: channels {}", cin);
    const int64_t oh =
        (h - 1) * a.stride[0] - 2 * a.padding[0] + a.dilation[0] * (kh - 1) + a.output_padding[0] + 1;
    const int64_t ow =
        (w - 1) * a.stride[1] - 2 * a.padding[1] + a.dilation[1] * (kw - 1) + a.output_padding[1] + 1;
    const std::vector<double> vx = values(x), vw = values(weight);
    std::vector<double> out(static_cast<size_t>(n_batch * cout * oh * ow), 0.0);
    auto at = [&](int64_t n, int64_t c, int64_t y, int64_t xo) {
        return static_cast<size_t>(((n * cout + c) * oh + y) * ow + xo);
    };
    for (int64_t n = 0; n < n_batch; ++n)
        for (int64_t ci = 0; ci < cin; ++ci) {
            const int64_t g = ci / cin_g;
            for (int64_t col = 0; col < cout_g; ++col) {
                const int64_t co = g * cout_g + col;
                for (int64_t iy = 0; iy < h; ++iy)
                    for (int64_t ix = 0; ix < w; ++ix) {
                        const double v = vx[static_cast<size_t>(((n * cin + ci) * h + iy) * w + ix)];
                        for (int64_t i = 0; i < kh; ++i)
                            for (int64_t j = 0; j < kw; ++j) {
                                const int64_t y = iy * a.stride[0] - a.padding[0] + i * a.dilation[0];
                                const int64_t xo = ix * a.stride[1] - a.padding[1] + j * a.dilation[1];
                                if (y < 0 || y >= oh || xo < 0 || xo >= ow) continue;
                                out[at(n, co, y, xo)] +=
                                    v * vw[static_cast<size_t>(((ci * cout_g + col) * kh + i) * kw + j)];
                            }
                    }
            }
        }
    if (bias.defined()) {
        const std::vector<double> vb = values(bias);
        for (int64_t n = 0; n < n_batch; ++n)
            for (int64_t c = 0; c < cout; ++c)
                for (int64_t y = 0; y < oh; ++y)
                    for (int64_t xo = 0; xo < ow; ++xo) out[at(n, c, y, xo)] += vb[static_cast<size_t>(c)];
    }
    return make_f64(out, {n_batch, cout, oh, ow});
}

Tensor conv_transpose1d(const Tensor &x, const Tensor &weight, const Tensor &bias,
                        const ConvTransposeArgs &a) {
    const Shape &xs = x.shape(), &ws = weight.shape();
    ConvTransposeArgs a2 = a;
    a2.stride = {1, a.stride[0]};
    a2.padding = {0, a.padding[0]};
    a2.output_padding = {0, a.output_padding[0]};
    a2.dilation = {1, a.dilation[0]};
    const Tensor y = conv_transpose2d(reshape(x, {xs[0], xs[1], 1, xs[2]}),
                                      reshape(weight, {ws[0], ws[1], 1, ws[2]}), bias, a2);
    return reshape(y, {y.shape()[0], y.shape()[1], y.shape()[3]});
}

}  // namespace strata::reference
