#include "runtime/data/transforms/window.h"

#include "runtime/data/transforms/waveform.h"

#include <algorithm>
#include <cmath>

namespace strata::data {

namespace {

void check_pick_options(const std::string &transform, const std::vector<std::string> &picks,
                        const std::string &keep_pick, int64_t margin) {
    if (margin < 0) fail("{}: margin is {}; expected >= 0", transform, margin);
    if (!keep_pick.empty() && std::find(picks.begin(), picks.end(), keep_pick) == picks.end())
        fail("{}: keep_pick '{}' is not one of the picks [{}]", transform, keep_pick, fmt::join(picks, ", "));
}

/// The value drawn uniformly from the integers [low, high].
int64_t draw_between(Generator &rng, int64_t low, int64_t high) {
    return low + static_cast<int64_t>(rng.below(static_cast<uint64_t>(high - low) + 1));
}

}  // namespace

RandomCrop::RandomCrop(RandomCropOptions options) : options_(std::move(options)) {
    if (options_.length < 1) fail("RandomCrop: length is {}; expected >= 1", options_.length);
    check_pick_options("RandomCrop", options_.picks, options_.keep_pick, options_.margin);
    if (2 * options_.margin >= options_.length)
        fail("RandomCrop: a margin of {} samples on both sides leaves no room in a window of {}",
             options_.margin, options_.length);
}

void RandomCrop::apply(Example &example, Generator &rng) const {
    Waveform waveform(example, options_.key, "RandomCrop");
    Picks picks(example, options_.picks, "RandomCrop");
    const int64_t length = options_.length, total = waveform.length();
    if (total < length)
        fail("RandomCrop: '{}' has {} samples; cannot crop a window of {}", options_.key, total, length);
    int64_t low = 0, high = total - length;
    if (!options_.keep_pick.empty()) {
        const double pick = picks.value(options_.keep_pick);
        if (!std::isnan(pick)) {
            // The pick lies in [offset + margin, offset + length - 1 - margin].
            low = std::max<int64_t>(low, static_cast<int64_t>(std::ceil(pick - (length - 1 - options_.margin))));
            high = std::min<int64_t>(high, static_cast<int64_t>(std::floor(pick - options_.margin)));
            if (low > high)
                fail("RandomCrop: no window of {} samples out of {} keeps '{}' (at sample {}) {} samples "
                     "inside",
                     length, total, options_.keep_pick, pick, options_.margin);
        }
    }
    const int64_t offset = draw_between(rng, low, high);
    for (int64_t c = 0; c < waveform.channels(); ++c) {
        const double *from = waveform.channel(c) + offset;
        std::copy(from, from + length, waveform.values().begin() + c * length);
    }
    waveform.resize(length);
    waveform.store();
    picks.shift_all(-static_cast<double>(offset));
}

std::string RandomCrop::describe() const {
    return fmt::format("random_crop({} samples{})", options_.length,
                       options_.keep_pick.empty() ? "" : ", keeping " + options_.keep_pick);
}

RandomShift::RandomShift(RandomShiftOptions options) : options_(std::move(options)) {
    if (options_.max_shift < 0) fail("RandomShift: max_shift is {}; expected >= 0", options_.max_shift);
    check_pick_options("RandomShift", options_.picks, options_.keep_pick, options_.margin);
    if (options_.circular && !options_.keep_pick.empty())
        fail("RandomShift: keep_pick '{}' with a circular shift: every pick stays inside a circular shift",
             options_.keep_pick);
}

void RandomShift::apply(Example &example, Generator &rng) const {
    Waveform waveform(example, options_.key, "RandomShift");
    Picks picks(example, options_.picks, "RandomShift");
    const int64_t length = waveform.length();
    int64_t low = -options_.max_shift, high = options_.max_shift;
    if (!options_.keep_pick.empty()) {
        const double pick = picks.value(options_.keep_pick);
        if (!std::isnan(pick)) {
            // The pick moves to pick + s, which must lie in [margin, length - 1 - margin].
            low = std::max<int64_t>(low, static_cast<int64_t>(std::ceil(options_.margin - pick)));
            high = std::min<int64_t>(high, static_cast<int64_t>(std::floor(length - 1 - options_.margin - pick)));
            if (low > high)
                fail("RandomShift: no shift within +-{} keeps '{}' (at sample {}) {} samples inside a trace "
                     "of {}",
                     options_.max_shift, options_.keep_pick, pick, options_.margin, length);
        }
    }
    const int64_t shift = draw_between(rng, low, high);
    std::vector<double> row(static_cast<size_t>(length));
    for (int64_t c = 0; c < waveform.channels(); ++c) {
        double *samples = waveform.channel(c);
        for (int64_t t = 0; t < length; ++t) {
            int64_t from = t - shift;
            if (options_.circular) from = ((from % length) + length) % length;
            row[static_cast<size_t>(t)] = from >= 0 && from < length ? samples[from] : 0.0;
        }
        std::copy(row.begin(), row.end(), samples);
    }
    waveform.store();
    picks.shift_all(static_cast<double>(shift), options_.circular ? static_cast<double>(length) : 0.0);
}

std::string RandomShift::describe() const {
    return fmt::format("random_shift(+-{} samples{}{})", options_.max_shift, options_.circular ? ", circular" : "",
                       options_.keep_pick.empty() ? "" : ", keeping " + options_.keep_pick);
}

}  // namespace strata::data
