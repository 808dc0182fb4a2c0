#pragma once
/// \file
/// A zero-phase Butterworth band-pass, as ObsPy's Trace.filter("bandpass", freqmin, freqmax,
/// corners, zerophase=True): the digital filter is scipy's iirfilter(corners, ..., btype="band",
/// ftype="butter") (bilinear transform with pre-warped corners) run as second-order sections
/// forward, then backward over the result. The magnitude response is therefore the square of
/// the Butterworth one, |H|^2 = 1 / (1 + ((W^2 - W0^2) / (B W))^(2 corners)) with
/// W = tan(pi f / fs), W0^2 = W_min W_max, B = W_max - W_min, and the phase is zero. Like ObsPy,
/// no padding: the ends carry the filter's transients (taper first). Deterministic.

#include "runtime/data/dataset.h"

#include <array>
#include <string>
#include <vector>

namespace strata::data {

struct BandpassOptions {
    double freqmin = 1.0;        ///< lower corner (Hz), > 0
    double freqmax = 20.0;       ///< upper corner (Hz), freqmin < freqmax < sampling_rate / 2
    double sampling_rate = 100;  ///< samples per second of the waveforms
    int corners = 4;             ///< the Butterworth order, 1..16 (each pass: 2 * corners poles)
    std::string key = "waveform";
};

/// One second-order section: (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2).
struct BiquadSection {
    std::array<double, 3> b;
    std::array<double, 2> a;
};

/// The band-pass as `corners` second-order sections (the gain is 1 at the band's centre).
std::vector<BiquadSection> butterworth_bandpass_sections(const BandpassOptions &options);

class Bandpass : public Transform {
public:
    explicit Bandpass(BandpassOptions options = {});
    void apply(Example &example, Generator &rng) const override;
    std::string describe() const override;

private:
    BandpassOptions options_;
    std::vector<BiquadSection> sections_;
};

}  // namespace strata::data
