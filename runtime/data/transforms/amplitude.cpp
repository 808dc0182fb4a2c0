#include "runtime/data/transforms/amplitude.h"

#include "runtime/data/transforms/waveform.h"

#include <algorithm>
#include <cmath>

namespace strata::data {

namespace {

void check_range(const char *transform, const char *what, double low, double high) {
    if (!std::isfinite(low) || !std::isfinite(high) || low > high)
        fail("{}: the {} range [{}, {}] is invalid; expected finite low <= high", transform, what, low, high);
}

double draw_uniform(Generator &rng, double low, double high) { return low + (high - low) * rng.uniform(); }

}  // namespace

AmplitudeScale::AmplitudeScale(AmplitudeScaleOptions options) : options_(std::move(options)) {
    check_range("AmplitudeScale", "factor", options_.low, options_.high);
}

void AmplitudeScale::apply(Example &example, Generator &rng) const {
    Waveform waveform(example, options_.key, "AmplitudeScale");
    double factor = draw_uniform(rng, options_.low, options_.high);
    for (int64_t c = 0; c < waveform.channels(); ++c) {
        if (options_.per_channel && c > 0) factor = draw_uniform(rng, options_.low, options_.high);
        double *samples = waveform.channel(c);
        for (int64_t t = 0; t < waveform.length(); ++t) samples[t] *= factor;
    }
    waveform.store();
}

std::string AmplitudeScale::describe() const {
    return fmt::format("amplitude_scale([{}, {}]{})", options_.low, options_.high,
                       options_.per_channel ? ", per channel" : "");
}

GaussianNoise::GaussianNoise(GaussianNoiseOptions options) : options_(std::move(options)) {
    check_range("GaussianNoise", "SNR (dB)", options_.snr_db_low, options_.snr_db_high);
}

void GaussianNoise::apply(Example &example, Generator &rng) const {
    Waveform waveform(example, options_.key, "GaussianNoise");
    const double snr_db = draw_uniform(rng, options_.snr_db_low, options_.snr_db_high);
    // The noise amplitude relative to the signal's RMS, 10^(-snr/20): no 0/0 for a silent
    // channel even where 10^(snr/10) underflows to 0.
    const double relative = std::pow(10.0, -snr_db / 20.0);
    for (int64_t c = 0; c < waveform.channels(); ++c) {
        double *samples = waveform.channel(c);
        // The RMS of samples scaled by the largest |sample|, so squares of large samples
        // (1e200) do not overflow to inf.
        double peak = 0.0;
        for (int64_t t = 0; t < waveform.length(); ++t) {
            if (!std::isfinite(samples[t]))
                fail("GaussianNoise: '{}' channel {} sample {} is {}; expected finite samples", options_.key, c, t,
                     samples[t]);
            peak = std::max(peak, std::fabs(samples[t]));
        }
        double scaled_power = 0.0;
        if (peak > 0)
            for (int64_t t = 0; t < waveform.length(); ++t) scaled_power += (samples[t] / peak) * (samples[t] / peak);
        const double rms = peak * std::sqrt(scaled_power / static_cast<double>(waveform.length()));
        const double stddev = peak > 0 ? rms * relative : 0.0;
        if (!std::isfinite(stddev))
            fail("GaussianNoise: '{}' channel {}: noise of RMS {} x 10^({}/20) is not a finite number; expected an SNR "
                 "the samples can hold",
                 options_.key, c, rms, -snr_db);
        for (int64_t t = 0; t < waveform.length(); ++t) samples[t] += stddev * rng.fast_normal();
    }
    waveform.store();
}

std::string GaussianNoise::describe() const {
    return fmt::format("gaussian_noise(SNR {}..{} dB)", options_.snr_db_low, options_.snr_db_high);
}

}  // namespace strata::data
