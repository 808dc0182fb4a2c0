#include "codegen/lower/class_targets.h"

#include "codegen/schedules/schedule.h"

#include <fmt/format.h>

#include <climits>

namespace strata::codegen {

using namespace Halide;

namespace {

/// `label` at `position`, or a run-time error.
Expr checked_class_index(const Expr &label, int64_t classes, int64_t ignore_index, const std::vector<Expr> &position) {
    const Expr in_range = label >= 0 && label < static_cast<int>(classes);
    const Expr ok = ignore_index >= INT_MIN && ignore_index <= INT_MAX
                        ? in_range || label == static_cast<int>(ignore_index)
                        : in_range;
    // Halide prints the values, separated by spaces, after "Requirement Failed: (condition)":
    // "7 is out of bounds as the class target at position [ 1 , 0 ] (expected a class in [0, 4) ...)".
    std::vector<Expr> args = {label, Expr("is out of bounds as the class target at position [")};
    for (size_t i = 0; i < position.size(); ++i) {
        args.push_back(position[i]);
        if (i + 1 < position.size()) args.push_back(Expr(","));
    }
    args.push_back(Expr(fmt::format("] (expected a class in [0, {}) or the ignore_index {})", classes, ignore_index)));
    return require(ok, args);
}

}  // namespace

Func checked_class_targets(const std::string &name, const Func &targets, const Shape &shape, int64_t classes,
                           int64_t ignore_index, LowerContext &ctx) {
    const auto vars = make_vars(shape.size(), "t");
    const Index idx = as_index(vars);
    Func checked(name);
    define(checked, vars, checked_class_index(call(targets, idx), classes, ignore_index, idx));
    // On the host: a GPU kernel cannot format the message (and there are few targets).
    // The check is a node's own result only as check_class_index (nll_loss); inside
    // cross_entropy it is a helper stage and the loss keeps its own steered stage.
    if (ctx.current && ctx.current->op == ir::Op::check_class_index) steer_rules_at(ctx, checked);
    store_on_host(checked, ctx);
    return checked;
}

}  // namespace strata::codegen
