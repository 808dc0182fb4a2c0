#pragma once
/// \file
/// Compiling an IR program into a callable `Executable` (JIT, in process).
/// This header does not include Halide.

#include "codegen/schedule.h"
#include "ir/program.h"
#include "runtime/tensor.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace strata::codegen {

/// How a program is split into compiled kernels (codegen/plan/partition.h).
enum class Partition {
    /// A plan of kernels for large programs under the default (or simple)
    /// schedule; one pipeline for small ones, where fusing across every op
    /// is faster and compiles in seconds, and for node rules, stage lines,
    /// autoschedulers and GPU targets, which schedule one whole pipeline.
    automatic,
    /// Always one Halide pipeline.
    whole_program,
    /// A plan of kernels whenever the schedule allows it.
    kernels,
};

struct CompileOptions {
    /// "" means `default_target()` ($STRATA_TARGET or the host CPU).
    std::string target;
    /// Run the IR passes (DCE, folding, CSE) before lowering.
    bool optimize = true;
    /// "default": the tuned per-class schedules. "simple": every op stored
    /// whole, in plain loop order, no vectors or threads — a second,
    /// structurally different schedule that tests check the default against.
    /// "gpu": the default GPU schedules run on a CPU target (GPU blocks as
    /// parallel loops, GPU threads as plain loops), to check their numbers
    /// without a GPU; on a GPU target it is the default.
    /// "mullapudi2016", "li2018", "adams2019": Halide's autoschedulers.
    /// Anything else is the path of a schedule file (codegen/schedule.h),
    /// applied on top of the default schedules.
    std::string schedule = "default";
    /// Rules on top of the default schedule (and of a schedule file).
    Schedule rules;
    /// One pipeline, or a plan of kernels each compiled and cached on its own.
    Partition partition = Partition::automatic;
};

/// The schedule in effect for every scheduled node of the program, as a
/// schedule file: loading it back (`schedule` = its path) gives the same
/// schedule. For an autoscheduler, the Halide source it wrote, as comments.
std::string schedule_in_effect(const ir::Program &program, const CompileOptions &options = {});

/// The schedule in effect as stage lines: Halide's primitives on every
/// scheduled stage of the lowered pipeline, read back from Halide's schedule
/// objects (codegen/schedule.h). Works for the default and simple schedules,
/// the autoschedulers and stage schedules; loading it back (`schedule` = its
/// path) gives the same schedule, and it can be edited by hand.
std::string stage_schedule_in_effect(const ir::Program &program, const CompileOptions &options = {});

/// A compiled program. Copies share the compiled code; running is thread-safe.
class Executable {
public:
    Executable() = default;

    /// Runs the program. `sources` must name every input and parameter of the
    /// program with a tensor of exactly its dtype and shape; extra names are an
    /// error. Returns the outputs in program order.
    std::vector<Tensor> run(const std::map<std::string, Tensor> &sources) const;

    /// As `run`, writing into caller-owned output tensors (contiguous and aligned, so not a
    /// view into the middle of a tensor; of the output dtypes and shapes), in program order.
    void run_into(const std::map<std::string, Tensor> &sources, std::vector<Tensor> &outputs) const;

    const std::vector<std::string> &output_names() const;
    /// The program that was compiled (after the IR passes).
    const ir::Program &program() const;
    /// The resolved Halide target string.
    const std::string &target() const;
    /// Seconds the first compile of this program in this process took
    /// (lowering and LLVM, or loading from the on-disk cache).
    double compile_seconds() const;
    /// How the on-disk compile cache served this program: "hit" (loaded, no
    /// LLVM), "miss" (compiled and stored), "rebuilt" (a damaged entry was
    /// replaced) or "off" (STRATA_NO_CACHE=1: JIT-compiled).
    std::string cache_status() const;
    bool valid() const { return impl_ != nullptr; }
    /// How many compiled kernels a run calls (1 for a single pipeline).
    size_t kernel_count() const;

    struct Impl;
    /// Internal to codegen (plans run their kernels through it).
    const Impl &impl() const { return *impl_; }

private:
    explicit Executable(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
    friend Executable compile(const ir::Program &, const CompileOptions &);
};

/// Compiles a program. Programs with the same text, schedule and target share
/// one compiled pipeline within the process, and across processes through the
/// on-disk cache (see codegen/disk_cache.h).
Executable compile(const ir::Program &program, const CompileOptions &options = {});

/// Forgets the pipelines compiled in this process (Executables still held keep
/// theirs); the next `compile` of a program goes to the on-disk cache.
void forget_compiled_pipelines();

}  // namespace strata::codegen
