// data::DataLoader over any Dataset: batching by stacking, drop_last, the seeded shuffle
// (bit-identical to the in-memory loader's, the same with any number of workers, the same after
// a resume), sharding across ranks, the bounded prefetch queue, errors naming the item, and
// skip_corrupt.
#include "frontend/train/data_loader.h"
#include "runtime/data/loader.h"
#include "runtime/data/tensor_dataset.h"
#include "tests/support/error_message.h"
#include "tests/support/example_datasets.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <set>
#include <thread>

using namespace strata;
using strata::testing::error_message;
using strata::testing::FaultyDataset;
using strata::testing::indices_of;
using strata::testing::numbered_dataset;

namespace {

/// Adds seeded Gaussian noise to "x": the batch then depends on the per-example generator.
class AddNoise : public data::Transform {
public:
    void apply(data::Example &example, Generator &rng) const override {
        Tensor &x = example.at("x");
        for (int64_t i = 0; i < x.numel(); ++i) x.set_flat(i, x.get_flat(i) + rng.normal());
    }
    std::string describe() const override { return "add_noise"; }
};

/// Fails on one example, like a band-pass on a trace too short for it.
class FailOn : public data::Transform {
public:
    explicit FailOn(int64_t index) : index_(index) {}
    void apply(data::Example &example, Generator &) const override {
        if (static_cast<int64_t>(example.at("index").item()) == index_) fail("the trace is shorter than the filter");
    }
    std::string describe() const override { return "fail_on(" + std::to_string(index_) + ")"; }

private:
    int64_t index_;
};

bool same_bits(const Tensor &a, const Tensor &b) {
    return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

bool same_batch(const data::Example &a, const data::Example &b) {
    if (a.size() != b.size()) return false;
    for (const auto &[name, t] : a)
        if (!b.count(name) || !same_bits(t, b.at(name))) return false;
    return true;
}

/// Every remaining batch of the loader's current epoch.
std::vector<data::Example> rest_of_epoch(data::DataLoader &loader) {
    std::vector<data::Example> out;
    while (auto batch = loader.next()) out.push_back(std::move(*batch));
    return out;
}

std::vector<int64_t> all_indices(const std::vector<data::Example> &batches) {
    std::vector<int64_t> out;
    for (const auto &b : batches) {
        const std::vector<int64_t> i = indices_of(b);
        out.insert(out.end(), i.begin(), i.end());
    }
    return out;
}

data::LoaderOptions options(int64_t batch_size, bool shuffle, bool drop_last, uint64_t seed = 0) {
    data::LoaderOptions o;
    o.batch_size = batch_size;
    o.shuffle = shuffle;
    o.drop_last = drop_last;
    o.seed = seed;
    return o;
}

}  // namespace

TEST_CASE("TensorDataset returns row i of each tensor and checks the tensors", "[data][loader]") {
    auto ds = numbered_dataset(5);
    REQUIRE(ds->size() == 5);
    const data::Example e = ds->get(3);
    CHECK(e.at("x").shape() == Shape{3});
    CHECK(e.at("x").get_flat(1) == -3.0);
    CHECK(e.at("index").shape() == Shape{});
    CHECK(e.at("index").item() == 3.0);
    CHECK(error_message([&] { ds->get(5); }).find("example 5 is out of range (5 examples)") != std::string::npos);
    const std::string mismatch = error_message(
        [] { data::TensorDataset({{"a", Tensor::zeros({4, 2})}, {"b", Tensor::zeros({3})}}, "pairs"); });
    CHECK(mismatch.find("'b' has 3 examples") != std::string::npos);
    CHECK(mismatch.find("'a' has 4") != std::string::npos);
    CHECK(error_message([] { data::TensorDataset({{"s", Tensor::zeros({})}}); }).find("'s' is a scalar") !=
          std::string::npos);
}

TEST_CASE("DataLoader without shuffling stacks consecutive examples into batches", "[data][loader]") {
    auto ds = numbered_dataset(10);
    data::DataLoader keep(ds, options(4, false, false));
    REQUIRE(keep.num_batches() == 3);
    const std::vector<data::Example> batches = rest_of_epoch(keep);
    REQUIRE(batches.size() == 3);
    CHECK(indices_of(batches[0]) == std::vector<int64_t>{0, 1, 2, 3});
    CHECK(indices_of(batches[2]) == std::vector<int64_t>{8, 9});  // the short last batch
    CHECK(batches[0].at("x").shape() == Shape{4, 3});
    CHECK(batches[2].at("x").shape() == Shape{2, 3});
    CHECK(batches[0].at("index").shape() == Shape{4});
    // Each row is the example's own data (a naive reference: the dataset's get).
    for (int64_t row = 0; row < 4; ++row)
        for (int64_t c = 0; c < 3; ++c)
            CHECK(batches[1].at("x").get_flat(3 * row + c) == ds->get(4 + row).at("x").get_flat(c));
    CHECK_FALSE(keep.next().has_value());  // the epoch is over
    CHECK(keep.state() == data::LoaderState{0, 3});

    data::DataLoader drop(ds, options(4, false, true));
    CHECK(drop.num_batches() == 2);
    CHECK(all_indices(rest_of_epoch(drop)) == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("DataLoader shuffles bit-identically to the in-memory loader, a new permutation per epoch",
          "[data][loader]") {
    auto ds = numbered_dataset(23);
    strata::Dataset old_ds{ds->tensors().at("x"), ds->tensors().at("index")};
    for (bool drop_last : {false, true}) {
        strata::DataLoader old_loader(old_ds, {5, true, 42, drop_last});
        data::DataLoader loader(ds, options(5, true, drop_last, 42));
        REQUIRE(loader.num_batches() == old_loader.num_batches());
        std::set<std::vector<int64_t>> epoch_orders;
        for (int64_t epoch = 0; epoch < 3; ++epoch) {
            old_loader.set_epoch(epoch);
            loader.set_epoch(epoch);
            const std::vector<data::Example> batches = rest_of_epoch(loader);
            REQUIRE(static_cast<int64_t>(batches.size()) == old_loader.num_batches());
            for (int64_t i = 0; i < old_loader.num_batches(); ++i) {
                const Batch expected = old_loader.batch(i);
                CHECK(same_bits(batches[static_cast<size_t>(i)].at("x"), expected.inputs));
                CHECK(same_bits(batches[static_cast<size_t>(i)].at("index"), expected.targets));
            }
            std::vector<int64_t> order = all_indices(batches);
            epoch_orders.insert(order);
            std::sort(order.begin(), order.end());
            CHECK(std::adjacent_find(order.begin(), order.end()) == order.end());  // no example twice
            if (!drop_last) {
                std::vector<int64_t> every(23);
                std::iota(every.begin(), every.end(), 0);
                CHECK(order == every);
            }
        }
        CHECK(epoch_orders.size() == 3);  // each epoch its own order
    }
    // Another seed, another order.
    data::DataLoader a(ds, options(23, true, true, 1)), b(ds, options(23, true, true, 2));
    CHECK(indices_of(*a.next()) != indices_of(*b.next()));
}

TEST_CASE("DataLoader gives the same batches with 0, 1 or 4 workers, transforms included", "[data][loader]") {
    auto ds = numbered_dataset(50);
    std::vector<std::vector<data::Example>> runs;
    for (int64_t workers : {0, 1, 4}) {
        data::LoaderOptions o = options(6, true, false, 7);
        o.num_workers = workers;
        o.transforms = {std::make_shared<AddNoise>()};
        data::DataLoader loader(ds, o);
        std::vector<data::Example> all;
        for (int64_t epoch = 0; epoch < 2; ++epoch) {
            loader.set_epoch(epoch);
            for (auto &b : rest_of_epoch(loader)) all.push_back(std::move(b));
        }
        runs.push_back(std::move(all));
    }
    REQUIRE(runs[0].size() == 18);
    for (size_t run = 1; run < runs.size(); ++run) {
        REQUIRE(runs[run].size() == runs[0].size());
        for (size_t i = 0; i < runs[0].size(); ++i) CHECK(same_batch(runs[run][i], runs[0][i]));
    }
    // The noise is that of the example's own generator: example_seed(seed, epoch, index).
    const data::Example &first = runs[0][0];
    const int64_t index = indices_of(first)[0];
    Generator rng(data::example_seed(7, 0, index));
    for (int64_t c = 0; c < 3; ++c) {
        const double noise = rng.normal();
        CHECK(first.at("x").get_flat(c) == static_cast<float>(ds->get(index).at("x").get_flat(c) + noise));
    }
    // The noise differs between epochs for the same example.
    CHECK(data::example_seed(7, 0, index) != data::example_seed(7, 1, index));
}

TEST_CASE("DataLoader resumed from its state continues with the very same batches", "[data][loader]") {
    auto ds = numbered_dataset(40);
    data::LoaderOptions o = options(4, true, true, 3);
    o.num_workers = 2;
    o.transforms = {std::make_shared<AddNoise>()};
    // The uninterrupted run: epochs 0, 1, 2.
    data::DataLoader straight(ds, o);
    std::vector<data::Example> expected;
    for (int64_t epoch = 0; epoch < 3; ++epoch) {
        straight.set_epoch(epoch);
        for (auto &b : rest_of_epoch(straight)) expected.push_back(std::move(b));
    }
    // Stopped after 3 batches of epoch 1 (workers busy ahead), then a new loader restored.
    data::LoaderState saved;
    {
        data::DataLoader first(ds, o);
        first.set_epoch(0);
        rest_of_epoch(first);
        first.set_epoch(1);
        for (int i = 0; i < 3; ++i) REQUIRE(first.next());
        saved = first.state();
    }  // destroyed with prefetched batches pending
    CHECK(saved == data::LoaderState{1, 3});
    data::DataLoader resumed(ds, o);
    resumed.restore(saved);
    std::vector<data::Example> after;
    for (auto &b : rest_of_epoch(resumed)) after.push_back(std::move(b));
    resumed.set_epoch(2);
    for (auto &b : rest_of_epoch(resumed)) after.push_back(std::move(b));
    const size_t done = 10 + 3;  // 10 batches per epoch
    REQUIRE(after.size() == expected.size() - done);
    for (size_t i = 0; i < after.size(); ++i) CHECK(same_batch(after[i], expected[done + i]));
    CHECK(resumed.batch_indices(2, 0) == indices_of(expected[20]));

    CHECK(error_message([&] { resumed.restore({0, 11}); }).find("batch 11 is outside [0, 10]") != std::string::npos);
    CHECK(error_message([&] { resumed.restore({-1, 0}); }).find("epoch -1") != std::string::npos);
}

TEST_CASE("DataLoader shards across ranks: disjoint, covering, the same batch count with drop_last",
          "[data][loader]") {
    auto ds = numbered_dataset(23);
    for (bool drop_last : {false, true}) {
        for (int64_t world : {1, 2, 3, 5}) {
            std::vector<int64_t> seen;
            std::set<int64_t> batch_counts;
            for (int64_t rank = 0; rank < world; ++rank) {
                data::LoaderOptions o = options(2, true, drop_last, 11);
                o.rank = rank;
                o.world_size = world;
                data::DataLoader loader(ds, o);
                loader.restore(4, 0);
                const std::vector<int64_t> mine = all_indices(rest_of_epoch(loader));
                // The naive reference (DistributedSampler without padding): positions rank,
                // rank + world, ... of the epoch's permutation, trimmed to whole rounds with drop_last.
                const std::vector<int64_t> perm = data::epoch_permutation(23, true, 11, 4);
                const int64_t used = drop_last ? 23 - 23 % (2 * world) : 23;
                std::vector<int64_t> expected;
                for (int64_t p = rank; p < used; p += world) expected.push_back(perm[static_cast<size_t>(p)]);
                CHECK(mine == expected);
                batch_counts.insert(loader.num_batches());
                seen.insert(seen.end(), mine.begin(), mine.end());
            }
            std::sort(seen.begin(), seen.end());
            INFO("world " << world << " drop_last " << drop_last);
            CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());  // disjoint
            if (!drop_last) {
                CHECK(seen.size() == 23);  // covering
            } else {
                CHECK(batch_counts.size() == 1);  // every rank steps as often (collectives stay in step)
                CHECK(static_cast<int64_t>(seen.size()) == 23 / (2 * world) * 2 * world);
            }
        }
    }
    // A world larger than the dataset: a rank gets one example or none, nothing overflows.
    data::LoaderOptions huge = options(2, true, false, 11);
    huge.world_size = INT64_MAX;
    huge.rank = 3;
    data::DataLoader one(ds, huge);
    CHECK(all_indices(rest_of_epoch(one)).size() == 1);
    huge.rank = INT64_MAX - 1;
    data::DataLoader none(ds, huge);
    CHECK(none.num_batches() == 0);
    CHECK_FALSE(none.next());

    data::LoaderOptions o = options(2, true, true);
    o.rank = 3;
    o.world_size = 3;
    CHECK(error_message([&] { data::DataLoader(ds, o); }).find("rank 3 is outside [0, 3)") != std::string::npos);
    o.rank = 0;
    o.world_size = 12;
    CHECK(error_message([&] { data::DataLoader(ds, o); }).find("no full batch of 2 on each of 12 rank(s)") !=
          std::string::npos);
}

TEST_CASE("DataLoader workers read ahead no more than num_workers x prefetch_factor batches", "[data][loader]") {
    auto counting = std::make_shared<FaultyDataset>(numbered_dataset(400), std::set<int64_t>{});
    data::LoaderOptions o = options(4, true, true);
    o.num_workers = 3;
    o.prefetch_factor = 2;
    data::DataLoader loader(counting, o);
    const int64_t probe = counting->reads;  // the layout probe
    // The reads once the workers have made all they may (and had time to overrun, were it unbounded).
    const auto reads_when_settled = [&](int64_t expected) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (counting->reads < expected && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        return counting->reads.load();
    };
    REQUIRE(loader.next());
    // The workers fill the queue, then wait: batch 0 taken, batches 1..6 made, no more.
    const int64_t bound = probe + (1 + 3 * 2) * 4;
    CHECK(reads_when_settled(bound) == bound);
    REQUIRE(loader.next());  // one taken, one more made
    CHECK(reads_when_settled(bound + 4) == bound + 4);
}

TEST_CASE("DataLoader names the item, the file, the batch and the epoch of a failed example", "[data][loader]") {
    for (int64_t workers : {0, 2}) {
        auto faulty = std::make_shared<FaultyDataset>(numbered_dataset(20), std::set<int64_t>{13});
        data::LoaderOptions o = options(4, false, true);
        o.num_workers = workers;
        data::DataLoader loader(faulty, o);
        for (int i = 0; i < 3; ++i) REQUIRE(loader.next());  // batches 0-2 are fine
        const std::string message = error_message([&] { loader.next(); });
        INFO(message);
        CHECK(message.find("example 13 (faulty.h5: trace 'T13')") != std::string::npos);
        CHECK(message.find("dataset has 17 samples, expected 3") != std::string::npos);
        CHECK(message.find("batch 3 of epoch 0") != std::string::npos);
        CHECK(loader.state() == data::LoaderState{0, 3});  // it stays at the failed batch
        CHECK_THROWS_AS(loader.next(), Error);             // and fails again there
    }
    // A reader's std::exception reaches the loop as a strata::Error naming the item too.
    auto buggy = std::make_shared<FaultyDataset>(numbered_dataset(8), std::set<int64_t>{5}, true);
    data::LoaderOptions o = options(4, false, true);
    o.num_workers = 2;
    data::DataLoader loader(buggy, o);
    REQUIRE(loader.next());
    const std::string message = error_message([&] { loader.next(); });
    CHECK(message.find("example 5 (faulty.h5: trace 'T5'): vector::_M_range_check") != std::string::npos);
    // A transform's error names the transform.
    o.transforms = {std::make_shared<FailOn>(6)};
    data::DataLoader transformed(numbered_dataset(8), o);
    REQUIRE(transformed.next());
    const std::string failed = error_message([&] { transformed.next(); });
    CHECK(failed.find("example 6 (numbered: example 6): transform fail_on(6): the trace is shorter") !=
          std::string::npos);
}

TEST_CASE("DataLoader rejects an example whose fields differ from the others', naming it", "[data][loader]") {
    class Ragged : public data::Dataset {
    public:
        int64_t size() const override { return 6; }
        data::Example get(int64_t i) const override {
            return {{"index", Tensor::full({}, static_cast<double>(i), DType::i32)},
                    {"x", Tensor::zeros({i == 4 ? 5 : 3})}};
        }
        std::string describe(int64_t i) const override { return "ragged.segy: trace " + std::to_string(i); }
    };
    data::DataLoader loader(std::make_shared<Ragged>(), options(2, false, true));
    CHECK(loader.example_layout().at("x").shape == Shape{3});
    REQUIRE(loader.next());
    REQUIRE(loader.next());
    const std::string message = error_message([&] { loader.next(); });
    CHECK(message.find("example 4 (ragged.segy: trace 4)") != std::string::npos);
    CHECK(message.find("field 'x' is f32[5], expected f32[3]") != std::string::npos);
}

TEST_CASE("DataLoader with skip_corrupt replaces corrupt examples, counts them, keeps batch shapes",
          "[data][loader]") {
    auto faulty = std::make_shared<FaultyDataset>(numbered_dataset(12), std::set<int64_t>{0, 5, 6});
    data::LoaderOptions o = options(4, false, true);
    o.skip_corrupt = true;
    o.num_workers = 2;
    data::DataLoader loader(faulty, o);  // example 0 is corrupt: the layout comes from example 1
    const std::vector<data::Example> batches = rest_of_epoch(loader);
    REQUIRE(batches.size() == 3);
    // Each corrupt example's place goes to the next readable one of the order.
    CHECK(indices_of(batches[0]) == std::vector<int64_t>{1, 1, 2, 3});
    CHECK(indices_of(batches[1]) == std::vector<int64_t>{4, 7, 7, 7});
    CHECK(indices_of(batches[2]) == std::vector<int64_t>{8, 9, 10, 11});
    CHECK(loader.skipped() == 4);  // 0 in batch 0; 5 and 6 for row 1 of batch 1, 6 again for row 2
    CHECK(loader.last_skipped_error().find("faulty.h5: trace 'T6'") != std::string::npos);

    // Too many in a row is an error all the same.
    o.max_consecutive_corrupt = 2;
    data::DataLoader strict(faulty, o);
    REQUIRE(strict.next());
    const std::string message = error_message([&] { strict.next(); });
    CHECK(message.find("2 corrupt examples in a row in batch 1 of epoch 0") != std::string::npos);
    CHECK(message.find("trace 'T6'") != std::string::npos);
    // Without skip_corrupt the first corrupt example is an error.
    CHECK_THROWS_AS(data::DataLoader(faulty, options(4, false, true)), Error);
}

TEST_CASE("DataLoader rejects bad options with the option's name", "[data][loader]") {
    auto ds = numbered_dataset(10);
    const auto message = [&](auto change) {
        data::LoaderOptions o = options(2, true, true);
        change(o);
        return error_message([&] { data::DataLoader(ds, o); });
    };
    CHECK(message([](auto &o) { o.batch_size = 0; }).find("batch_size must be positive, got 0") != std::string::npos);
    CHECK(message([](auto &o) { o.num_workers = -1; }).find("num_workers must be in [0, 1024], got -1") !=
          std::string::npos);
    CHECK(message([](auto &o) { o.prefetch_factor = 0; }).find("prefetch_factor") != std::string::npos);
    CHECK(message([](auto &o) { o.world_size = 0; }).find("world_size must be positive") != std::string::npos);
    CHECK(message([](auto &o) { o.transforms = {nullptr}; }).find("transform 0 is null") != std::string::npos);
    CHECK(message([](auto &o) { o.batch_size = 11; }).find("10 examples make no full batch of 11") !=
          std::string::npos);
    // A batch size near 2^63 neither overflows nor makes a batch.
    CHECK(message([](auto &o) {
              o.batch_size = INT64_MAX;
              o.world_size = 3;
          }).find("no full batch") != std::string::npos);
    CHECK(error_message([] { data::DataLoader(nullptr); }).find("dataset is null") != std::string::npos);
}
