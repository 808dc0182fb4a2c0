// One shape rule per op. Every rule checks what PyTorch checks and throws
// strata::Error naming the op, the shapes or values and what was expected.

#include "ir/program.h"

#include <strata/error.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>

namespace strata::ir {

namespace {

using Inputs = std::vector<const Node *>;

const Shape &shape_of(const Inputs &in, size_t i) { return in[i]->type.shape; }

/// NumPy broadcasting of two shapes.
Shape broadcast(const char *op, const Shape &a, const Shape &b) {
    const size_t rank = std::max(a.size(), b.size());
    Shape out(rank);
    for (size_t i = 0; i < rank; ++i) {
        const int64_t ea = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        const int64_t eb = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        if (ea != eb && ea != 1 && eb != 1)
            fail("{}: shapes {} and {} cannot be broadcast together (dimension {}: {} vs {})", op,
                 shape_str(a), shape_str(b), i, ea, eb);
        out[i] = ea == 1 ? eb : ea;
    }
    return out;
}

void require_same_dtype(const char *op, const Inputs &in, size_t first = 0) {
    for (size_t i = first + 1; i < in.size(); ++i)
        if (in[i]->dtype() != in[first]->dtype())
            fail("{}: dtype mismatch: input {} is {} but input {} is {} (cast one of them)", op, first,
                 dtype_name(in[first]->dtype()), i, dtype_name(in[i]->dtype()));
}

void require_float(const char *op, const Node *x, const char *what = "input") {
    if (!is_float(x->dtype()))
        fail("{}: {} must be f32 or f64, got {}", op, what, dtype_name(x->dtype()));
}

void require_numeric(const char *op, const Node *x) {
    if (x->dtype() == DType::boolean) fail("{}: input must be numeric (f32, f64, i32, i64), got bool", op);
}

void require_bool(const char *op, const Node *x, const char *what = "input") {
    if (x->dtype() != DType::boolean) fail("{}: {} must be bool, got {}", op, what, dtype_name(x->dtype()));
}

/// Class targets: i32, or i64 as PyTorch gives them.
void require_class_indices(const char *op, const Node *target, const char *what) {
    if (!is_integer(target->dtype()))
        fail("{}: {} must hold class indices as i32 or i64, got {}", op, what, type_str(target->type));
}

/// The lowering compares class targets in 32 bits: an ignore_index beyond i32 would wrap onto a class.
void require_i32_ignore_index(const char *op, int64_t ignore_index) {
    if (ignore_index < INT32_MIN || ignore_index > INT32_MAX)
        fail("{}: ignore_index {} is outside the i32 range [{}, {}] that Strata supports", op, ignore_index,
             INT32_MIN, INT32_MAX);
}

void require_rank(const char *op, const Node *x, int64_t rank, const char *what, const char *layout) {
    if (x->type.rank() != rank)
        fail("{}: {} must be {}-d ({}), got shape {}", op, what, rank, layout, shape_str(x->shape()));
}

void require_len(const char *op, const char *attr, const Ints &v, size_t n) {
    if (v.size() != n) fail("{}: {} must have {} value(s), got [{}]", op, attr, n, fmt::join(v, ","));
}

void require_positive(const char *op, const char *attr, const Ints &v) {
    for (int64_t x : v)
        if (x <= 0) fail("{}: {} must be positive, got [{}]", op, attr, fmt::join(v, ","));
}

void require_nonnegative(const char *op, const char *attr, const Ints &v) {
    for (int64_t x : v)
        if (x < 0) fail("{}: {} must be >= 0, got [{}]", op, attr, fmt::join(v, ","));
}

/// a + b and a * b for shape arithmetic: an absurd extent or attribute (say padding 2^62) fails
/// naming the op instead of overflowing into a wrong (or negative) size.
int64_t checked_add(const char *op, int64_t a, int64_t b) {
    int64_t sum;
    if (__builtin_add_overflow(a, b, &sum))
        fail("{}: sizes overflow 64-bit arithmetic ({} + {}); an extent or attribute is absurdly large", op, a, b);
    return sum;
}

int64_t checked_mul(const char *op, int64_t a, int64_t b) {
    int64_t product;
    if (__builtin_mul_overflow(a, b, &product))
        fail("{}: sizes overflow 64-bit arithmetic ({} * {}); an extent or attribute is absurdly large", op, a, b);
    return product;
}

int64_t check_dim(const char *op, int64_t dim, int64_t rank) {
    if (dim < 0 || dim >= rank)
        fail("{}: dim {} is out of range for a {}-d input (expected 0 <= dim < {})", op, dim, rank, rank);
    return dim;
}

Type pointwise(Op op, const Inputs &in, const Attrs &attrs) {
    const char *name = op_name(op);
    switch (op) {
    case Op::neg: case Op::abs: case Op::relu:
        require_numeric(name, in[0]);
        return in[0]->type;
    case Op::logical_not:
        require_bool(name, in[0]);
        return in[0]->type;
    case Op::cast:
        return {attrs.get_dtype("dtype"), in[0]->shape()};
    case Op::check_class_index:
        require_class_indices("check_class_index", in[0], "the targets");
        require_i32_ignore_index("check_class_index", attrs.get_int("ignore_index"));
        if (attrs.get_int("classes") < 1)
            fail("check_class_index: classes must be >= 1, got {}", attrs.get_int("classes"));
        return in[0]->type;
    case Op::dropout: {
        require_float(name, in[0]);
        const double p = attrs.get_float("p");
        if (!(p >= 0.0 && p <= 1.0)) fail("dropout: p must be in [0, 1], got {}", p);
        if (in.size() == 2 && (in[1]->dtype() != DType::i32 || in[1]->type.rank() != 0))
            fail("dropout: the step input must be an i32 scalar, got {}", type_str(in[1]->type));
        return in[0]->type;
    }
    case Op::gelu: {
        require_float(name, in[0]);
        const std::string &a = attrs.get_str("approximate");
        if (a != "none" && a != "tanh")
            fail("gelu: approximate must be \"none\" or \"tanh\", got \"{}\"", a);
        return in[0]->type;
    }
    case Op::softplus:
        require_float(name, in[0]);
        if (attrs.get_float("beta") == 0.0) fail("softplus: beta must be non-zero");
        return in[0]->type;
    case Op::exp: case Op::log: case Op::sqrt: case Op::rsqrt: case Op::leaky_relu: case Op::erf:
    case Op::elu: case Op::sigmoid: case Op::tanh:
        require_float(name, in[0]);
        return in[0]->type;
    case Op::div:
        require_same_dtype(name, in);
        require_float(name, in[0], "first input (true division; cast integers to a float dtype)");
        return {in[0]->dtype(), broadcast(name, shape_of(in, 0), shape_of(in, 1))};
    case Op::add: case Op::sub: case Op::mul: case Op::pow:
    case Op::maximum: case Op::minimum:
        require_same_dtype(name, in);
        require_numeric(name, in[0]);
        return {in[0]->dtype(), broadcast(name, shape_of(in, 0), shape_of(in, 1))};
    case Op::eq: case Op::ne: case Op::lt: case Op::le: case Op::gt: case Op::ge:
        require_same_dtype(name, in);
        return {DType::boolean, broadcast(name, shape_of(in, 0), shape_of(in, 1))};
    case Op::logical_and: case Op::logical_or:
        require_bool(name, in[0], "first input");
        require_bool(name, in[1], "second input");
        return {DType::boolean, broadcast(name, shape_of(in, 0), shape_of(in, 1))};
    case Op::where:
        require_bool(name, in[0], "condition");
        require_same_dtype(name, in, 1);
        return {in[1]->dtype(),
                broadcast(name, broadcast(name, shape_of(in, 0), shape_of(in, 1)), shape_of(in, 2))};
    default: break;
    }
    STRATA_ASSERT(false, "no pointwise shape rule for {}", name);
}

Type reduction(Op op, const Inputs &in, const Attrs &attrs) {
    const char *name = op_name(op);
    const Node *x = in[0];
    const int64_t rank = x->type.rank();
    if (op == Op::softmax || op == Op::log_softmax) {
        require_float(name, x);
        check_dim(name, attrs.get_int("dim"), rank);
        return x->type;
    }
    Ints dims;
    if (op == Op::argmax) {
        require_numeric(name, x);
        dims = {check_dim(name, attrs.get_int("dim"), rank)};
    } else {
        dims = attrs.get_ints("dims");
        if (dims.empty()) fail("{}: dims must name at least one dimension", name);
        for (size_t i = 0; i < dims.size(); ++i) {
            check_dim(name, dims[i], rank);
            if (i > 0 && dims[i] <= dims[i - 1])
                fail("{}: dims must be strictly increasing, got [{}]", name, fmt::join(dims, ","));
        }
        if (op == Op::mean) require_float(name, x);
        else require_numeric(name, x);
    }
    for (int64_t d : dims)
        if (x->shape()[static_cast<size_t>(d)] == 0 && (op == Op::max || op == Op::argmax))
            fail("{}: cannot reduce over dimension {} of extent 0 (shape {})", name, d,
                 shape_str(x->shape()));
    const bool keep = attrs.get_bool("keepdim");
    Shape out;
    for (int64_t d = 0; d < rank; ++d) {
        const bool reduced = std::find(dims.begin(), dims.end(), d) != dims.end();
        if (!reduced) out.push_back(x->shape()[static_cast<size_t>(d)]);
        else if (keep) out.push_back(1);
    }
    return {op == Op::argmax ? DType::i32 : x->dtype(), out};
}

Type matmul(Op op, const Inputs &in) {
    const char *name = op_name(op);
    require_same_dtype(name, in);
    require_numeric(name, in[0]);
    const Shape &a = shape_of(in, 0), &b = shape_of(in, 1);
    if (op == Op::linear) {
        if (a.empty()) fail("linear: input must have at least 1 dimension, got a scalar");
        require_rank(name, in[1], 2, "weight", "out_features, in_features");
        if (a.back() != b[1])
            fail("linear: input has {} features (shape {}) but weight expects {} (weight shape {})", a.back(),
                 shape_str(a), b[1], shape_str(b));
        if (in.size() == 3 && shape_of(in, 2) != Shape{b[0]})
            fail("linear: bias must have shape [{}], got {}", b[0], shape_str(shape_of(in, 2)));
        Shape out = a;
        out.back() = b[0];
        return {in[0]->dtype(), out};
    }
    if (a.size() < 2 || b.size() < 2)
        fail("matmul: both inputs must be at least 2-d (vectors are reshaped by the frontend), got {} and {}",
             shape_str(a), shape_str(b));
    if (a.back() != b[b.size() - 2])
        fail("matmul: shapes {} and {} cannot be multiplied ({} columns vs {} rows)", shape_str(a),
             shape_str(b), a.back(), b[b.size() - 2]);
    Shape batch = broadcast(name, Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2));
    batch.push_back(a[a.size() - 2]);
    batch.push_back(b.back());
    return {in[0]->dtype(), batch};
}

const char *layout_name(int64_t s) { return s == 1 ? "N, C, L" : "N, C, H, W"; }

Type conv(Op op, const Inputs &in, const Attrs &attrs) {
    const char *name = op_name(op);
    const int64_t s = op_info(op).spatial_rank;
    const bool transposed = op == Op::conv_transpose1d || op == Op::conv_transpose2d;
    const Node *x = in[0], *w = in[1];
    require_same_dtype(name, in);
    require_float(name, x);
    require_rank(name, x, s + 2, "input", layout_name(s));
    if (w->type.rank() != s + 2)
        fail("{}: weight must be {}-d, got shape {}", name, s + 2, shape_str(w->shape()));
    const Ints &stride = attrs.get_ints("stride"), &padding = attrs.get_ints("padding"),
               &dilation = attrs.get_ints("dilation");
    require_len(name, "stride", stride, static_cast<size_t>(s));
    require_len(name, "padding", padding, static_cast<size_t>(s));
    require_len(name, "dilation", dilation, static_cast<size_t>(s));
    require_positive(name, "stride", stride);
    require_positive(name, "dilation", dilation);
    require_nonnegative(name, "padding", padding);
    const int64_t groups = attrs.get_int("groups");
    if (groups <= 0) fail("{}: groups must be positive, got {}", name, groups);
    const Shape &xs = x->shape(), &ws = w->shape();
    const int64_t cin = xs[1];
    if (cin % groups != 0)
        fail("{}: groups={} does not divide the {} input channels (input shape {})", name, groups, cin,
             shape_str(xs));
    int64_t cout;
    if (!transposed) {
        cout = ws[0];
        if (cout % groups != 0)
            fail("{}: groups={} does not divide the {} output channels (weight shape {})", name, groups,
                 cout, shape_str(ws));
        if (ws[1] * groups != cin)
            fail("{}: input has {} channels (shape {}) but weight {} with groups={} expects {}", name, cin,
                 shape_str(xs), shape_str(ws), groups, ws[1] * groups);
    } else {
        if (ws[0] != cin)
            fail("{}: input has {} channels (shape {}) but weight {} expects {} (weight is [in, out/groups, k...])",
                 name, cin, shape_str(xs), shape_str(ws), ws[0]);
        cout = ws[1] * groups;
    }
    if (in.size() == 3 && in[2]->shape() != Shape{cout})
        fail("{}: bias must have shape [{}], got {}", name, cout, shape_str(in[2]->shape()));
    Shape out = {xs[0], cout};
    const Ints *output_padding = transposed ? &attrs.get_ints("output_padding") : nullptr;
    if (output_padding) {
        require_len(name, "output_padding", *output_padding, static_cast<size_t>(s));
        require_nonnegative(name, "output_padding", *output_padding);
    }
    for (int64_t i = 0; i < s; ++i) {
        const size_t k = static_cast<size_t>(i);
        const int64_t len = xs[k + 2], ker = ws[k + 2];
        const int64_t span = checked_add(name, checked_mul(name, dilation[k], ker - 1), 1);
        int64_t o;
        if (!transposed) {
            const int64_t padded = checked_add(name, len, checked_mul(name, 2, padding[k]));
            if (padded < span)
                fail("{}: kernel size {} (dilated span {}) is larger than the padded input size {} "
                     "(input shape {}, padding {})",
                     name, ker, span, padded, shape_str(xs), padding[k]);
            o = (padded - span) / stride[k] + 1;
        } else {
            const int64_t op_ = (*output_padding)[k];
            if (op_ >= stride[k] && op_ >= dilation[k])
                fail("{}: output_padding {} must be smaller than either stride {} or dilation {}", name, op_,
                     stride[k], dilation[k]);
            o = checked_add(name, checked_mul(name, len - 1, stride[k]), -checked_mul(name, 2, padding[k]));
            o = checked_add(name, checked_add(name, o, span), op_);
            if (o <= 0)
                fail("{}: the output size {} is not positive (input shape {}, padding {})", name, o,
                     shape_str(xs), padding[k]);
        }
        out.push_back(o);
    }
    return {x->dtype(), out};
}

/// PyTorch's pooling_output_shape, including the ceil_mode rule that the last
/// window must start inside the input or the left padding.
int64_t pool_out(const char *op, int64_t len, int64_t k, int64_t pad, int64_t stride, int64_t dil, bool ceil) {
    const int64_t span = checked_add(op, checked_mul(op, dil, k - 1), 1);
    const int64_t padded = checked_add(op, len, checked_mul(op, 2, pad));
    const int64_t num = checked_add(op, padded - span, ceil ? stride - 1 : 0);
    // Floor division; num / stride rounds towards zero, which differs for negative num.
    int64_t o = num / stride - (num % stride < 0 ? 1 : 0) + 1;
    if (ceil && (o - 1) * stride >= len + pad) --o;
    return o;
}

Type pool(Op op, const Inputs &in, const Attrs &attrs) {
    const char *name = op_name(op);
    const int64_t s = op_info(op).spatial_rank;
    const Node *x = in[0];
    require_rank(name, x, s + 2, "input", layout_name(s));
    const Shape &xs = x->shape();
    Shape out = {xs[0], xs[1]};
    if (op == Op::adaptive_avg_pool1d || op == Op::adaptive_avg_pool2d) {
        require_float(name, x);
        const Ints &size = attrs.get_ints("output_size");
        require_len(name, "output_size", size, static_cast<size_t>(s));
        require_positive(name, "output_size", size);
        for (int64_t i = 0; i < s; ++i) {
            if (xs[static_cast<size_t>(i) + 2] == 0)
                fail("{}: input has an empty spatial dimension (shape {})", name, shape_str(xs));
            out.push_back(size[static_cast<size_t>(i)]);
        }
        return {x->dtype(), out};
    }
    const bool indices = op == Op::max_pool1d_indices || op == Op::max_pool2d_indices;
    const bool is_max = op == Op::max_pool1d || op == Op::max_pool2d || indices;
    if (is_max) require_numeric(name, x);
    else require_float(name, x);
    const Ints &kernel = attrs.get_ints("kernel_size"), &stride = attrs.get_ints("stride"),
               &padding = attrs.get_ints("padding");
    const Ints dilation = is_max ? attrs.get_ints("dilation") : Ints(static_cast<size_t>(s), 1);
    require_len(name, "kernel_size", kernel, static_cast<size_t>(s));
    require_len(name, "stride", stride, static_cast<size_t>(s));
    require_len(name, "padding", padding, static_cast<size_t>(s));
    require_len(name, "dilation", dilation, static_cast<size_t>(s));
    require_positive(name, "kernel_size", kernel);
    require_positive(name, "stride", stride);
    require_positive(name, "dilation", dilation);
    require_nonnegative(name, "padding", padding);
    const bool ceil = attrs.get_bool("ceil_mode");
    for (int64_t i = 0; i < s; ++i) {
        const size_t k = static_cast<size_t>(i);
        if (padding[k] > kernel[k] / 2)
            fail("{}: padding {} should be at most half of the kernel size {}", name, padding[k], kernel[k]);
        const int64_t o = pool_out(name, xs[k + 2], kernel[k], padding[k], stride[k], dilation[k], ceil);
        if (o <= 0)
            fail("{}: kernel size {} is larger than the padded input size {} (input shape {}), output would be {}",
                 name, kernel[k], xs[k + 2] + 2 * padding[k], shape_str(xs), o);
        out.push_back(o);
    }
    if (indices && shape_numel(Shape(xs.begin() + 2, xs.end())) > INT32_MAX)
        fail("{}: an input plane of shape {} has more positions than an i32 index can hold", name, shape_str(xs));
    return {indices ? DType::i32 : x->dtype(), out};
}

Type layout(Op op, const Inputs &in, const Attrs &attrs) {
    const char *name = op_name(op);
    const Node *x = in[0];
    const Shape &xs = x->shape();
    const int64_t rank = x->type.rank();
    switch (op) {
    case Op::reshape: {
        const Ints &shape = attrs.get_ints("shape");
        require_nonnegative(name, "shape", shape);
        if (shape_numel(shape) != x->type.numel())
            fail("reshape: cannot reshape {} ({} elements) into {} ({} elements)", shape_str(xs),
                 x->type.numel(), shape_str(shape), shape_numel(shape));
        return {x->dtype(), shape};
    }
    case Op::permute: {
        const Ints &dims = attrs.get_ints("dims");
        std::set<int64_t> seen(dims.begin(), dims.end());
        bool ok = static_cast<int64_t>(dims.size()) == rank && static_cast<int64_t>(seen.size()) == rank;
        for (int64_t d : dims) ok = ok && d >= 0 && d < rank;
        if (!ok) fail("permute: [{}] is not a permutation of the {} dims of shape {}", fmt::join(dims, ","),
                      rank, shape_str(xs));
        Shape out;
        for (int64_t d : dims) out.push_back(xs[static_cast<size_t>(d)]);
        return {x->dtype(), out};
    }
    case Op::expand: {
        const Ints &shape = attrs.get_ints("shape");
        if (shape.size() < xs.size())
            fail("expand: target shape {} has fewer dims than the input {}", shape_str(shape), shape_str(xs));
        const size_t off = shape.size() - xs.size();
        for (size_t i = 0; i < shape.size(); ++i) {
            if (shape[i] < 0) fail("expand: target shape {} has a negative extent", shape_str(shape));
            if (i >= off && xs[i - off] != 1 && xs[i - off] != shape[i])
                fail("expand: input dimension {} has extent {} (shape {}), which can only expand from 1, not to {}",
                     i - off, xs[i - off], shape_str(xs), shape[i]);
        }
        return {x->dtype(), shape};
    }
    case Op::slice: {
        const int64_t dim = check_dim(name, attrs.get_int("dim"), rank);
        const int64_t start = attrs.get_int("start"), end = attrs.get_int("end"), step = attrs.get_int("step");
        const int64_t len = xs[static_cast<size_t>(dim)];
        if (step <= 0) fail("slice: step must be positive, got {}", step);
        if (start < 0 || end < start || end > len)
            fail("slice: need 0 <= start <= end <= {} on dim {} (shape {}), got start={} end={}", len, dim,
                 shape_str(xs), start, end);
        Shape out = xs;
        out[static_cast<size_t>(dim)] = end == start ? 0 : (end - start - 1) / step + 1;  // ceil, without overflow
        return {x->dtype(), out};
    }
    case Op::concat: {
        const int64_t dim = check_dim(name, attrs.get_int("dim"), rank);
        require_same_dtype(name, in);
        Shape out = xs;
        for (size_t i = 1; i < in.size(); ++i) {
            const Shape &s = in[i]->shape();
            bool ok = s.size() == xs.size();
            for (size_t d = 0; ok && d < s.size(); ++d) ok = static_cast<int64_t>(d) == dim || s[d] == xs[d];
            if (!ok)
                fail("concat: input {} has shape {} but input 0 has {}; they must match except in dim {}", i,
                     shape_str(s), shape_str(xs), dim);
            out[static_cast<size_t>(dim)] = checked_add(name, out[static_cast<size_t>(dim)], s[static_cast<size_t>(dim)]);
        }
        return {x->dtype(), out};
    }
    case Op::pad: {
        const Ints &pad = attrs.get_ints("pad");
        const std::string &mode = attrs.get_str("mode");
        if (mode != "constant" && mode != "reflect" && mode != "replicate" && mode != "circular")
            fail("pad: mode must be constant, reflect, replicate or circular, got \"{}\"", mode);
        if (pad.size() % 2 != 0 || static_cast<int64_t>(pad.size()) > 2 * rank)
            fail("pad: pad must have an even number of values, at most 2 per dim ({} for shape {}), got [{}]",
                 2 * rank, shape_str(xs), fmt::join(pad, ","));
        Shape out = xs;
        for (size_t i = 0; i < pad.size() / 2; ++i) {
            const size_t d = xs.size() - 1 - i;
            const int64_t lo = pad[2 * i], hi = pad[2 * i + 1];
            if (mode != "constant" && (lo < 0 || hi < 0))
                fail("pad: negative padding is only allowed in constant mode, got [{}]", fmt::join(pad, ","));
            if (mode == "reflect" && (lo >= xs[d] || hi >= xs[d]))
                fail("pad: reflect padding ({}, {}) must be smaller than the input extent {} of dim {} (shape {})",
                     lo, hi, xs[d], d, shape_str(xs));
            if (mode == "circular" && (lo > xs[d] || hi > xs[d]))
                fail("pad: circular padding ({}, {}) must be at most the input extent {} of dim {} (shape {})", lo,
                     hi, xs[d], d, shape_str(xs));
            if (mode == "replicate" && xs[d] == 0 && (lo > 0 || hi > 0))
                fail("pad: cannot replicate-pad the empty dim {} (shape {})", d, shape_str(xs));
            out[d] = checked_add(name, checked_add(name, xs[d], lo), hi);
            if (out[d] < 0)
                fail("pad: padding [{}] makes dim {} of shape {} negative", fmt::join(pad, ","), d, shape_str(xs));
        }
        return {x->dtype(), out};
    }
    default: break;
    }
    STRATA_ASSERT(false, "no layout shape rule for {}", name);
}

/// max_unpoolNd(input [N, C, L...] float, indices i32 or i64 of its shape) -> [N, C, output_size...], and its
/// gradient (grad_output [N, C, output_size...], indices) -> the indices' shape.
Type unpool(Op op, const Inputs &in, const Attrs &attrs) {
    const char *name = op_name(op);
    const bool grad = op == Op::max_unpool1d_grad || op == Op::max_unpool2d_grad;
    const int64_t s = op_info(op).spatial_rank;
    const Node *values = in[0], *indices = in[1];
    require_float(name, values);
    require_rank(name, values, s + 2, grad ? "grad_output" : "input", layout_name(s));
    require_rank(name, indices, s + 2, "indices", layout_name(s));
    if (!is_integer(indices->dtype()))
        fail("{}: indices must be i32 or i64 (as max_pool{}d_with_indices gives), got {}", name, s,
             dtype_name(indices->dtype()));
    const Ints &kernel = attrs.get_ints("kernel_size"), &stride = attrs.get_ints("stride"),
               &padding = attrs.get_ints("padding"), &size = attrs.get_ints("output_size");
    for (const auto &[what, list] : {std::pair{"kernel_size", &kernel}, std::pair{"stride", &stride},
                                     std::pair{"padding", &padding}, std::pair{"output_size", &size}})
        require_len(name, what, *list, static_cast<size_t>(s));
    require_positive(name, "kernel_size", kernel);
    require_positive(name, "stride", stride);
    require_nonnegative(name, "padding", padding);
    require_positive(name, "output_size", size);
    if (shape_numel(size) > INT32_MAX)
        fail("{}: output_size [{}] has more positions than an i32 index can hold", name, fmt::join(size, ","));
    Shape out = {values->shape()[0], values->shape()[1]};
    out.insert(out.end(), size.begin(), size.end());
    if (!grad) {
        if (indices->shape() != values->shape())
            fail("{}: indices of shape {} must have the input's shape {}", name, shape_str(indices->shape()),
                 shape_str(values->shape()));
        return {values->dtype(), out};
    }
    if (values->shape() != out || indices->shape()[0] != out[0] || indices->shape()[1] != out[1])
        fail("{}: grad_output of shape {} does not fit indices {} and output_size [{}]", name,
             shape_str(values->shape()), shape_str(indices->shape()), fmt::join(size, ","));
    return {values->dtype(), indices->shape()};
}

/// The spatial scale attributes of an upsample op, in dim order: `scales` (1-d) or `scales_h`, `scales_w`.
std::vector<std::string> resample_scale_names(int64_t spatial_rank) {
    return spatial_rank == 1 ? std::vector<std::string>{"scales"} : std::vector<std::string>{"scales_h", "scales_w"};
}

/// upsample_{nearest,linear,bilinear}Nd(input [N, C, L...] float) -> [N, C, output_size...], as
/// PyTorch's upsample_1d/2d_common_check: positive input and output sizes; each scale is 0 (none)
/// or the positive, finite scale factor the user gave.
Type resample(Op op, const Inputs &in, const Attrs &attrs) {
    const char *name = op_name(op);
    const int64_t s = op_info(op).spatial_rank;
    const Node *x = in[0];
    require_float(name, x);
    require_rank(name, x, s + 2, "input", layout_name(s));
    const Ints &size = attrs.get_ints("output_size");
    require_len(name, "output_size", size, static_cast<size_t>(s));
    const Shape &xs = x->shape();
    for (int64_t i = 0; i < s; ++i) {
        const size_t k = static_cast<size_t>(i);
        if (xs[k + 2] <= 0 || size[k] <= 0)
            fail("{}: input and output sizes should be greater than 0, but got input {} and output_size [{}]", name,
                 shape_str(xs), fmt::join(size, ","));
        if (size[k] > INT32_MAX)
            fail("{}: output_size [{}] is too large (at most {} per dim)", name, fmt::join(size, ","), INT32_MAX);
    }
    for (const std::string &scale_name : resample_scale_names(s)) {
        const double scale = attrs.get_float(scale_name);
        if (!(scale >= 0.0) || !std::isfinite(scale))
            fail("{}: {} must be 0 (no scale factor) or a positive, finite scale factor, got {}", name, scale_name,
                 scale);
    }
    Shape out = {xs[0], xs[1]};
    out.insert(out.end(), size.begin(), size.end());
    int64_t numel = 1;
    for (int64_t e : out) numel = checked_mul(name, numel, e);  // an absurd output fails here, named
    return {x->dtype(), out};
}

/// cross_entropy and its gradient: logits [N, C, d...] float, target i32 or i64 [N, d...],
/// then the gradient's grad_loss, then an optional class weight [C] in the logits' dtype.
Type cross_entropy(Op op, const Inputs &in, const Attrs &attrs) {
    const char *name = op_name(op);
    const Node *logits = in[0], *target = in[1];
    require_float(name, logits, "logits");
    require_class_indices(name, target, "target");
    require_i32_ignore_index(name, attrs.get_int("ignore_index"));
    if (logits->type.rank() < 2)
        fail("{}: logits must be [N, C, ...], got shape {}", name, shape_str(logits->shape()));
    Shape expected = logits->shape();
    expected.erase(expected.begin() + 1);
    if (target->shape() != expected)
        fail("{}: logits of shape {} need a target of shape {}, got {}", name, shape_str(logits->shape()),
             shape_str(expected), shape_str(target->shape()));
    const std::string &reduction = attrs.get_str("reduction");
    if (reduction != "mean" && reduction != "sum" && reduction != "none")
        fail("{}: reduction must be \"mean\", \"sum\" or \"none\", got \"{}\"", name, reduction);
    const double eps = attrs.get_float("label_smoothing");
    if (!(eps >= 0.0 && eps <= 1.0)) fail("{}: label_smoothing must be in [0, 1], got {}", name, eps);
    const size_t weight_at = op == Op::cross_entropy ? 2 : 3;
    if (in.size() > weight_at && in[weight_at]->type != Type{logits->dtype(), {logits->shape()[1]}})
        fail("{}: weight must be {}[{}] (one per class), got {}", name, dtype_name(logits->dtype()),
             logits->shape()[1], type_str(in[weight_at]->type));
    const Type loss{logits->dtype(), reduction == "none" ? expected : Shape{}};
    if (op == Op::cross_entropy) return loss;
    if (in[2]->type != loss)
        fail("{}: grad_loss must be {}, got {}", name, type_str(loss), type_str(in[2]->type));
    return logits->type;
}

/// batch_norm_train and its gradient: x [N, C, ...] float; weight and bias (or grad_output) typed alike.
Type batch_norm(Op op, const Inputs &in, const Attrs &attrs) {
    const char *name = op_name(op);
    const Node *x = in[0];
    require_float(name, x);
    require_same_dtype(name, in);
    if (x->type.rank() < 2) fail("{}: input must be [N, C, ...], got shape {}", name, shape_str(x->shape()));
    const int64_t channels = x->shape()[1];
    if (in[1]->shape() != Shape{channels})
        fail("{}: weight must have shape [{}], got {}", name, channels, shape_str(in[1]->shape()));
    if (op == Op::batch_norm_train && in[2]->shape() != Shape{channels})
        fail("{}: bias must have shape [{}], got {}", name, channels, shape_str(in[2]->shape()));
    if (op == Op::batch_norm_train_grad && in[2]->shape() != x->shape())
        fail("{}: grad_output must have the input's shape {}, got {}", name, shape_str(x->shape()),
             shape_str(in[2]->shape()));
    if (x->type.numel() / std::max<int64_t>(channels, 1) <= 1)
        fail("{}: expected more than 1 value per channel when training, got input shape {}", name,
             shape_str(x->shape()));
    if (!(attrs.get_float("eps") > 0.0)) fail("{}: eps must be positive, got {}", name, attrs.get_float("eps"));
    return x->type;
}

/// The forward op's attributes, taken from the gradient op's (adaptive
/// pooling's output size, which its gradient does not carry, is the gradient's own spatial shape).
Attrs forward_attrs(Op forward, const Attrs &attrs, const Shape &grad_shape) {
    Attrs out;
    for (const AttrSpec &spec : op_info(forward).attrs) {
        if (spec.name == "output_size" && !attrs.has("output_size"))
            out.set(spec.name, Ints(grad_shape.begin() + 2, grad_shape.end()));
        else if (spec.name == "value" && !attrs.has("value")) out.set(spec.name, 0.0);  // pad's fill: no shape effect
        else out.set(spec.name, attrs.map().at(spec.name));
    }
    return out;
}

/// A gradient op is checked by re-running the forward shape rule on the
/// shapes it claims: the forward output must be the gradient's shape.
Type gradient(Op op, const Inputs &in, const Attrs &attrs) {
    const char *name = op_name(op);
    STRATA_ASSERT(op_info(op).forward, "{} has no forward op in ops.def", name);
    const Op fwd = *op_info(op).forward;
    const Attrs fattrs = forward_attrs(fwd, attrs, in.back()->shape());
    Program scratch;
    auto source = [&](const Shape &shape, DType dtype) { return scratch.input("s" + std::to_string(scratch.nodes().size()), Type{dtype, shape}); };
    const Node *grad_out = in.back();
    require_float(name, grad_out, "grad_output");
    Shape input_shape, result;
    std::vector<const Node *> fwd_inputs;
    if (op_info(fwd).op_class == OpClass::conv) {  // a weight gradient
        require_same_dtype(name, in);
        input_shape = in[0]->shape();
        result = attrs.get_ints("weight_shape");
        fwd_inputs = {source(input_shape, grad_out->dtype()), source(result, grad_out->dtype())};
    } else {
        input_shape = in.size() == 2 ? in[0]->shape() : attrs.get_ints("input_shape");
        if (in.size() == 2) require_same_dtype(name, in);
        result = input_shape;
        fwd_inputs = {source(input_shape, grad_out->dtype())};
    }
    const Node *forward = scratch.make(fwd, fwd_inputs, fattrs);
    if (forward->shape() != grad_out->shape())
        fail("{}: grad_output has shape {} but {} of {} gives {}", name, shape_str(grad_out->shape()), op_name(fwd),
             shape_str(input_shape), shape_str(forward->shape()));
    return {grad_out->dtype(), result};
}

}  // namespace

Type infer_type(Op op, const std::vector<const Node *> &inputs, const Attrs &attrs) {
    switch (op_info(op).shape_rule) {
    case ShapeRule::pointwise: return pointwise(op, inputs, attrs);
    case ShapeRule::reduction: return reduction(op, inputs, attrs);
    case ShapeRule::matmul: return matmul(op, inputs);
    case ShapeRule::conv: return conv(op, inputs, attrs);
    case ShapeRule::pool: return pool(op, inputs, attrs);
    case ShapeRule::layout: return layout(op, inputs, attrs);
    case ShapeRule::gradient: return gradient(op, inputs, attrs);
    case ShapeRule::cross_entropy: return cross_entropy(op, inputs, attrs);
    case ShapeRule::batch_norm: return batch_norm(op, inputs, attrs);
    case ShapeRule::unpool: return unpool(op, inputs, attrs);
    case ShapeRule::resample: return resample(op, inputs, attrs);
    case ShapeRule::source: break;
    }
    STRATA_ASSERT(false, "source op {} has no shape rule (its type is given when it is built)", op_name(op));
}

}  // namespace strata::ir
