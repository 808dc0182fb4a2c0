// Default GPU (CUDA) schedules, one per op class; the CPU schedules in
// tiling.cpp hand over to these when the schedules are laid out for a GPU.
// Every stage is either inlined or mapped onto GPU blocks and threads, so no
// loop over tensor data runs on the host. With LowerContext::gpu_on_cpu the
// same structure runs on the CPU (blocks become parallel loops, threads plain
// loops, no shared or register memory types), which is how the tests check
// these schedules' numbers on machines without a GPU.

#include "codegen/schedules/schedule.h"

#include <algorithm>
#include <optional>

namespace strata::codegen {

using namespace Halide;

namespace {

/// Threads per block unless a gpu_threads rule says otherwise.
constexpr int kDefaultThreads = 256;
/// CUDA's limits: threads per block, blocks along grid y and z.
constexpr int64_t kMaxThreads = 1024, kMaxGridYZ = 65535;
/// Shared memory a staged operand tile may take (of 48 KiB per block).
constexpr int64_t kSharedBudgetBytes = 16 * 1024;
/// A reduction this long into this few outputs is split in two stages
/// (partial sums, then their sum) so that more than a handful of threads work.
constexpr int64_t kLongReduction = 256, kFewOutputs = 4096;
/// How many partial sums the first stage of a two-stage reduction aims for.
constexpr int64_t kTargetPartials = 4096;

int64_t pow2_at_most(int64_t limit) {
    int64_t p = 1;
    while (p * 2 <= limit) p *= 2;
    return p;
}

std::string node_label(const LowerContext &ctx) { return ctx.current ? ctx.current->label() : "a node"; }

void check_fits(const LowerContext &ctx, bool ok, const std::string &what) {
    if (!ok) fail("schedule for {}: {}", node_label(ctx), what);
}

/// Threads per block: the node's gpu_threads rule, else the default.
int threads_per_block(const LowerContext &ctx, const NodeSchedule &want) {
    const int64_t t = want.gpu_threads.value_or(kDefaultThreads);
    check_fits(ctx, t <= kMaxThreads, fmt::format("gpu_threads={} is more than CUDA's {} threads per block", t,
                                                  kMaxThreads));
    return static_cast<int>(t);
}

int64_t const_extent(const RVar &rv) {
    const int64_t *e = Internal::as_const_int(rv.extent());
    STRATA_ASSERT(e, "reduction variable {} has no constant extent", rv.name());
    return *e;
}

/// GPU blocks, threads and memory types, or their CPU stand-ins (gpu_on_cpu).
struct GpuMapper {
    bool on_cpu;

    void blocks(Stage s, const std::vector<VarOrRVar> &v) const {
        if (on_cpu) {
            for (const VarOrRVar &b : v) s.parallel(b);
            return;
        }
        if (v.size() == 1) s.gpu_blocks(v[0]);
        else if (v.size() == 2) s.gpu_blocks(v[0], v[1]);
        else s.gpu_blocks(v[0], v[1], v[2]);
    }
    void threads(Stage s, const std::vector<VarOrRVar> &v) const {
        if (on_cpu) return;  // plain loops inside each "block"
        if (v.size() == 1) s.gpu_threads(v[0]);
        else if (v.size() == 2) s.gpu_threads(v[0], v[1]);
        else s.gpu_threads(v[0], v[1], v[2]);
    }
    void single_thread(Stage s) const {
        if (!on_cpu) s.gpu_single_thread();
    }
    void store_in(Func f, MemoryType type) const {
        if (!on_cpu) f.store_in(type);
    }
};

GpuMapper mapper(const LowerContext &ctx) { return GpuMapper{ctx.gpu_on_cpu}; }

/// The loop a per-thread stage is computed at: inside every thread loop.
struct GpuTiling {
    std::optional<Var> innermost_thread;
    int64_t threads = 1;
};

/// Maps the pure vars of a stage (innermost first, with their extents) onto a
/// block of threads over the (up to three) innermost dims, the other dims
/// fused into blocks. `tail` is ShiftInwards-safe only when every factor fits its extent,
/// which the chosen factors do when the extents are exact.
GpuTiling gpu_tile_pure(Stage s, const std::vector<Var> &vars, const std::vector<int64_t> &extents, int64_t threads,
                        TailStrategy tail, const GpuMapper &gpu) {
    STRATA_ASSERT(vars.size() == extents.size(), "one extent per var");
    GpuTiling tiling;
    if (vars.empty()) {
        gpu.single_thread(s);
        return tiling;
    }
    Var bx("bx"), tx("tx"), by("by"), ty("ty");
    const int64_t fx = pow2_at_most(std::min(extents[0], threads));
    if (vars.size() == 1) {
        s.split(vars[0], bx, tx, static_cast<int>(fx), tail);
        gpu.blocks(s, {bx});
        gpu.threads(s, {tx});
        tiling = {tx, fx};
        return tiling;
    }
    const int64_t fy = pow2_at_most(std::min(extents[1], std::max<int64_t>(1, threads / fx)));
    s.split(vars[0], bx, tx, static_cast<int>(fx), tail).split(vars[1], by, ty, static_cast<int>(fy), tail);
    std::vector<VarOrRVar> thread_vars = {tx, ty}, order = {tx, ty};
    std::vector<VarOrRVar> block_vars = {bx, by};
    int64_t fz = 1, outer = 1;
    if (vars.size() > 2) {
        // Small inner dims leave threads over: give them the third dim.
        fz = pow2_at_most(std::min(extents[2], std::max<int64_t>(1, threads / (fx * fy))));
        Var bz("bz"), tz("tz");
        s.split(vars[2], bz, tz, static_cast<int>(fz), tail);
        thread_vars.push_back(tz);
        order.push_back(tz);
        outer = (extents[2] + fz - 1) / fz;
        std::vector<Var> zs = {bz};
        for (size_t i = 3; i < vars.size(); ++i) {
            zs.push_back(vars[i]);
            outer *= extents[i];
        }
        block_vars.push_back(fuse_loops(s, zs, "bz"));
    }
    for (const VarOrRVar &b : block_vars) order.push_back(b);
    s.reorder(order);
    if ((extents[1] + fy - 1) / fy > kMaxGridYZ || outer > kMaxGridYZ) {
        // Grid y and z are short in CUDA: one long grid x instead.
        std::vector<Var> bs = {bx};
        for (size_t i = 1; i < block_vars.size(); ++i) bs.push_back(block_vars[i].var);
        block_vars = {fuse_loops(s, bs, "bf")};
    }
    gpu.blocks(s, block_vars);
    gpu.threads(s, thread_vars);
    tiling = {tx, fx * fy * fz};
    return tiling;
}

/// Every stage of f over its pure vars (updates guarded: they may not redo work).
GpuTiling gpu_tile_all_stages(Func f, const std::vector<int64_t> &extents, int64_t threads, TailStrategy pure_tail,
                              const GpuMapper &gpu) {
    const std::vector<Var> vars = f.args();
    GpuTiling tiling = gpu_tile_pure(f, vars, extents, threads, pure_tail, gpu);
    for (int i = 0; i < f.num_update_definitions(); ++i)
        gpu_tile_pure(f.update(i), vars, extents, threads, TailStrategy::GuardWithIf, gpu);
    return tiling;
}

/// Halide-order extents (innermost first) of an IR-order shape.
std::vector<int64_t> halide_extents(const Shape &shape) { return std::vector<int64_t>(shape.rbegin(), shape.rend()); }

/// The largest divisor of n that is at most limit (at least 1).
int64_t divisor_at_most(int64_t n, int64_t limit) {
    for (int64_t d = std::min(n, std::max<int64_t>(limit, 1)); d > 1; --d)
        if (n % d == 0) return d;
    return 1;
}

}  // namespace

void store_whole_gpu(Func f, const LowerContext &ctx) {
    f.compute_root();
    const GpuMapper gpu = mapper(ctx);
    if (f.dimensions() == 0 && f.num_update_definitions() == 1) {
        // A total over a whole tensor (losses): a two-stage reduction. The
        // RVars' extents live in the update's schedule.
        std::vector<RVar> rvars;
        int64_t size = 1;
        for (const Internal::ReductionVariable &rv : f.update(0).get_schedule().rvars()) {
            const int64_t *extent = Internal::as_const_int(rv.extent);
            STRATA_ASSERT(extent, "reduction variable {} has no constant extent", rv.var);
            rvars.push_back(RVar(rv.var));
            size *= *extent;
        }
        if (!rvars.empty()) return schedule_reduction_gpu(f, {}, DType::f32, rvars, size, ctx);
    }
    // The extents are not known here: blocks of 32 x 8 threads (or 256 in
    // one dim), guarded, so any extent works.
    std::vector<int64_t> extents(static_cast<size_t>(f.dimensions()), 1);
    if (!extents.empty()) extents[0] = extents.size() == 1 ? kDefaultThreads : 32;
    if (extents.size() >= 2) extents[1] = 8;
    gpu_tile_all_stages(f, extents, kDefaultThreads, TailStrategy::GuardWithIf, gpu);
}

void schedule_padded_input_gpu(Func padded, const LowerContext &ctx) { store_whole_gpu(padded, ctx); }

void schedule_elementwise_gpu(Func f, const Shape &shape, DType, const LowerContext &ctx) {
    const NodeSchedule want =
        ctx.simple() ? NodeSchedule() : requested_schedule(ctx, f, {"gpu_threads"});
    const int threads = threads_per_block(ctx, want);
    const GpuTiling t = gpu_tile_all_stages(f, halide_extents(shape), threads, TailStrategy::Auto, mapper(ctx));
    record_schedule(ctx, f, NodeSchedule().gpu(t.threads));
}

void schedule_reduction_gpu(Func acc, const Shape &out_shape, DType, const std::vector<RVar> &rvars,
                            int64_t reduced_size, const LowerContext &ctx) {
    const GpuMapper gpu = mapper(ctx);
    const NodeSchedule want = ctx.simple() ? NodeSchedule() : requested_schedule(ctx, acc, {"gpu_threads"});
    const int threads = threads_per_block(ctx, want);
    const int64_t outputs = shape_numel(out_shape);
    const std::vector<int64_t> extents = halide_extents(out_shape);
    record_schedule(ctx, acc, NodeSchedule().gpu(threads));
    const bool two_stage = !ctx.simple() && !rvars.empty() && reduced_size >= kLongReduction &&
                           outputs < kFewOutputs && acc.num_update_definitions() == 1;
    if (two_stage) {
        // Stage one: partial sums over the innermost reduced dims (adjacent
        // threads read adjacent elements), each summing the outer ones; stage
        // two sums the partials. No atomics: each output has one writer.
        std::vector<std::pair<RVar, Var>> factored;
        std::vector<int64_t> partial_extents;
        int64_t partials = outputs;
        for (size_t i = 0; i + 1 < rvars.size() && partials < kTargetPartials; ++i) {
            const int64_t e = const_extent(rvars[i]);
            if (partials * e > 16 * kTargetPartials && !factored.empty()) break;
            factored.push_back({rvars[i], Var("u" + std::to_string(i))});
            partial_extents.push_back(e);
            partials *= e;
        }
        if (rvars.size() == 1) {
            // One long reduced dim: split it, the inner part becomes the partials.
            const int64_t e = const_extent(rvars[0]);
            const int64_t inner = divisor_at_most(e, std::max<int64_t>(1, kTargetPartials / std::max<int64_t>(outputs, 1)));
            if (inner > 1) {
                RVar ro("ro"), ri("ri");
                acc.update().split(rvars[0], ro, ri, static_cast<int>(inner));
                factored = {{ri, Var("u0")}};
                partial_extents = {inner};
            }
        }
        if (!factored.empty()) {
            try {
                Func partial = acc.update().rfactor(factored);
                partial.compute_root();
                // The partials' vars: the new ones innermost (adjacent
                // threads, adjacent elements), then the output's.
                std::vector<Var> order;
                std::vector<int64_t> order_extents;
                for (size_t i = 0; i < factored.size(); ++i) {
                    order.push_back(factored[i].second);
                    order_extents.push_back(partial_extents[i]);
                }
                const std::vector<Var> out_vars = acc.args();
                for (size_t i = 0; i < out_vars.size(); ++i) {
                    order.push_back(out_vars[i]);
                    order_extents.push_back(extents[i]);
                }
                partial.reorder_storage(order);
                gpu_tile_pure(partial, order, order_extents, threads, TailStrategy::Auto, gpu);
                for (int i = 0; i < partial.num_update_definitions(); ++i)
                    gpu_tile_pure(partial.update(i), order, order_extents, threads, TailStrategy::GuardWithIf, gpu);
                acc.compute_root();
                gpu_tile_all_stages(acc, extents, threads, TailStrategy::Auto, gpu);
                return;
            } catch (const CompileError &) {
                // Halide could not prove the update associative (e.g. an
                // argmax with a tie rule): one thread per output below.
            }
        }
    }
    acc.compute_root();
    gpu_tile_all_stages(acc, extents, threads, TailStrategy::Auto, gpu);
}

void schedule_tiled_reduction_gpu(const TiledReduction &r, const LowerContext &ctx) {
    Func out = r.out, acc = r.acc;
    const GpuMapper gpu = mapper(ctx);
    out.compute_root();
    ctx.stored_funcs.insert(out.name());
    const NodeSchedule want =
        ctx.simple() ? NodeSchedule() : requested_schedule(ctx, out, {"tile", "gpu_threads"});
    const int threads = threads_per_block(ctx, want);
    if (ctx.simple()) {
        std::vector<int64_t> extents = {r.x.extent, r.c.extent};
        for (const LoopDim &d : r.outer) extents.push_back(d.extent);
        // Output dims in Halide order are x, then (for conv) the spatial
        // dims and c: order them as out.args() lists them.
        std::vector<int64_t> by_arg;
        for (const Var &v : out.args()) {
            int64_t e = 1;
            if (v.same_as(r.x.var)) e = r.x.extent;
            else if (v.same_as(r.c.var)) e = r.c.extent;
            for (const LoopDim &d : r.outer)
                if (v.same_as(d.var)) e = d.extent;
            by_arg.push_back(e);
        }
        gpu_tile_all_stages(out, by_arg, threads, TailStrategy::Auto, gpu);
        acc.compute_root();
        gpu_tile_all_stages(acc, by_arg, threads, TailStrategy::Auto, gpu);
        return;
    }

    // Threads along x (coalesced), each keeping `rows` accumulators of c in registers.
    const int64_t tx = want.tile_x.value_or(pow2_at_most(std::min<int64_t>({r.x.extent, 32, threads})));
    const int64_t rows = want.tile_c.value_or(pow2_at_most(std::min<int64_t>(r.c.extent, 4)));
    check_fits(ctx, tx <= r.x.extent && rows <= r.c.extent,
               fmt::format("tile={}x{} is larger than the output's {}x{} (innermost extent x rows)", tx, rows,
                           r.x.extent, r.c.extent));
    const int64_t tc = pow2_at_most(std::max<int64_t>(1, std::min(r.c.extent / rows, threads / tx)));
    check_fits(ctx, tx * tc <= kMaxThreads,
               fmt::format("tile={}x{}: {} threads per block, CUDA allows {}", tx, rows, tx * tc, kMaxThreads));
    const int64_t block_c = tc * rows;
    record_schedule(ctx, out, NodeSchedule().tile(tx, rows).gpu(tx * tc));

    Var xo("xo"), xt("xt"), co("co"), ci("ci"), ct("ct"), cr("cr");
    out.tile(r.x.var, r.c.var, xo, co, xt, ci, static_cast<int>(tx), static_cast<int>(block_c))
        .split(ci, ct, cr, static_cast<int>(rows));
    std::vector<VarOrRVar> order = {cr, xt, ct, xo, co};
    for (const LoopDim &d : r.outer) order.push_back(d.var);
    out.reorder(order);
    std::vector<VarOrRVar> blocks = {xo, co};
    int64_t outer = 1;
    if (!r.outer.empty()) {
        std::vector<Var> zs;
        for (const LoopDim &d : r.outer) {
            zs.push_back(d.var);
            outer *= d.extent;
        }
        blocks.push_back(fuse_loops(out, zs, "bz"));
    }
    if ((r.c.extent + block_c - 1) / block_c > kMaxGridYZ || outer > kMaxGridYZ) {
        std::vector<Var> bs = {xo};
        for (size_t i = 1; i < blocks.size(); ++i) bs.push_back(blocks[i].var);
        blocks = {fuse_loops(out, bs, "bf")};
    }
    gpu.blocks(out, blocks);
    gpu.threads(out, {xt, ct});
    out.unroll(cr);

    // A chunk of the reduction's outermost dim whose tile of the broadcast
    // operand (read alike by every thread along x) fits in shared memory.
    int64_t chunk = 0;
    if (r.broadcast_operand.defined() && !r.rvars.empty()) {
        int64_t inner_taps = 1;
        for (size_t i = 0; i + 1 < r.rvars.size(); ++i) inner_taps *= const_extent(r.rvars[i]);
        const int64_t per_chunk_bytes = block_c * inner_taps * static_cast<int64_t>(dtype_size(r.dtype));
        const int64_t fit = kSharedBudgetBytes / per_chunk_bytes;
        if (fit >= 1) chunk = divisor_at_most(const_extent(r.rvars.back()), fit);
    }
    if (chunk == 0) {
        // Each thread's accumulators live in its registers, across the whole reduction.
        acc.compute_at(out, xt).unroll(r.c.var);
        Stage update = acc.update();
        std::vector<VarOrRVar> uorder = {r.c.var, r.x.var};
        for (const RVar &rv : r.rvars) uorder.push_back(rv);
        for (const LoopDim &d : r.outer) uorder.push_back(d.var);
        update.reorder(uorder).unroll(r.c.var);
        return;
    }
    // The block's accumulators, one register tile per thread; the reduction
    // walks chunks, each staging its operand tile in shared memory first.
    acc.compute_at(out, blocks.front().var);
    gpu.store_in(acc, MemoryType::Register);
    Var act("act"), acr("acr");
    acc.split(r.c.var, act, acr, static_cast<int>(rows)).reorder(acr, r.x.var, act);
    gpu.threads(acc, {r.x.var, act});
    acc.unroll(acr);
    Stage update = acc.update();
    RVar ko("ko"), ki("ki");
    update.split(r.c.var, act, acr, static_cast<int>(rows), TailStrategy::GuardWithIf)
        .split(r.rvars.back(), ko, ki, static_cast<int>(chunk));
    std::vector<VarOrRVar> uorder = {acr};
    for (size_t i = 0; i + 1 < r.rvars.size(); ++i) uorder.push_back(r.rvars[i]);
    uorder.push_back(ki);
    uorder.push_back(r.x.var);
    uorder.push_back(act);
    uorder.push_back(ko);
    for (const LoopDim &d : r.outer) uorder.push_back(d.var);
    update.reorder(uorder);
    gpu.threads(update, {r.x.var, act});
    update.unroll(acr);

    Func operand = r.broadcast_operand;
    Func staged = operand.in(acc);
    staged.compute_at(acc, ko);
    gpu.store_in(staged, MemoryType::GPUShared);
    // The block's threads copy the tile together, as one flat range.
    Var flat = fuse_loops(staged, staged.args(), "sf");
    Var so("so"), si("si");
    staged.split(flat, so, si, static_cast<int>(tx * tc), TailStrategy::GuardWithIf);
    gpu.threads(staged, {si});
}

void schedule_conv_grad_weight_gpu(const ConvGradWeightStages &st, DType, const LowerContext &ctx) {
    Func out = st.out, acc = st.acc, partial = st.partial;
    const GpuMapper gpu = mapper(ctx);
    out.compute_root();
    ctx.stored_funcs.insert(out.name());
    const NodeSchedule want = ctx.simple() ? NodeSchedule() : requested_schedule(ctx, out, {"gpu_threads"});
    const int threads = threads_per_block(ctx, want);
    record_schedule(ctx, out, NodeSchedule().gpu(threads));
    // Stage one: one thread per (weight element, innermost output position),
    // summing over the batch and the outer positions; coalesced along ox.
    std::vector<int64_t> partial_extents = {st.ox_extent};
    for (size_t i = st.weight_shape.size(); i-- > 0;) partial_extents.push_back(st.weight_shape[i]);
    partial.compute_root();
    gpu_tile_all_stages(partial, partial_extents, threads, TailStrategy::Auto, gpu);
    // Stage two: one thread per weight element sums its ox partials.
    const GpuTiling t = gpu_tile_pure(out, out.args(), halide_extents(st.weight_shape), threads, TailStrategy::Auto, gpu);
    if (ctx.simple() || !t.innermost_thread) {
        acc.compute_root();
        gpu_tile_all_stages(acc, halide_extents(st.weight_shape), threads, TailStrategy::Auto, gpu);
        return;
    }
    acc.compute_at(out, *t.innermost_thread);
}

}  // namespace strata::codegen
