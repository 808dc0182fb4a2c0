#include "synthetic.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace spot {

namespace {
double uniform(strata::Generator &gen, double lo, double hi) { return lo + (hi - lo) * gen.uniform(); }
}  // namespace

std::vector<double> seismogram(strata::Generator &gen) {
    // A long-period record at 1 sample/s: background microseism noise, a body-wave
    // arrival, then a dispersed surface-wave train whose frequency rises with time
    // (long periods travel faster) under a slowly decaying envelope.
    std::vector<double> x(kWindow);
    const double onset = uniform(gen, 20, 250), surface = onset + uniform(gen, 40, 150);
    const double f_start = uniform(gen, 0.01, 0.03), f_end = uniform(gen, 0.04, 0.09);
    const double train_length = uniform(gen, 150, 400), amplitude = uniform(gen, 3, 20);
    const double phase = uniform(gen, 0, 2 * M_PI);
    double micro = 0;
    for (int64_t i = 0; i < kWindow; ++i) {
        const double t = static_cast<double>(i);
        micro = 0.9 * micro + 0.3 * gen.normal();
        double v = micro;
        if (t >= onset) v += 0.5 * amplitude * std::exp(-(t - onset) / 30.0) * std::sin(2 * M_PI * 0.08 * (t - onset));
        if (t >= surface) {
            const double tau = t - surface;
            const double frac = std::min(tau / train_length, 1.0);
            const double freq = f_start + (f_end - f_start) * frac;
            const double envelope = (1 - std::exp(-tau / 20.0)) * std::exp(-tau / (1.5 * train_length));
            v += amplitude * envelope * std::sin(2 * M_PI * freq * tau + phase);
        }
        x[static_cast<size_t>(i)] = v;
    }
    return x;
}

std::vector<double> price_series(strata::Generator &gen) {
    // Daily prices: a geometric random walk with drift whose volatility jumps
    // between regimes (calm and turbulent markets).
    std::vector<double> x(kWindow);
    double log_price = std::log(uniform(gen, 10, 500));
    const double drift = uniform(gen, -0.001, 0.002);
    double sigma = uniform(gen, 0.005, 0.03);
    for (int64_t i = 0; i < kWindow; ++i) {
        if (gen.uniform() < 0.01) sigma = uniform(gen, 0.005, 0.05);
        log_price += drift + sigma * gen.normal();
        x[static_cast<size_t>(i)] = std::exp(log_price);
    }
    return x;
}

std::vector<double> monthly_temperatures(strata::Generator &gen) {
    // Monthly means: an annual cycle, weather noise with some memory, and a slow trend.
    std::vector<double> x(kWindow);
    const double mean = uniform(gen, -5, 25), swing = uniform(gen, 2, 15), phase = uniform(gen, 0, 2 * M_PI);
    const double trend = uniform(gen, -0.005, 0.01), noise = uniform(gen, 0.3, 2.0);
    double weather = 0;
    for (int64_t i = 0; i < kWindow; ++i) {
        weather = 0.5 * weather + noise * gen.normal();
        const double m = static_cast<double>(i);
        x[static_cast<size_t>(i)] = mean + swing * std::cos(2 * M_PI * m / 12.0 + phase) + trend * m + weather;
    }
    return x;
}

std::vector<double> gaussian_noise(strata::Generator &gen) {
    // White or coloured (AR(1)) Gaussian noise.
    std::vector<double> x(kWindow);
    const double memory = gen.uniform() < 0.5 ? 0.0 : uniform(gen, 0.3, 0.95);
    double v = 0;
    for (int64_t i = 0; i < kWindow; ++i) {
        v = memory * v + gen.normal();
        x[static_cast<size_t>(i)] = v;
    }
    return x;
}

void normalize(std::vector<double> &x) {
    // Scaled by the largest magnitude first: the sums of values near 1e308 (or their squares) would
    // overflow to inf and NaN, while the normalised window does not depend on the scale.
    double scale = 0;
    for (double v : x) scale = std::max(scale, std::abs(v));
    if (scale > 0)
        for (double &v : x) v /= scale;
    const double n = static_cast<double>(x.size());
    const double mean = std::accumulate(x.begin(), x.end(), 0.0) / n;
    double var = 0;
    for (double v : x) var += (v - mean) * (v - mean);
    const double sd = std::sqrt(var / n);
    for (double &v : x) v = sd > 0 ? (v - mean) / sd : v - mean;
}

strata::Dataset make_dataset(int64_t per_class, uint64_t seed, const std::vector<std::vector<double>> &real_windows) {
    strata::Generator gen(seed);
    std::vector<std::pair<std::vector<double>, int32_t>> examples;
    size_t next_real = 0;
    for (int64_t i = 0; i < per_class; ++i) {
        // One in four seismograms is a window of the real record, when there is one.
        std::vector<double> quake = !real_windows.empty() && i % 4 == 0
                                        ? real_windows[next_real++ % real_windows.size()]
                                        : seismogram(gen);
        examples.push_back({quake, 0});
        examples.push_back({price_series(gen), 1});
        examples.push_back({monthly_temperatures(gen), 2});
        examples.push_back({gaussian_noise(gen), 3});
    }
    for (size_t i = examples.size(); i > 1; --i) std::swap(examples[i - 1], examples[gen.below(i)]);
    const int64_t n = static_cast<int64_t>(examples.size());
    strata::Dataset data{strata::Tensor::empty({n, 1, kWindow}), strata::Tensor::empty({n}, strata::DType::i32)};
    float *in = data.inputs.data<float>();
    int32_t *labels = data.targets.data<int32_t>();
    for (int64_t i = 0; i < n; ++i) {
        std::vector<double> &x = examples[static_cast<size_t>(i)].first;
        normalize(x);
        for (int64_t j = 0; j < kWindow; ++j) in[i * kWindow + j] = static_cast<float>(x[static_cast<size_t>(j)]);
        labels[i] = examples[static_cast<size_t>(i)].second;
    }
    return data;
}

}  // namespace spot
