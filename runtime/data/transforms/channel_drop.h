#pragma once
/// \file
/// Random channel drop (SeisBench's ChannelDropout): zeroes between 0 and C - 1 of the C
/// channels, so at least one survives, and by default scales the rest by C / (C - dropped) so
/// the expected amplitude is unchanged.

#include "runtime/data/dataset.h"

#include <string>

namespace strata::data {

struct ChannelDropOptions {
    bool rescale = true;  ///< multiply the kept channels by C / (C - dropped)
    std::string key = "waveform";
};

/// Draws: the number dropped d = rng.below(C), then the dropped channels as the first d of a
/// Fisher-Yates shuffle of 0..C-1 (rng.below(C - i) for i = 0..d-1).
class ChannelDrop : public Transform {
public:
    explicit ChannelDrop(ChannelDropOptions options = {}) : options_(std::move(options)) {}
    void apply(Example &example, Generator &rng) const override;
    std::string describe() const override;

private:
    ChannelDropOptions options_;
};

}  // namespace strata::data
