#pragma once
/// \file
/// Which examples a rank reads in an epoch, and in which order: a seeded shuffle of the whole
/// dataset (the same on every rank), cut into batches, shared out across ranks like
/// torch.utils.data.DistributedSampler but without its padding, so the ranks' examples are
/// disjoint. A pure function of its arguments: the order after a resume is the order.

#include <cstdint>
#include <vector>

namespace strata::data {

struct EpochOrderOptions {
    int64_t batch_size = 64;
    /// A new permutation each epoch, from (seed, epoch).
    bool shuffle = true;
    uint64_t seed = 0;
    /// Drop the examples that would make a short batch. With several ranks, every rank then
    /// gets the same number of full batches: the first world_size x batch_size x
    /// floor(size / (world_size x batch_size)) examples of the shuffled order are used.
    bool drop_last = true;
    /// This process's shard: ranks read disjoint examples that together cover the dataset.
    int64_t rank = 0;
    int64_t world_size = 1;
};

/// Throws a strata::Error naming the option when one is out of range.
void check_epoch_order_options(const EpochOrderOptions &options);

/// The permutation of [0, size) for `epoch` (the identity without shuffle): Fisher-Yates with
/// a Generator seeded from (seed, epoch), the same order as the in-memory
/// frontend/train/data_loader.h gives for one rank.
std::vector<int64_t> epoch_permutation(int64_t size, bool shuffle, uint64_t seed, int64_t epoch);

/// The examples `options.rank` reads in `epoch`, in order: positions rank, rank + world_size,
/// rank + 2 world_size, ... of the (trimmed, with drop_last) permutation. Batch k is elements
/// [k batch_size, (k+1) batch_size). Over all ranks, without drop_last, every example appears
/// exactly once; with it, every used example once.
std::vector<int64_t> epoch_order(int64_t size, const EpochOrderOptions &options, int64_t epoch);

/// How many batches `order` (of epoch_order) makes.
int64_t batches_in(int64_t order_size, const EpochOrderOptions &options);

/// The seed of the generator that transforms example `index` in `epoch`: the same whichever
/// worker reads it and whichever rank.
uint64_t example_seed(uint64_t seed, int64_t epoch, int64_t index);

}  // namespace strata::data
