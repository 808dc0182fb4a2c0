#pragma once
/// \file
/// What the waveform transforms share: an example's waveform (a [C, L] or [L] float tensor)
/// copied out as doubles channel by channel, and written back as a new tensor of its dtype,
/// so a transform never writes into storage that the dataset may still hold.

#include "runtime/data/dataset.h"

#include <string>
#include <vector>

namespace strata::data {

/// The tensor named `key` in `example`; throws naming `transform` and the keys present.
Tensor &example_tensor(Example &example, const std::string &key, const std::string &transform);

/// An example's waveform as doubles: `channels()` rows of `length()` samples.
class Waveform {
public:
    /// Reads `example[key]`: f32 or f64, shape [C, L] or [L] (one channel), L >= 1.
    Waveform(Example &example, const std::string &key, const std::string &transform);

    int64_t channels() const { return channels_; }
    int64_t length() const { return length_; }
    double *channel(int64_t c) { return values_.data() + c * length_; }
    const double *channel(int64_t c) const { return values_.data() + c * length_; }
    std::vector<double> &values() { return values_; }

    /// Changes the number of samples per channel (contents unspecified; for crops).
    void resize(int64_t length);
    /// Writes the samples back into the example as a new tensor of the original dtype and rank.
    void store();

private:
    Example &example_;
    std::string key_;
    DType dtype_;
    bool one_dimensional_;
    int64_t channels_ = 1, length_ = 0;
    std::vector<double> values_;
};

/// The mean of `n` samples (summed in order).
double mean_of(const double *samples, int64_t n);

/// Time picks (P or S arrival sample indices) that move with the samples: one-element float
/// tensors, NaN where the example has no such pick.
class Picks {
public:
    Picks(Example &example, const std::vector<std::string> &keys, const std::string &transform);
    /// The pick `key` (which must be one of `keys`), NaN when absent.
    double value(const std::string &key) const;
    /// Adds `shift` samples to every pick that is present, writing new tensors; with `wrap` > 0
    /// the result is taken modulo `wrap` (a circular shift of a trace of `wrap` samples).
    void shift_all(double shift, double wrap = 0.0);

private:
    Example &example_;
    std::vector<std::string> keys_;
};

}  // namespace strata::data
