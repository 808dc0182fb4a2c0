// Resize (opsets 10 to 17) and Upsample (7 to 9) onto Strata's interpolate (upsample_* ops):
// the coordinate rules PyTorch's exporter emits, each mapped to the PyTorch mode with the same
// arithmetic: nearest = asymmetric + floor, linear = pytorch_half_pixel / half_pixel (align_corners
// false) or align_corners. Anything else is refused, naming the attribute.

#include "frontend/functional.h"
#include "frontend/onnx/onnx_converter.h"

namespace strata::onnx {

namespace {

void resample(const NodeContext &ctx, const std::string &mode, const std::string &coordinates,
              const std::string &nearest_mode, const std::vector<double> &scales, const Ints &sizes) {
    const SymTensor x = ctx.tensor(0);
    if (x.dim() != 3 && x.dim() != 4)
        ctx.unsupported("input of shape {}: Strata resizes [N, C, L] and [N, C, H, W]", shape_str(x.shape()));
    const size_t s = static_cast<size_t>(x.dim() - 2);
    InterpolateOptions o;
    if (!sizes.empty()) {
        if (sizes.size() != static_cast<size_t>(x.dim())) ctx.error("sizes has {} entries for rank {}", sizes.size(), x.dim());
        if (sizes[0] != x.size(0) || sizes[1] != x.size(1)) ctx.unsupported("resizing the batch or channel dims");
        o.size.assign(sizes.begin() + 2, sizes.end());
    } else {
        if (scales.size() != static_cast<size_t>(x.dim())) ctx.error("scales has {} entries for rank {}", scales.size(), x.dim());
        if (scales[0] != 1.0 || scales[1] != 1.0) ctx.unsupported("scales of the batch or channel dims other than 1");
        for (size_t i = 0; i < s; ++i)
            if (!(scales[2 + i] > 0)) ctx.error("scale {} must be > 0", scales[2 + i]);
        o.scale_factor.assign(scales.begin() + 2, scales.end());
    }
    if (mode == "nearest") {
        if (coordinates != "asymmetric")
            ctx.unsupported("attribute 'coordinate_transformation_mode' = '{}' with nearest mode (Strata: asymmetric, "
                            "PyTorch's nearest)",
                            coordinates);
        if (nearest_mode != "floor")
            ctx.unsupported("attribute 'nearest_mode' = '{}' (Strata: floor, PyTorch's nearest)", nearest_mode);
        o.mode = "nearest";
    } else if (mode == "linear") {
        if (coordinates == "align_corners") {
            o.align_corners = true;
        } else if (coordinates == "pytorch_half_pixel" || coordinates == "half_pixel") {
            o.align_corners = false;
        } else {
            ctx.unsupported("attribute 'coordinate_transformation_mode' = '{}' with linear mode (Strata: "
                            "pytorch_half_pixel, half_pixel, align_corners)",
                            coordinates);
        }
        o.mode = s == 1 ? "linear" : "bilinear";
    } else {
        ctx.unsupported("attribute 'mode' = '{}' is not supported (nearest, linear)", mode);
    }
    SymTensor y = interpolate(x, o);
    // ONNX's half_pixel and pytorch_half_pixel put an output extent of 1 at coordinate 0 (or the
    // centre), PyTorch's bilinear at 0.5 * scale - 0.5: refuse rather than differ.
    if (mode == "linear" && coordinates != "align_corners")
        for (int64_t d = 2; d < y.dim(); ++d)
            if (y.size(d) == 1 && x.size(d) != 1) ctx.unsupported("half_pixel resizing to an extent of 1");
    ctx.set_output(0, y);
}

std::vector<double> float_values(const HostTensor &t) {
    std::vector<double> out;
    for (int64_t i = 0; i < t.numel(); ++i) out.push_back(t.value(i));
    return out;
}

void graph_resize(const NodeContext &ctx) {
    ctx.check_attrs({"mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside",
                     "extrapolation_value", "antialias", "keep_aspect_ratio_policy"});
    if (ctx.attr_int("exclude_outside", 0)) ctx.unsupported("attribute 'exclude_outside' = 1 is not supported");
    if (ctx.attr_int("antialias", 0)) ctx.unsupported("attribute 'antialias' = 1 is not supported");
    const std::string mode = ctx.attr_string("mode", "nearest");
    std::vector<double> scales;
    Ints sizes;
    std::string coordinates = "asymmetric", nearest_mode = "floor";
    if (ctx.opset() < 11) {
        scales = float_values(ctx.constant(1, "scales"));
    } else {
        coordinates = ctx.attr_string("coordinate_transformation_mode", "half_pixel");
        nearest_mode = ctx.attr_string("nearest_mode", "round_prefer_floor");
        if (coordinates == "tf_crop_and_resize")
            ctx.unsupported("attribute 'coordinate_transformation_mode' = 'tf_crop_and_resize' is not supported");
        if (ctx.has_input(2)) scales = float_values(ctx.constant(2, "scales"));
        if (ctx.has_input(3)) sizes = ctx.constant(3, "sizes").int_values(ctx.where() + ": sizes");
        if (!scales.empty() && !sizes.empty()) ctx.error("has both scales and sizes");
        if (scales.empty() && sizes.empty()) ctx.error("needs scales or sizes");
    }
    resample(ctx, mode, coordinates, nearest_mode, scales, sizes);
}

void graph_upsample(const NodeContext &ctx) {
    ctx.check_attrs({"mode", "scales"});
    const std::string mode = ctx.attr_string("mode", "nearest");
    const std::vector<double> scales = ctx.opset() < 9 ? ctx.attr_floats("scales") : float_values(ctx.constant(1, "scales"));
    // Upsample's coordinates are asymmetric: linear has no PyTorch counterpart.
    resample(ctx, mode == "bilinear" ? "linear" : mode, "asymmetric", "floor", scales, {});
}

}  // namespace

void register_resize_ops(OpTable &t) {
    t.graph["Resize"] = graph_resize;
    t.graph["Upsample"] = graph_upsample;
}

}  // namespace strata::onnx
