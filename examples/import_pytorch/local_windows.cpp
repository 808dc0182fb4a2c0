#include "local_windows.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace detector {

namespace {

constexpr double kPi = 3.14159265358979323846;

/// A decaying oscillation from `onset` on, as make_detector.py draws P and S.
void add_burst(float *trace, int64_t samples, int64_t onset, double amplitude, double frequency) {
    for (int64_t t = onset; t < samples; ++t) {
        const double dt = double(t - onset);
        trace[t] += float(amplitude * std::sin(2 * kPi * frequency * dt) * std::exp(-dt / 30));
    }
}

}  // namespace

strata::Dataset local_windows(int64_t n, int64_t channels, int64_t samples, uint64_t seed) {
    if (samples < 160) strata::fail("synthetic windows need at least 160 samples, the model takes {}", samples);
    strata::Generator gen(seed);
    strata::Dataset data{strata::Tensor::zeros({n, channels, samples}),
                         strata::Tensor::empty({n}, strata::DType::i32)};
    float *x = data.inputs.data<float>();
    int32_t *labels = data.targets.data<int32_t>();
    for (int64_t i = 0; i < n; ++i) {
        float *window = x + i * channels * samples;
        const bool quake = i % 2 == 0;
        labels[i] = quake ? 1 : 0;
        const int64_t p = 20 + int64_t(gen.below(uint64_t(samples - 140)));
        const int64_t s = p + 25 + int64_t(gen.below(65));
        const int64_t glitch = 10 + int64_t(gen.below(uint64_t(samples - 20)));
        const bool glitchy = !quake && gen.uniform() < 0.6;
        const double swell_phase = 2 * kPi * gen.uniform();
        for (int64_t c = 0; c < channels; ++c) {
            float *trace = window + c * samples;
            for (int64_t t = 0; t < samples; ++t)
                trace[t] = float(0.8 * std::sin(2 * kPi * 0.015 * double(t) + swell_phase + double(c)) +
                                 0.3 * gen.normal());
            if (quake) {
                add_burst(trace, samples, p, std::abs(gen.normal()), 0.25);
                add_burst(trace, samples, s, 2 * std::abs(gen.normal()), 0.12);
            }
            if (glitchy)
                for (int64_t t = glitch; t < std::min(samples, glitch + 6); ++t)
                    trace[t] += float(3.0 * std::exp(-double(t - glitch)));
        }
        float peak = 0;
        for (int64_t k = 0; k < channels * samples; ++k) peak = std::max(peak, std::abs(window[k]));
        for (int64_t k = 0; k < channels * samples; ++k) window[k] /= peak;
    }
    return data;
}

strata::Dataset read_windows(const std::string &path, int64_t channels, int64_t samples) {
    auto dtype_for = [](const strata::SafetensorsEntry &entry) -> std::optional<strata::DType> {
        if (entry.name == "waveform") return strata::DType::f32;
        if (entry.name == "label") return strata::DType::i32;
        return std::nullopt;  // other tensors are left out
    };
    // F64 waveforms round to f32; labels convert only where the value fits (checked, named).
    strata::SafetensorsFile file = strata::read_safetensors(path, dtype_for, {.allow_rounding = true});
    const strata::Tensor *waveform = file.find("waveform");
    const strata::Tensor *label = file.find("label");
    if (!waveform || !label) strata::fail("{}: no '{}' tensor; expected 'waveform' (N, {}, {}) and 'label' (N)", path,
                                          waveform ? "label" : "waveform", channels, samples);
    const strata::Shape &shape = waveform->shape();
    if (shape.size() != 3 || shape[1] != channels || shape[2] != samples || shape[0] < 1)
        strata::fail("{}: 'waveform' has shape {}; expected (N, {}, {}) with N >= 1", path,
                     strata::shape_str(shape), channels, samples);
    if (label->shape() != strata::Shape{shape[0]})
        strata::fail("{}: 'label' has shape {}; expected ({}), one per window", path,
                     strata::shape_str(label->shape()), shape[0]);
    const int32_t *labels = label->data<int32_t>();
    for (int64_t i = 0; i < shape[0]; ++i)
        if (labels[i] != 0 && labels[i] != 1)
            strata::fail("{}: 'label' element {} is {}; expected 0 (noise) or 1 (earthquake)", path, i, labels[i]);
    const float *x = waveform->data<float>();
    for (int64_t k = 0; k < waveform->numel(); ++k)
        if (!std::isfinite(x[k])) strata::fail("{}: 'waveform' element {} is {}; expected a finite value", path, k, x[k]);
    strata::Dataset data{*waveform, *label};
    data.check();
    return data;
}

strata::Tensor probe_window(int64_t channels, int64_t samples) {
    strata::Tensor w = strata::Tensor::empty({1, channels, samples});
    float *x = w.data<float>();
    for (int64_t i = 0; i < channels * samples; ++i) {  // the formula of predict.c, in double
        const int64_t t = i % samples;
        x[i] = float(0.3 * std::sin(0.1 * double(i)) +
                     (t > 100 ? 0.8 * std::sin(1.5 * double(i)) * std::exp(-double(t - 100) / 30.0) : 0.0));
    }
    return w;
}

void save_windows(const std::string &path, const strata::Dataset &first, const strata::Dataset &second) {
    const strata::Shape &shape = first.inputs.shape();
    const int64_t n = first.size() + second.size(), per_window = shape[1] * shape[2];
    strata::Tensor waveform = strata::Tensor::empty({n, shape[1], shape[2]});
    strata::Tensor label = strata::Tensor::empty({n}, strata::DType::i32);
    std::copy_n(first.inputs.data<float>(), first.size() * per_window, waveform.data<float>());
    std::copy_n(second.inputs.data<float>(), second.size() * per_window,
                waveform.data<float>() + first.size() * per_window);
    std::copy_n(first.targets.data<int32_t>(), first.size(), label.data<int32_t>());
    std::copy_n(second.targets.data<int32_t>(), second.size(), label.data<int32_t>() + first.size());
    strata::save_safetensors(path, {{"waveform", waveform}, {"label", label}}, {},
                             {{"label", strata::StoredDType::i64}});
}

}  // namespace detector
