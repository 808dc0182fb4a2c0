#pragma once
// Internal to codegen: a program compiled as a plan of kernels. Each kernel
// is one fusion group (codegen/plan/partition.h) compiled as a pipeline of its
// own, cached by its content in memory and on disk, so repeated blocks and
// unchanged layers compile once. The executor runs the kernels in a fixed
// order over one arena laid out by liveness (codegen/plan/memory_plan.h).

#include "codegen/compiler.h"
#include "codegen/plan/memory_plan.h"

#include <HalideRuntime.h>

#include <memory>
#include <string>
#include <vector>

namespace Halide { struct Target; }

namespace strata::codegen {

struct ResolvedSchedule;

/// Where a value a kernel reads or writes lives during a run.
struct PlanValue {
    enum class Kind { source, arena, output } kind;
    /// The source's position in the run's sources, or the output's in the program's outputs.
    size_t index = 0;
    /// For arena values: the offset in the arena.
    size_t offset = 0;
    ir::Type type;
    /// Its dense layout as Halide takes it (innermost first), made once per plan.
    std::vector<halide_dimension_t> dims;
    size_t bytes = 0;
};

struct PlanStep {
    Executable kernel;
    std::vector<size_t> inputs;     ///< values, in the kernel's input order (in0, in1, ...)
    std::vector<size_t> arguments;  ///< the same values in the order the compiled pipeline takes them
    std::vector<size_t> outputs;    ///< the values it writes, in the kernel's output order
    /// Its ops and last output's type, for profiles: "conv2d+relu -> f32[64,16,32,32]".
    std::string label;
};

struct Plan {
    /// The program's inputs and parameters, in the order `run_plan` takes their tensors.
    std::vector<const ir::Node *> sources;
    std::vector<PlanValue> values;
    std::vector<PlanStep> steps;
    /// Program outputs written by no kernel (a source returned as is, or one
    /// node under two names): copied from this value after the steps.
    std::vector<std::pair<size_t, size_t>> copied_outputs;  ///< (output index, value)
    MemoryPlan memory;
    /// Arena values whose last reader is each step (to poison them in checks).
    std::vector<std::vector<size_t>> dead_after_step;
    /// How many kernels had to be compiled (not found in a cache).
    size_t compiled = 0;
};

/// `partition`, or what $STRATA_PARTITION (whole, kernels, auto) makes of `automatic`.
Partition effective_partition(Partition partition);

/// Whether `program` (after the passes) is compiled as a plan under `partition`
/// (already through effective_partition).
bool compiles_as_plan(const ir::Program &program, const Halide::Target &target, const ResolvedSchedule &schedule,
                      Partition partition);

/// Partitions `program` and compiles each kernel with `kernel_options`
/// (whole-program partition, no passes), in parallel worker processes when the
/// on-disk cache is on and several kernels are missing.
std::shared_ptr<const Plan> build_plan(const ir::Program &program, const CompileOptions &kernel_options);

/// Runs a plan. `sources` are the tensors of `plan.sources`, checked and
/// contiguous; `outputs` are checked.
void run_plan(const Plan &plan, std::vector<Tensor> &sources, std::vector<Tensor> &outputs);

/// The partition as comment lines for `strata schedule dump`: one line per
/// kernel with the nodes it computes.
std::string describe_partition(const ir::Program &program);

/// "hit" when every kernel came from a cache, else "miss".
std::string plan_cache_status(const Plan &plan);
size_t plan_kernel_count(const Plan &plan);

/// True when the kernel's pipeline is in the in-memory or the on-disk cache
/// (codegen/compiler.cpp); the plan sends only the others to workers.
bool kernel_is_cached(const ir::Program &kernel, const CompileOptions &options);

}  // namespace strata::codegen
