#include "runtime/data/loader.h"

#include "runtime/data/batch_prefetcher.h"

#include <algorithm>
#include <new>

namespace strata::data {
namespace {

/// More threads than this is a mistake (a count meant as something else), not a setting.
constexpr int64_t kMaxWorkers = 1024;

void check_options(const LoaderOptions &o) {
    check_epoch_order_options(o);
    if (o.num_workers < 0 || o.num_workers > kMaxWorkers)
        fail("DataLoader: num_workers must be in [0, {}], got {}", kMaxWorkers, o.num_workers);
    if (o.prefetch_factor <= 0 || o.prefetch_factor > kMaxWorkers)
        fail("DataLoader: prefetch_factor must be in [1, {}], got {}", kMaxWorkers, o.prefetch_factor);
    if (o.max_consecutive_corrupt <= 0)
        fail("DataLoader: max_consecutive_corrupt must be positive, got {}", o.max_consecutive_corrupt);
    for (size_t i = 0; i < o.transforms.size(); ++i)
        if (!o.transforms[i]) fail("DataLoader: transform {} is null", i);
}

/// The description of an example for messages, which must not fail itself.
std::string where_of(const Dataset &dataset, int64_t index) {
    try {
        return dataset.describe(index);
    } catch (const std::exception &e) {
        return fmt::format("example {} (describing it failed: {})", index, e.what());
    }
}

}  // namespace

DataLoader::DataLoader(DatasetPtr dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
    if (!dataset_) fail("DataLoader: the dataset is null");
    check_options(options_);
    order_options_ = options_;
    const int64_t size = dataset_->size();
    if (size <= 0) fail("DataLoader: the dataset has no examples (size {})", size);

    // The layout every example must have: that of the first readable one, transformed.
    std::string first_error;
    for (int64_t index = 0; index < size && layout_.empty(); ++index) {
        try {
            layout_ = layout_of(read_example(0, index));
        } catch (const Error &e) {
            if (!options_.skip_corrupt || index + 1 >= options_.max_consecutive_corrupt) throw;
            first_error = e.what();
        }
    }
    if (layout_.empty()) fail("DataLoader: no example could be read; the last error: {}", first_error);

    // Epoch 0, batch 0 (position_'s default). Every epoch's order has the same length.
    order_ = std::make_shared<const std::vector<int64_t>>(epoch_order(size, order_options_, 0));
    num_batches_ = batches_in(static_cast<int64_t>(order_->size()), order_options_);
    if (options_.drop_last && num_batches_ == 0)
        fail("DataLoader: {} examples make no full batch of {} on each of {} rank(s) (drop_last is on)", size,
             options_.batch_size, options_.world_size);
}

DataLoader::~DataLoader() { stop_workers(); }

void DataLoader::stop_workers() { prefetcher_.reset(); }

void DataLoader::restore(const LoaderState &state) {
    if (state.epoch < 0) fail("DataLoader::restore: epoch {} is negative", state.epoch);
    if (state.batch < 0 || state.batch > num_batches_)
        fail("DataLoader::restore: batch {} is outside [0, {}] (batches per epoch)", state.batch, num_batches_);
    stop_workers();
    if (state.epoch != position_.epoch)
        order_ = std::make_shared<const std::vector<int64_t>>(epoch_order(dataset_->size(), order_options_, state.epoch));
    position_ = state;
}

void DataLoader::start_workers() {
    const int64_t capacity = options_.num_workers * options_.prefetch_factor;  // both <= kMaxWorkers
    // The workers hold their own reference to the order: restore() may replace order_.
    auto order = order_;
    const int64_t epoch = position_.epoch;
    prefetcher_ = std::make_unique<BatchPrefetcher>(
        options_.num_workers, capacity, position_.batch, num_batches_,
        [this, order, epoch](int64_t batch) { return make_batch(*order, epoch, batch); });
}

std::optional<Example> DataLoader::next() {
    if (position_.batch >= num_batches_) return std::nullopt;
    PreparedBatch made;
    if (options_.num_workers == 0) {
        made = make_batch(*order_, position_.epoch, position_.batch);
    } else {
        if (!prefetcher_) start_workers();
        try {
            made = prefetcher_->take(position_.batch);
        } catch (...) {
            stop_workers();  // next() starts again at this batch
            throw;
        }
    }
    ++position_.batch;
    if (position_.batch == num_batches_) stop_workers();
    skipped_ += made.skipped;
    if (made.skipped) last_skipped_error_ = made.last_skipped_error;
    return std::move(made.tensors);
}

std::vector<int64_t> DataLoader::batch_indices(int64_t epoch, int64_t batch) const {
    if (batch < 0 || batch >= num_batches_)
        fail("DataLoader::batch_indices: batch {} is outside [0, {})", batch, num_batches_);
    const std::vector<int64_t> order = epoch == position_.epoch ? *order_ : epoch_order(dataset_->size(), order_options_, epoch);
    const size_t begin = static_cast<size_t>(batch * options_.batch_size);
    const size_t end = std::min(order.size(), begin + static_cast<size_t>(options_.batch_size));
    return {order.begin() + static_cast<std::ptrdiff_t>(begin), order.begin() + static_cast<std::ptrdiff_t>(end)};
}

Example DataLoader::read_example(int64_t epoch, int64_t index) const {
    // Built only on failure: describe() may cost more than reading a small example.
    const auto name_it = [&] { return fmt::format("DataLoader: example {} ({})", index, where_of(*dataset_, index)); };
    try {
        Example example = dataset_->get(index);
        if (!options_.transforms.empty()) {
            Generator rng(example_seed(options_.seed, epoch, index));
            for (const TransformPtr &transform : options_.transforms) {
                try {
                    transform->apply(example, rng);
                } catch (const std::bad_alloc &) {
                    throw;
                } catch (const std::exception &e) {
                    fail("transform {}: {}", transform->describe(), e.what());
                }
            }
        }
        if (!layout_.empty()) check_layout(example, layout_, "");
        return example;
    } catch (const std::bad_alloc &) {
        throw;  // out of memory is not the example's fault, nor a corrupt item to skip
    } catch (const std::exception &e) {
        // Also a std::exception of a reader's bug or a system error: a strata::Error naming
        // the item, never an exception escaping a worker thread.
        fail("{}: {}", name_it(), e.what());
    }
}

PreparedBatch DataLoader::make_batch(const std::vector<int64_t> &order, int64_t epoch, int64_t batch) const {
    const int64_t begin = batch * options_.batch_size;
    const int64_t count = std::min<int64_t>(options_.batch_size, static_cast<int64_t>(order.size()) - begin);
    const int64_t order_size = static_cast<int64_t>(order.size());
    BatchStacker stacker(layout_, count);
    PreparedBatch made;
    for (int64_t row = 0; row < count; ++row) {
        // With skip_corrupt, a corrupt example is replaced by the next ones of the order.
        for (int64_t attempt = 0;; ++attempt) {
            const int64_t index = order[static_cast<size_t>((begin + row + attempt) % order_size)];
            try {
                stacker.add(row, read_example(epoch, index));
                break;
            } catch (const Error &e) {
                if (!options_.skip_corrupt) fail("{} (batch {} of epoch {})", e.what(), batch, epoch);
                if (attempt + 1 >= options_.max_consecutive_corrupt || attempt + 1 >= order_size)
                    fail("DataLoader: {} corrupt examples in a row in batch {} of epoch {} (skip_corrupt gives up "
                         "after max_consecutive_corrupt = {}); the last: {}",
                         attempt + 1, batch, epoch, options_.max_consecutive_corrupt, e.what());
                ++made.skipped;
                made.last_skipped_error = e.what();
            }
        }
    }
    made.tensors = stacker.take();
    return made;
}

}  // namespace strata::data
