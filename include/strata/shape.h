#pragma once
/// \file
/// Static shapes, shared by the IR and the runtime.

#include <strata/error.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace strata {

/// Extents, outermost first (PyTorch order: N, C, H, W).
using Shape = std::vector<int64_t>;

/// "[2, 3, 4]" — shapes in messages and printed tensors.
inline std::string shape_str(const Shape &shape) {
    return fmt::format("[{}]", fmt::join(shape, ", "));
}

/// Number of elements (1 for a scalar); throws on negative extents or overflow.
inline int64_t shape_numel(const Shape &shape) {
    int64_t n = 1;
    for (int64_t e : shape) {
        if (e < 0) fail("invalid shape {}: extents must be >= 0", shape_str(shape));
        if (e != 0 && n > std::numeric_limits<int64_t>::max() / e)
            fail("shape {} has more elements than fit in 64 bits", shape_str(shape));
        n *= e;
    }
    return n;
}

/// Row-major (C order) strides in elements.
inline Shape contiguous_strides(const Shape &shape) {
    Shape strides(shape.size());
    int64_t s = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        strides[i] = s;
        s *= shape[i] > 1 ? shape[i] : 1;
    }
    return strides;
}

}  // namespace strata
