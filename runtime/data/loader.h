#pragma once
/// \file
/// `data::DataLoader`: batches of a `Dataset`, shuffled with a seed (bit-reproducible, and the
/// same after a resume), sharded across ranks, read and transformed ahead of the training
/// loop by worker threads (torch.utils.data.DataLoader with a DistributedSampler).
///
///     data::LoaderOptions options;
///     options.batch_size = 64;
///     options.num_workers = 4;
///     options.transforms = {crop, noise};
///     data::DataLoader loader(dataset, options);
///     for (int64_t epoch = 0; epoch < epochs; ++epoch) {
///         loader.set_epoch(epoch);
///         while (auto batch = loader.next()) step.step(batch->at("waveform"), batch->at("label"));
///     }
///     // checkpoint loader.state(); after a restart: loader.restore(saved), then the same loop

#include "runtime/data/dataset.h"
#include "runtime/data/epoch_order.h"
#include "runtime/data/example_layout.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace strata::data {

class BatchPrefetcher;
struct PreparedBatch;

/// The order options (batch_size, shuffle, seed, drop_last, rank, world_size: epoch_order.h)
/// and how batches are made.
struct LoaderOptions : EpochOrderOptions {
    /// Threads reading and transforming batches ahead; 0 reads each batch in `next()`.
    int64_t num_workers = 0;
    /// Batches made ahead per worker (PyTorch's prefetch_factor): at most
    /// num_workers x prefetch_factor batches are queued or being made.
    int64_t prefetch_factor = 2;
    /// Applied in order to each example after it is read, with a generator seeded by
    /// example_seed(seed, epoch, index).
    std::vector<TransformPtr> transforms;
    /// When an example cannot be read or transformed (a strata::Error), use the next example
    /// of this rank's order in its place and count it (DataLoader::skipped) instead of
    /// failing. Batches keep their size; the substitute appears twice in that epoch.
    bool skip_corrupt = false;
    /// With skip_corrupt, this many corrupt examples in a row is an error all the same.
    int64_t max_consecutive_corrupt = 16;
};

/// Where a loader is in its stream: the next batch `next()` returns is batch `batch` of epoch
/// `epoch`. Saving it and calling `restore` on a loader with the same dataset and options
/// continues with the very same batches.
struct LoaderState {
    int64_t epoch = 0;
    int64_t batch = 0;
    bool operator==(const LoaderState &o) const { return epoch == o.epoch && batch == o.batch; }
};

/// One thread calls a DataLoader (the training loop); its worker threads are its own.
class DataLoader {
public:
    /// Reads one example (the first readable one, transformed) to learn the batch layout.
    /// Starts at epoch 0, batch 0. Bad options and an empty dataset are strata::Errors.
    DataLoader(DatasetPtr dataset, LoaderOptions options = {});
    ~DataLoader();
    DataLoader(const DataLoader &) = delete;
    DataLoader &operator=(const DataLoader &) = delete;

    /// The next batch of the current epoch (each field stacked: [batch, shape...]), or nothing
    /// when the epoch is over. An example that fails is a strata::Error naming it, its batch
    /// and epoch, and the dataset's description of it (file and item); the loader then stays
    /// at that batch.
    std::optional<Example> next();

    /// Starts epoch `epoch` at its first batch (restore(epoch, 0)).
    void set_epoch(int64_t epoch) { restore({epoch, 0}); }
    /// Continues at batch `state.batch` of epoch `state.epoch` (0 <= batch <= num_batches()).
    void restore(const LoaderState &state);
    void restore(int64_t epoch, int64_t batch) { restore(LoaderState{epoch, batch}); }
    LoaderState state() const { return position_; }

    /// Batches per epoch on this rank.
    int64_t num_batches() const { return num_batches_; }
    /// The dataset indices batch `batch` of `epoch` is read from (before any skip_corrupt
    /// substitution), in order.
    std::vector<int64_t> batch_indices(int64_t epoch, int64_t batch) const;
    /// The fields of one example (a batch adds the leading batch dimension).
    const ExampleLayout &example_layout() const { return layout_; }
    /// Corrupt examples replaced so far, in the batches `next()` returned (skip_corrupt).
    int64_t skipped() const { return skipped_; }
    /// The error of the last corrupt example replaced (empty when none).
    const std::string &last_skipped_error() const { return last_skipped_error_; }
    const LoaderOptions &options() const { return options_; }
    const Dataset &dataset() const { return *dataset_; }

private:
    /// Reads and transforms example `index` of `epoch`, checking it against the layout.
    Example read_example(int64_t epoch, int64_t index) const;
    /// Makes batch `batch` of `epoch` from `order` (thread-safe: touches no loader state).
    PreparedBatch make_batch(const std::vector<int64_t> &order, int64_t epoch, int64_t batch) const;
    void stop_workers();
    void start_workers();

    DatasetPtr dataset_;
    LoaderOptions options_;
    EpochOrderOptions order_options_;
    ExampleLayout layout_;
    int64_t num_batches_ = 0;
    LoaderState position_;
    /// This rank's order for position_.epoch (shared with the workers, which only read it).
    std::shared_ptr<const std::vector<int64_t>> order_;
    std::unique_ptr<BatchPrefetcher> prefetcher_;
    int64_t skipped_ = 0;
    std::string last_skipped_error_;
};

}  // namespace strata::data
