#pragma once
/// \file
/// The in-memory dataset (torch.utils.data.TensorDataset): named tensors stacked along dim 0,
/// example i being row i of each. The fast path for sets that fit in memory.
///
///     auto train = std::make_shared<data::TensorDataset>(
///         data::Example{{"image", images}, {"label", labels}});   // [N, 1, 28, 28] and [N]

#include "runtime/data/dataset.h"

namespace strata::data {

class TensorDataset : public Dataset {
public:
    /// Every tensor must be defined, have at least one dimension and the same extent along
    /// dim 0 (a strata::Error naming the tensors otherwise). The tensors are shared, not copied
    /// (non-contiguous ones are made contiguous once).
    explicit TensorDataset(Example stacked, std::string name = "tensors");

    int64_t size() const override { return size_; }
    /// Row `index` of each tensor (a copy).
    Example get(int64_t index) const override;
    std::string describe(int64_t index) const override;

    const Example &tensors() const { return stacked_; }

private:
    Example stacked_;
    std::string name_;
    int64_t size_ = 0;
};

}  // namespace strata::data
