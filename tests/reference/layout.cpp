// Layout references: every output element found by computing where it comes
// from in the input (reshape, permute, expand, slice, concat, pad).

#include "tests/reference/indexing.h"
#include "tests/reference/reference.h"

#include <algorithm>

namespace strata::reference {

using namespace detail;

Tensor reshape(const Tensor &x, const Ints &shape) {
    Shape resolved = shape;
    int64_t known = 1, infer = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1)
            infer = static_cast<int64_t>(i);
        else
            known *= shape[i];
    }
    if (infer >= 0) resolved[static_cast<size_t>(infer)] = x.numel() / known;
    if (shape_numel(resolved) != x.numel())
        fail("reference reshape: {} into {}", shape_str(x.shape()), shape_str(shape));
    return make_f64(values(x), resolved);  // row-major order is unchanged
}

Tensor permute(const Tensor &x, const Ints &dims) {
    const int64_t rank = x.dim();
    Ints perm;
    for (int64_t d : dims) perm.push_back(wrap_dim(d, rank, "permute"));
    Shape out_shape;
    for (int64_t d : perm) out_shape.push_back(x.shape()[static_cast<size_t>(d)]);
    const std::vector<double> v = values(x);
    std::vector<double> out(v.size());
    for (int64_t i = 0; i < x.numel(); ++i) {
        const Ints oi = unravel(i, out_shape);
        Ints xi(static_cast<size_t>(rank));
        for (size_t k = 0; k < perm.size(); ++k)
            xi[static_cast<size_t>(perm[k])] = oi[k];  // out dim k is x dim perm[k]
        out[static_cast<size_t>(i)] = v[static_cast<size_t>(ravel(xi, x.shape()))];
    }
    return make_f64(out, out_shape);
}

Tensor expand(const Tensor &x, const Ints &shape) {
    Shape out_shape = shape;
    const size_t lead = shape.size() - x.shape().size();
    for (size_t i = lead; i < shape.size(); ++i)
        if (shape[i] == -1) out_shape[i] = x.shape()[i - lead];
    const std::vector<double> v = values(x);
    std::vector<double> out(static_cast<size_t>(shape_numel(out_shape)));
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = v[static_cast<size_t>(
            broadcast_source(unravel(static_cast<int64_t>(i), out_shape), out_shape, x.shape()))];
    return make_f64(out, out_shape);
}

Tensor slice(const Tensor &x, int64_t dim, int64_t start, int64_t end, int64_t step) {
    const int64_t d = wrap_dim(dim, x.dim(), "slice");
    const int64_t len = x.shape()[static_cast<size_t>(d)];
    auto clamp_index = [len](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + len : i, 0, len); };
    const int64_t s = clamp_index(start), e = clamp_index(end);
    std::vector<int64_t> picked;
    for (int64_t i = s; i < e; i += step) picked.push_back(i);
    Shape out_shape = x.shape();
    out_shape[static_cast<size_t>(d)] = static_cast<int64_t>(picked.size());
    const std::vector<double> v = values(x);
    std::vector<double> out(static_cast<size_t>(shape_numel(out_shape)));
    for (size_t i = 0; i < out.size(); ++i) {
        Ints index = unravel(static_cast<int64_t>(i), out_shape);
        index[static_cast<size_t>(d)] = picked[static_cast<size_t>(index[static_cast<size_t>(d)])];
        out[i] = v[static_cast<size_t>(ravel(index, x.shape()))];
    }
    return make_f64(out, out_shape);
}

Tensor concat(const std::vector<Tensor> &xs, int64_t dim) {
    const int64_t d = wrap_dim(dim, xs.at(0).dim(), "concat");
    Shape out_shape = xs[0].shape();
    out_shape[static_cast<size_t>(d)] = 0;
    std::vector<std::pair<int64_t, int64_t>> origin;  // (tensor, offset along d) per output position on d
    for (size_t t = 0; t < xs.size(); ++t)
        for (int64_t j = 0; j < xs[t].shape()[static_cast<size_t>(d)]; ++j) {
            origin.push_back({static_cast<int64_t>(t), j});
            ++out_shape[static_cast<size_t>(d)];
        }
    std::vector<std::vector<double>> vs;
    for (const Tensor &t : xs) vs.push_back(values(t));
    std::vector<double> out(static_cast<size_t>(shape_numel(out_shape)));
    for (size_t i = 0; i < out.size(); ++i) {
        Ints index = unravel(static_cast<int64_t>(i), out_shape);
        const auto [t, j] = origin[static_cast<size_t>(index[static_cast<size_t>(d)])];
        index[static_cast<size_t>(d)] = j;
        out[i] =
            vs[static_cast<size_t>(t)][static_cast<size_t>(ravel(index, xs[static_cast<size_t>(t)].shape()))];
    }
    return make_f64(out, out_shape);
}

Tensor pad(const Tensor &x, const Ints &amounts, const std::string &mode, double value) {
    const Shape &in_shape = x.shape();
    const size_t rank = in_shape.size();
    Ints lo(rank, 0);
    Shape out_shape = in_shape;
    for (size_t i = 0; i < amounts.size() / 2; ++i) {  // pairs run from the last dim backwards
        const size_t d = rank - 1 - i;
        lo[d] = amounts[2 * i];
        out_shape[d] = in_shape[d] + amounts[2 * i] + amounts[2 * i + 1];
    }
    const std::vector<double> v = values(x);
    std::vector<double> out(static_cast<size_t>(shape_numel(out_shape)));
    for (size_t i = 0; i < out.size(); ++i) {
        Ints index = unravel(static_cast<int64_t>(i), out_shape);
        bool outside = false;
        for (size_t d = 0; d < rank; ++d) {
            const int64_t len = in_shape[d];
            int64_t src = index[d] - lo[d];
            if (src >= 0 && src < len) {
            } else if (mode == "constant") {
                outside = true;
            } else if (mode == "reflect") {  // mirror without repeating the edge
                src = src < 0 ? -src : 2 * (len - 1) - src;
            } else if (mode == "replicate") {
                src = std::clamp<int64_t>(src, 0, len - 1);
            } else if (mode == "circular") {
                src = ((src % len) + len) % len;
            } else {
                fail("reference pad: unknown mode {}", mode);
            }
            index[d] = src;
        }
        out[i] = outside ? value : v[static_cast<size_t>(ravel(index, in_shape))];
    }
    return make_f64(out, out_shape);
}

}  // namespace strata::reference
