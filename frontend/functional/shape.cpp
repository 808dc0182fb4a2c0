// Shape ops, reductions and matmul/linear.

#include "frontend/functional/common.h"

#include <algorithm>

namespace strata {

using detail::make;
using detail::normalize_dim;
using detail::normalize_dims;
using ir::Op;

SymTensor reshape(const SymTensor &x, const Ints &shape) {
    if (!x.defined()) fail("reshape: the input tensor is undefined");
    Ints resolved = shape;
    int64_t known = 1;
    int infer = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1) {
            if (infer >= 0) fail("reshape: only one dimension can be -1, got {}", shape_str(shape));
            infer = static_cast<int>(i);
        } else if (shape[i] < 0) {
            fail("reshape: invalid extent {} in {}", shape[i], shape_str(shape));
        } else {
            known *= shape[i];
        }
    }
    if (infer >= 0) {
        if (known == 0 || x.numel() % known != 0)
            fail("reshape: shape {} is invalid for an input of {} elements (shape {})", shape_str(shape), x.numel(),
                 shape_str(x.shape()));
        resolved[static_cast<size_t>(infer)] = x.numel() / known;
    }
    if (resolved == x.shape()) return x;
    return make(Op::reshape, {x}, {{"shape", resolved}});
}

SymTensor flatten(const SymTensor &x, int64_t start_dim, int64_t end_dim) {
    const int64_t rank = x.dim();
    if (rank == 0) return reshape(x, {1});
    const int64_t s = normalize_dim("flatten", start_dim, rank), e = normalize_dim("flatten", end_dim, rank);
    if (s > e) fail("flatten: start_dim {} comes after end_dim {}", start_dim, end_dim);
    Ints shape;
    for (int64_t d = 0; d < s; ++d) shape.push_back(x.size(d));
    int64_t merged = 1;
    for (int64_t d = s; d <= e; ++d) merged *= x.size(d);
    shape.push_back(merged);
    for (int64_t d = e + 1; d < rank; ++d) shape.push_back(x.size(d));
    return reshape(x, shape);
}

SymTensor permute(const SymTensor &x, const Ints &dims) {
    if (static_cast<int64_t>(dims.size()) != x.dim())
        fail("permute: {} dims given for a {}-d tensor of shape {}", dims.size(), x.dim(), shape_str(x.shape()));
    Ints norm;
    for (int64_t d : dims) norm.push_back(normalize_dim("permute", d, x.dim()));
    bool identity = true;
    for (size_t i = 0; i < norm.size(); ++i) identity = identity && norm[i] == static_cast<int64_t>(i);
    if (identity) return x;
    return make(Op::permute, {x}, {{"dims", norm}});
}

SymTensor transpose(const SymTensor &x, int64_t dim0, int64_t dim1) {
    Ints dims;
    for (int64_t d = 0; d < x.dim(); ++d) dims.push_back(d);
    std::swap(dims[static_cast<size_t>(normalize_dim("transpose", dim0, x.dim()))],
              dims[static_cast<size_t>(normalize_dim("transpose", dim1, x.dim()))]);
    return permute(x, dims);
}

SymTensor expand(const SymTensor &x, const Ints &shape) {
    Ints resolved = shape;
    const size_t off = shape.size() >= x.shape().size() ? shape.size() - x.shape().size() : 0;
    for (size_t i = 0; i < shape.size(); ++i)
        if (shape[i] == -1) {
            if (i < off) fail("expand: -1 is not allowed for the new leading dim {} in {}", i, shape_str(shape));
            resolved[i] = x.shape()[i - off];
        }
    if (resolved == x.shape()) return x;
    return make(Op::expand, {x}, {{"shape", resolved}});
}

SymTensor slice(const SymTensor &x, int64_t dim, int64_t start, int64_t end, int64_t step) {
    const int64_t d = normalize_dim("slice", dim, x.dim());
    const int64_t len = x.size(d);
    if (step <= 0) fail("slice: step must be positive, got {}", step);
    // Python semantics: negative indices count from the end, then clamp.
    auto clamp_index = [len](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + len : i, 0, len); };
    const int64_t s = clamp_index(start), e = std::max(s, clamp_index(end));
    return make(Op::slice, {x}, {{"dim", d}, {"start", s}, {"end", e}, {"step", step}});
}

SymTensor concat(const std::vector<SymTensor> &xs, int64_t dim) {
    if (xs.empty()) fail("concat: expected at least one tensor");
    if (xs.size() == 1) return xs[0];
    return make(Op::concat, xs, {{"dim", normalize_dim("concat", dim, xs[0].dim())}});
}

SymTensor pad(const SymTensor &x, const Ints &amounts, const std::string &mode, double value) {
    if (std::all_of(amounts.begin(), amounts.end(), [](int64_t p) { return p == 0; })) return x;
    return make(Op::pad, {x}, {{"pad", amounts}, {"mode", mode}, {"value", value}});
}

SymTensor squeeze(const SymTensor &x, int64_t dim) {
    const int64_t d = normalize_dim("squeeze", dim, x.dim());
    if (x.size(d) != 1) return x;  // torch.squeeze leaves other extents alone
    Ints shape = x.shape();
    shape.erase(shape.begin() + d);
    return reshape(x, shape);
}

SymTensor unsqueeze(const SymTensor &x, int64_t dim) {
    const int64_t d = normalize_dim("unsqueeze", dim, x.dim() + 1);
    Ints shape = x.shape();
    shape.insert(shape.begin() + d, 1);
    return reshape(x, shape);
}

// ---- reductions ----

namespace {
SymTensor reduce(Op op, const SymTensor &x, const Ints &dims, bool keepdim) {
    if (!x.defined()) fail("{}: the input tensor is undefined", ir::op_name(op));
    if (x.dim() == 0) return x;  // reducing a scalar is the identity
    return make(op, {x}, {{"dims", normalize_dims(ir::op_name(op), dims, x.dim())}, {"keepdim", keepdim}});
}
}  // namespace

SymTensor sum(const SymTensor &x, const Ints &dims, bool keepdim) { return reduce(Op::sum, x, dims, keepdim); }
SymTensor mean(const SymTensor &x, const Ints &dims, bool keepdim) { return reduce(Op::mean, x, dims, keepdim); }
SymTensor max(const SymTensor &x, const Ints &dims, bool keepdim) { return reduce(Op::max, x, dims, keepdim); }

SymTensor argmax(const SymTensor &x, int64_t dim, bool keepdim) {
    return make(Op::argmax, {x}, {{"dim", normalize_dim("argmax", dim, x.dim())}, {"keepdim", keepdim}});
}
SymTensor softmax(const SymTensor &x, int64_t dim) {
    return make(Op::softmax, {x}, {{"dim", normalize_dim("softmax", dim, x.dim())}});
}
SymTensor log_softmax(const SymTensor &x, int64_t dim) {
    return make(Op::log_softmax, {x}, {{"dim", normalize_dim("log_softmax", dim, x.dim())}});
}

// ---- linear algebra ----

SymTensor matmul(const SymTensor &a, const SymTensor &b) {
    if (!a.defined() || !b.defined()) fail("matmul: an input tensor is undefined");
    if (a.dim() == 0 || b.dim() == 0)
        fail("matmul: both arguments need at least 1 dimension, got shapes {} and {}", shape_str(a.shape()),
             shape_str(b.shape()));
    // torch.matmul: a 1-d operand becomes a row (left) or column (right)
    // matrix, and that dim is removed from the result.
    const SymTensor a2 = a.dim() == 1 ? unsqueeze(a, 0) : a;
    const SymTensor b2 = b.dim() == 1 ? unsqueeze(b, 1) : b;
    SymTensor out = make(Op::matmul, {a2, b2});
    if (b.dim() == 1) out = squeeze(out, -1);
    if (a.dim() == 1) out = squeeze(out, a2.dim() == 2 && b.dim() == 1 ? 0 : -2);
    return out;
}

SymTensor linear(const SymTensor &x, const SymTensor &weight, const SymTensor &bias) {
    if (!weight.defined()) fail("linear: the weight tensor is undefined");
    if (bias.defined()) return make(Op::linear, {x, weight, bias});
    return make(Op::linear, {x, weight});
}

}  // namespace strata
