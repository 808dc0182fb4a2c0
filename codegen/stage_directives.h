#pragma once
// Internal to codegen: the one registry of stage directives, read from
// codegen/stage_directives.def. Parsing, checking (here and in
// stage_line_parser.cpp), applying and reading back (stage_directive_rules.cpp)
// all go through it. This header and its .cpp do not include Halide, so the
// schedule fuzzer builds them without Halide.

#include "codegen/schedule.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strata::codegen {

/// What one argument of a directive is; each kind has one check and one bound.
enum class ArgKind {
    loop,         ///< a loop of the stage (or a new loop the directive makes)
    func,         ///< a Func of the pipeline
    stage_index,  ///< a stage of that Func: 0 its pure definition, K+1 its update K
    whole,        ///< any 32-bit whole number (a bound's min)
    extent,       ///< a loop extent: 1 .. 2^31-1
    factor,       ///< a split or tile factor: 1 .. 2^31-1, and at most the loop's extent where known
    lanes,        ///< vector lanes: 1 .. kMaxVectorLanes
    unroll,       ///< an unroll factor: 1 .. kMaxUnroll
    task,         ///< a parallel task size: 1 .. 2^31-1
    gpu_threads,  ///< GPU threads per block along one dim: 1 .. kMaxGpuThreads
    tail,         ///< a Halide TailStrategy, by name
    memory,       ///< a Halide MemoryType, by name
};

/// Halide's vector lanes are 16-bit and LLVM's compile time grows with the
/// width (4096 lanes took 76 s; 65536 wrap to 0 and crash Halide). 64 lanes
/// cover the widest native vectors (AVX-512: 64 bytes, 16 f32 or 64 i8) with
/// room for a 4x-unrolled f32 vector, which is all a schedule gains from.
constexpr int64_t kMaxVectorLanes = 64;
/// Unrolling copies the loop body; past 64 copies the code only grows (a
/// 65536-wide unroll overflowed Halide's stack).
constexpr int64_t kMaxUnroll = 64;
/// CUDA's limit of threads per block.
constexpr int64_t kMaxGpuThreads = 1024;

/// The bound of a numeric argument kind.
int64_t arg_bound(ArgKind kind);

struct ArgSpec {
    ArgKind kind;
    std::string name;      ///< as forms and errors show it ("factor", "task size", ...)
    bool optional = false;
    bool repeats = false;  ///< one or more (reorder's vars)
};

/// Where Halide keeps a directive's effect, so where reading back looks for it.
enum class ReadFrom { func, split, stage, loop, nowhere };

/// Everything stage_directives.def says about one directive.
struct StageDirectiveTraits {
    std::string name;
    bool func_level;                          ///< schedules the whole Func (only on a Func's own line)
    std::string once_group;                   ///< a line holds one directive of this group; "" when it may repeat
    ReadFrom read_from;
    std::vector<std::vector<ArgSpec>> forms;  ///< the argument lists it accepts (gpu_tile has two)
    std::string form_text;                    ///< the forms as errors show them: "(var, outer, inner, factor[, tail])"
};

/// Every stage directive, in table order (the order a line is read back in).
const std::vector<StageDirectiveTraits> &stage_directive_table();
/// The entry named `name`, or nullptr.
const StageDirectiveTraits *find_stage_directive(const std::string &name);
/// "compute_root, compute_inline, ...": for errors.
std::string stage_directive_names();

// Halide's tail strategies and memory types as stage lines name them, each listed once.
#define STRATA_TAIL_STRATEGIES(X) \
    X(RoundUp) X(GuardWithIf) X(Predicate) X(PredicateLoads) X(PredicateStores) X(ShiftInwards) X(Auto)
#define STRATA_MEMORY_TYPES(X) \
    X(Auto) X(Heap) X(Stack) X(Register) X(GPUShared) X(GPUTexture) X(LockedCache) X(VTCM) X(AMXTile)

const std::vector<std::string> &tail_strategy_names();
const std::vector<std::string> &memory_type_names();

/// Checks a directive against its entry; returns "" when it fits, else what is
/// wrong (the caller names the line and the directive).
std::string check_stage_directive(const StageDirective &d, bool update_stage);

/// A Func or loop name as stage lines write them: letters, digits, _ and $, not starting with a digit.
bool is_stage_name(const std::string &s);
/// `s` as a whole number; false when it is not one (or has trailing text).
bool parse_whole(const std::string &s, int64_t &v);

}  // namespace strata::codegen
