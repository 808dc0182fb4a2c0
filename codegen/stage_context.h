#pragma once
// Internal to codegen: what a stage directive's entry (codegen/stage_directives.h)
// sees when it is applied to a Halide stage or read back from Halide's
// schedule objects. Names follow stage lines (codegen/stage_schedule.h):
// canonical Func names, "r$x" for an unnamed RDom's variables. The helpers
// are implemented in stage_schedule.cpp.

#include "codegen/lower/lower.h"
#include "codegen/stage_directives.h"

#include <map>
#include <string>
#include <vector>

namespace strata::codegen {

struct PipelineFuncs;
struct StageState;

/// One directive of one stage line, being applied.
struct StageApply {
    Halide::Func func;
    Halide::Stage stage;
    std::string func_name;  ///< as the line names it
    std::string what;       ///< "FILE:LINE (stage S): directive(args)", for errors
    const Halide::Target &target;

    /// An existing loop of the stage (errors list its loops).
    Halide::VarOrRVar loop(const std::string &token) const;
    /// A new loop name, a reduction variable when `rvar`.
    Halide::VarOrRVar fresh(const std::string &token, bool rvar) const;
    /// A pure dimension of the Func (errors list them).
    Halide::Var pure_dim(const std::string &token) const;
    /// Argument `i` as a number (checked when parsed).
    int number(const std::vector<std::string> &args, size_t i) const;
    /// A Func's loop, "F, v[, stage]" in args: compute_at, store_at, compute_with.
    Halide::LoopLevel level(const std::vector<std::string> &args, bool with_stage) const;
    /// Argument `i` as a tail strategy; Auto when it is not given.
    Halide::TailStrategy tail(const std::vector<std::string> &args, size_t i) const;
    /// Throws naming the directive unless the target has a GPU.
    void require_gpu() const;
    bool has_updates() const;

    /// The extent of a loop where the lines fix it: a split's inner loop (its factor), a fused
    /// pair of known loops, a bound() dim or an output's dim; 0 when unknown.
    int64_t known_extent(const std::string &token) const;
    /// Records the extent of a loop a directive created (0: unknown).
    void set_extent(const std::string &token, int64_t extent);
    /// Throws naming the directive when the loop's known extent is more than `most` (`what`: "vector lanes").
    void require_extent_at_most(const std::string &token, int64_t most, const char *what) const;

    // Set by apply_stage_rules (stage_schedule.cpp).
    const PipelineFuncs *funcs = nullptr;
    StageState *state = nullptr;  ///< the stage: its Func, definition, RDom alias, known extents
    struct PendingLevel {
        std::string what, func_actual, var;
        int stage;
    };
    /// compute_at/store_at/compute_with levels, checked once every line is applied (the loop may
    /// come from a later line's split).
    std::vector<PendingLevel> *pending = nullptr;
};

/// One Func or stage, being read back.
struct StageRead {
    const Halide::Internal::Function &function;
    int update;                  ///< -1: the Func's own line, K: update K
    const std::string &name;     ///< canonical Func name
    const PipelineFuncs &funcs;
    const Halide::Internal::Split *split = nullptr;  ///< ReadFrom::split: the record
    const Halide::Internal::Dim *dim = nullptr;      ///< ReadFrom::loop: the loop

    const Halide::Internal::StageSchedule &schedule() const;
    /// A loop as a stage line names it ("x.xo" -> "xo", "r123$x" -> "r$x").
    std::string line_name(const std::string &var) const;
    /// A LoopLevel as stage lines write it: "" inlined, "root", or "F, v[, stage]".
    std::string level_text(const Halide::LoopLevel &level) const;
    /// The loops of the stage before any scheduling (innermost first), outermost marker excluded.
    std::vector<std::string> initial_loops() const;
    /// Throws: the schedule uses `feature`, which stage lines do not express.
    [[noreturn]] void cannot_write(const std::string &feature) const;
};

/// Halide's enums by the names stage lines use (stage_directives.h lists them).
Halide::TailStrategy tail_strategy_named(const std::string &name);
std::string tail_strategy_name(Halide::TailStrategy tail);
Halide::MemoryType memory_type_named(const std::string &name);
std::string memory_type_name(Halide::MemoryType memory);

/// Applies a checked directive with its apply_NAME (stage_directive_rules.cpp).
void apply_stage_directive(StageApply &s, const StageDirective &d);
/// Calls read_NAME of every directive whose row reads from `from`, in table order; returns how
/// many directives it appended.
size_t read_stage_directives(ReadFrom from, const StageRead &r, std::vector<StageDirective> &out);

}  // namespace strata::codegen
