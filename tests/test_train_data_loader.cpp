// DataLoader and Dataset: batching, drop_last, shuffling (a permutation, seeded, new per epoch),
// normalization, slicing, and their errors.
#include "frontend/train/data_loader.h"

#include <catch2/catch.hpp>

#include "tests/support/example_datasets.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>

using namespace strata;

namespace {

/// N examples: inputs and targets are numbered_rows(n), so a batch says which rows it holds.
Dataset numbered(int64_t n) {
    auto [x, t] = strata::testing::numbered_rows(n);
    return {x, t};
}

std::vector<int64_t> rows_of(const Batch &b) {
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < b.targets.numel(); ++i) {
        const int64_t r = static_cast<int64_t>(b.targets.get_flat(i));
        rows.push_back(r);
        // The input row travels with its target.
        CHECK(b.inputs.get_flat(3 * i) == static_cast<double>(r));
        CHECK(b.inputs.get_flat(3 * i + 1) == -static_cast<double>(r));
        CHECK(b.inputs.get_flat(3 * i + 2) == 0.5 * static_cast<double>(r));
    }
    return rows;
}

/// Every row of the current epoch, batch after batch.
std::vector<int64_t> epoch_order(const DataLoader &loader) {
    std::vector<int64_t> all;
    for (int64_t i = 0; i < loader.num_batches(); ++i) {
        const std::vector<int64_t> rows = rows_of(loader.batch(i));
        all.insert(all.end(), rows.begin(), rows.end());
    }
    return all;
}

std::vector<int64_t> iota(int64_t n) {
    std::vector<int64_t> v(static_cast<size_t>(n));
    std::iota(v.begin(), v.end(), 0);
    return v;
}

}  // namespace

TEST_CASE("DataLoader without shuffling gives consecutive batches", "[train][data_loader]") {
    DataLoader loader(numbered(10), {4, false, 0, false});
    REQUIRE(loader.num_batches() == 3);
    const Batch first = loader.batch(0), last = loader.batch(2);
    CHECK(first.inputs.shape() == Shape{4, 3});
    CHECK(first.targets.shape() == Shape{4});
    CHECK(first.targets.dtype() == DType::i32);
    CHECK(rows_of(first) == std::vector<int64_t>{0, 1, 2, 3});
    // The last batch holds the 2 remaining examples.
    CHECK(last.inputs.shape() == Shape{2, 3});
    CHECK(rows_of(last) == std::vector<int64_t>{8, 9});
    CHECK(epoch_order(loader) == iota(10));
    // Batches are copies: writing into one leaves the dataset alone.
    Batch b = loader.batch(0);
    b.inputs.set_flat(0, 99.0);
    CHECK(loader.batch(0).inputs.get_flat(0) == 0.0);
}

TEST_CASE("drop_last drops the smaller last batch", "[train][data_loader]") {
    DataLoader loader(numbered(10), {4, false, 0, true});
    CHECK(loader.num_batches() == 2);
    CHECK(epoch_order(loader) == iota(8));
    // An exact multiple drops nothing.
    CHECK(DataLoader(numbered(12), {4, false, 0, true}).num_batches() == 3);
    CHECK(DataLoader(numbered(12), {4, false, 0, false}).num_batches() == 3);
    // With shuffling every batch is full and the dropped examples change from epoch to epoch.
    DataLoader shuffled(numbered(10), {4, true, 1, true});
    std::vector<std::vector<int64_t>> kept;
    for (int64_t e = 0; e < 6; ++e) {
        shuffled.set_epoch(e);
        CHECK(shuffled.batch(1).inputs.size(0) == 4);
        std::vector<int64_t> order = epoch_order(shuffled);
        std::sort(order.begin(), order.end());
        kept.push_back(order);
    }
    CHECK(std::count(kept.begin(), kept.end(), kept[0]) < 6);
}

TEST_CASE("Shuffling gives a seeded permutation, new each epoch", "[train][data_loader]") {
    const Dataset data = numbered(50);
    DataLoader a(data, {8, true, 7, false});
    DataLoader b(data, {8, true, 7, false});
    DataLoader c(data, {8, true, 8, false});

    const std::vector<int64_t> a0 = epoch_order(a);
    std::vector<int64_t> sorted = a0;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == iota(50));  // every example exactly once
    CHECK(a0 != iota(50));
    CHECK(epoch_order(b) == a0);  // same seed, same order
    CHECK(epoch_order(c) != a0);  // another seed, another order

    a.set_epoch(1);
    const std::vector<int64_t> a1 = epoch_order(a);
    CHECK(a1 != a0);
    sorted = a1;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == iota(50));
    // Epoch orders are a function of (seed, epoch) alone: revisiting an epoch repeats it.
    b.set_epoch(1);
    CHECK(epoch_order(b) == a1);
    a.set_epoch(0);
    CHECK(epoch_order(a) == a0);
}

TEST_CASE("DataLoader batches image tensors and non-contiguous inputs", "[train][data_loader]") {
    // [N, 1, 2, 2] images whose four pixels all hold the example index.
    Tensor images = Tensor::empty({6, 1, 2, 2});
    for (int64_t i = 0; i < images.numel(); ++i) images.set_flat(i, static_cast<double>(i / 4));
    Tensor labels = Tensor::arange(6).to(DType::i32);
    DataLoader loader({images, labels}, {3, true, 2, true});
    for (int64_t i = 0; i < loader.num_batches(); ++i) {
        const Batch b = loader.batch(i);
        REQUIRE(b.inputs.shape() == Shape{3, 1, 2, 2});
        for (int64_t k = 0; k < 3; ++k)
            for (int64_t p = 0; p < 4; ++p) CHECK(b.inputs.get_flat(4 * k + p) == b.targets.get_flat(k));
    }
    // A transposed view: example i is column i of the stored [3, N] tensor.
    Tensor stored = Tensor::empty({3, 5});
    for (int64_t r = 0; r < 3; ++r)
        for (int64_t i = 0; i < 5; ++i) stored.set_flat(r * 5 + i, static_cast<double>(10 * i + r));
    DataLoader columns({stored.permute({1, 0}), Tensor::arange(5)}, {5, false, 0, true});
    const Batch all = columns.batch(0);
    for (int64_t i = 0; i < 5; ++i)
        for (int64_t r = 0; r < 3; ++r)
            CHECK(all.inputs.get_flat(3 * i + r) == static_cast<double>(10 * i + r));
}

TEST_CASE("Dataset::normalized and Dataset::slice", "[train][data_loader]") {
    const Dataset data = numbered(5);
    const Dataset norm = data.normalized(2.0, 4.0);
    for (int64_t i = 0; i < data.inputs.numel(); ++i)
        CHECK(norm.inputs.get_flat(i) == Approx((data.inputs.get_flat(i) - 2.0) / 4.0));
    CHECK(norm.targets.raw_data() == data.targets.raw_data());  // targets shared
    CHECK(data.inputs.get_flat(3) == 1.0);                      // the original is untouched
    CHECK(norm.size() == 5);

    const Dataset part = data.slice(1, 4);
    CHECK(part.size() == 3);
    CHECK(rows_of({part.inputs, part.targets}) == std::vector<int64_t>{1, 2, 3});
    CHECK(data.slice(2, 2).size() == 0);
}

TEST_CASE("DataLoader and Dataset errors", "[train][data_loader][errors]") {
    using Catch::Contains;
    const Dataset data = numbered(5);
    CHECK_THROWS_WITH(DataLoader(data, {0, false, 0, false}), Contains("batch_size must be positive, got 0"));
    CHECK_THROWS_WITH(DataLoader(data, {8, true, 0, true}),
                      Contains("5 examples make no full batch of 8 (drop_last is on)"));
    DataLoader loader(data, {2, false, 0, false});
    CHECK_THROWS_WITH(loader.batch(3), Contains("batch 3 is out of range (3 batches)"));
    CHECK_THROWS_WITH(loader.batch(-1), Contains("batch -1 is out of range"));
    CHECK_THROWS_WITH(DataLoader(Dataset{data.inputs, Tensor::zeros({4}, DType::i32)}, {2, false, 0, false}),
                      Contains("inputs [5, 3] and targets [4] must have the same number of examples"));
    CHECK_THROWS_WITH(DataLoader(Dataset{data.inputs, Tensor()}, {2, false, 0, false}),
                      Contains("inputs and targets must both be set"));
    CHECK_THROWS_WITH(data.normalized(0.0, 0.0), Contains("stddev must be positive, got 0"));
    CHECK_THROWS_WITH(data.slice(3, 6), Contains("[3, 6) is outside the 5 examples"));
    CHECK_THROWS_WITH(data.slice(4, 2), Contains("[4, 2) is outside"));
}

TEST_CASE("A batch size near 2^63 makes one batch of everything, not an overflow", "[train][data_loader]") {
    DataLoader loader(numbered(10), {std::numeric_limits<int64_t>::max(), false, 0, false});
    REQUIRE(loader.num_batches() == 1);
    CHECK(rows_of(loader.batch(0)) == iota(10));
}
