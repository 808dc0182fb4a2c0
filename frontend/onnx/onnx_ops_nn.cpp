// Convolution, pooling and normalisation: Conv, ConvTranspose, MaxPool, AveragePool,
// GlobalAveragePool, GlobalMaxPool, BatchNormalization, InstanceNormalization, LayerNormalization.

#include "frontend/functional.h"
#include "frontend/onnx/onnx_converter.h"

#include <limits>

namespace strata::onnx {

namespace {

/// The spatial geometry of a Conv/ConvTranspose/pool node: kernel, strides, dilations and the
/// padding at each end of every spatial dim (auto_pad resolved).
struct Window {
    Ints kernel, stride, dilation, lo, hi;
    bool symmetric() const { return lo == hi; }
    bool any_padding() const {
        for (size_t i = 0; i < lo.size(); ++i)
            if (lo[i] || hi[i]) return true;
        return false;
    }
};

size_t spatial_dims(const NodeContext &ctx, const SymTensor &x) {
    if (x.dim() != 3 && x.dim() != 4)
        ctx.unsupported("input of shape {}: Strata imports 1-D and 2-D windows (inputs [N, C, L] or [N, C, H, W])",
                        shape_str(x.shape()));
    return static_cast<size_t>(x.dim() - 2);
}

Ints per_dim(const NodeContext &ctx, const char *name, size_t s, int64_t fallback) {
    Ints v = ctx.attr_ints(name);
    if (v.empty()) v.assign(s, fallback);
    if (v.size() != s) ctx.error("attribute '{}' has {} entries for {} spatial dims", name, v.size(), s);
    for (int64_t e : v)
        if (e < 1) ctx.error("attribute '{}' = [{}] must be >= 1", name, fmt::join(v, ","));
    return v;
}

/// Reads kernel_shape (or `kernel` when the weight gives it), strides, dilations, pads, auto_pad.
Window read_window(const NodeContext &ctx, const SymTensor &x, Ints kernel, bool with_dilation) {
    const size_t s = spatial_dims(ctx, x);
    Window w;
    const Ints attr_kernel = ctx.attr_ints("kernel_shape");
    if (!attr_kernel.empty()) {
        if (!kernel.empty() && attr_kernel != kernel)
            ctx.error("attribute 'kernel_shape' [{}] differs from the weight's [{}]", fmt::join(attr_kernel, ","),
                      fmt::join(kernel, ","));
        kernel = attr_kernel;
    }
    if (kernel.size() != s) ctx.error("kernel_shape has {} entries for {} spatial dims", kernel.size(), s);
    w.kernel = kernel;
    w.stride = per_dim(ctx, "strides", s, 1);
    w.dilation = with_dilation ? per_dim(ctx, "dilations", s, 1) : Ints(s, 1);
    Ints pads = ctx.attr_ints("pads");
    if (pads.empty()) pads.assign(2 * s, 0);
    if (pads.size() != 2 * s) ctx.error("attribute 'pads' has {} entries, expected {}", pads.size(), 2 * s);
    for (int64_t p : pads)
        if (p < 0) ctx.error("attribute 'pads' = [{}] must be >= 0", fmt::join(pads, ","));
    w.lo.assign(pads.begin(), pads.begin() + s);
    w.hi.assign(pads.begin() + s, pads.end());
    const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        for (size_t i = 0; i < s; ++i) {
            const int64_t in = x.size(2 + i);
            const int64_t out = (in + w.stride[i] - 1) / w.stride[i];
            const int64_t total = std::max<int64_t>(0, (out - 1) * w.stride[i] + (w.kernel[i] - 1) * w.dilation[i] + 1 - in);
            const int64_t small = total / 2, large = total - small;
            w.lo[i] = auto_pad == "SAME_UPPER" ? small : large;
            w.hi[i] = auto_pad == "SAME_UPPER" ? large : small;
        }
    } else if (auto_pad == "VALID") {
        w.lo.assign(s, 0);
        w.hi.assign(s, 0);
    } else if (auto_pad != "NOTSET") {
        ctx.unsupported("attribute 'auto_pad' = '{}' is not supported", auto_pad);
    }
    return w;
}

/// x padded explicitly at both ends of each spatial dim with `value`.
SymTensor pad_spatial(const SymTensor &x, const Window &w, double value) {
    Ints torch_pad;
    for (size_t i = w.lo.size(); i-- > 0;) {
        torch_pad.push_back(w.lo[i]);
        torch_pad.push_back(w.hi[i]);
    }
    return pad(x, torch_pad, "constant", value);
}

void graph_conv(const NodeContext &ctx) {
    ctx.check_attrs({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
    SymTensor x = ctx.tensor(0);
    const SymTensor weight = ctx.tensor(1);
    const SymTensor bias = ctx.has_input(2) ? ctx.tensor(2) : SymTensor{};
    const size_t s = spatial_dims(ctx, x);
    if (static_cast<size_t>(weight.dim()) != s + 2) ctx.error("weight of shape {} for a {}-D convolution", shape_str(weight.shape()), s);
    Window w = read_window(ctx, x, Ints(weight.shape().begin() + 2, weight.shape().end()), true);
    ConvOptions o;
    o.stride = w.stride;
    o.dilation = w.dilation;
    o.groups = ctx.attr_int("group", 1);
    if (w.symmetric()) {
        o.padding = Padding(w.lo);
    } else {
        x = pad_spatial(x, w, 0.0);
        o.padding = Padding(Ints(s, 0));
    }
    ctx.set_output(0, s == 1 ? conv1d(x, weight, bias, o) : conv2d(x, weight, bias, o));
}

void graph_conv_transpose(const NodeContext &ctx) {
    ctx.check_attrs({"auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides"});
    const SymTensor x = ctx.tensor(0);
    const SymTensor weight = ctx.tensor(1);
    const SymTensor bias = ctx.has_input(2) ? ctx.tensor(2) : SymTensor{};
    const size_t s = spatial_dims(ctx, x);
    if (static_cast<size_t>(weight.dim()) != s + 2) ctx.error("weight of shape {} for a {}-D convolution", shape_str(weight.shape()), s);
    // auto_pad SAME_* for ConvTranspose pads the output, which read_window's rule does not describe.
    const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
    if (auto_pad != "NOTSET" && auto_pad != "VALID" && !ctx.has_attr("output_shape"))
        ctx.unsupported("attribute 'auto_pad' = '{}' without output_shape is not supported", auto_pad);
    Window w = read_window(ctx, x, Ints(weight.shape().begin() + 2, weight.shape().end()), true);
    if (auto_pad != "NOTSET") w.lo = w.hi = Ints(s, 0);
    Ints output_padding = ctx.attr_ints("output_padding");
    if (output_padding.empty()) output_padding.assign(s, 0);
    if (output_padding.size() != s) ctx.error("attribute 'output_padding' has {} entries for {} dims", output_padding.size(), s);
    // Full output extent of each dim before cropping the pads.
    Ints full(s);
    for (size_t i = 0; i < s; ++i)
        full[i] = (x.size(2 + i) - 1) * w.stride[i] + (w.kernel[i] - 1) * w.dilation[i] + 1 + output_padding[i];
    const Ints output_shape = ctx.attr_ints("output_shape");
    if (!output_shape.empty()) {
        if (output_shape.size() != s) ctx.error("attribute 'output_shape' has {} entries for {} dims", output_shape.size(), s);
        for (size_t i = 0; i < s; ++i) {
            const int64_t total = full[i] - output_shape[i];
            if (total < 0) ctx.unsupported("output_shape {} is larger than the full output {}", output_shape[i], full[i]);
            const bool upper = auto_pad == "SAME_UPPER";
            w.lo[i] = upper ? total / 2 : total - total / 2;
            w.hi[i] = total - w.lo[i];
        }
    }
    ConvTransposeOptions o;
    o.stride = w.stride;
    o.dilation = w.dilation;
    o.groups = ctx.attr_int("group", 1);
    bool native = w.symmetric();
    for (size_t i = 0; i < s; ++i)
        if (output_padding[i] >= std::max(w.stride[i], w.dilation[i])) native = false;
    if (native) {
        o.padding = w.lo;
        o.output_padding = output_padding;
        return ctx.set_output(0, s == 1 ? conv_transpose1d(x, weight, bias, o) : conv_transpose2d(x, weight, bias, o));
    }
    // Asymmetric pads: the full output, then crop lo/hi (output_padding adds zeros + bias at the end).
    o.padding = Ints(s, 0);
    o.output_padding = Ints(s, 0);
    SymTensor y = s == 1 ? conv_transpose1d(x, weight, {}, o) : conv_transpose2d(x, weight, {}, o);
    Ints torch_pad;
    for (size_t i = s; i-- > 0;) {
        torch_pad.push_back(0);
        torch_pad.push_back(output_padding[i]);
    }
    y = pad(y, torch_pad, "constant", 0.0);
    for (size_t i = 0; i < s; ++i) {
        if (w.lo[i] + w.hi[i] >= full[i]) ctx.error("pads crop the whole output along dim {}", i);
        if (w.lo[i] || w.hi[i]) y = slice(y, 2 + i, w.lo[i], full[i] - w.hi[i]);
    }
    if (bias.defined()) {
        Shape bshape(y.dim(), 1);
        bshape[1] = bias.numel();
        y = y + reshape(bias, bshape);
    }
    ctx.set_output(0, y);
}

/// PyTorch's pools take symmetric padding of at most half the kernel; anything else is padded explicitly.
bool native_pool_padding(const Window &w) {
    if (!w.symmetric()) return false;
    for (size_t i = 0; i < w.lo.size(); ++i)
        if (2 * w.lo[i] > w.kernel[i]) return false;
    return true;
}

void graph_max_pool(const NodeContext &ctx) {
    ctx.check_attrs({"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"});
    ctx.refuse_output(1, "indices");
    SymTensor x = ctx.tensor(0);
    const size_t s = spatial_dims(ctx, x);
    const Window w = read_window(ctx, x, {}, true);
    MaxPoolOptions o;
    o.stride = w.stride;
    o.dilation = w.dilation;
    o.ceil_mode = ctx.attr_int("ceil_mode", 0) != 0;
    if (native_pool_padding(w)) {
        o.padding = w.lo;
    } else {
        if (o.ceil_mode) ctx.unsupported("ceil_mode with asymmetric or large pads is not supported");
        x = pad_spatial(x, w, -std::numeric_limits<double>::infinity());
        o.padding = Ints(s, 0);
    }
    ctx.set_output(0, s == 1 ? max_pool1d(x, w.kernel, o) : max_pool2d(x, w.kernel, o));
}

void graph_avg_pool(const NodeContext &ctx) {
    ctx.check_attrs({"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides", "dilations"});
    SymTensor x = ctx.tensor(0);
    const size_t s = spatial_dims(ctx, x);
    for (int64_t d : ctx.attr_ints("dilations"))
        if (d != 1) ctx.unsupported("attribute 'dilations' != 1 is not supported for AveragePool");
    const Window w = read_window(ctx, x, {}, false);
    AvgPoolOptions o;
    o.stride = w.stride;
    o.ceil_mode = ctx.attr_int("ceil_mode", 0) != 0;
    o.count_include_pad = ctx.attr_int("count_include_pad", 0) != 0;
    const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
    if (native_pool_padding(w)) {
        o.padding = w.lo;
    } else if (o.count_include_pad && !o.ceil_mode) {
        x = pad_spatial(x, w, 0.0);
        o.padding = Ints(s, 0);
    } else {
        ctx.unsupported("asymmetric pads [{} / {}] without count_include_pad (or with ceil_mode) are not supported",
                        fmt::join(w.lo, ","), fmt::join(w.hi, ","));
    }
    ctx.set_output(0, s == 1 ? avg_pool1d(x, w.kernel, o) : avg_pool2d(x, w.kernel, o));
}

Ints spatial(const SymTensor &x) {
    Ints dims;
    for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
    return dims;
}

void graph_global_average_pool(const NodeContext &ctx) {
    ctx.check_attrs({});
    const SymTensor x = ctx.tensor(0);
    if (x.dim() < 3) ctx.error("input of shape {} has no spatial dims", shape_str(x.shape()));
    // PyTorch's adaptive_avg_pool to 1 (and Strata's export of it) write GlobalAveragePool.
    if (x.dim() == 3) return ctx.set_output(0, adaptive_avg_pool1d(x, {1}));
    if (x.dim() == 4) return ctx.set_output(0, adaptive_avg_pool2d(x, {1, 1}));
    ctx.set_output(0, mean(x, spatial(x), true));
}

void graph_global_max_pool(const NodeContext &ctx) {
    ctx.check_attrs({});
    const SymTensor x = ctx.tensor(0);
    if (x.dim() < 3) ctx.error("input of shape {} has no spatial dims", shape_str(x.shape()));
    ctx.set_output(0, max(x, spatial(x), true));
}

void graph_batch_norm(const NodeContext &ctx) {
    ctx.check_attrs({"epsilon", "momentum", "training_mode", "spatial", "is_test", "consumed_inputs"});
    if (ctx.opset() < 9 && ctx.attr_int("spatial", 1) == 0) ctx.unsupported("attribute 'spatial' = 0 is not supported");
    if (ctx.opset() < 7 && ctx.has_attr("consumed_inputs")) ctx.unsupported("BatchNormalization-1 is not supported");
    for (int i = 1; i < 5; ++i) ctx.refuse_output(i, "training statistics");
    const SymTensor x = ctx.tensor(0);
    if (ctx.attr_int("training_mode", 0)) {
        // Normalised with the batch's statistics (biased variance); the running ones only feed the
        // outputs refused above.
        if (ctx.opset() < 14) ctx.unsupported("attribute 'training_mode' needs opset 14 or later");
        const auto r = batch_norm(x, {}, {}, ctx.tensor(1), ctx.tensor(2), true, 0.1, ctx.attr_float("epsilon", 1e-5));
        return ctx.set_output(0, r.output);
    }
    const auto r = batch_norm(x, ctx.tensor(3), ctx.tensor(4), ctx.tensor(1), ctx.tensor(2), false,
                              ctx.attr_float("momentum", 0.9), ctx.attr_float("epsilon", 1e-5));
    ctx.set_output(0, r.output);
}

SymTensor per_channel(const SymTensor &v, int64_t rank) {
    Shape shape(rank, 1);
    shape[1] = v.numel();
    return reshape(v, shape);
}

void graph_instance_norm(const NodeContext &ctx) {
    ctx.check_attrs({"epsilon"});
    const SymTensor x = ctx.tensor(0);
    if (x.dim() < 3) ctx.error("input of shape {} has no spatial dims", shape_str(x.shape()));
    const double eps = ctx.attr_float("epsilon", 1e-5);
    const Ints dims = spatial(x);
    const SymTensor centered = x - mean(x, dims, true);
    const SymTensor var = mean(centered * centered, dims, true);
    const SymTensor y = centered * rsqrt(var + eps);
    ctx.set_output(0, y * per_channel(ctx.tensor(1), x.dim()) + per_channel(ctx.tensor(2), x.dim()));
}

void graph_layer_norm(const NodeContext &ctx) {
    ctx.check_attrs({"axis", "epsilon", "stash_type"});
    ctx.refuse_output(1, "mean");
    ctx.refuse_output(2, "inverse standard deviation");
    const SymTensor x = ctx.tensor(0);
    const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", -1), x.dim());
    const Ints normalized(x.shape().begin() + axis, x.shape().end());
    const double eps = ctx.attr_float("epsilon", 1e-5);
    const SymTensor scale = ctx.tensor(1);
    const SymTensor bias = ctx.has_input(2) ? ctx.tensor(2) : SymTensor{};
    if (scale.shape() == normalized && (!bias.defined() || bias.shape() == normalized))
        return ctx.set_output(0, layer_norm(x, normalized, scale, bias, eps));
    SymTensor y = layer_norm(x, normalized, {}, {}, eps) * scale;
    if (bias.defined()) y = y + bias;
    ctx.set_output(0, y);
}

}  // namespace

void register_nn_ops(OpTable &t) {
    t.graph["Conv"] = graph_conv;
    t.graph["ConvTranspose"] = graph_conv_transpose;
    t.graph["MaxPool"] = graph_max_pool;
    t.graph["AveragePool"] = graph_avg_pool;
    t.graph["GlobalAveragePool"] = graph_global_average_pool;
    t.graph["GlobalMaxPool"] = graph_global_max_pool;
    t.graph["BatchNormalization"] = graph_batch_norm;
    t.graph["InstanceNormalization"] = graph_instance_norm;
    t.graph["LayerNormalization"] = graph_layer_norm;
}

}  // namespace strata::onnx
