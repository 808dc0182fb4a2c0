#include "runtime/data/transforms/taper.h"

#include "runtime/data/transforms/waveform.h"

#include <cmath>

namespace strata::data {

Taper::Taper(TaperOptions options) : options_(std::move(options)) {
    if (!(options_.fraction >= 0.0 && options_.fraction <= 0.5))
        fail("Taper: fraction is {}; expected a fraction of the trace in [0, 0.5] at each end", options_.fraction);
}

void Taper::apply(Example &example, Generator &) const {
    Waveform waveform(example, options_.key, "Taper");
    const int64_t n = waveform.length();
    const auto width = static_cast<int64_t>(options_.fraction * static_cast<double>(n));
    if (width == 0) return;
    // numpy.hanning(m)[k] = 0.5 - 0.5 cos(2 pi k / (m - 1)); ObsPy takes its first and last `width` points.
    const int64_t points = 2 * width == n ? 2 * width : 2 * width + 1;
    const double pi = std::acos(-1.0);
    for (int64_t k = 0; k < width; ++k) {
        const double weight = 0.5 - 0.5 * std::cos(2.0 * pi * static_cast<double>(k) / static_cast<double>(points - 1));
        for (int64_t c = 0; c < waveform.channels(); ++c) {
            waveform.channel(c)[k] *= weight;
            waveform.channel(c)[n - 1 - k] *= weight;
        }
    }
    waveform.store();
}

std::string Taper::describe() const { return fmt::format("taper(hann, {} at each end)", options_.fraction); }

}  // namespace strata::data
