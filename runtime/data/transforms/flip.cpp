#include "runtime/data/transforms/flip.h"

#include "runtime/data/transforms/waveform.h"

#include <cstring>

namespace strata::data {

Tensor flip(const Tensor &tensor, int64_t dim) {
    const int64_t rank = tensor.dim();
    if (dim < -rank || dim >= rank)
        fail("flip: dimension {} is out of range for a tensor of shape {}", dim, shape_str(tensor.shape()));
    if (dim < 0) dim += rank;
    const Tensor source = tensor.contiguous();
    Tensor out = Tensor::uninitialized(tensor.shape(), tensor.dtype());
    // Rows of `inner` contiguous elements; `extent` of them along `dim` in each of `outer` blocks.
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < dim; ++d) outer *= tensor.size(d);
    for (int64_t d = dim + 1; d < rank; ++d) inner *= tensor.size(d);
    const int64_t extent = tensor.size(dim);
    const size_t row_bytes = static_cast<size_t>(inner) * dtype_size(tensor.dtype());
    const auto *from = static_cast<const uint8_t *>(source.raw_data());
    auto *to = static_cast<uint8_t *>(out.raw_data());
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < extent; ++i)
            std::memcpy(to + (o * extent + i) * row_bytes, from + (o * extent + extent - 1 - i) * row_bytes, row_bytes);
    return out;
}

RandomFlip::RandomFlip(RandomFlipOptions options) : options_(std::move(options)) {
    if (!(options_.probability >= 0.0 && options_.probability <= 1.0))
        fail("RandomFlip: probability is {}; expected a value in [0, 1]", options_.probability);
    if (options_.keys.empty()) fail("RandomFlip: no keys; expected the names of the tensors to flip");
}

void RandomFlip::apply(Example &example, Generator &rng) const {
    for (const std::string &key : options_.keys) {
        const Tensor &tensor = example_tensor(example, key, "RandomFlip");
        const int64_t rank = tensor.dim();
        if (options_.dim < -rank || options_.dim >= rank)
            fail("RandomFlip: dimension {} is out of range for '{}' of shape {}", options_.dim, key,
                 shape_str(tensor.shape()));
    }
    if (!(rng.uniform() < options_.probability)) return;
    for (const std::string &key : options_.keys) example[key] = flip(example[key], options_.dim);
}

std::string RandomFlip::describe() const {
    return fmt::format("random_flip(dim {}, p {}, [{}])", options_.dim, options_.probability, fmt::join(options_.keys, ", "));
}

}  // namespace strata::data
