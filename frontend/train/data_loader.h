#pragma once
/// \file
/// In-memory datasets and a seeded, shuffling batch loader (torch.utils.data style).

#include "runtime/generator.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <vector>

namespace strata {

/// Examples stacked along dim 0: inputs [N, ...] and targets [N, ...].
struct Dataset {
    Tensor inputs;
    Tensor targets;

    int64_t size() const { return inputs.defined() ? inputs.size(0) : 0; }
    /// Checks that inputs and targets have the same leading extent.
    void check() const;
    /// (x - mean) / std on the inputs (a new dataset; targets shared).
    Dataset normalized(double mean, double stddev) const;
    /// Examples [begin, end) (a copy).
    Dataset slice(int64_t begin, int64_t end) const;
};

struct Batch {
    Tensor inputs;
    Tensor targets;
};

struct DataLoaderOptions {
    int64_t batch_size = 64;
    bool shuffle = true;
    /// Epoch e shuffles with a generator seeded by (seed, e): runs repeat exactly.
    uint64_t seed = 0;
    /// Drop the last, smaller batch (compiled programs have static shapes).
    bool drop_last = true;
};

class DataLoader {
public:
    DataLoader(const Dataset &dataset, DataLoaderOptions options);

    /// Sets the example order for `epoch` (a fixed permutation per epoch when shuffling).
    void set_epoch(int64_t epoch);
    int64_t num_batches() const;
    /// Batch `i` of the current epoch (copied into fresh tensors).
    Batch batch(int64_t i) const;
    const DataLoaderOptions &options() const { return options_; }
    const Dataset &dataset() const { return dataset_; }

private:
    Dataset dataset_;
    DataLoaderOptions options_;
    std::vector<int64_t> order_;
};

}  // namespace strata
