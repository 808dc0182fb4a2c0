#pragma once
/// \file
/// A random flip (reversal) along one dimension, for images and their masks: every tensor named
/// in `keys` is flipped together, or none is, so a segmentation label stays aligned with its
/// image. Works on tensors of any dtype.

#include "runtime/data/dataset.h"

#include <string>
#include <vector>

namespace strata::data {

struct RandomFlipOptions {
    int64_t dim = -1;                              ///< the dimension reversed; negative counts from the end
    double probability = 0.5;                      ///< of flipping, in [0, 1]
    std::vector<std::string> keys = {"image"};     ///< flipped together (same draw)
};

/// Draws rng.uniform() once per example and flips when it is below `probability`.
class RandomFlip : public Transform {
public:
    explicit RandomFlip(RandomFlipOptions options = {});
    void apply(Example &example, Generator &rng) const override;
    std::string describe() const override;

private:
    RandomFlipOptions options_;
};

/// `tensor` reversed along `dim` (a new contiguous tensor), like torch.flip(tensor, {dim}).
Tensor flip(const Tensor &tensor, int64_t dim);

}  // namespace strata::data
