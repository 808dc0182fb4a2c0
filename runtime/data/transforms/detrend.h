#pragma once
/// \file
/// Removing the mean or the linear trend of each channel (ObsPy's detrend("demean") and
/// detrend("linear")). Deterministic: the generator is not used.

#include "runtime/data/dataset.h"

#include <string>

namespace strata::data {

/// Subtracts each channel's mean.
class Demean : public Transform {
public:
    explicit Demean(std::string key = "waveform") : key_(std::move(key)) {}
    void apply(Example &example, Generator &rng) const override;
    std::string describe() const override { return "demean"; }

private:
    std::string key_;
};

/// Subtracts from each channel the straight line a + b t (t = 0, 1, ...) fitted by least
/// squares. A one-sample channel becomes 0.
class Detrend : public Transform {
public:
    explicit Detrend(std::string key = "waveform") : key_(std::move(key)) {}
    void apply(Example &example, Generator &rng) const override;
    std::string describe() const override { return "detrend(linear)"; }

private:
    std::string key_;
};

}  // namespace strata::data
