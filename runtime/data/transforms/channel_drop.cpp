#include "runtime/data/transforms/channel_drop.h"

#include "runtime/data/transforms/waveform.h"

#include <numeric>
#include <utility>
#include <vector>

namespace strata::data {

void ChannelDrop::apply(Example &example, Generator &rng) const {
    Waveform waveform(example, options_.key, "ChannelDrop");
    const int64_t channels = waveform.channels(), n = waveform.length();
    const auto dropped = static_cast<int64_t>(rng.below(static_cast<uint64_t>(channels)));
    if (dropped == 0) return;
    std::vector<int64_t> order(static_cast<size_t>(channels));
    std::iota(order.begin(), order.end(), 0);
    for (int64_t i = 0; i < dropped; ++i)
        std::swap(order[i], order[i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(channels - i)))]);
    std::vector<bool> drop(static_cast<size_t>(channels), false);
    for (int64_t i = 0; i < dropped; ++i) drop[order[i]] = true;
    const double scale = options_.rescale ? static_cast<double>(channels) / static_cast<double>(channels - dropped) : 1.0;
    for (int64_t c = 0; c < channels; ++c) {
        double *samples = waveform.channel(c);
        for (int64_t t = 0; t < n; ++t) samples[t] = drop[c] ? 0.0 : samples[t] * scale;
    }
    waveform.store();
}

std::string ChannelDrop::describe() const {
    return options_.rescale ? "channel_drop(rescaled)" : "channel_drop";
}

}  // namespace strata::data
