#include "runtime/buffer_pool.h"

#include <cstdlib>
#include <mutex>
#include <sys/mman.h>
#include <unordered_map>
#include <vector>

namespace strata {

namespace {

constexpr size_t kAlignment = 128;
/// Halide may read slightly past a buffer's end.
constexpr size_t kSlack = 64;
/// Below this glibc serves from its heap anyway (its default mmap threshold).
constexpr size_t kMinPooled = size_t{128} << 10;
constexpr size_t kMaxCached = size_t{1} << 30;
/// Blocks of at least one huge page are whole, aligned huge pages: with 4 KiB
/// pages a conv's working set (tens of MiB) overflows the TLB, and which
/// physical pages a process happens to get made the same kernel run up to
/// 20% slower in some processes than in others.
constexpr size_t kHugePage = size_t{2} << 20;

struct Pool {
    std::mutex mutex;
    std::unordered_map<void *, size_t> size_of;            // every live or cached pooled block
    std::unordered_map<size_t, std::vector<void *>> free;  // cached blocks by size
    size_t cached = 0;
};

Pool &pool() {
    static Pool *p = new Pool;  // never destroyed: blocks may be released during static destruction
    return *p;
}

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

size_t block_size(size_t bytes) {
    const size_t size = round_up(bytes + kSlack, kAlignment);
    return size >= kHugePage ? round_up(size, kHugePage) : size;
}

/// A new block; huge ones are backed by transparent huge pages where the
/// kernel allows it (madvise mode; a no-op where THP is off).
void *new_block(size_t size) {
    if (size < kHugePage) return std::aligned_alloc(kAlignment, size);
    void *block = std::aligned_alloc(kHugePage, size);
#ifdef MADV_HUGEPAGE
    if (block) madvise(block, size, MADV_HUGEPAGE);
#endif
    return block;
}

}  // namespace

void *pool_allocate(size_t bytes) {
    const size_t size = block_size(bytes);
    if (size < kMinPooled) return std::aligned_alloc(kAlignment, size);
    Pool &p = pool();
    {
        std::lock_guard<std::mutex> lock(p.mutex);
        auto it = p.free.find(size);
        if (it != p.free.end() && !it->second.empty()) {
            void *block = it->second.back();
            it->second.pop_back();
            p.cached -= size;
            return block;
        }
    }
    void *block = new_block(size);
    if (!block) return nullptr;
    std::lock_guard<std::mutex> lock(p.mutex);
    p.size_of[block] = size;
    return block;
}

void pool_release(void *block) {
    if (!block) return;
    Pool &p = pool();
    {
        std::lock_guard<std::mutex> lock(p.mutex);
        auto it = p.size_of.find(block);
        if (it != p.size_of.end()) {
            const size_t size = it->second;
            if (p.cached + size <= kMaxCached) {
                p.free[size].push_back(block);
                p.cached += size;
                return;
            }
            p.size_of.erase(it);
        }
    }
    std::free(block);
}

size_t pool_cached_bytes() {
    Pool &p = pool();
    std::lock_guard<std::mutex> lock(p.mutex);
    return p.cached;
}

}  // namespace strata
