#pragma once
/// \file
/// Amplitude normalisation: by the largest absolute value (per trace, or per channel), or each
/// channel by its standard deviation. A trace or channel of zeros is left as it is (nothing to
/// scale). Deterministic.

#include "runtime/data/dataset.h"

#include <string>

namespace strata::data {

struct NormalizeMaxOptions {
    bool per_channel = false;  ///< divide each channel by its own max |x| (else one max per trace)
    std::string key = "waveform";
};

/// x / max|x|, the maximum taken over the whole trace (all channels) or each channel.
class NormalizeMax : public Transform {
public:
    explicit NormalizeMax(NormalizeMaxOptions options = {}) : options_(std::move(options)) {}
    void apply(Example &example, Generator &rng) const override;
    std::string describe() const override;

private:
    NormalizeMaxOptions options_;
};

/// Each channel divided by its standard deviation (population: the mean of squared deviations,
/// numpy.std's default). The mean is not removed: compose with Demean for that.
class NormalizeStd : public Transform {
public:
    explicit NormalizeStd(std::string key = "waveform") : key_(std::move(key)) {}
    void apply(Example &example, Generator &rng) const override;
    std::string describe() const override { return "normalize(std per channel)"; }

private:
    std::string key_;
};

}  // namespace strata::data
