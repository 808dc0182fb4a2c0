#include "codegen/plan/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace strata::codegen {

namespace {

size_t round_up(size_t bytes) { return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

bool lifetimes_overlap(const BufferLifetime &a, const BufferLifetime &b) {
    return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<BufferLifetime> &buffers) {
    MemoryPlan plan;
    plan.offsets.assign(buffers.size(), 0);
    std::vector<size_t> order(buffers.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
    std::vector<size_t> placed;
    for (size_t b : order) {
        // The byte ranges of placed buffers that are live with this one, by offset.
        std::vector<std::pair<size_t, size_t>> taken;
        for (size_t p : placed)
            if (lifetimes_overlap(buffers[b], buffers[p]))
                taken.emplace_back(plan.offsets[p], plan.offsets[p] + round_up(buffers[p].bytes));
        std::sort(taken.begin(), taken.end());
        const size_t need = round_up(buffers[b].bytes);
        size_t offset = 0;
        for (const auto &[begin, end] : taken) {
            if (offset + need <= begin) break;
            offset = std::max(offset, end);
        }
        plan.offsets[b] = offset;
        plan.arena_bytes = std::max(plan.arena_bytes, offset + need);
        placed.push_back(b);
    }
    return plan;
}

bool memory_plan_is_sound(const std::vector<BufferLifetime> &buffers, const MemoryPlan &plan) {
    if (plan.offsets.size() != buffers.size()) return false;
    for (size_t a = 0; a < buffers.size(); ++a) {
        if (plan.offsets[a] % kArenaAlignment != 0 || plan.offsets[a] + buffers[a].bytes > plan.arena_bytes) return false;
        for (size_t b = a + 1; b < buffers.size(); ++b) {
            if (!lifetimes_overlap(buffers[a], buffers[b]) || buffers[a].bytes == 0 || buffers[b].bytes == 0) continue;
            const bool apart = plan.offsets[a] + buffers[a].bytes <= plan.offsets[b] ||
                               plan.offsets[b] + buffers[b].bytes <= plan.offsets[a];
            if (!apart) return false;
        }
    }
    return true;
}

}  // namespace strata::codegen
