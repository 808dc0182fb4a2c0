#pragma once
/// \file
/// Schedules, apart from the algorithm: how each node of a program is
/// computed (tiles, vectors, threads, stored or inlined), by op class, by op
/// and by node, in C++ or as a schedule file. No Halide in this header.
///
///     codegen::Schedule s;
///     s.for_op("conv2d").tile(32, 4).vectorize(16).parallel(true);
///     s.for_op("pointwise").compute_inline();      // an op class
///     s.for_node("%12").compute_root();            // one node, by id (as `strata schedule dump` shows it)
///     options.rules = s;                           // codegen::CompileOptions
///
/// Every field left unset keeps the default schedule's choice, so a rule only
/// says what it changes. Later, narrower rules win: class < op < node.
///
/// The file format is one rule per line (`#` starts a comment):
///
///     op conv2d tile=32x4 vectorize=16 parallel=on task=2
///     class pointwise compute=inline
///     node %12 compute=root
///
/// Directives:
///   compute=root|inline    store the node whole, or fold it into its consumers
///   vectorize=N            SIMD lanes on the innermost dimension (1: scalar)
///   tile=XxC               register tile: X outputs along the innermost dim
///                          (a multiple of the lanes) by C unrolled rows/channels.
///                          A stride-1 conv2d whose rows are not whole tiles on
///                          the CPU runs over its rows laid end to end (with the
///                          padding columns): X counts along those.
///   parallel=on|off        threads over the outer loops
///   task=N                 rows of outer loops per parallel task
///   gpu_threads=N          threads per GPU block (GPU targets only)
///
/// Stage lines schedule the Halide stages of the lowered pipeline directly,
/// with Halide's own primitives, in the syntax of Halide C++ (a schedule has
/// either rules like those above or stage lines, not both):
///
///     algorithm default       # which lowering the Funcs come from: plain (the
///                             # default: as Halide's autoschedulers see it),
///                             # default or simple (those schedules' algorithms)
///     stage n2_conv1d compute_root() split(d2, xo, xi, 32) vectorize(xi, 16) parallel(d0)
///     stage n2_conv1d_acc compute_at(n2_conv1d, xo) vectorize(d2)
///     stage n2_conv1d_acc.update(0) reorder(d2, d1, r$x, r$y, d0) unroll(d1)
///
/// A stage is a Func (its pure definition) or `Func.update(K)`; Funcs are
/// named as the lowering names them (`strata schedule dump --stages` lists
/// every scheduled one), and Funcs that no line names are inlined as in
/// Halide. Lines apply in order. Directives (Func ones on a Func's line only):
///   compute_root() compute_inline() compute_at(F, v[, stage]) store_root() store_at(F, v[, stage])
///   compute_with(F, v[, stage])   (this stage's loops down to v fused with those of F's stage,
///                                  by default its last)
///   reorder_storage(v, ...) bound(v, min, extent) store_in(Stack|Heap|Register|...)
///   split(v, outer, inner, factor[, tail]) fuse(inner, outer, fused) rename(v, new)
///   tile(x, y, xo, yo, xi, yi, fx, fy[, tail]) reorder(v, ...) serial(v)
///   vectorize(v[, lanes]) unroll(v[, factor]) parallel(v[, task])
///   gpu_blocks(v, ...) gpu_threads(v, ...) gpu_lanes(v) gpu_tile(x, bx, tx, n[, tail])
///   gpu_tile(x, y, bx, by, tx, ty, nx, ny[, tail])       (GPU targets only)
/// `tail` is a Halide TailStrategy (RoundUp, GuardWithIf, ShiftInwards, ...).
///
///     s.for_stage("n2_conv1d_acc.update(0)").reorder({"d2", "d1", "r$x"}).unroll("d1");

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace strata::ir {
class Program;
}

namespace strata::codegen {

/// How one node is computed; unset fields keep the default.
struct NodeSchedule {
    std::optional<bool> inline_into_consumers;
    std::optional<int64_t> vector_lanes;
    std::optional<int64_t> tile_x, tile_c;
    std::optional<bool> parallel_outer;
    std::optional<int64_t> task_rows;
    std::optional<int64_t> gpu_threads;

    NodeSchedule &compute_root() { inline_into_consumers = false; return *this; }
    NodeSchedule &compute_inline() { inline_into_consumers = true; return *this; }
    NodeSchedule &vectorize(int64_t lanes) { vector_lanes = lanes; return *this; }
    NodeSchedule &tile(int64_t x, int64_t c) { tile_x = x; tile_c = c; return *this; }
    NodeSchedule &parallel(bool on = true) { parallel_outer = on; return *this; }
    NodeSchedule &task(int64_t rows) { task_rows = rows; return *this; }
    NodeSchedule &gpu(int64_t threads) { gpu_threads = threads; return *this; }

    /// The fields of `narrower` override these.
    void merge(const NodeSchedule &narrower);
    bool empty() const;
    /// "tile=32x4 vectorize=16 ...", in a fixed order (the file syntax).
    std::string to_string() const;
    /// Names of the directives that are set ("tile", "vectorize", ...).
    std::vector<std::string> directives() const;
};

/// One directive of a stage line: `split(x, xo, xi, 8)` is {"split", {"x", "xo", "xi", "8"}}.
struct StageDirective {
    std::string name;
    std::vector<std::string> args;
    std::string to_string() const;
};

/// One stage line: Halide scheduling primitives for one stage of the lowered
/// pipeline, applied in order. Builders check arguments as the parser does.
class StageRule {
public:
    /// `stage` is "Func" or "Func.update(K)".
    explicit StageRule(const std::string &stage, const std::string &where = "");

    const std::string &stage() const { return stage_; }
    /// The Func the line names, and its stage: -1 for "Func", K for "Func.update(K)".
    const std::string &func() const { return func_; }
    int update_index() const { return update_; }
    /// Where it came from ("file:3"), for error messages.
    const std::string &where() const { return where_; }
    const std::vector<StageDirective> &directives() const { return directives_; }
    /// "stage NAME d(a, b) ..." (the file syntax).
    std::string to_string() const;

    /// Adds a directive by name; throws strata::Error for an unknown one or bad arguments.
    StageRule &add(const std::string &name, const std::vector<std::string> &args);

    StageRule &compute_root() { return add("compute_root", {}); }
    StageRule &compute_inline() { return add("compute_inline", {}); }
    StageRule &compute_at(const std::string &func, const std::string &var) { return add("compute_at", {func, var}); }
    StageRule &store_root() { return add("store_root", {}); }
    StageRule &store_at(const std::string &func, const std::string &var) { return add("store_at", {func, var}); }
    StageRule &compute_with(const std::string &func, const std::string &var) { return add("compute_with", {func, var}); }
    StageRule &split(const std::string &var, const std::string &outer, const std::string &inner, int64_t factor,
                     const std::string &tail = "");
    StageRule &fuse(const std::string &inner, const std::string &outer, const std::string &fused) {
        return add("fuse", {inner, outer, fused});
    }
    StageRule &reorder(const std::vector<std::string> &vars) { return add("reorder", vars); }
    StageRule &vectorize(const std::string &var, int64_t lanes = 0);
    StageRule &unroll(const std::string &var, int64_t factor = 0);
    StageRule &parallel(const std::string &var, int64_t task = 0);
    StageRule &serial(const std::string &var) { return add("serial", {var}); }
    StageRule &reorder_storage(const std::vector<std::string> &vars) { return add("reorder_storage", vars); }
    StageRule &bound(const std::string &var, int64_t min, int64_t extent);
    StageRule &gpu_blocks(const std::vector<std::string> &vars) { return add("gpu_blocks", vars); }
    StageRule &gpu_threads(const std::vector<std::string> &vars) { return add("gpu_threads", vars); }

private:
    std::string stage_, func_, where_;
    int update_ = -1;
    std::vector<StageDirective> directives_;
};

/// Rules for a whole program: by op class ("conv", "pointwise", ...), by op
/// ("conv2d") and by node ("%12").
class Schedule {
public:
    NodeSchedule &for_class(const std::string &op_class);
    /// An op name or, when it names one, an op class.
    NodeSchedule &for_op(const std::string &op);
    NodeSchedule &for_node(const std::string &node);
    /// A new stage line for a Halide stage ("n2_conv1d" or "n2_conv1d_acc.update(0)").
    StageRule &for_stage(const std::string &stage);
    /// Parses and appends one stage line ("stage NAME directives..." or "NAME directives...").
    StageRule &add_stage_line(const std::string &line);
    /// Appends a stage line built elsewhere.
    void add_stage(StageRule rule) { stages_.push_back(std::move(rule)); }
    /// Which lowering stage lines refer to: "plain" (unset), "default" or "simple".
    void set_stage_algorithm(const std::string &algorithm);
    const std::string &stage_algorithm() const { return stage_algorithm_; }

    /// The rule for a node: class, then op, then node rules merged.
    NodeSchedule resolve(const std::string &op_class, const std::string &op, const std::string &node) const;
    bool empty() const { return !has_rules() && !has_stages(); }
    /// Rules by class, op or node (the knobs of the default schedules).
    bool has_rules() const { return !by_class_.empty() || !by_op_.empty() || !by_node_.empty(); }
    /// Stage lines (Halide primitives on the stages of the pipeline).
    bool has_stages() const { return !stages_.empty() || !stage_algorithm_.empty(); }
    const std::deque<StageRule> &stage_rules() const { return stages_; }
    /// The node rules, to check that each names a node of the program.
    const std::map<std::string, NodeSchedule> &node_rules() const { return by_node_; }

    /// Adds the rules of `later`, which win where both set a field.
    void merge(const Schedule &later);

    /// The schedule file text; `parse_schedule(to_text())` gives this schedule back.
    std::string to_text() const;

private:
    std::map<std::string, NodeSchedule> by_class_, by_op_, by_node_;
    std::deque<StageRule> stages_;  ///< a deque: for_stage's references stay valid
    std::string stage_algorithm_;
};

/// Parses a schedule file's text; errors name the line and the directive.
Schedule parse_schedule(const std::string &text, const std::string &source_name = "<schedule>");
/// Reads and parses a schedule file.
Schedule load_schedule(const std::string &path);

}  // namespace strata::codegen
