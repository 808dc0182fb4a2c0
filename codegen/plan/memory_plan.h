#pragma once
/// \file
/// Placing a plan's intermediate buffers in one arena by liveness: two buffers
/// share bytes only when their lifetimes (first write to last read, in kernel
/// steps) do not overlap. No Halide here.

#include <cstddef>
#include <vector>

namespace strata::codegen {

struct BufferLifetime {
    size_t bytes = 0;
    int first_step = 0;  ///< the step that writes it
    int last_step = 0;   ///< the last step that reads it (>= first_step)
};

struct MemoryPlan {
    std::vector<size_t> offsets;  ///< per buffer, aligned to kArenaAlignment
    size_t arena_bytes = 0;
};

/// Alignment of every buffer in the arena (whole cache lines, and vector loads).
constexpr size_t kArenaAlignment = 128;

/// Greedy placement, largest buffers first, each at the lowest offset that no
/// buffer live at the same time occupies.
MemoryPlan plan_memory(const std::vector<BufferLifetime> &buffers);

/// True when no two buffers live at the same step share a byte (for tests and checks).
bool memory_plan_is_sound(const std::vector<BufferLifetime> &buffers, const MemoryPlan &plan);

}  // namespace strata::codegen
