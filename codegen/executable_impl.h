#pragma once
// Internal to codegen: what an Executable holds. Either one compiled Halide
// pipeline (a kernel), or a plan of kernels run one after another
// (codegen/plan/plan.h).

#include "codegen/compiler.h"
#include "codegen/disk_cache.h"
#include "codegen/lower/lower.h"
#include "codegen/shared_object.h"

#include <memory>
#include <mutex>
#include <optional>

namespace strata::codegen {

struct Plan;

struct Executable::Impl {
    ir::Program program;
    std::string target_string;
    Halide::Target target;
    std::vector<std::string> output_names;
    double compile_seconds = 0;

    /// Set when the program runs as a plan of kernels; the fields below are then unused.
    std::shared_ptr<const Plan> plan;

    LoweredProgram lowered;
    /// Compiled ahead of time and loaded from the on-disk cache; when null, the
    /// pipeline was JIT-compiled (STRATA_NO_CACHE=1).
    std::shared_ptr<SharedObject> object;
    int (*entry)(void **) = nullptr;
    /// For GPU targets: the loaded object's Halide runtime calls that bring
    /// outputs back to the host and release device memory after a run.
    struct DeviceCalls {
        int (*copy_to_host)(void *, halide_buffer_t *) = nullptr;
        int (*device_free)(void *, halide_buffer_t *) = nullptr;
    };
    std::optional<DeviceCalls> device;
    CacheOutcome cache_outcome = CacheOutcome::miss;
    // Halide 14's JIT realize is not documented as re-entrant; runs of one
    // pipeline are serialised, different pipelines run concurrently.
    mutable std::mutex run_mutex;

    /// Runs the single pipeline on buffers already checked against its
    /// sources (in `lowered.sources` order) and outputs (in program order).
    void run_pipeline(std::vector<Halide::Buffer<>> &inputs, std::vector<Halide::Buffer<>> &outputs) const;
};

/// A Halide view of a contiguous or strided tensor (no copy).
Halide::Buffer<> halide_view(Tensor &t);

}  // namespace strata::codegen
