#include "frontend/train/data_loader.h"

#include <numeric>

namespace strata {

void Dataset::check() const {
    if (!inputs.defined() || !targets.defined()) fail("Dataset: inputs and targets must both be set");
    if (inputs.dim() == 0 || targets.dim() == 0 || inputs.size(0) != targets.size(0))
        fail("Dataset: inputs {} and targets {} must have the same number of examples along dim 0",
             shape_str(inputs.shape()), shape_str(targets.shape()));
}

Dataset Dataset::normalized(double mean, double stddev) const {
    if (!(stddev > 0)) fail("Dataset::normalized: stddev must be positive, got {}", stddev);
    Dataset out{inputs.clone(), targets};
    for (int64_t i = 0; i < out.inputs.numel(); ++i)
        out.inputs.set_flat(i, (out.inputs.get_flat(i) - mean) / stddev);
    return out;
}

Dataset Dataset::slice(int64_t begin, int64_t end) const {
    check();
    if (begin < 0 || end > size() || begin > end)
        fail("Dataset::slice: [{}, {}) is outside the {} examples", begin, end, size());
    return {inputs.slice(0, begin, end).clone(), targets.slice(0, begin, end).clone()};
}

DataLoader::DataLoader(const Dataset &dataset, DataLoaderOptions options) : dataset_(dataset), options_(options) {
    dataset_.check();
    if (options.batch_size <= 0) fail("DataLoader: batch_size must be positive, got {}", options.batch_size);
    if (options.drop_last && dataset.size() < options.batch_size)
        fail("DataLoader: {} examples make no full batch of {} (drop_last is on)", dataset.size(), options.batch_size);
    set_epoch(0);
}

void DataLoader::set_epoch(int64_t epoch) {
    order_.resize(static_cast<size_t>(dataset_.size()));
    std::iota(order_.begin(), order_.end(), 0);
    if (!options_.shuffle) return;
    // Fisher-Yates with our own generator: the same order on every platform.
    Generator gen(options_.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch) + 1);
    for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[gen.below(i)]);
}

int64_t DataLoader::num_batches() const {
    const int64_t n = dataset_.size(), b = options_.batch_size;
    return options_.drop_last ? n / b : n / b + (n % b != 0);  // not (n + b - 1) / b: b may be near 2^63
}

Batch DataLoader::batch(int64_t i) const {
    if (i < 0 || i >= num_batches()) fail("DataLoader: batch {} is out of range ({} batches)", i, num_batches());
    const int64_t begin = i * options_.batch_size;
    const int64_t count = std::min(options_.batch_size, dataset_.size() - begin);
    const std::vector<int64_t> rows(order_.begin() + begin, order_.begin() + begin + count);
    return {dataset_.inputs.index_select(0, rows), dataset_.targets.index_select(0, rows)};
}

}  // namespace strata
