#include "runtime/data/transforms/normalize.h"

#include "runtime/data/transforms/waveform.h"

#include <cmath>

namespace strata::data {

namespace {

void divide(double *samples, int64_t n, double by) {
    if (by == 0.0) return;
    for (int64_t t = 0; t < n; ++t) samples[t] /= by;
}

double max_abs(const double *samples, int64_t n) {
    double most = 0.0;
    for (int64_t t = 0; t < n; ++t) most = std::max(most, std::abs(samples[t]));
    return most;
}

}  // namespace

void NormalizeMax::apply(Example &example, Generator &) const {
    Waveform waveform(example, options_.key, "NormalizeMax");
    const int64_t n = waveform.length();
    double trace_max = 0.0;
    for (int64_t c = 0; c < waveform.channels(); ++c) trace_max = std::max(trace_max, max_abs(waveform.channel(c), n));
    for (int64_t c = 0; c < waveform.channels(); ++c)
        divide(waveform.channel(c), n, options_.per_channel ? max_abs(waveform.channel(c), n) : trace_max);
    waveform.store();
}

std::string NormalizeMax::describe() const {
    return options_.per_channel ? "normalize(max per channel)" : "normalize(max per trace)";
}

void NormalizeStd::apply(Example &example, Generator &) const {
    Waveform waveform(example, key_, "NormalizeStd");
    const int64_t n = waveform.length();
    for (int64_t c = 0; c < waveform.channels(); ++c) {
        double *samples = waveform.channel(c);
        const double mean = mean_of(samples, n);
        double squares = 0.0;
        for (int64_t t = 0; t < n; ++t) squares += (samples[t] - mean) * (samples[t] - mean);
        divide(samples, n, std::sqrt(squares / static_cast<double>(n)));
    }
    waveform.store();
}

}  // namespace strata::data
