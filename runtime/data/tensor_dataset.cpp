#include "runtime/data/tensor_dataset.h"

#include <cstring>

namespace strata::data {

TensorDataset::TensorDataset(Example stacked, std::string name) : name_(std::move(name)) {
    if (stacked.empty()) fail("TensorDataset '{}': no tensors given", name_);
    const std::string *first = nullptr;
    for (auto &[field, tensor] : stacked) {
        if (!tensor.defined()) fail("TensorDataset '{}': tensor '{}' is undefined", name_, field);
        if (tensor.dim() == 0)
            fail("TensorDataset '{}': tensor '{}' is a scalar; expected examples stacked along dim 0", name_, field);
        if (!first) {
            first = &field;
            size_ = tensor.size(0);
        } else if (tensor.size(0) != size_) {
            fail("TensorDataset '{}': tensor '{}' has {} examples along dim 0 {} but '{}' has {}", name_, field,
                 tensor.size(0), shape_str(tensor.shape()), *first, size_);
        }
        tensor = tensor.contiguous();
    }
    stacked_ = std::move(stacked);
}

Example TensorDataset::get(int64_t index) const {
    if (index < 0 || index >= size_)
        fail("TensorDataset '{}': example {} is out of range ({} examples)", name_, index, size_);
    Example example;
    for (const auto &[field, tensor] : stacked_) {
        const Shape row_shape(tensor.shape().begin() + 1, tensor.shape().end());
        Tensor row = Tensor::uninitialized(row_shape, tensor.dtype());
        const size_t row_bytes = row.nbytes();
        std::memcpy(row.raw_data(), static_cast<const uint8_t *>(tensor.raw_data()) + static_cast<size_t>(index) * row_bytes,
                    row_bytes);
        example.emplace(field, std::move(row));
    }
    return example;
}

std::string TensorDataset::describe(int64_t index) const { return fmt::format("{}: example {}", name_, index); }

}  // namespace strata::data
