#pragma once
// Small datasets for the data-layer tests: numbered examples that say which index they are,
// and wrappers that fail or count reads.

#include "runtime/data/tensor_dataset.h"

#include <atomic>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace strata::testing {

/// N rows: row i of the first tensor is [i, -i, 0.5 i] (f32 [N, 3]), of the second i (i32 [N]),
/// so a batch says which rows it holds and that they travel together.
inline std::pair<Tensor, Tensor> numbered_rows(int64_t n) {
    Tensor x = Tensor::empty({n, 3});
    Tensor index = Tensor::empty({n}, DType::i32);
    for (int64_t i = 0; i < n; ++i) {
        x.set_flat(3 * i, static_cast<double>(i));
        x.set_flat(3 * i + 1, -static_cast<double>(i));
        x.set_flat(3 * i + 2, 0.5 * static_cast<double>(i));
        index.set_flat(i, static_cast<double>(i));
    }
    return {x, index};
}

/// N examples: "x" and "index" are numbered_rows(n).
inline std::shared_ptr<data::TensorDataset> numbered_dataset(int64_t n, const std::string &name = "numbered") {
    auto [x, index] = numbered_rows(n);
    return std::make_shared<data::TensorDataset>(data::Example{{"x", x}, {"index", index}}, name);
}

/// A dataset that reads from `inner` but fails on the indices in `corrupt`: with a
/// strata::Error like a reader's ("file.h5: trace 7: ..."), or with a std::runtime_error when
/// `std_exception` is set (a reader's bug). Counts every get().
class FaultyDataset : public data::Dataset {
public:
    FaultyDataset(data::DatasetPtr inner, std::set<int64_t> corrupt, bool std_exception = false)
        : inner_(std::move(inner)), corrupt_(std::move(corrupt)), std_exception_(std_exception) {}
    int64_t size() const override { return inner_->size(); }
    data::Example get(int64_t index) const override {
        ++reads;
        if (corrupt_.count(index)) {
            if (std_exception_) throw std::runtime_error("vector::_M_range_check in the reader");
            fail("faulty.h5: trace 'T{}': dataset has 17 samples, expected 3", index);
        }
        return inner_->get(index);
    }
    std::string describe(int64_t index) const override { return "faulty.h5: trace 'T" + std::to_string(index) + "'"; }
    mutable std::atomic<int64_t> reads{0};

private:
    data::DatasetPtr inner_;
    std::set<int64_t> corrupt_;
    bool std_exception_;
};

/// The "index" field of a batch: which examples it holds, in order.
inline std::vector<int64_t> indices_of(const data::Example &batch) {
    std::vector<int64_t> out;
    const Tensor &index = batch.at("index");
    for (int64_t i = 0; i < index.numel(); ++i) out.push_back(static_cast<int64_t>(index.get_flat(i)));
    return out;
}

}  // namespace strata::testing
