// The data layer's transforms (runtime/data/transforms/), each against a naive reference
// written here from its documented definition (ObsPy's, numpy's or SeisBench's), and the
// promise every random one makes: the same seed gives the same example.
#include "runtime/data/transforms.h"

#include "support/error_message.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

using namespace strata;
using namespace strata::data;

namespace {

const double pi = std::acos(-1.0);

/// A [channels, length] f64 waveform of smooth random-looking values (distinct everywhere).
Tensor test_waveform(int64_t channels, int64_t length, uint64_t seed = 7) {
    Generator rng(seed);
    return Tensor::randn({channels, length}, rng, DType::f64, 0.5, 2.0);
}

Tensor scalar(double value) { return Tensor::from_vector(std::vector<double>{value}, Shape{}); }

Example waveform_example(const Tensor &waveform, double p = NAN, double s = NAN) {
    return {{"waveform", waveform}, {"p_sample", scalar(p)}, {"s_sample", scalar(s)}};
}

/// Applies `transform` to a copy of `example` with a generator seeded `seed`.
Example applied(const Transform &transform, const Example &example, uint64_t seed = 1) {
    Example out = example;
    Generator rng(seed);
    transform.apply(out, rng);
    return out;
}

void check_close(const Tensor &got, const std::vector<double> &want, double tolerance) {
    REQUIRE(got.numel() == static_cast<int64_t>(want.size()));
    for (int64_t i = 0; i < got.numel(); ++i) {
        INFO("element " << i);
        CHECK(got.get_flat(i) == Approx(want[static_cast<size_t>(i)]).margin(tolerance).epsilon(tolerance));
    }
}

std::vector<double> values(const Tensor &t) {
    std::vector<double> out(static_cast<size_t>(t.numel()));
    for (int64_t i = 0; i < t.numel(); ++i) out[static_cast<size_t>(i)] = t.get_flat(i);
    return out;
}

bool same_bits(const Example &a, const Example &b) {
    if (a.size() != b.size()) return false;
    for (const auto &[key, tensor] : a) {
        const Tensor &other = b.at(key);
        if (other.shape() != tensor.shape() || other.dtype() != tensor.dtype()) return false;
        for (int64_t i = 0; i < tensor.numel(); ++i) {
            const double x = tensor.get_flat(i), y = other.get_flat(i);
            if (!(x == y || (std::isnan(x) && std::isnan(y)))) return false;
        }
    }
    return true;
}

// ---- naive references ----

/// The window [offset, offset + length) of every channel.
std::vector<double> reference_crop(const Tensor &w, int64_t offset, int64_t length) {
    std::vector<double> out;
    for (int64_t c = 0; c < w.size(0); ++c)
        for (int64_t t = offset; t < offset + length; ++t) out.push_back(w.at<double>({c, t}));
    return out;
}

std::vector<double> reference_shift(const Tensor &w, int64_t shift, bool circular) {
    const int64_t n = w.size(1);
    std::vector<double> out;
    for (int64_t c = 0; c < w.size(0); ++c)
        for (int64_t t = 0; t < n; ++t) {
            int64_t from = t - shift;
            if (circular) from = (from + 100 * n) % n;
            out.push_back(from >= 0 && from < n ? w.at<double>({c, from}) : 0.0);
        }
    return out;
}

/// Least squares a + b t by the textbook normal equations in long double.
std::vector<double> reference_detrend(const Tensor &w) {
    const int64_t n = w.size(1);
    std::vector<double> out;
    for (int64_t c = 0; c < w.size(0); ++c) {
        long double st = 0, stt = 0, sx = 0, stx = 0;
        for (int64_t t = 0; t < n; ++t) {
            const long double x = w.at<double>({c, t});
            st += t, stt += (long double)t * t, sx += x, stx += t * x;
        }
        const long double det = n * stt - st * st;
        const long double b = (n * stx - st * sx) / det, a = (sx - b * st) / n;
        for (int64_t t = 0; t < n; ++t) out.push_back(static_cast<double>(w.at<double>({c, t}) - (a + b * t)));
    }
    return out;
}

/// ObsPy's taper: hstack(hanning(m)[:w], ones(n - 2w), hanning(m)[m - w:]).
std::vector<double> reference_taper_weights(int64_t n, double fraction) {
    const auto w = static_cast<int64_t>(fraction * n);
    const int64_t m = 2 * w == n ? 2 * w : 2 * w + 1;
    std::vector<double> hanning(static_cast<size_t>(m));
    for (int64_t k = 0; k < m; ++k) hanning[k] = m == 1 ? 1.0 : 0.5 - 0.5 * std::cos(2 * pi * k / (m - 1));
    std::vector<double> weights(hanning.begin(), hanning.begin() + w);
    weights.insert(weights.end(), static_cast<size_t>(n - 2 * w), 1.0);
    weights.insert(weights.end(), hanning.end() - w, hanning.end());
    return weights;
}

/// The amplitude and phase of the frequency-f component of x[from, to), by least squares on
/// sin and cos (an exact fit for a pure sinusoid).
std::pair<double, double> sinusoid_fit(const Tensor &x, double f, double fs, int64_t from, int64_t to) {
    double ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
    for (int64_t t = from; t < to; ++t) {
        const double s = std::sin(2 * pi * f * t / fs), c = std::cos(2 * pi * f * t / fs), v = x.get_flat(t);
        ss += s * s, cc += c * c, sc += s * c, xs += v * s, xc += v * c;
    }
    const double det = ss * cc - sc * sc, a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
    return {std::hypot(a, b), std::atan2(b, a)};
}

/// The zero-phase Butterworth band-pass's gain: the square of the Butterworth magnitude,
/// 1 / (1 + ((W^2 - W0^2) / (B W))^(2N)) with pre-warped W = tan(pi f / fs).
double butterworth_bandpass_power(double f, const BandpassOptions &o) {
    const double w = std::tan(pi * f / o.sampling_rate), lo = std::tan(pi * o.freqmin / o.sampling_rate),
                 hi = std::tan(pi * o.freqmax / o.sampling_rate);
    const double x = (w * w - lo * hi) / ((hi - lo) * w);
    return 1.0 / (1.0 + std::pow(x * x, o.corners));
}

}  // namespace

TEST_CASE("RandomCrop: a window of the waveform, picks moved with it, the kept pick always inside", "[data][transforms]") {
    const Tensor w = test_waveform(3, 200);
    const RandomCrop crop({.length = 50, .picks = {"p_sample", "s_sample"}, .keep_pick = "p_sample", .margin = 5});
    std::set<int64_t> offsets;
    for (uint64_t seed = 0; seed < 400; ++seed) {
        const Example out = applied(crop, waveform_example(w, 120.0, 180.0), seed);
        REQUIRE(out.at("waveform").shape() == Shape{3, 50});
        // Which window it is: the P pick moved by -offset.
        const double p = out.at("p_sample").item();
        const auto offset = static_cast<int64_t>(120.0 - p);
        CHECK(p >= 5.0);
        CHECK(p <= 44.0);
        CHECK(out.at("s_sample").item() == 180.0 - offset);  // may lie outside: where it went
        check_close(out.at("waveform"), reference_crop(w, offset, 50), 0);
        offsets.insert(offset);
    }
    // Every allowed offset, 120 - 44 = 76 .. 120 - 5 = 115, is drawn.
    CHECK(*offsets.begin() == 76);
    CHECK(*offsets.rbegin() == 115);
    CHECK(offsets.size() == 40);

    // No P pick (NaN): any window, the pick stays NaN.
    const Example noise = applied(crop, waveform_example(w), 3);
    CHECK(std::isnan(noise.at("p_sample").item()));
    // f32 waveforms stay f32.
    const Example single = applied(RandomCrop({.length = 10}), {{"waveform", w.to(DType::f32)}});
    CHECK(single.at("waveform").dtype() == DType::f32);
}

TEST_CASE("RandomShift: zero-filled or circular, picks moved, the kept pick inside", "[data][transforms]") {
    const Tensor w = test_waveform(2, 64);
    for (const bool circular : {false, true}) {
        const RandomShift shift({.max_shift = 20, .picks = {"p_sample"}, .circular = circular});
        std::set<int64_t> shifts;
        for (uint64_t seed = 0; seed < 300; ++seed) {
            const Example out = applied(shift, waveform_example(w, 10.0), seed);
            // Find s from the samples (the test waveform has no two equal samples).
            int64_t found = -1000;
            for (int64_t s = -20; s <= 20; ++s)
                if (values(out.at("waveform")) == reference_shift(w, s, circular)) found = s;
            REQUIRE(found != -1000);
            shifts.insert(found);
            const double want_pick = circular ? std::fmod(10.0 + found + 64.0, 64.0) : 10.0 + found;
            CHECK(out.at("p_sample").item() == want_pick);
        }
        CHECK(shifts.size() == 41);
    }
    const RandomShift keep({.max_shift = 20, .picks = {"p_sample"}, .keep_pick = "p_sample", .margin = 3});
    for (uint64_t seed = 0; seed < 200; ++seed) {
        const double p = applied(keep, waveform_example(w, 10.0), seed).at("p_sample").item();
        CHECK(p >= 3.0);
        CHECK(p <= 30.0);
    }
}

TEST_CASE("AmplitudeScale and GaussianNoise follow their documented draws", "[data][transforms]") {
    const Tensor w = test_waveform(3, 100);
    for (const bool per_channel : {false, true}) {
        const AmplitudeScale scale({.low = -2.0, .high = 3.0, .per_channel = per_channel});
        Generator rng(11);
        std::vector<double> want;
        double factor = -2.0 + 5.0 * rng.uniform();
        for (int64_t c = 0; c < 3; ++c) {
            if (per_channel && c > 0) factor = -2.0 + 5.0 * rng.uniform();
            for (int64_t t = 0; t < 100; ++t) want.push_back(w.at<double>({c, t}) * factor);
        }
        check_close(applied(scale, waveform_example(w), 11).at("waveform"), want, 1e-15);
    }

    const GaussianNoise noise({.snr_db_low = 5.0, .snr_db_high = 15.0});
    Generator rng(5);
    const double snr = 5.0 + 10.0 * rng.uniform();
    std::vector<double> want;
    for (int64_t c = 0; c < 3; ++c) {
        double power = 0;
        for (int64_t t = 0; t < 100; ++t) power += w.at<double>({c, t}) * w.at<double>({c, t}) / 100.0;
        const double sigma = std::sqrt(power / std::pow(10.0, snr / 10.0));
        for (int64_t t = 0; t < 100; ++t) want.push_back(w.at<double>({c, t}) + sigma * rng.fast_normal());
    }
    check_close(applied(noise, waveform_example(w), 5).at("waveform"), want, 1e-12);

    // Measured on a long trace, the SNR is the one asked for.
    Tensor sine = Tensor::empty({1, 200000}, DType::f64);
    for (int64_t t = 0; t < 200000; ++t) sine.data<double>()[t] = 3.0 * std::sin(0.01 * t);
    const Example noisy = applied(GaussianNoise({.snr_db_low = 6.0, .snr_db_high = 6.0}), {{"waveform", sine}});
    double signal = 0, residual = 0;
    for (int64_t t = 0; t < 200000; ++t) {
        const double x = sine.get_flat(t), e = noisy.at("waveform").get_flat(t) - x;
        signal += x * x, residual += e * e;
    }
    CHECK(10.0 * std::log10(signal / residual) == Approx(6.0).margin(0.05));
    // A silent channel stays silent.
    const Example silent = applied(noise, {{"waveform", Tensor::zeros({2, 10}, DType::f64)}});
    check_close(silent.at("waveform"), std::vector<double>(20, 0.0), 0);
}

TEST_CASE("GaussianNoise: huge samples, non-finite samples and extreme SNRs", "[data][transforms]") {
    // Squares of 1e200 overflow a double: the noise must still be finite and at the SNR.
    Tensor huge = Tensor::empty({1, 20000}, DType::f64);
    for (int64_t t = 0; t < 20000; ++t) huge.data<double>()[t] = 1e200 * (t % 2 ? 1.0 : -1.0);
    const Example noisy = applied(GaussianNoise({.snr_db_low = 20.0, .snr_db_high = 20.0}), {{"waveform", huge}});
    double residual = 0;
    for (int64_t t = 0; t < 20000; ++t) {
        const double e = (noisy.at("waveform").get_flat(t) - huge.get_flat(t)) / 1e200;
        REQUIRE(std::isfinite(e));
        residual += e * e / 20000.0;
    }
    CHECK(10.0 * std::log10(1.0 / residual) == Approx(20.0).margin(0.2));
    // A silent channel stays silent even where 10^(snr/10) underflows to 0.
    const Example silent = applied(GaussianNoise({.snr_db_low = -4000.0, .snr_db_high = -4000.0}),
                                   {{"waveform", Tensor::zeros({2, 10}, DType::f64)}});
    check_close(silent.at("waveform"), std::vector<double>(20, 0.0), 0);
    // Noise too large for a double, and non-finite samples, are errors naming the channel.
    Tensor ones = Tensor::ones({2, 10}, DType::f64);
    CHECK_THROWS_WITH(applied(GaussianNoise({.snr_db_low = -8000.0, .snr_db_high = -8000.0}), {{"waveform", ones}}),
                      Catch::Matchers::Contains("GaussianNoise: 'waveform' channel 0") &&
                          Catch::Matchers::Contains("not a finite number"));
    for (const double bad : {NAN, INFINITY}) {
        Tensor w = Tensor::ones({2, 10}, DType::f64);
        w.data<double>()[13] = bad;
        CHECK_THROWS_WITH(applied(GaussianNoise(), {{"waveform", w}}),
                          Catch::Matchers::Contains("GaussianNoise: 'waveform' channel 1 sample 3 is") &&
                              Catch::Matchers::Contains("expected finite samples"));
    }
}

TEST_CASE("Demean and Detrend against least squares, and a straight line detrends to zero", "[data][transforms]") {
    const Tensor w = test_waveform(3, 501);
    std::vector<double> demeaned;
    for (int64_t c = 0; c < 3; ++c) {
        double mean = 0;
        for (int64_t t = 0; t < 501; ++t) mean += w.at<double>({c, t}) / 501.0;
        for (int64_t t = 0; t < 501; ++t) demeaned.push_back(w.at<double>({c, t}) - mean);
    }
    check_close(applied(Demean(), waveform_example(w)).at("waveform"), demeaned, 1e-12);
    check_close(applied(Detrend(), waveform_example(w)).at("waveform"), reference_detrend(w), 1e-12);

    Tensor line = Tensor::empty({2, 1000}, DType::f64);
    for (int64_t t = 0; t < 1000; ++t) line.at<double>({0, t}) = 4.0 - 0.25 * t, line.at<double>({1, t}) = 1e3 + 7.0 * t;
    check_close(applied(Detrend(), {{"waveform", line}}).at("waveform"), std::vector<double>(2000, 0.0), 1e-9);
    check_close(applied(Detrend(), {{"waveform", scalar(3.0).reshape({1})}}).at("waveform"), {0.0}, 0);
}

TEST_CASE("Taper matches ObsPy's Hann taper for odd, even and tiny lengths", "[data][transforms]") {
    for (const int64_t n : {100, 101, 7, 4, 1})
        for (const double fraction : {0.0, 0.05, 0.2, 0.5}) {
            INFO("n " << n << " fraction " << fraction);
            const Tensor w = test_waveform(2, n);
            const std::vector<double> weights = reference_taper_weights(n, fraction);
            std::vector<double> want;
            for (int64_t c = 0; c < 2; ++c)
                for (int64_t t = 0; t < n; ++t) want.push_back(w.at<double>({c, t}) * weights[t]);
            check_close(applied(Taper({.fraction = fraction}), waveform_example(w)).at("waveform"), want, 1e-14);
        }
}

TEST_CASE("Bandpass: the squared Butterworth gain at every frequency, zero phase", "[data][transforms]") {
    for (const int corners : {1, 2, 4, 5}) {
        const BandpassOptions options{.freqmin = 2.0, .freqmax = 8.0, .sampling_rate = 50.0, .corners = corners};
        const Bandpass bandpass(options);
        for (const double f : {0.5, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 15.0}) {
            INFO("corners " << corners << ", " << f << " Hz");
            const int64_t n = 20000;
            Tensor sine = Tensor::empty({1, n}, DType::f64);
            for (int64_t t = 0; t < n; ++t) sine.data<double>()[t] = std::sin(2 * pi * f * t / 50.0);
            const Tensor out = applied(bandpass, {{"waveform", sine}}).at("waveform");
            // Far from both ends, where the transients have died out.
            const auto [amplitude, phase] = sinusoid_fit(out, f, 50.0, 6000, 14000);
            CHECK(amplitude == Approx(butterworth_bandpass_power(f, options)).margin(1e-6));
            if (amplitude > 1e-3) CHECK(phase == Approx(0.0).margin(1e-6));
        }
    }
    // Zero phase: the response to an impulse in the middle is symmetric about it.
    // (Long enough that the forward pass has died out before the backward pass starts.)
    Tensor impulse = Tensor::zeros({1, 20001}, DType::f64);
    impulse.data<double>()[10000] = 1.0;
    const Tensor response = applied(Bandpass({.freqmin = 1.0, .freqmax = 10.0}), {{"waveform", impulse}}).at("waveform");
    double peak = 0;
    for (int64_t k = 1; k < 2000; ++k) {
        CHECK(response.get_flat(10000 + k) == Approx(response.get_flat(10000 - k)).margin(1e-12));
        peak = std::max(peak, std::abs(response.get_flat(10000 + k)));
    }
    CHECK(peak > 1e-3);  // not trivially zero
    // The band must lie below the Nyquist frequency.
    CHECK_THAT(testing::error_message([] { Bandpass({.freqmin = 1, .freqmax = 50, .sampling_rate = 100}); }),
               Catch::Contains("freqmax < 50 Hz"));
    CHECK_THROWS_AS(Bandpass({.freqmin = 5, .freqmax = 5}), Error);
    CHECK_THROWS_AS(Bandpass({.corners = 0}), Error);
}

TEST_CASE("NormalizeMax per trace and per channel, NormalizeStd per channel, zeros staying zeros", "[data][transforms]") {
    Tensor w = test_waveform(3, 50);
    for (int64_t t = 0; t < 50; ++t) w.at<double>({2, t}) = 0.0;
    double trace_max = 0;
    std::vector<double> channel_max(3, 0.0), channel_std(3, 0.0);
    for (int64_t c = 0; c < 3; ++c) {
        double mean = 0;
        for (int64_t t = 0; t < 50; ++t) {
            channel_max[c] = std::max(channel_max[c], std::abs(w.at<double>({c, t})));
            mean += w.at<double>({c, t}) / 50;
        }
        for (int64_t t = 0; t < 50; ++t) channel_std[c] += std::pow(w.at<double>({c, t}) - mean, 2) / 50;
        channel_std[c] = std::sqrt(channel_std[c]);
        trace_max = std::max(trace_max, channel_max[c]);
    }
    std::vector<double> by_trace, by_channel, by_std;
    for (int64_t c = 0; c < 3; ++c)
        for (int64_t t = 0; t < 50; ++t) {
            const double x = w.at<double>({c, t});
            by_trace.push_back(x / trace_max);
            by_channel.push_back(c == 2 ? 0.0 : x / channel_max[c]);
            by_std.push_back(c == 2 ? 0.0 : x / channel_std[c]);
        }
    check_close(applied(NormalizeMax(), waveform_example(w)).at("waveform"), by_trace, 1e-15);
    check_close(applied(NormalizeMax({.per_channel = true}), waveform_example(w)).at("waveform"), by_channel, 1e-15);
    check_close(applied(NormalizeStd(), waveform_example(w)).at("waveform"), by_std, 1e-13);
}

TEST_CASE("ChannelDrop: up to C-1 channels zeroed by the documented draws, the rest rescaled", "[data][transforms]") {
    const Tensor w = test_waveform(3, 20);
    std::set<int64_t> counts;
    for (uint64_t seed = 0; seed < 100; ++seed) {
        Generator rng(seed);
        const int64_t dropped = static_cast<int64_t>(rng.below(3));
        std::vector<int64_t> order = {0, 1, 2};
        for (int64_t i = 0; i < dropped; ++i) std::swap(order[i], order[i + rng.below(3 - i)]);
        std::vector<double> want;
        for (int64_t c = 0; c < 3; ++c) {
            const bool drop = std::find(order.begin(), order.begin() + dropped, c) != order.begin() + dropped;
            for (int64_t t = 0; t < 20; ++t) want.push_back(drop ? 0.0 : w.at<double>({c, t}) * 3.0 / (3 - dropped));
        }
        check_close(applied(ChannelDrop(), waveform_example(w), seed).at("waveform"), want, 1e-15);
        counts.insert(dropped);
    }
    CHECK(counts == std::set<int64_t>{0, 1, 2});
}

TEST_CASE("RandomFlip flips image and mask together along the chosen dimension, any dtype", "[data][transforms]") {
    Generator gen(3);
    const Tensor image = Tensor::randn({1, 4, 5}, gen);
    Tensor mask = Tensor::empty({1, 4, 5}, DType::i32);
    for (int64_t i = 0; i < 20; ++i) mask.set_flat(i, static_cast<double>(i));
    const RandomFlip flip({.dim = -1, .probability = 0.5, .keys = {"image", "label"}});
    int flipped = 0;
    for (uint64_t seed = 0; seed < 50; ++seed) {
        const Example out = applied(flip, {{"image", image}, {"label", mask}}, seed);
        Generator rng(seed);
        const bool want = rng.uniform() < 0.5;
        flipped += want;
        for (int64_t h = 0; h < 4; ++h)
            for (int64_t w = 0; w < 5; ++w) {
                const int64_t from = want ? 4 - w : w;
                CHECK(out.at("image").at<float>({0, h, w}) == image.at<float>({0, h, from}));
                CHECK(out.at("label").at<int32_t>({0, h, w}) == mask.at<int32_t>({0, h, from}));
            }
    }
    CHECK(flipped > 0);
    CHECK(flipped < 50);
    const Tensor vertical = data::flip(image, 1);
    for (int64_t h = 0; h < 4; ++h) CHECK(vertical.at<float>({0, h, 2}) == image.at<float>({0, 3 - h, 2}));
    CHECK_THAT(testing::error_message([&] { applied(RandomFlip({.dim = 3}), {{"image", image}}); }),
               Catch::Contains("dimension 3") && Catch::Contains("[1, 4, 5]"));
}

TEST_CASE("A composed chain: the same seed gives the same example, another seed another, the input untouched", "[data][transforms]") {
    const Tensor w = test_waveform(3, 400).to(DType::f32);
    const Tensor before = w.clone();
    const Compose chain({std::make_shared<Demean>(), std::make_shared<Detrend>(), std::make_shared<Taper>(TaperOptions{}),
                         std::make_shared<Bandpass>(BandpassOptions{}),
                         std::make_shared<RandomCrop>(RandomCropOptions{.length = 300, .picks = {"p_sample"}, .keep_pick = "p_sample"}),
                         std::make_shared<RandomShift>(RandomShiftOptions{.max_shift = 10, .picks = {"p_sample"}}),
                         std::make_shared<AmplitudeScale>(AmplitudeScaleOptions{}),
                         std::make_shared<GaussianNoise>(GaussianNoiseOptions{}), std::make_shared<ChannelDrop>(),
                         std::make_shared<NormalizeStd>(), std::make_shared<NormalizeMax>()});
    const Example example = waveform_example(w, 200.0);
    const Example a = applied(chain, example, 42), b = applied(chain, example, 42), c = applied(chain, example, 43);
    CHECK(same_bits(a, b));
    CHECK_FALSE(same_bits(a, c));
    CHECK(a.at("waveform").shape() == Shape{3, 300});
    CHECK(a.at("waveform").dtype() == DType::f32);
    CHECK(values(w) == values(before));
    CHECK_THAT(chain.describe(), Catch::StartsWith("demean -> detrend(linear) -> taper"));
}

TEST_CASE("Transforms name what is wrong with the example or their options", "[data][transforms]") {
    const Tensor w = test_waveform(3, 40);
    CHECK_THAT(testing::error_message([&] { applied(Demean("trace"), waveform_example(w)); }),
               Catch::Contains("no tensor 'trace'") && Catch::Contains("p_sample, s_sample, waveform"));
    CHECK_THAT(testing::error_message([&] { applied(Demean(), {{"waveform", Tensor::zeros({3, 4}, DType::i32)}}); }),
               Catch::Contains("expected a float waveform"));
    CHECK_THAT(testing::error_message([&] { applied(Taper(), {{"waveform", Tensor::zeros({1, 3, 4}, DType::f32)}}); }),
               Catch::Contains("[1, 3, 4]"));
    CHECK_THAT(testing::error_message([&] { applied(RandomCrop({.length = 50}), waveform_example(w)); }),
               Catch::Contains("has 40 samples; cannot crop a window of 50"));
    CHECK_THAT(testing::error_message([&] {
                   applied(RandomCrop({.length = 10, .picks = {"p_sample"}, .keep_pick = "p_sample", .margin = 4}),
                           waveform_example(w, 39.0));
               }),
               Catch::Contains("keeps 'p_sample' (at sample 39)"));
    CHECK_THAT(testing::error_message([] { RandomCrop({.length = 10, .keep_pick = "p_sample"}); }),
               Catch::Contains("keep_pick 'p_sample' is not one of the picks"));
    CHECK_THAT(testing::error_message([&] {
                   applied(RandomCrop({.length = 10, .picks = {"p_sample"}}), {{"waveform", w}, {"p_sample", Tensor::zeros({2})}});
               }),
               Catch::Contains("the pick 'p_sample'"));
    CHECK_THROWS_AS(Taper({.fraction = 0.6}), Error);
    CHECK_THROWS_AS(AmplitudeScale({.low = 2, .high = 1}), Error);
    CHECK_THROWS_AS(GaussianNoise({.snr_db_low = NAN}), Error);
    CHECK_THROWS_AS(RandomShift({.max_shift = -1}), Error);
    CHECK_THROWS_AS(RandomFlip({.probability = 1.5}), Error);
    CHECK_THROWS_AS(Compose({nullptr}), Error);
}
