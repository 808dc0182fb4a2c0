#pragma once
/// \file
/// A Hann taper at both ends of each channel, as ObsPy's Trace.taper(max_percentage,
/// type="hann"): w = floor(fraction * L) samples at each end are multiplied by the rising
/// (falling) half of a Hann window of 2w + 1 points (2w when 2w == L). Deterministic.

#include "runtime/data/dataset.h"

#include <string>

namespace strata::data {

struct TaperOptions {
    double fraction = 0.05;  ///< of the trace's length at each end, in [0, 0.5]
    std::string key = "waveform";
};

class Taper : public Transform {
public:
    explicit Taper(TaperOptions options = {});
    void apply(Example &example, Generator &rng) const override;
    std::string describe() const override;

private:
    TaperOptions options_;
};

}  // namespace strata::data
