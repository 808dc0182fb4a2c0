#pragma once
/// \file
/// The data layer's two interfaces: a dataset read by index (torch.utils.data.Dataset's
/// map-style) and a transform applied to each example in the loader's worker threads.
/// Readers of files (HDF5, SEG-Y, MiniSEED, ...) implement `Dataset`; the loader
/// (runtime/data/loader.h) batches, shuffles, shards and prefetches over any of them.

#include "runtime/generator.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace strata::data {

/// One example: named tensors ("waveform", "label", "p_sample", ...). Every example of a
/// dataset has the same names, dtypes and shapes, so that examples stack into batches.
using Example = std::map<std::string, Tensor>;

/// Examples read by index. `get` may be called from several threads at once: an
/// implementation either holds no mutable state or guards it.
class Dataset {
public:
    virtual ~Dataset() = default;

    /// The number of examples.
    virtual int64_t size() const = 0;

    /// Example `index` (0 <= index < size()). A malformed item is a strata::Error whose
    /// message names the file and the item (use `describe(index)`).
    virtual Example get(int64_t index) const = 0;

    /// Where example `index` comes from, for error messages: "stead.h5: trace 'B023.NC_...'".
    virtual std::string describe(int64_t index) const { return "example " + std::to_string(index); }
};

/// A change applied to each example after it is read and before it is batched (crop,
/// noise, filtering, normalisation...). `rng` is seeded per example from the loader's seed,
/// the epoch and the example's index, so a batch is the same whichever worker made it.
/// Transforms hold no mutable state: one object serves every worker thread.
class Transform {
public:
    virtual ~Transform() = default;
    virtual void apply(Example &example, Generator &rng) const = 0;
    /// A short description for logs: "bandpass(1 Hz, 20 Hz, order 4)".
    virtual std::string describe() const = 0;
};

using DatasetPtr = std::shared_ptr<const Dataset>;
using TransformPtr = std::shared_ptr<const Transform>;

}  // namespace strata::data
