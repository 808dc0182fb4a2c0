// Shape and layout ops: Reshape, Flatten, Squeeze/Unsqueeze, Transpose, Concat, Split, Slice,
// Gather (constant indices), Pad, Expand, Cast, Identity, Dropout, and the shape arithmetic
// PyTorch's exporter emits (Shape, Constant, ConstantOfShape, Range, ...), folded at import.

#include "frontend/functional.h"
#include "frontend/onnx/onnx_converter.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace strata::onnx {

namespace {

using TP = ::onnx::TensorProto;

/// The shape of input i, whether it is a graph node or known at import.
Shape input_shape(const NodeContext &ctx, int i) {
    const Value &v = ctx.input(i);
    return v.sym.defined() ? v.sym.shape() : v.host->shape;
}

/// Elements of `t` picked by flat indices, as a new host tensor of `shape`.
HostTensor gather_flat(const HostTensor &t, const std::vector<int64_t> &flat, Shape shape) {
    HostTensor out;
    out.elem_type = t.elem_type;
    out.shape = std::move(shape);
    for (int64_t f : flat) {
        if (t.is_float()) out.floats.push_back(t.floats[f]);
        else out.ints.push_back(t.ints[f]);
    }
    return out;
}

/// The flat index of every element of a row-major tensor of `shape`, permuted/selected by `map`,
/// which maps an output multi-index to an input flat index.
template <typename F> std::vector<int64_t> for_each_index(const Shape &shape, F &&map) {
    const int64_t n = shape_numel(shape);
    std::vector<int64_t> out;
    out.reserve(n);
    std::vector<int64_t> idx(shape.size(), 0);
    for (int64_t k = 0; k < n; ++k) {
        out.push_back(map(idx));
        for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
            if (++idx[d] < shape[d]) break;
            idx[d] = 0;
        }
    }
    return out;
}

std::vector<int64_t> row_major_strides(const Shape &shape) {
    std::vector<int64_t> s(shape.size(), 1);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d) s[d] = s[d + 1] * shape[d + 1];
    return s;
}

// ---- shape rules shared by the host and graph versions ----

Shape reshape_target(const NodeContext &ctx, const Shape &in, const std::vector<int64_t> &spec) {
    const bool allowzero = ctx.attr_int("allowzero", 0) != 0;
    Shape out(spec.size());
    int64_t infer = -1, known = 1;
    for (size_t i = 0; i < spec.size(); ++i) {
        int64_t s = spec[i];
        if (s == 0 && !allowzero) {
            if (i >= in.size()) ctx.error("shape entry {} is 0 (copy), but the input {} has no dim {}", i, shape_str(in), i);
            s = in[i];
        }
        if (s == -1) {
            if (infer >= 0) ctx.error("shape {} has more than one -1", fmt::join(spec, ","));
            infer = static_cast<int64_t>(i);
            continue;
        }
        if (s < 0) ctx.error("shape {} has a negative extent {}", fmt::join(spec, ","), s);
        out[i] = s;
        known = s == 0 ? 0 : known * s;
        if (known > (int64_t(1) << 48)) ctx.error("shape {} is too large", fmt::join(spec, ","));
    }
    const int64_t n = shape_numel(in);
    if (infer >= 0) {
        if (known == 0 || n % known != 0)
            ctx.error("cannot reshape {} into {}: {} elements do not divide", shape_str(in), fmt::join(spec, ","), n);
        out[infer] = n / known;
    } else if (shape_numel(out) != n) {
        ctx.error("cannot reshape {} ({} elements) into {}", shape_str(in), n, shape_str(out));
    }
    return out;
}

Shape flatten_target(const NodeContext &ctx, const Shape &in) {
    const int64_t rank = static_cast<int64_t>(in.size());
    int64_t axis = ctx.attr_int("axis", 1);
    if (axis < -rank || axis > rank) ctx.error("axis {} is out of range for rank {}", axis, rank);
    if (axis < 0) axis += rank;
    int64_t a = 1, b = 1;
    for (int64_t d = 0; d < rank; ++d) (d < axis ? a : b) *= in[d];
    return {a, b};
}

std::vector<int64_t> axes_of(const NodeContext &ctx, int input, bool attribute_form) {
    if (attribute_form) return ctx.attr_ints("axes");
    if (ctx.has_input(input)) return ctx.constant(input, "axes").int_values(ctx.where() + ": axes");
    return {};
}

Shape squeeze_target(const NodeContext &ctx, const Shape &in) {
    const std::vector<int64_t> axes = axes_of(ctx, 1, ctx.opset() < 13);
    const int64_t rank = static_cast<int64_t>(in.size());
    std::vector<bool> drop(rank, false);
    if (axes.empty()) {
        for (int64_t d = 0; d < rank; ++d) drop[d] = in[d] == 1;
    } else {
        for (int64_t a : axes) {
            const int64_t d = normalize_axis(ctx, a, rank);
            if (in[d] != 1) ctx.error("cannot squeeze axis {} of shape {}: its extent is not 1", a, shape_str(in));
            drop[d] = true;
        }
    }
    Shape out;
    for (int64_t d = 0; d < rank; ++d)
        if (!drop[d]) out.push_back(in[d]);
    return out;
}

Shape unsqueeze_target(const NodeContext &ctx, const Shape &in) {
    const std::vector<int64_t> axes = axes_of(ctx, 1, ctx.opset() < 13);
    if (axes.empty()) ctx.error("needs axes");
    const int64_t rank = static_cast<int64_t>(in.size() + axes.size());
    std::vector<bool> inserted(rank, false);
    for (int64_t a : axes) {
        const int64_t d = normalize_axis(ctx, a, rank);
        if (inserted[d]) ctx.error("axis {} is given twice", a);
        inserted[d] = true;
    }
    Shape out;
    size_t next = 0;
    for (int64_t d = 0; d < rank; ++d) out.push_back(inserted[d] ? 1 : in[next++]);
    return out;
}

std::vector<int64_t> transpose_perm(const NodeContext &ctx, int64_t rank) {
    std::vector<int64_t> perm = ctx.attr_ints("perm");
    if (perm.empty()) {
        for (int64_t d = rank - 1; d >= 0; --d) perm.push_back(d);
    }
    if (static_cast<int64_t>(perm.size()) != rank) ctx.error("perm has {} entries for a tensor of rank {}", perm.size(), rank);
    return perm;
}

/// One axis of a Slice, clamped as ONNX says.
struct SliceAxis {
    int64_t dim, start, end, step;
};

std::vector<SliceAxis> slice_axes(const NodeContext &ctx, const Shape &in) {
    std::vector<int64_t> starts, ends, axes, steps;
    const std::string what = ctx.where();
    if (ctx.opset() < 10) {
        ctx.check_attrs({"starts", "ends", "axes"});
        starts = ctx.attr_ints("starts");
        ends = ctx.attr_ints("ends");
        axes = ctx.attr_ints("axes");
    } else {
        starts = ctx.constant(1, "starts").int_values(what + ": starts");
        ends = ctx.constant(2, "ends").int_values(what + ": ends");
        if (ctx.has_input(3)) axes = ctx.constant(3, "axes").int_values(what + ": axes");
        if (ctx.has_input(4)) steps = ctx.constant(4, "steps").int_values(what + ": steps");
    }
    const int64_t rank = static_cast<int64_t>(in.size());
    if (axes.empty())
        for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
        ctx.error("starts, ends, axes and steps have different lengths ({}, {}, {}, {})", starts.size(), ends.size(),
                  axes.size(), steps.size());
    std::vector<SliceAxis> out;
    for (size_t i = 0; i < starts.size(); ++i) {
        const int64_t d = normalize_axis(ctx, axes[i], rank);
        const int64_t len = in[d];
        const int64_t step = steps[i];
        if (step == 0) ctx.error("step 0 on axis {}", axes[i]);
        int64_t s = starts[i], e = ends[i];
        s = s < 0 ? std::max<int64_t>(s, -len) + len : s;
        e = e < 0 ? std::max<int64_t>(e, -len - 1) + len : e;
        if (step > 0) {
            s = std::clamp<int64_t>(s, 0, len);
            e = std::clamp<int64_t>(e, 0, len);
        } else {
            s = std::clamp<int64_t>(s, 0, len - 1);
            e = std::clamp<int64_t>(e, -1, len - 1);
        }
        out.push_back({d, s, e, step});
    }
    return out;
}

int64_t slice_length(const SliceAxis &a) {
    if (a.step > 0) return a.end > a.start ? (a.end - a.start + a.step - 1) / a.step : 0;
    return a.start > a.end ? (a.start - a.end - a.step - 1) / -a.step : 0;
}

/// Split sizes along `axis` of extent `len`.
std::vector<int64_t> split_sizes(const NodeContext &ctx, int64_t len) {
    std::vector<int64_t> sizes;
    if (ctx.opset() < 13) sizes = ctx.attr_ints("split");
    else if (ctx.has_input(1)) sizes = ctx.constant(1, "split").int_values(ctx.where() + ": split");
    const int64_t n = ctx.output_count();
    if (sizes.empty()) {
        const int64_t parts = ctx.attr_int("num_outputs", n);
        const int64_t each = (len + parts - 1) / parts;
        for (int64_t i = 0; i < parts; ++i) sizes.push_back(std::max<int64_t>(0, std::min(each, len - i * each)));
    }
    if (static_cast<int64_t>(sizes.size()) != n) ctx.error("{} split sizes for {} outputs", sizes.size(), n);
    int64_t total = 0;
    for (int64_t s : sizes) {
        if (s < 0) ctx.error("negative split size {}", s);
        total += s;
    }
    if (total != len) ctx.error("split sizes {} do not add up to the extent {}", fmt::join(sizes, ","), len);
    return sizes;
}

}  // namespace

Shape broadcast_shape(const NodeContext &ctx, const Shape &a, const Shape &b) {
    const size_t rank = std::max(a.size(), b.size());
    Shape out(rank);
    for (size_t i = 0; i < rank; ++i) {
        const int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        const int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        if (x != y && x != 1 && y != 1) ctx.error("shapes {} and {} do not broadcast", shape_str(a), shape_str(b));
        out[i] = x == 1 ? y : x;
    }
    return out;
}

/// Elements of `t` broadcast to `shape` (numpy rules).
HostTensor host_broadcast(const HostTensor &t, const Shape &shape) {
    const size_t off = shape.size() - t.shape.size();
    const std::vector<int64_t> strides = row_major_strides(t.shape);
    return gather_flat(t, for_each_index(shape, [&](const std::vector<int64_t> &idx) {
                           int64_t f = 0;
                           for (size_t d = 0; d < t.shape.size(); ++d)
                               if (t.shape[d] != 1) f += idx[d + off] * strides[d];
                           return f;
                       }),
                       shape);
}

namespace {

// ---- host versions ----

void host_shape(const NodeContext &ctx) {
    ctx.check_attrs({"start", "end"});
    const Shape in = input_shape(ctx, 0);
    const int64_t rank = static_cast<int64_t>(in.size());
    int64_t start = ctx.attr_int("start", 0), end = ctx.attr_int("end", rank);
    start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
    end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
    std::vector<int64_t> dims(in.begin() + start, in.begin() + std::max(start, end));
    const int64_t n = static_cast<int64_t>(dims.size());
    ctx.set_output(0, HostTensor::of_ints(std::move(dims), {n}));
}

void host_size(const NodeContext &ctx) {
    ctx.set_output(0, HostTensor::of_ints({shape_numel(input_shape(ctx, 0))}, {}));
}

void host_constant(const NodeContext &ctx) {
    const auto &node = ctx.node();
    if (node.attribute_size() != 1) ctx.error("needs exactly one value attribute, has {}", node.attribute_size());
    const auto &a = node.attribute(0);
    if (a.name() == "value") return ctx.set_output(0, host_tensor(a.t(), ctx.where() + ": value"));
    if (a.name() == "value_float") return ctx.set_output(0, HostTensor::of_floats({a.f()}, {}));
    if (a.name() == "value_int") return ctx.set_output(0, HostTensor::of_ints({a.i()}, {}));
    if (a.name() == "value_floats")
        return ctx.set_output(0, HostTensor::of_floats({a.floats().begin(), a.floats().end()}, {a.floats_size()}));
    if (a.name() == "value_ints")
        return ctx.set_output(0, HostTensor::of_ints({a.ints().begin(), a.ints().end()}, {a.ints_size()}));
    ctx.unsupported("attribute '{}' is not supported (Strata imports value, value_float(s), value_int(s))", a.name());
}

void host_constant_of_shape(const NodeContext &ctx) {
    ctx.check_attrs({"value"});
    const Shape shape = ctx.constant(0, "shape").int_values(ctx.where() + ": shape");
    for (int64_t e : shape)
        if (e < 0) ctx.error("shape {} has a negative extent", shape_str(shape));
    HostTensor fill = HostTensor::of_floats({0.0}, {1});
    if (const auto *a = ctx.attr("value")) fill = host_tensor(a->t(), ctx.where() + ": value");
    if (fill.numel() != 1) ctx.error("attribute 'value' must hold one element, holds {}", fill.numel());
    if (shape_numel(shape) > (int64_t(1) << 28)) ctx.error("shape {} is too large to fold at import", shape_str(shape));
    ctx.set_output(0, host_broadcast(HostTensor{fill.elem_type, {}, fill.ints, fill.floats}, shape));
}

void host_identity(const NodeContext &ctx) { ctx.set_output(0, ctx.constant(0, "input")); }

void host_cast(const NodeContext &ctx) {
    ctx.check_attrs({"to", "saturate"});
    const int32_t to = static_cast<int32_t>(ctx.attr_int("to", 0));
    const HostTensor &in = ctx.constant(0, "input");
    HostTensor out;
    out.elem_type = to;
    out.shape = in.shape;
    if (to == TP::BOOL) {
        for (int64_t i = 0; i < in.numel(); ++i) out.ints.push_back(in.value(i) != 0);
    } else if (HostTensor::is_float_type(to)) {
        for (int64_t i = 0; i < in.numel(); ++i)
            out.floats.push_back(to == TP::FLOAT ? static_cast<float>(in.value(i)) : in.value(i));
    } else if (to == TP::INT64 || to == TP::INT32) {
        for (int64_t i = 0; i < in.numel(); ++i) {
            if (!in.is_float()) {
                out.ints.push_back(in.ints[i]);
                continue;
            }
            const double v = std::trunc(in.floats[i]);
            if (!(std::abs(v) < 9.2e18)) ctx.error("cannot cast {} to {}", in.floats[i], elem_type_name(to));
            out.ints.push_back(static_cast<int64_t>(v));
        }
    } else {
        ctx.unsupported("cast to {} is not supported", elem_type_name(to));
    }
    ctx.set_output(0, std::move(out));
}

void host_reshape(const NodeContext &ctx) {
    HostTensor out = ctx.constant(0, "data");
    if (ctx.opset() < 5) ctx.unsupported("Reshape-1 (shape as an attribute) is not supported");
    out.shape = reshape_target(ctx, out.shape, ctx.constant(1, "shape").int_values(ctx.where() + ": shape"));
    ctx.set_output(0, std::move(out));
}

void host_flatten(const NodeContext &ctx) {
    HostTensor out = ctx.constant(0, "input");
    out.shape = flatten_target(ctx, out.shape);
    ctx.set_output(0, std::move(out));
}

void host_squeeze(const NodeContext &ctx) {
    HostTensor out = ctx.constant(0, "data");
    out.shape = squeeze_target(ctx, out.shape);
    ctx.set_output(0, std::move(out));
}

void host_unsqueeze(const NodeContext &ctx) {
    HostTensor out = ctx.constant(0, "data");
    out.shape = unsqueeze_target(ctx, out.shape);
    ctx.set_output(0, std::move(out));
}

void host_concat(const NodeContext &ctx) {
    const HostTensor &first = ctx.constant(0, "input 0");
    const int64_t rank = static_cast<int64_t>(first.shape.size());
    const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), rank);
    HostTensor out;
    out.elem_type = first.elem_type;
    out.shape = first.shape;
    out.shape[axis] = 0;
    std::vector<const HostTensor *> parts;
    for (int i = 0; i < ctx.input_count(); ++i) {
        const HostTensor &t = ctx.constant(i, fmt::format("input {}", i));
        if (t.shape.size() != first.shape.size()) ctx.error("inputs of different ranks");
        parts.push_back(&t);
        out.shape[axis] += t.shape[axis];
    }
    // Row-major: concatenating along `axis` interleaves blocks of inner * extent elements.
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= first.shape[d];
    for (int64_t d = axis + 1; d < rank; ++d) inner *= first.shape[d];
    for (int64_t o = 0; o < outer; ++o)
        for (const HostTensor *t : parts) {
            const int64_t block = t->shape[axis] * inner;
            for (int64_t k = 0; k < block; ++k) {
                if (out.is_float()) out.floats.push_back(t->value(o * block + k));
                else out.ints.push_back(t->ints[o * block + k]);
            }
        }
    ctx.set_output(0, std::move(out));
}

void host_gather(const NodeContext &ctx) {
    ctx.check_attrs({"axis"});
    const HostTensor &data = ctx.constant(0, "data");
    const HostTensor &indices = ctx.constant(1, "indices");
    const int64_t rank = static_cast<int64_t>(data.shape.size());
    const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), rank);
    const int64_t len = data.shape[axis];
    std::vector<int64_t> idx = indices.int_values(ctx.where() + ": indices");
    for (int64_t &i : idx) {
        if (i < -len || i >= len) ctx.error("index {} is out of range for axis {} of extent {}", i, axis, len);
        if (i < 0) i += len;
    }
    Shape shape(data.shape.begin(), data.shape.begin() + axis);
    shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
    shape.insert(shape.end(), data.shape.begin() + axis + 1, data.shape.end());
    const std::vector<int64_t> strides = row_major_strides(data.shape);
    const size_t q = indices.shape.size();
    const std::vector<int64_t> istrides = row_major_strides(indices.shape);
    ctx.set_output(0, gather_flat(data, for_each_index(shape, [&](const std::vector<int64_t> &o) {
                                      int64_t f = 0, k = 0;
                                      for (int64_t d = 0; d < axis; ++d) f += o[d] * strides[d];
                                      for (size_t j = 0; j < q; ++j) k += o[axis + j] * istrides[j];
                                      f += idx[k] * strides[axis];
                                      for (int64_t d = axis + 1; d < rank; ++d) f += o[d - 1 + q] * strides[d];
                                      return f;
                                  }),
                                  shape));
}

void host_slice(const NodeContext &ctx) {
    const HostTensor &data = ctx.constant(0, "data");
    const std::vector<SliceAxis> axes = slice_axes(ctx, data.shape);
    Shape shape = data.shape;
    std::vector<int64_t> start(shape.size(), 0), step(shape.size(), 1);
    for (const SliceAxis &a : axes) {
        shape[a.dim] = slice_length(a);
        start[a.dim] = a.start;
        step[a.dim] = a.step;
    }
    const std::vector<int64_t> strides = row_major_strides(data.shape);
    ctx.set_output(0, gather_flat(data, for_each_index(shape, [&](const std::vector<int64_t> &o) {
                                      int64_t f = 0;
                                      for (size_t d = 0; d < o.size(); ++d) f += (start[d] + o[d] * step[d]) * strides[d];
                                      return f;
                                  }),
                                  shape));
}

void host_transpose(const NodeContext &ctx) {
    const HostTensor &data = ctx.constant(0, "data");
    const std::vector<int64_t> perm = transpose_perm(ctx, static_cast<int64_t>(data.shape.size()));
    Shape shape;
    for (int64_t p : perm) shape.push_back(data.shape.at(normalize_axis(ctx, p, data.shape.size(), "perm entry")));
    const std::vector<int64_t> strides = row_major_strides(data.shape);
    ctx.set_output(0, gather_flat(data, for_each_index(shape, [&](const std::vector<int64_t> &o) {
                                      int64_t f = 0;
                                      for (size_t d = 0; d < o.size(); ++d) f += o[d] * strides[perm[d]];
                                      return f;
                                  }),
                                  shape));
}

void host_expand(const NodeContext &ctx) {
    const HostTensor &data = ctx.constant(0, "input");
    const Shape target = ctx.constant(1, "shape").int_values(ctx.where() + ": shape");
    ctx.set_output(0, host_broadcast(data, broadcast_shape(ctx, data.shape, target)));
}

void host_range(const NodeContext &ctx) {
    const HostTensor &start = ctx.constant(0, "start"), &limit = ctx.constant(1, "limit"), &delta = ctx.constant(2, "delta");
    if (start.numel() != 1 || limit.numel() != 1 || delta.numel() != 1) ctx.error("start, limit and delta must be scalars");
    const double s = start.value(0), l = limit.value(0), d = delta.value(0);
    if (d == 0) ctx.error("delta is 0");
    const double count = std::max(0.0, std::ceil((l - s) / d));
    if (count > (1 << 24)) ctx.error("{} elements are too many to fold at import", count);
    HostTensor out;
    out.elem_type = start.elem_type;
    out.shape = {static_cast<int64_t>(count)};
    for (int64_t i = 0; i < static_cast<int64_t>(count); ++i) {
        if (out.is_float()) out.floats.push_back(s + i * d);
        else out.ints.push_back(start.ints[0] + i * delta.ints[0]);
    }
    ctx.set_output(0, std::move(out));
}

// ---- graph versions ----

void graph_identity(const NodeContext &ctx) { ctx.set_output(0, ctx.tensor(0)); }

void graph_dropout(const NodeContext &ctx) {
    ctx.check_attrs({"ratio", "seed", "is_test"});
    ctx.refuse_output(1, "dropout mask");
    if (ctx.has_input(2) && ctx.constant(2, "training_mode").value(0) != 0)
        ctx.unsupported("training_mode = true is not supported (the import is an inference graph)");
    if (ctx.opset() < 7 && ctx.attr_int("is_test", 0) == 0)
        ctx.unsupported("is_test = 0 (training-mode dropout) is not supported");
    ctx.set_output(0, ctx.tensor(0));
}

void graph_cast(const NodeContext &ctx) {
    ctx.check_attrs({"to", "saturate"});
    const int32_t to = static_cast<int32_t>(ctx.attr_int("to", 0));
    ctx.set_output(0, cast(ctx.tensor(0), strata_dtype(to, ctx.where() + ": attribute 'to'")));
}

void graph_reshape(const NodeContext &ctx) {
    ctx.check_attrs({"allowzero"});
    if (ctx.opset() < 5) ctx.unsupported("Reshape-1 (shape as an attribute) is not supported");
    const SymTensor x = ctx.tensor(0);
    ctx.set_output(0, reshape(x, reshape_target(ctx, x.shape(), ctx.constant(1, "shape").int_values(ctx.where() + ": shape"))));
}

void graph_flatten(const NodeContext &ctx) {
    ctx.check_attrs({"axis"});
    const SymTensor x = ctx.tensor(0);
    ctx.set_output(0, reshape(x, flatten_target(ctx, x.shape())));
}

void graph_squeeze(const NodeContext &ctx) {
    ctx.check_attrs({"axes"});
    const SymTensor x = ctx.tensor(0);
    ctx.set_output(0, reshape(x, squeeze_target(ctx, x.shape())));
}

void graph_unsqueeze(const NodeContext &ctx) {
    ctx.check_attrs({"axes"});
    const SymTensor x = ctx.tensor(0);
    ctx.set_output(0, reshape(x, unsqueeze_target(ctx, x.shape())));
}

void graph_transpose(const NodeContext &ctx) {
    ctx.check_attrs({"perm"});
    const SymTensor x = ctx.tensor(0);
    ctx.set_output(0, permute(x, transpose_perm(ctx, x.dim())));
}

void graph_concat(const NodeContext &ctx) {
    ctx.check_attrs({"axis"});
    std::vector<SymTensor> xs;
    for (int i = 0; i < ctx.input_count(); ++i)
        if (ctx.has_input(i)) xs.push_back(ctx.tensor(i));
    if (xs.empty()) ctx.error("has no inputs");
    const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), xs[0].dim());
    // A zero-extent input adds nothing (ONNX allows them; Strata's concat needs elements).
    std::vector<SymTensor> parts;
    for (const SymTensor &x : xs)
        if (x.numel() > 0) parts.push_back(x);
    if (parts.empty()) ctx.unsupported("every input is empty");
    ctx.set_output(0, concat(parts, axis));
}

void graph_split(const NodeContext &ctx) {
    ctx.check_attrs({"axis", "split", "num_outputs"});
    const SymTensor x = ctx.tensor(0);
    const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), x.dim());
    const std::vector<int64_t> sizes = split_sizes(ctx, x.size(axis));
    int64_t at = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
        if (sizes[i] == 0) ctx.unsupported("output {} would be empty", i);
        ctx.set_output(static_cast<int>(i), slice(x, axis, at, at + sizes[i]));
        at += sizes[i];
    }
}

void graph_slice(const NodeContext &ctx) {
    const SymTensor x = ctx.tensor(0);
    SymTensor y = x;
    for (const SliceAxis &a : slice_axes(ctx, x.shape())) {
        if (slice_length(a) == 0) ctx.unsupported("the slice along axis {} is empty", a.dim);
        if (a.step < 0) ctx.unsupported("negative step {} (a reversed slice) is not supported", a.step);
        if (a.start == 0 && a.end == x.size(a.dim) && a.step == 1) continue;
        y = slice(y, a.dim, a.start, a.end, a.step);
    }
    ctx.set_output(0, y);
}

void graph_gather(const NodeContext &ctx) {
    ctx.check_attrs({"axis"});
    const SymTensor x = ctx.tensor(0);
    const HostTensor &indices = ctx.constant(1, "indices");
    const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), x.dim());
    const int64_t len = x.size(axis);
    std::vector<int64_t> idx = indices.int_values(ctx.where() + ": indices");
    if (idx.empty()) ctx.unsupported("no indices (an empty result)");
    for (int64_t &i : idx) {
        if (i < -len || i >= len) ctx.error("index {} is out of range for axis {} of extent {}", i, axis, len);
        if (i < 0) i += len;
    }
    // Runs of consecutive indices become one slice each.
    std::vector<SymTensor> parts;
    for (size_t i = 0; i < idx.size();) {
        size_t j = i + 1;
        while (j < idx.size() && idx[j] == idx[j - 1] + 1) ++j;
        parts.push_back(slice(x, axis, idx[i], idx[j - 1] + 1));
        i = j;
    }
    SymTensor y = parts.size() == 1 ? parts[0] : concat(parts, axis);
    Shape shape(x.shape().begin(), x.shape().begin() + axis);
    shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
    shape.insert(shape.end(), x.shape().begin() + axis + 1, x.shape().end());
    if (shape != y.shape()) y = reshape(y, shape);
    ctx.set_output(0, y);
}

void graph_expand(const NodeContext &ctx) {
    const SymTensor x = ctx.tensor(0);
    const Shape target = broadcast_shape(ctx, x.shape(), ctx.constant(1, "shape").int_values(ctx.where() + ": shape"));
    ctx.set_output(0, target == x.shape() ? x : expand(x, target));
}

void graph_pad(const NodeContext &ctx) {
    ctx.check_attrs({"mode", "pads", "value"});
    const SymTensor x = ctx.tensor(0);
    const int64_t rank = x.dim();
    std::vector<int64_t> pads;
    double value = 0;
    if (ctx.opset() < 11) {
        pads = ctx.attr_ints("pads");
        value = ctx.attr_float("value", 0.0);
    } else {
        pads = ctx.constant(1, "pads").int_values(ctx.where() + ": pads");
        if (ctx.has_input(2)) {
            const HostTensor &v = ctx.constant(2, "constant_value");
            if (v.numel() != 1) ctx.error("constant_value must hold one element");
            value = v.value(0);
        }
    }
    std::vector<int64_t> axes;
    if (ctx.has_input(3)) {
        for (int64_t a : ctx.constant(3, "axes").int_values(ctx.where() + ": axes")) axes.push_back(normalize_axis(ctx, a, rank));
    } else {
        for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
    }
    const int64_t n = static_cast<int64_t>(axes.size());
    if (static_cast<int64_t>(pads.size()) != 2 * n) ctx.error("pads has {} entries, expected {}", pads.size(), 2 * n);
    std::vector<int64_t> lo(rank, 0), hi(rank, 0);
    for (int64_t i = 0; i < n; ++i) {
        lo[axes[i]] = pads[i];
        hi[axes[i]] = pads[i + n];
    }
    std::string mode = ctx.attr_string("mode", "constant");
    if (mode == "edge") mode = "replicate";
    else if (mode != "constant" && mode != "reflect") ctx.unsupported("attribute 'mode' = '{}' is not supported (constant, reflect, edge)", mode);
    for (int64_t d = 0; d < rank; ++d)
        if (lo[d] < 0 || hi[d] < 0) ctx.unsupported("negative pads (cropping) are not supported");
    // torch.nn.functional.pad's order: last dim first; dims before the first padded one are left out.
    int64_t first = 0;
    while (first < rank && lo[first] == 0 && hi[first] == 0) ++first;
    if (first == rank) return ctx.set_output(0, x);
    std::vector<int64_t> torch_pad;
    for (int64_t d = rank - 1; d >= first; --d) {
        torch_pad.push_back(lo[d]);
        torch_pad.push_back(hi[d]);
    }
    ctx.set_output(0, pad(x, torch_pad, mode, value));
}

}  // namespace

void register_shape_ops(OpTable &t) {
    t.host["Shape"] = host_shape;
    t.host["Size"] = host_size;
    t.host["Constant"] = host_constant;
    t.host["ConstantOfShape"] = host_constant_of_shape;
    t.host["Identity"] = host_identity;
    t.host["Cast"] = host_cast;
    t.host["Reshape"] = host_reshape;
    t.host["Flatten"] = host_flatten;
    t.host["Squeeze"] = host_squeeze;
    t.host["Unsqueeze"] = host_unsqueeze;
    t.host["Concat"] = host_concat;
    t.host["Gather"] = host_gather;
    t.host["Slice"] = host_slice;
    t.host["Transpose"] = host_transpose;
    t.host["Expand"] = host_expand;
    t.host["Range"] = host_range;

    t.graph["Identity"] = graph_identity;
    t.graph["Dropout"] = graph_dropout;
    t.graph["Cast"] = graph_cast;
    t.graph["Reshape"] = graph_reshape;
    t.graph["Flatten"] = graph_flatten;
    t.graph["Squeeze"] = graph_squeeze;
    t.graph["Unsqueeze"] = graph_unsqueeze;
    t.graph["Transpose"] = graph_transpose;
    t.graph["Concat"] = graph_concat;
    t.graph["Split"] = graph_split;
    t.graph["Slice"] = graph_slice;
    t.graph["Gather"] = graph_gather;
    t.graph["Expand"] = graph_expand;
    t.graph["Pad"] = graph_pad;
}

}  // namespace strata::onnx
