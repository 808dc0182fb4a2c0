#include "runtime/data/batch_prefetcher.h"

namespace strata::data {

BatchPrefetcher::BatchPrefetcher(int64_t workers, int64_t capacity, int64_t first, int64_t end, MakeBatch make)
    : make_(std::move(make)), capacity_(capacity), end_(end), next_to_make_(first), next_to_take_(first) {
    STRATA_ASSERT(workers > 0 && capacity > 0, "workers {} capacity {}", workers, capacity);
    threads_.reserve(static_cast<size_t>(workers));
    try {
        for (int64_t i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
    } catch (const std::system_error &e) {
        stop_and_join();  // the threads already started
        fail("DataLoader: could not start worker thread {} of {}: {}", threads_.size() + 1, workers, e.what());
    }
}

BatchPrefetcher::~BatchPrefetcher() { stop_and_join(); }

void BatchPrefetcher::stop_and_join() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    for (std::thread &thread : threads_)
        if (thread.joinable()) thread.join();
}

void BatchPrefetcher::work() {
    for (;;) {
        int64_t batch;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            // Wait for room in the window [next_to_take_, next_to_take_ + capacity_).
            changed_.wait(lock, [this] {
                return stopping_ || next_to_make_ >= end_ || next_to_make_ - next_to_take_ < capacity_;
            });
            if (stopping_ || next_to_make_ >= end_) return;
            batch = next_to_make_++;
        }
        PreparedBatch made;
        std::exception_ptr error;
        try {
            made = make_(batch);
        } catch (...) {
            error = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (error) failed_[batch] = error;
            else ready_[batch] = std::move(made);
        }
        changed_.notify_all();
    }
}

PreparedBatch BatchPrefetcher::take(int64_t batch) {
    std::unique_lock<std::mutex> lock(mutex_);
    STRATA_ASSERT(batch == next_to_take_ && batch < end_, "took batch {}, expected {}", batch, next_to_take_);
    changed_.wait(lock, [&] { return ready_.count(batch) || failed_.count(batch); });
    ++next_to_take_;
    if (const auto failed = failed_.find(batch); failed != failed_.end()) {
        const std::exception_ptr error = failed->second;
        failed_.erase(failed);
        lock.unlock();
        changed_.notify_all();
        std::rethrow_exception(error);
    }
    PreparedBatch out = std::move(ready_.at(batch));
    ready_.erase(batch);
    lock.unlock();
    changed_.notify_all();  // room for one more in the window
    return out;
}

}  // namespace strata::data
