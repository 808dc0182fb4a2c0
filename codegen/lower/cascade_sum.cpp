#include "codegen/lower/cascade_sum.h"

#include "codegen/schedules/schedule.h"

#include <algorithm>

namespace strata::codegen {

using namespace Halide;

namespace {

/// The index into `extents` (IR order) of flat position `flat` (row-major).
Index unflatten(Expr flat, const Shape &extents) {
    Index k(extents.size());
    for (size_t i = extents.size(); i-- > 0;) {
        const int e = static_cast<int>(extents[i]);
        k[i] = i == 0 ? flat : flat % e;
        if (i > 0) flat = flat / e;
    }
    return k;
}

}  // namespace

Func cascade_sum(const std::string &name, const std::vector<Var> &out_vars, const Shape &out_shape, const Shape &reduced,
                 DType dtype, const std::function<Expr(const Index &)> &value, LowerContext &ctx) {
    const Type t = halide_type(dtype);
    const Expr zero = constant(t, 0);
    const Index out_index = as_index(out_vars);
    // The summand at flat position `flat` of the current level.
    std::function<Expr(const Expr &)> element = [&](const Expr &flat) { return value(unflatten(flat, reduced)); };
    int64_t count = shape_numel(reduced);
    for (int level = 0; count > kCascadeBlock; ++level) {
        const int64_t blocks = (count + kCascadeBlock - 1) / kCascadeBlock;
        // The block index is the outermost dim, so the outputs' own layout stays innermost.
        std::vector<Var> vars = {Var(fmt::format("b{}", level))};
        vars.insert(vars.end(), out_vars.begin(), out_vars.end());
        Shape shape = {blocks};
        shape.insert(shape.end(), out_shape.begin(), out_shape.end());
        RDom i(0, static_cast<int>(kCascadeBlock), fmt::format("{}_i{}", name, level));
        Func partial(fmt::format("{}_blocks{}", name, level));
        define(partial, vars, zero);
        const Expr flat = Expr(vars[0]) * static_cast<int>(kCascadeBlock) + i;
        // The last block is short: its missing elements add nothing (and read nothing out of bounds).
        const Expr summand = element(min(flat, static_cast<int>(count - 1)));
        partial(to_halide_args(as_index(vars))) =
            call(partial, as_index(vars)) + select(flat < static_cast<int>(count), summand, zero);
        schedule_reduction(partial, shape, dtype, {RVar(i)}, kCascadeBlock, ctx);
        element = [partial, out_index](const Expr &block) {
            Index at = {block};
            at.insert(at.end(), out_index.begin(), out_index.end());
            return Expr(call(partial, at));
        };
        count = blocks;
    }
    RDom i(0, static_cast<int>(count), name + "_r");
    Func total(name);
    define(total, out_vars, zero);
    total(to_halide_args(out_index)) = call(total, out_index) + element(i);
    schedule_reduction(total, out_shape, dtype, {RVar(i)}, count, ctx);
    return total;
}

}  // namespace strata::codegen
