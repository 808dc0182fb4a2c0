#include "runtime/data/transforms/detrend.h"

#include "runtime/data/transforms/waveform.h"

namespace strata::data {

void Demean::apply(Example &example, Generator &) const {
    Waveform waveform(example, key_, "Demean");
    const int64_t n = waveform.length();
    for (int64_t c = 0; c < waveform.channels(); ++c) {
        double *samples = waveform.channel(c);
        const double mean = mean_of(samples, n);
        for (int64_t t = 0; t < n; ++t) samples[t] -= mean;
    }
    waveform.store();
}

void Detrend::apply(Example &example, Generator &) const {
    Waveform waveform(example, key_, "Detrend");
    const int64_t n = waveform.length();
    // Centred time u = t - (n-1)/2 makes the normal equations diagonal: a = mean(x),
    // b = sum(u x) / sum(u^2), which is also better conditioned for long traces.
    const double centre = static_cast<double>(n - 1) / 2.0;
    double u_squared = 0.0;
    for (int64_t t = 0; t < n; ++t) u_squared += (t - centre) * (t - centre);
    for (int64_t c = 0; c < waveform.channels(); ++c) {
        double *samples = waveform.channel(c);
        double sum = 0.0, u_x = 0.0;
        for (int64_t t = 0; t < n; ++t) {
            sum += samples[t];
            u_x += (t - centre) * samples[t];
        }
        const double mean = sum / static_cast<double>(n);
        const double slope = u_squared > 0.0 ? u_x / u_squared : 0.0;
        for (int64_t t = 0; t < n; ++t) samples[t] -= mean + slope * (t - centre);
    }
    waveform.store();
}

}  // namespace strata::data
