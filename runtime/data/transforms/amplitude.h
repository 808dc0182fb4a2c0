#pragma once
/// \file
/// Random changes of amplitude: scaling by a random factor, and Gaussian noise added at a
/// random signal-to-noise ratio.

#include "runtime/data/dataset.h"

#include <string>

namespace strata::data {

struct AmplitudeScaleOptions {
    double low = 0.5, high = 2.0;   ///< the factor is uniform in [low, high] (negative flips polarity)
    bool per_channel = false;       ///< one factor per channel instead of one for the example
    std::string key = "waveform";
};

/// Multiplies the waveform by low + (high - low) * rng.uniform(), drawn once, or once per
/// channel in channel order when `per_channel`.
class AmplitudeScale : public Transform {
public:
    explicit AmplitudeScale(AmplitudeScaleOptions options = {});
    void apply(Example &example, Generator &rng) const override;
    std::string describe() const override;

private:
    AmplitudeScaleOptions options_;
};

struct GaussianNoiseOptions {
    double snr_db_low = 10.0, snr_db_high = 10.0;  ///< the SNR (dB) is uniform in [low, high]
    std::string key = "waveform";
};

/// Adds white Gaussian noise at a signal-to-noise ratio drawn once per example: for each channel
/// c with signal power P_c = mean(x_c^2), noise of standard deviation sqrt(P_c / 10^(snr/10)).
/// Draws: the SNR (one rng.uniform()), then rng.fast_normal() for every sample in row-major order.
/// A channel of zeros stays zero (its power is 0).
class GaussianNoise : public Transform {
public:
    explicit GaussianNoise(GaussianNoiseOptions options = {});
    void apply(Example &example, Generator &rng) const override;
    std::string describe() const override;

private:
    GaussianNoiseOptions options_;
};

}  // namespace strata::data
