// Reduction references: sum/mean/max/argmax over dims and the softmaxes,
// each a plain loop over the kept index and the reduced index.

#include "tests/reference/indexing.h"
#include "tests/reference/reference.h"

#include <algorithm>
#include <cmath>

namespace strata::reference {

using namespace detail;

namespace {

/// Which dims are reduced (every dim when `dims` is empty).
std::vector<bool> reduced_mask(const Tensor &x, const Ints &dims, const char *op) {
    std::vector<bool> mask(static_cast<size_t>(x.dim()), dims.empty());
    for (int64_t d : dims) mask[static_cast<size_t>(wrap_dim(d, x.dim(), op))] = true;
    return mask;
}

/// Groups the elements of x by their kept index; calls `reduce(values)` per group.
template <typename Reduce>
Tensor reduce(const Tensor &x, const Ints &dims, bool keepdim, const char *op, Reduce reduce) {
    const std::vector<bool> mask = reduced_mask(x, dims, op);
    Shape kept_shape;  // the output shape with keepdim (1 for reduced dims)
    for (size_t d = 0; d < mask.size(); ++d) kept_shape.push_back(mask[d] ? 1 : x.shape()[d]);
    const std::vector<double> v = values(x);
    std::vector<std::vector<double>> groups(static_cast<size_t>(shape_numel(kept_shape)));
    for (int64_t i = 0; i < x.numel(); ++i) {
        Ints index = unravel(i, x.shape());
        for (size_t d = 0; d < mask.size(); ++d)
            if (mask[d]) index[d] = 0;
        groups[static_cast<size_t>(ravel(index, kept_shape))].push_back(v[static_cast<size_t>(i)]);
    }
    std::vector<double> out;
    for (const auto &g : groups) out.push_back(reduce(g));
    Shape out_shape;
    for (size_t d = 0; d < mask.size(); ++d)
        if (!mask[d] || keepdim) out_shape.push_back(kept_shape[d]);
    return make_f64(out, out_shape);
}

/// softmax (log=false) or log_softmax along dim.
Tensor softmax_impl(const Tensor &x, int64_t dim, bool log) {
    const int64_t d = wrap_dim(dim, x.dim(), "softmax");
    const std::vector<double> v = values(x);
    std::vector<double> out(v.size());
    const int64_t len = x.shape()[static_cast<size_t>(d)];
    int64_t inner = 1;
    for (int64_t k = d + 1; k < x.dim(); ++k) inner *= x.shape()[static_cast<size_t>(k)];
    const int64_t outer = len == 0 ? 0 : x.numel() / (len * inner);
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t in = 0; in < inner; ++in) {
            auto at = [&](int64_t j) { return static_cast<size_t>((o * len + j) * inner + in); };
            double m = -INFINITY;
            for (int64_t j = 0; j < len; ++j) m = std::max(m, v[at(j)]);
            double total = 0;
            for (int64_t j = 0; j < len; ++j) total += std::exp(v[at(j)] - m);
            for (int64_t j = 0; j < len; ++j)
                out[at(j)] = log ? v[at(j)] - m - std::log(total) : std::exp(v[at(j)] - m) / total;
        }
    return make_f64(out, x.shape());
}

}  // namespace

Tensor sum(const Tensor &x, const Ints &dims, bool keepdim) {
    return reduce(x, dims, keepdim, "sum", [](const std::vector<double> &g) {
        double s = 0;
        for (double e : g) s += e;
        return s;
    });
}

Tensor mean(const Tensor &x, const Ints &dims, bool keepdim) {
    return reduce(x, dims, keepdim, "mean", [](const std::vector<double> &g) {
        double s = 0;
        for (double e : g) s += e;
        return s / static_cast<double>(g.size());
    });
}

Tensor max(const Tensor &x, const Ints &dims, bool keepdim) {
    return reduce(x, dims, keepdim, "max", [](const std::vector<double> &g) {
        double m = -INFINITY;
        for (double e : g) m = std::isnan(e) || std::isnan(m) ? NAN : std::max(m, e);  // NaN propagates
        return m;
    });
}

Tensor argmax(const Tensor &x, int64_t dim, bool keepdim) {
    // Elements of a group arrive in increasing order along `dim`, so the
    // position in the group is the index; the first maximum wins.
    return reduce(x, {dim}, keepdim, "argmax", [](const std::vector<double> &g) {
        size_t best = 0;
        for (size_t j = 1; j < g.size(); ++j)
            if (g[j] > g[best]) best = j;
        return static_cast<double>(best);
    });
}

Tensor softmax(const Tensor &x, int64_t dim) { return softmax_impl(x, dim, false); }
Tensor log_softmax(const Tensor &x, int64_t dim) { return softmax_impl(x, dim, true); }

}  // namespace strata::reference
