#include "frontend/functional/common.h"

#include <algorithm>

namespace strata::detail {

SymTensor make(ir::Op op, const std::vector<SymTensor> &inputs, ir::Attrs attrs) {
    if (inputs.empty() || !inputs[0].defined()) fail("{}: the input tensor is undefined", ir::op_name(op));
    for (const SymTensor &t : inputs)
        if (!t.defined()) fail("{}: an input tensor is undefined", ir::op_name(op));
    return inputs[0].graph().make(op, inputs, std::move(attrs));
}

SymTensor scalar_like(const SymTensor &x, double value) { return x.graph().constant(value, {}, x.dtype()); }

int64_t normalize_dim(const char *op, int64_t dim, int64_t rank) {
    if (dim < -rank || dim >= rank) {
        if (rank == 0) fail("{}: dim {} given for a 0-d tensor", op, dim);
        fail("{}: dim {} is out of range for a {}-d tensor (expected {} to {})", op, dim, rank, -rank, rank - 1);
    }
    return dim < 0 ? dim + rank : dim;
}

Ints normalize_dims(const char *op, const Ints &dims, int64_t rank) {
    Ints out;
    if (dims.empty()) {
        for (int64_t d = 0; d < rank; ++d) out.push_back(d);
        return out;
    }
    for (int64_t d : dims) out.push_back(normalize_dim(op, d, rank));
    std::sort(out.begin(), out.end());
    if (std::adjacent_find(out.begin(), out.end()) != out.end())
        fail("{}: dim {} appears more than once in [{}]", op, *std::adjacent_find(out.begin(), out.end()),
             fmt::join(dims, ", "));
    return out;
}

Ints expand_list(const char *op, const char *what, const Ints &values, size_t n) {
    if (values.size() == 1) return Ints(n, values[0]);
    if (values.size() != n)
        fail("{}: {} must have 1 or {} values, got [{}]", op, what, n, fmt::join(values, ", "));
    return values;
}

}  // namespace strata::detail
