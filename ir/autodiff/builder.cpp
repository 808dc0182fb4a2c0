#include "ir/autodiff/builder.h"

namespace strata::ir {

Builder::N Builder::permute(N a, const Ints &dims) {
    bool identity = true;
    for (size_t i = 0; i < dims.size(); ++i) identity = identity && dims[i] == static_cast<int64_t>(i);
    return identity ? a : op(Op::permute, {a}, {{"dims", dims}});
}

Builder::N Builder::transpose_last(N a) {
    Ints dims;
    for (int64_t d = 0; d < a->type.rank(); ++d) dims.push_back(d);
    std::swap(dims[dims.size() - 1], dims[dims.size() - 2]);
    return permute(a, dims);
}

Builder::N Builder::sum(N a, const Ints &dims, bool keepdim) {
    if (dims.empty()) return a;
    return op(Op::sum, {a}, {{"dims", dims}, {"keepdim", keepdim}});
}

Builder::N Builder::sum_to(N g, const Shape &shape) {
    const Shape &gs = g->shape();
    if (gs == shape) return g;
    const size_t lead = gs.size() - shape.size();
    Ints dims;
    for (size_t i = 0; i < gs.size(); ++i)
        if (i < lead || (shape[i - lead] == 1 && gs[i] != 1)) dims.push_back(static_cast<int64_t>(i));
    return reshape(sum(g, dims, true), shape);
}

}  // namespace strata::ir
