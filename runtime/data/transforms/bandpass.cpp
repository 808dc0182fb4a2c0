#include "runtime/data/transforms/bandpass.h"

#include "runtime/data/transforms/waveform.h"

#include <algorithm>
#include <cmath>
#include <complex>

namespace strata::data {

namespace {

using Complex = std::complex<double>;

void check_options(const BandpassOptions &o) {
    if (!(o.sampling_rate > 0.0) || !std::isfinite(o.sampling_rate))
        fail("Bandpass: sampling_rate is {}; expected a positive number of samples per second", o.sampling_rate);
    const double nyquist = o.sampling_rate / 2.0;
    if (!(o.freqmin > 0.0) || !(o.freqmin < o.freqmax) || !(o.freqmax < nyquist))
        fail("Bandpass: corners {} Hz and {} Hz; expected 0 < freqmin < freqmax < {} Hz (the Nyquist frequency "
             "at {} samples per second)",
             o.freqmin, o.freqmax, nyquist, o.sampling_rate);
    if (o.corners < 1 || o.corners > 16) fail("Bandpass: corners is {}; expected an order in 1..16", o.corners);
}

/// The gain of `section` at the digital frequency `omega` (radians per sample).
Complex response(const BiquadSection &s, double omega) {
    const Complex z1 = std::polar(1.0, -omega), z2 = z1 * z1;
    return (s.b[0] + s.b[1] * z1 + s.b[2] * z2) / (1.0 + s.a[0] * z1 + s.a[1] * z2);
}

/// Runs the cascade over `samples` (length n, stride `step`: -1 runs backwards), zero initial state.
void run_sections(const std::vector<BiquadSection> &sections, double *samples, int64_t n, bool backwards) {
    for (const BiquadSection &s : sections) {
        double state1 = 0.0, state2 = 0.0;  // transposed direct form II
        for (int64_t i = 0; i < n; ++i) {
            double &x = samples[backwards ? n - 1 - i : i];
            const double y = s.b[0] * x + state1;
            state1 = s.b[1] * x - s.a[0] * y + state2;
            state2 = s.b[2] * x - s.a[1] * y;
            x = y;
        }
    }
}

}  // namespace

std::vector<BiquadSection> butterworth_bandpass_sections(const BandpassOptions &options) {
    check_options(options);
    const double pi = std::acos(-1.0);
    // Pre-warped corners for the bilinear transform s = (z - 1) / (z + 1): W = tan(pi f / fs).
    const double low = std::tan(pi * options.freqmin / options.sampling_rate);
    const double high = std::tan(pi * options.freqmax / options.sampling_rate);
    const double centre_squared = low * high, width = high - low;
    const int n = options.corners;
    std::vector<Complex> poles;  // digital poles with imag >= 0, one per section
    for (int k = 0; k < n; ++k) {
        // The analog Butterworth prototype's poles in the left half plane.
        const Complex p = -std::polar(1.0, pi * (2.0 * k - n + 1) / (2.0 * n));
        // Low-pass to band-pass: s^2 - p B s + W0^2 = 0 gives two poles per prototype pole.
        const Complex root = std::sqrt(p * p * width * width - 4.0 * centre_squared);
        for (const Complex s : {(p * width + root) / 2.0, (p * width - root) / 2.0})
            poles.push_back((1.0 + s) / (1.0 - s));
    }
    // 2n poles in conjugate pairs (or pairs of real poles): pair them into n real sections.
    std::vector<std::array<Complex, 2>> pairs;
    std::vector<Complex> reals, uppers;
    for (const Complex &z : poles) {
        if (std::abs(z.imag()) < 1e-12) reals.push_back(Complex(z.real(), 0.0));
        else if (z.imag() > 0.0) uppers.push_back(z);
    }
    for (const Complex &z : uppers) pairs.push_back({z, std::conj(z)});
    std::sort(reals.begin(), reals.end(), [](Complex a, Complex b) { return a.real() < b.real(); });
    for (size_t i = 0; i + 1 < reals.size(); i += 2) pairs.push_back({reals[i], reals[i + 1]});
    STRATA_ASSERT(static_cast<int>(pairs.size()) == n && reals.size() % 2 == 0, "band-pass pole pairing");
    // Each section: zeros at z = 1 and z = -1 (the n zeros at s = 0 and n at infinity), unit gain
    // at the centre of the band, where the Butterworth magnitude is exactly 1.
    const double centre_omega = 2.0 * std::atan(std::sqrt(centre_squared));
    std::vector<BiquadSection> sections;
    for (const auto &pair : pairs) {
        BiquadSection s{{1.0, 0.0, -1.0}, {-(pair[0] + pair[1]).real(), (pair[0] * pair[1]).real()}};
        const double gain = std::abs(response(s, centre_omega));
        for (double &b : s.b) b /= gain;
        sections.push_back(s);
    }
    return sections;
}

Bandpass::Bandpass(BandpassOptions options)
    : options_(std::move(options)), sections_(butterworth_bandpass_sections(options_)) {}

void Bandpass::apply(Example &example, Generator &) const {
    Waveform waveform(example, options_.key, "Bandpass");
    for (int64_t c = 0; c < waveform.channels(); ++c) {
        run_sections(sections_, waveform.channel(c), waveform.length(), false);
        run_sections(sections_, waveform.channel(c), waveform.length(), true);
    }
    waveform.store();
}

std::string Bandpass::describe() const {
    return fmt::format("bandpass({} Hz, {} Hz, order {}, zero phase)", options_.freqmin, options_.freqmax,
                       options_.corners);
}

}  // namespace strata::data
