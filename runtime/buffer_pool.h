#pragma once
/// \file
/// Large buffers kept for reuse. A training step or a batch of inference
/// allocates the same buffers every call (tensors, a pipeline's intermediate
/// buffers); freshly mapped memory page-faults on first touch (a LeNet-5
/// training step: 5.3 ms instead of 3.5 ms). Freed blocks of 128 KiB and more
/// are kept by size and handed out again, up to 1 GiB in all; smaller ones go
/// straight to malloc. Thread-safe. Nothing else in the process changes (no
/// mallopt: that kept every freed byte of every library, and Halide's
/// Adams2019 autoscheduler grew to 23 GB under it).

#include <cstddef>

namespace strata {

/// `bytes` (rounded up to whole cache lines, plus slack Halide may read past
/// the end) aligned to 128 bytes; nullptr when out of memory.
void *pool_allocate(size_t bytes);
/// Returns a block from pool_allocate (nullptr is ignored).
void pool_release(void *block);
/// Bytes held for reuse right now (for tests).
size_t pool_cached_bytes();

}  // namespace strata
