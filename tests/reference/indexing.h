#pragma once
// Internal to the references: reading tensors into doubles and walking
// row-major indices. Kept deliberately simple; speed does not matter here.

#include "runtime/tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strata::reference::detail {

using Ints = std::vector<int64_t>;

/// Every element of `t` (any dtype, any strides) in row-major order, as double.
inline std::vector<double> values(const Tensor &t) {
    std::vector<double> out(static_cast<size_t>(t.numel()));
    for (int64_t i = 0; i < t.numel(); ++i) out[static_cast<size_t>(i)] = t.get_flat(i);
    return out;
}

/// A new f64 tensor of `shape` holding `data` (row-major).
inline Tensor make_f64(const std::vector<double> &data, const Shape &shape) {
    return Tensor::from_vector<double>(data, shape);
}

/// The row-major multi-index of flat position `flat` in `shape`.
inline Ints unravel(int64_t flat, const Shape &shape) {
    Ints index(shape.size());
    for (size_t d = shape.size(); d-- > 0;) {
        index[d] = shape[d] == 0 ? 0 : flat % shape[d];
        flat = shape[d] == 0 ? 0 : flat / shape[d];
    }
    return index;
}

/// The flat row-major position of `index` in `shape`.
inline int64_t ravel(const Ints &index, const Shape &shape) {
    int64_t flat = 0;
    for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + index[d];
    return flat;
}

/// A dim in [-rank, rank) made non-negative; throws otherwise.
inline int64_t wrap_dim(int64_t dim, int64_t rank, const char *op) {
    if (dim < -rank || dim >= rank) fail("reference {}: dim {} out of range for rank {}", op, dim, rank);
    return dim < 0 ? dim + rank : dim;
}

/// NumPy broadcasting of two shapes (throws when incompatible).
inline Shape broadcast_shapes(const Shape &a, const Shape &b) {
    const size_t rank = std::max(a.size(), b.size());
    Shape out(rank);
    for (size_t i = 0; i < rank; ++i) {
        const int64_t ea = i + a.size() < rank ? 1 : a[i + a.size() - rank];
        const int64_t eb = i + b.size() < rank ? 1 : b[i + b.size() - rank];
        if (ea != eb && ea != 1 && eb != 1)
            fail("reference: shapes {} and {} do not broadcast", shape_str(a), shape_str(b));
        out[i] = ea == 1 ? eb : ea;
    }
    return out;
}

/// The flat position in a tensor of shape `from` that broadcasts to `index`
/// of the (larger or equal) shape `to`: missing leading dims and extent-1 dims read index 0.
inline int64_t broadcast_source(const Ints &index, const Shape &to, const Shape &from) {
    const size_t lead = to.size() - from.size();
    int64_t flat = 0;
    for (size_t d = 0; d < from.size(); ++d) flat = flat * from[d] + (from[d] == 1 ? 0 : index[d + lead]);
    return flat;
}

}  // namespace strata::reference::detail
