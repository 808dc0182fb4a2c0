// F.interpolate / F.upsample: PyTorch's argument handling (size or scale_factor, the mode's input rank,
// align_corners only for linear modes, recompute_scale_factor) onto the upsample_* ops.

#include "frontend/functional/common.h"

#include <cmath>
#include <cstdint>

namespace strata {

using detail::make;
using ir::Op;

namespace {

/// One value per spatial dim from a list of 1 or `dims` values (as interpolate repeats a single one).
template <typename T>
std::vector<T> per_dim(const char *what, const std::vector<T> &values, size_t dims, const Shape &input) {
    if (values.size() == 1) return std::vector<T>(dims, values[0]);
    if (values.size() != dims)
        fail("interpolate: input and {} must have the same number of spatial dimensions, but got input with "
             "spatial dimensions of [{}] and {} [{}] (give one value, or one per spatial dimension)",
             what, fmt::join(input.begin() + 2, input.end(), ", "), what, fmt::join(values, ", "));
    return values;
}

/// The upsample op for a mode and an input rank, as F.interpolate dispatches; fails like it otherwise.
Op resample_op(const std::string &mode, int64_t rank) {
    if (mode == "nearest" && rank == 3) return Op::upsample_nearest1d;
    if (mode == "nearest" && rank == 4) return Op::upsample_nearest2d;
    if (mode == "linear" && rank == 3) return Op::upsample_linear1d;
    if (mode == "bilinear" && rank == 4) return Op::upsample_bilinear2d;
    if (mode == "linear" || mode == "bilinear")
        fail("interpolate: got {}-d input, but {} mode needs {}-d input ([N, C, {}])", rank, mode,
             mode == "linear" ? 3 : 4, mode == "linear" ? "L" : "H, W");
    fail("interpolate: mode \"{}\" is not supported (expected \"nearest\", \"linear\", \"bilinear\" or \"area\")", mode);
}

}  // namespace

SymTensor interpolate(const SymTensor &input, const InterpolateOptions &o) {
    if (!input.defined()) fail("interpolate: the input tensor is undefined");
    const std::string &mode = o.mode;
    const bool linear = mode == "linear" || mode == "bilinear";
    if (!linear && o.align_corners)
        fail("interpolate: align_corners option can only be set with the interpolating modes: linear | bilinear "
             "(mode is \"{}\")", mode);
    const int64_t rank = input.dim();
    if (rank != 3 && rank != 4)
        fail("interpolate: only 3-d and 4-d inputs ([N, C, L], [N, C, H, W]) are supported, got shape {}",
             shape_str(input.shape()));
    const size_t s = static_cast<size_t>(rank - 2);
    const Shape &in = input.shape();
    if (!o.size.empty() && !o.scale_factor.empty()) fail("interpolate: only one of size or scale_factor should be defined");
    if (o.size.empty() && o.scale_factor.empty()) fail("interpolate: either size or scale_factor should be defined");
    if (o.recompute_scale_factor.value_or(false) && !o.size.empty())
        fail("interpolate: recompute_scale_factor is not meaningful with an explicit size");
    Ints size;
    std::vector<double> scales(s, 0.0);  // 0: no scale factor (aten's None)
    if (!o.size.empty()) {
        size = per_dim("output size", o.size, s, in);
    } else {
        scales = per_dim("scale_factor", o.scale_factor, s, in);
        for (size_t d = 0; d < s; ++d) {
            // aten's compute_output_size: the product truncated to an integer.
            const double product = static_cast<double>(in[2 + d]) * scales[d];
            if (!std::isfinite(scales[d]) || !(scales[d] > 0.0) || !(product < 2147483648.0))
                fail("interpolate: scale_factor [{}] of input {} gives no valid output size (expected finite, "
                     "positive factors giving at most {} positions per dim)",
                     fmt::join(o.scale_factor, ", "), shape_str(in), INT32_MAX);
            size.push_back(static_cast<int64_t>(product));
        }
        if (o.recompute_scale_factor.value_or(false) || mode == "area") scales.assign(s, 0.0);
    }
    for (size_t d = 0; d < s; ++d)
        if (in[2 + d] <= 0 || size[d] <= 0)
            fail("interpolate: input and output sizes should be greater than 0, but got input {} and output size [{}]",
                 shape_str(in), fmt::join(size, ", "));
    if (mode == "area") return s == 1 ? adaptive_avg_pool1d(input, size) : adaptive_avg_pool2d(input, size);
    const Op op = resample_op(mode, rank);
    ir::Attrs attrs = {{"output_size", size}};
    if (s == 1) attrs.set("scales", scales[0]);
    else attrs.set("scales_h", scales[0]).set("scales_w", scales[1]);
    if (linear) attrs.set("align_corners", o.align_corners.value_or(false));
    return make(op, {input}, attrs);
}

SymTensor upsample(const SymTensor &input, const InterpolateOptions &options) { return interpolate(input, options); }

}  // namespace strata
