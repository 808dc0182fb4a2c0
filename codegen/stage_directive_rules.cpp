// How each stage directive applies to a Halide stage and reads back from
// Halide's schedule objects: apply_NAME and read_NAME for every row of
// stage_directives.def, in its order. A read_ function appends its directive
// when what the row's read_from names holds it.

#include "codegen/stage_context.h"

#include <strata/error.h>

#include <fmt/format.h>

#include <map>

namespace strata::codegen {

using namespace Halide;
using Halide::Internal::ForType;

namespace {

using Out = std::vector<StageDirective>;

const Internal::FuncSchedule &func_schedule(const StageRead &r) { return r.function.schedule(); }

/// "F, v[, stage]" (a LoopLevel as stage lines write it) back into arguments.
std::vector<std::string> level_args(const std::string &text) {
    std::vector<std::string> args;
    size_t start = 0;
    for (size_t comma; (comma = text.find(", ", start)) != std::string::npos; start = comma + 2)
        args.push_back(text.substr(start, comma - start));
    args.push_back(text.substr(start));
    return args;
}

/// A factor that splits `loop` may not pass its extent where that is known: an output split so
/// compiles into a pipeline that always fails its bounds check.
void require_factor_fits(const StageApply &s, const std::string &loop, int64_t factor) {
    const int64_t extent = s.known_extent(loop);
    if (extent && factor > extent)
        fail("{}: the factor {} is more than the extent {} of loop '{}'", s.what, factor, extent, loop);
}

/// A split of `old` by `factor`: the inner loop's extent is the factor, the outer's follows.
void track_split(StageApply &s, const std::string &old, const std::string &outer, const std::string &inner, int64_t factor) {
    require_factor_fits(s, old, factor);
    const int64_t extent = s.known_extent(old);
    s.set_extent(inner, factor);
    s.set_extent(outer, extent ? (extent + factor - 1) / factor : 0);
}

/// A loop-type directive read back: the loop when its type is `type`.
void read_loop_type(const StageRead &r, Out &out, ForType type, const char *name) {
    if (r.dim->for_type == type) out.push_back({name, {r.line_name(r.dim->var)}});
}

// ---- the whole Func ----

void apply_compute_root(StageApply &s, const StageDirective &) { s.func.compute_root(); }
void read_compute_root(const StageRead &r, Out &out) {
    if (r.level_text(func_schedule(r).compute_level()) == "root") out.push_back({"compute_root", {}});
}

void apply_compute_inline(StageApply &s, const StageDirective &) {
    if (s.has_updates())
        fail("{}: {} has update definitions and cannot be inlined; compute it at root or at a loop", s.what, s.func_name);
    s.func.compute_inline();
}
void read_compute_inline(const StageRead &, Out &) {}  // inlined is where every Func starts

void apply_compute_at(StageApply &s, const StageDirective &d) { s.func.compute_at(s.level(d.args, false)); }
void read_compute_at(const StageRead &r, Out &out) {
    const std::string at = r.level_text(func_schedule(r).compute_level());
    if (!at.empty() && at != "root") out.push_back({"compute_at", level_args(at)});
}

/// Where the Func is stored when that differs from where it is computed ("" when it does not).
std::string store_level_apart(const StageRead &r) {
    const std::string compute = r.level_text(func_schedule(r).compute_level());
    const std::string store = r.level_text(func_schedule(r).store_level());
    return !compute.empty() && store != compute ? store : "";
}

void apply_store_root(StageApply &s, const StageDirective &) { s.func.store_root(); }
void read_store_root(const StageRead &r, Out &out) {
    if (store_level_apart(r) == "root") out.push_back({"store_root", {}});
}

void apply_store_at(StageApply &s, const StageDirective &d) { s.func.store_at(s.level(d.args, false)); }
void read_store_at(const StageRead &r, Out &out) {
    const std::string at = store_level_apart(r);
    if (!at.empty() && at != "root") out.push_back({"store_at", level_args(at)});
}

void apply_reorder_storage(StageApply &s, const StageDirective &d) {
    std::vector<Var> vars;
    for (const std::string &v : d.args) vars.push_back(s.pure_dim(v));
    s.func.reorder_storage(vars);
}
void read_reorder_storage(const StageRead &r, Out &out) {
    std::vector<std::string> storage;
    for (const Internal::StorageDim &d : func_schedule(r).storage_dims()) {
        if (d.alignment.defined() || d.bound.defined() || d.fold_factor.defined())
            r.cannot_write("align_storage, bound_storage or fold_storage");
        storage.push_back(d.var);
    }
    if (storage != r.function.args()) out.push_back({"reorder_storage", storage});
}

void apply_bound(StageApply &s, const StageDirective &d) {
    s.func.bound(s.pure_dim(d.args[0]), s.number(d.args, 1), s.number(d.args, 2));
    s.set_extent(d.args[0], s.number(d.args, 2));
}
void read_bound(const StageRead &r, Out &out) {
    for (const Internal::Bound &b : func_schedule(r).bounds()) {
        const int64_t *min = b.min.defined() ? Internal::as_const_int(b.min) : nullptr;
        const int64_t *extent = b.extent.defined() ? Internal::as_const_int(b.extent) : nullptr;
        if (!min || !extent || b.modulus.defined()) r.cannot_write("bound_extent, align_bounds or a non-constant bound");
        out.push_back({"bound", {b.var, std::to_string(*min), std::to_string(*extent)}});
    }
}

void apply_store_in(StageApply &s, const StageDirective &d) { s.func.store_in(memory_type_named(d.args[0])); }
void read_store_in(const StageRead &r, Out &out) {
    const MemoryType m = func_schedule(r).memory_type();
    if (m != MemoryType::Auto) out.push_back({"store_in", {memory_type_name(m)}});
}

// ---- one stage ----

void apply_split(StageApply &s, const StageDirective &d) {
    const auto &a = d.args;
    const VarOrRVar old = s.loop(a[0]);
    track_split(s, a[0], a[1], a[2], s.number(a, 3));
    s.stage.split(old, s.fresh(a[1], old.is_rvar), s.fresh(a[2], old.is_rvar), s.number(a, 3), s.tail(a, 4));
}
void read_split(const StageRead &r, Out &out) {
    const Internal::Split &split = *r.split;
    if (!split.is_split()) return;
    const int64_t *factor = Internal::as_const_int(split.factor);
    if (!factor) r.cannot_write("a split by a non-constant factor");
    std::vector<std::string> args = {r.line_name(split.old_var), r.line_name(split.outer), r.line_name(split.inner),
                                     std::to_string(*factor)};
    if (split.tail != TailStrategy::Auto) args.push_back(tail_strategy_name(split.tail));
    out.push_back({"split", args});
}

void apply_fuse(StageApply &s, const StageDirective &d) {
    const VarOrRVar inner = s.loop(d.args[0]), outer = s.loop(d.args[1]);
    s.set_extent(d.args[2], s.known_extent(d.args[0]) * s.known_extent(d.args[1]));
    s.stage.fuse(inner, outer, s.fresh(d.args[2], inner.is_rvar || outer.is_rvar));
}
void read_fuse(const StageRead &r, Out &out) {
    if (r.split->is_fuse())
        out.push_back({"fuse", {r.line_name(r.split->inner), r.line_name(r.split->outer), r.line_name(r.split->old_var)}});
}

void apply_rename(StageApply &s, const StageDirective &d) {
    const VarOrRVar old = s.loop(d.args[0]);
    s.set_extent(d.args[1], s.known_extent(d.args[0]));
    s.stage.rename(old, s.fresh(d.args[1], old.is_rvar));
}
void read_rename(const StageRead &r, Out &out) {
    if (r.split->is_rename()) out.push_back({"rename", {r.line_name(r.split->old_var), r.line_name(r.split->outer)}});
}

void apply_tile(StageApply &s, const StageDirective &d) {
    const auto &a = d.args;
    const VarOrRVar x = s.loop(a[0]), y = s.loop(a[1]);
    track_split(s, a[0], a[2], a[4], s.number(a, 6));
    track_split(s, a[1], a[3], a[5], s.number(a, 7));
    s.stage.tile(x, y, s.fresh(a[2], x.is_rvar), s.fresh(a[3], y.is_rvar), s.fresh(a[4], x.is_rvar),
                 s.fresh(a[5], y.is_rvar), s.number(a, 6), s.number(a, 7), s.tail(a, 8));
}
void read_tile(const StageRead &, Out &) {}  // Halide keeps a tile as two splits and a reorder

void apply_reorder(StageApply &s, const StageDirective &d) {
    std::vector<VarOrRVar> vars;
    for (const std::string &v : d.args) vars.push_back(s.loop(v));
    s.stage.reorder(vars);
}
void read_reorder(const StageRead &r, Out &out) {
    const Internal::StageSchedule &s = r.schedule();
    std::vector<std::string> now;
    for (const Internal::Dim &d : s.dims())
        if (d.var != Var::outermost().name()) now.push_back(d.var);
    if ((s.splits().empty() && now == r.initial_loops()) || now.size() <= 1) return;
    std::vector<std::string> order;
    for (const std::string &v : now) order.push_back(r.line_name(v));
    out.push_back({"reorder", order});
}

void apply_compute_with(StageApply &s, const StageDirective &d) { s.stage.compute_with(s.level(d.args, true)); }
void read_compute_with(const StageRead &r, Out &out) {
    for (const auto &[var, align] : r.schedule().fuse_level().align)
        if (align != LoopAlignStrategy::Auto) r.cannot_write("compute_with with a loop alignment");
    const std::string with = r.level_text(r.schedule().fuse_level().level);
    if (!with.empty() && with != "root") out.push_back({"compute_with", level_args(with)});
}

void apply_serial(StageApply &s, const StageDirective &d) { s.stage.serial(s.loop(d.args[0])); }
void read_serial(const StageRead &, Out &) {}  // serial is where every loop starts

void apply_parallel(StageApply &s, const StageDirective &d) {
    if (d.args.size() > 1) {
        require_factor_fits(s, d.args[0], s.number(d.args, 1));
        s.stage.parallel(s.loop(d.args[0]), s.number(d.args, 1));
    } else {
        s.stage.parallel(s.loop(d.args[0]));
    }
}
void read_parallel(const StageRead &r, Out &out) { read_loop_type(r, out, ForType::Parallel, "parallel"); }

/// vectorize and unroll without a factor take the whole loop: its known extent must fit the bound.
void apply_vectorize(StageApply &s, const StageDirective &d) {
    const VarOrRVar v = s.loop(d.args[0]);
    if (d.args.size() > 1) {
        require_factor_fits(s, d.args[0], s.number(d.args, 1));
        s.stage.vectorize(v, s.number(d.args, 1));
    } else {
        s.require_extent_at_most(d.args[0], kMaxVectorLanes, "vector lanes");
        s.stage.vectorize(v);
    }
}
void read_vectorize(const StageRead &r, Out &out) { read_loop_type(r, out, ForType::Vectorized, "vectorize"); }

void apply_unroll(StageApply &s, const StageDirective &d) {
    const VarOrRVar v = s.loop(d.args[0]);
    if (d.args.size() > 1) {
        require_factor_fits(s, d.args[0], s.number(d.args, 1));
        s.stage.unroll(v, s.number(d.args, 1));
    } else {
        s.require_extent_at_most(d.args[0], kMaxUnroll, "unrolled copies");
        s.stage.unroll(v);
    }
}
void read_unroll(const StageRead &r, Out &out) { read_loop_type(r, out, ForType::Unrolled, "unroll"); }

void gpu_loops(StageApply &s, const StageDirective &d, bool blocks) {
    s.require_gpu();
    std::vector<VarOrRVar> v;
    for (const std::string &name : d.args) {
        if (!blocks) s.require_extent_at_most(name, kMaxGpuThreads, "GPU threads");
        v.push_back(s.loop(name));
    }
    if (v.size() == 1) blocks ? s.stage.gpu_blocks(v[0]) : s.stage.gpu_threads(v[0]);
    else if (v.size() == 2) blocks ? s.stage.gpu_blocks(v[0], v[1]) : s.stage.gpu_threads(v[0], v[1]);
    else blocks ? s.stage.gpu_blocks(v[0], v[1], v[2]) : s.stage.gpu_threads(v[0], v[1], v[2]);
}

void apply_gpu_blocks(StageApply &s, const StageDirective &d) { gpu_loops(s, d, true); }
void read_gpu_blocks(const StageRead &r, Out &out) { read_loop_type(r, out, ForType::GPUBlock, "gpu_blocks"); }

void apply_gpu_threads(StageApply &s, const StageDirective &d) { gpu_loops(s, d, false); }
void read_gpu_threads(const StageRead &r, Out &out) { read_loop_type(r, out, ForType::GPUThread, "gpu_threads"); }

void apply_gpu_lanes(StageApply &s, const StageDirective &d) {
    s.require_gpu();
    s.stage.gpu_lanes(s.loop(d.args[0]));
}
void read_gpu_lanes(const StageRead &r, Out &out) { read_loop_type(r, out, ForType::GPULane, "gpu_lanes"); }

void apply_gpu_tile(StageApply &s, const StageDirective &d) {
    s.require_gpu();
    const auto &a = d.args;
    if (a.size() <= 5) {
        const VarOrRVar x = s.loop(a[0]);
        track_split(s, a[0], a[1], a[2], s.number(a, 3));
        s.stage.gpu_tile(x, s.fresh(a[1], x.is_rvar), s.fresh(a[2], x.is_rvar), s.number(a, 3), s.tail(a, 4));
        return;
    }
    if (int64_t{s.number(a, 6)} * s.number(a, 7) > kMaxGpuThreads)
        fail("{}: {} x {} threads per block are more than CUDA's {}", s.what, a[6], a[7], kMaxGpuThreads);
    const VarOrRVar x = s.loop(a[0]), y = s.loop(a[1]);
    track_split(s, a[0], a[2], a[4], s.number(a, 6));
    track_split(s, a[1], a[3], a[5], s.number(a, 7));
    s.stage.gpu_tile(x, y, s.fresh(a[2], x.is_rvar), s.fresh(a[3], y.is_rvar), s.fresh(a[4], x.is_rvar),
                     s.fresh(a[5], y.is_rvar), s.number(a, 6), s.number(a, 7), s.tail(a, 8));
}
void read_gpu_tile(const StageRead &, Out &) {}  // Halide keeps a GPU tile as splits and GPU loops

struct Rule {
    void (*apply)(StageApply &, const StageDirective &);
    void (*read)(const StageRead &, Out &);
};

const std::map<std::string, Rule> &rules() {
    static const std::map<std::string, Rule> by_name = {
#define STRATA_STAGE_DIRECTIVE(name, level, once, read_from, forms) {#name, {apply_##name, read_##name}},
#include "codegen/stage_directives.def"
#undef STRATA_STAGE_DIRECTIVE
    };
    return by_name;
}

}  // namespace

TailStrategy tail_strategy_named(const std::string &name) {
#define STRATA_TAIL_CASE(tail) \
    if (name == #tail) return TailStrategy::tail;
    STRATA_TAIL_STRATEGIES(STRATA_TAIL_CASE)
    STRATA_ASSERT(false, "tail strategy '{}' passed the parser", name);
}

std::string tail_strategy_name(TailStrategy tail) {
#define STRATA_TAIL_NAME(t) \
    if (tail == TailStrategy::t) return #t;
    STRATA_TAIL_STRATEGIES(STRATA_TAIL_NAME)
    return "Auto";
}

MemoryType memory_type_named(const std::string &name) {
#define STRATA_MEMORY_CASE(memory) \
    if (name == #memory) return MemoryType::memory;
    STRATA_MEMORY_TYPES(STRATA_MEMORY_CASE)
    STRATA_ASSERT(false, "memory type '{}' passed the parser", name);
}

std::string memory_type_name(MemoryType memory) {
#define STRATA_MEMORY_NAME(m) \
    if (memory == MemoryType::m) return #m;
    STRATA_MEMORY_TYPES(STRATA_MEMORY_NAME)
    return "Auto";
}

void apply_stage_directive(StageApply &s, const StageDirective &d) {
    auto it = rules().find(d.name);
    STRATA_ASSERT(it != rules().end(), "stage directive {} passed the parser", d.name);
    it->second.apply(s, d);
}

size_t read_stage_directives(ReadFrom from, const StageRead &r, std::vector<StageDirective> &out) {
    const size_t before = out.size();
    for (const StageDirectiveTraits &t : stage_directive_table())
        if (t.read_from == from) rules().at(t.name).read(r, out);
    return out.size() - before;
}

}  // namespace strata::codegen
