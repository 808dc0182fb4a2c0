#include "runtime/data/epoch_order.h"

#include "runtime/generator.h"

#include <strata/error.h>

#include <numeric>

namespace strata::data {
namespace {

/// splitmix64's finaliser: a bijection that spreads every input bit over the output.
uint64_t mix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

}  // namespace

void check_epoch_order_options(const EpochOrderOptions &options) {
    if (options.batch_size <= 0) fail("DataLoader: batch_size must be positive, got {}", options.batch_size);
    if (options.world_size <= 0) fail("DataLoader: world_size must be positive, got {}", options.world_size);
    if (options.rank < 0 || options.rank >= options.world_size)
        fail("DataLoader: rank {} is outside [0, {}) (world_size {})", options.rank, options.world_size,
             options.world_size);
}

std::vector<int64_t> epoch_permutation(int64_t size, bool shuffle, uint64_t seed, int64_t epoch) {
    if (size < 0) fail("DataLoader: the dataset's size is negative ({})", size);
    std::vector<int64_t> order(static_cast<size_t>(size));
    std::iota(order.begin(), order.end(), 0);
    if (!shuffle) return order;
    Generator gen(seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch) + 1);
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[gen.below(i)]);
    return order;
}

std::vector<int64_t> epoch_order(int64_t size, const EpochOrderOptions &options, int64_t epoch) {
    check_epoch_order_options(options);
    std::vector<int64_t> permutation = epoch_permutation(size, options.shuffle, options.seed, epoch);
    int64_t used = size;
    if (options.drop_last) {
        int64_t per_round = 0;  // examples one full batch on every rank takes
        if (__builtin_mul_overflow(options.world_size, options.batch_size, &per_round)) per_round = INT64_MAX;
        used = size / per_round * per_round;
    }
    std::vector<int64_t> order;
    order.reserve(static_cast<size_t>(used / options.world_size + 1));
    // Stepped so that a huge world_size cannot overflow the position.
    for (int64_t position = options.rank; position < used; position += options.world_size) {
        order.push_back(permutation[static_cast<size_t>(position)]);
        if (used - position <= options.world_size) break;
    }
    return order;
}

int64_t batches_in(int64_t order_size, const EpochOrderOptions &options) {
    const int64_t b = options.batch_size;
    return options.drop_last ? order_size / b : order_size / b + (order_size % b != 0);  // b may be near 2^63
}

uint64_t example_seed(uint64_t seed, int64_t epoch, int64_t index) {
    return mix(seed ^ mix(static_cast<uint64_t>(epoch) ^ mix(static_cast<uint64_t>(index))));
}

}  // namespace strata::data
