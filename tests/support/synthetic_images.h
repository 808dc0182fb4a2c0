#pragma once
// A tiny, fixed classification data set for training tests.

#include "frontend/train/data_loader.h"

namespace strata::testing {

/// 48 synthetic 8x8 images in 3 classes: class c is noise plus a bright row at 2c + 1.
/// Fixed by its own generator, so only the training seed varies between runs.
inline Dataset synthetic_images() {
    Generator gen(1234);
    const int64_t n = 48;
    Tensor x = Tensor::randn({n, 1, 8, 8}, gen, DType::f32, 0.0, 0.5);
    Tensor t = Tensor::empty({n}, DType::i32);
    for (int64_t i = 0; i < n; ++i) {
        const int64_t c = static_cast<int64_t>(gen.below(3));
        t.set_flat(i, static_cast<double>(c));
        for (int64_t col = 0; col < 8; ++col) {
            const int64_t at = ((i * 8) + 2 * c + 1) * 8 + col;
            x.set_flat(at, x.get_flat(at) + 2.0);
        }
    }
    return {x, t};
}

}  // namespace strata::testing
