#pragma once
/// \file
/// Worker threads that make batches ahead of the training loop, delivered in order, with a
/// bounded number in flight (internal to the DataLoader).

#include "runtime/data/dataset.h"

#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace strata::data {

/// A batch as a worker made it.
struct PreparedBatch {
    Example tensors;
    /// Corrupt examples replaced while making it (LoaderOptions::skip_corrupt).
    int64_t skipped = 0;
    /// The error of the last one replaced.
    std::string last_skipped_error;
};

/// Makes batches [first, end) with `workers` threads, each taking the next batch index not
/// yet taken. At most `capacity` batches are made or being made and not yet taken by the
/// consumer: memory is bounded by `capacity` batches plus what each worker is reading.
/// A batch whose making threw is delivered as that exception, in its place in the order.
class BatchPrefetcher {
public:
    using MakeBatch = std::function<PreparedBatch(int64_t batch)>;
    BatchPrefetcher(int64_t workers, int64_t capacity, int64_t first, int64_t end, MakeBatch make);
    /// Stops the workers (each finishes the example it is reading) and joins them.
    ~BatchPrefetcher();
    BatchPrefetcher(const BatchPrefetcher &) = delete;
    BatchPrefetcher &operator=(const BatchPrefetcher &) = delete;

    /// Batch `batch`, waiting for it; batches are taken in order, from `first`. Rethrows what
    /// making it threw.
    PreparedBatch take(int64_t batch);

private:
    void work();
    void stop_and_join();

    MakeBatch make_;
    const int64_t capacity_, end_;
    int64_t next_to_make_, next_to_take_;
    bool stopping_ = false;
    std::map<int64_t, PreparedBatch> ready_;
    std::map<int64_t, std::exception_ptr> failed_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::thread> threads_;
};

}  // namespace strata::data
