// The schedule of linear for a few rows (lower/linear_few_rows.cpp): tiles of
// output features, each a register tile of partial-sum vectors, threads over
// the tiles when the work pays for them.

#include "codegen/schedules/forms.h"

#include <algorithm>

namespace strata::codegen {

using namespace Halide;

namespace {

/// Output features per register tile (vectors of partial sums).
constexpr int kFeatureTile = 8;
/// Below this many multiply-adds one thread does it all.
constexpr int64_t kMinParallelWork = 1 << 18;

}  // namespace

void schedule_linear_few_rows_cpu(const LinearFewRowsStages &s, const LowerContext &ctx) {
    Func f = s.out, acc = s.acc, part = s.part;
    const Var &l = s.l, &o = s.o, &row = s.row;
    steer_rules_at(ctx, f);
    const NodeSchedule want = requested_schedule(ctx, f, {"parallel"});
    const bool parallel = want.parallel_outer.value_or(s.rows * s.in_features * s.out_features >= kMinParallelWork);
    record_schedule(ctx, f, NodeSchedule().parallel(parallel));
    f.compute_root();
    ctx.stored_funcs.insert(f.name());
    const int tile = static_cast<int>(std::min<int64_t>(kFeatureTile, s.out_features));
    Var oo("oo"), oi("oi");
    // Shifting the last tile inwards keeps every tile whole, so acc and part unroll.
    f.split(o, oo, oi, tile, TailStrategy::ShiftInwards);
    if (parallel) f.parallel(oo);
    acc.compute_at(f, oo);
    for (int i = 0; i < acc.num_update_definitions(); ++i) acc.update(i).unroll(o);
    part.compute_at(f, oo).vectorize(l).unroll(o);
    part.update().reorder(l, o, s.chunks, row).vectorize(l).unroll(o);
}

}  // namespace strata::codegen
