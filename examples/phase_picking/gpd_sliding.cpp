#include "gpd_sliding.h"

#include "runtime/data/transforms.h"

#include <fmt/format.h>

#include <algorithm>

namespace picking {

GpdClassifier::GpdClassifier(strata::models::GPD &net, int64_t window, int64_t batch) : window_(window), batch_(batch) {
    if (window < 1 || batch < 1) strata::fail("GpdClassifier: window {} and batch {}; expected >= 1", window, batch);
    net->eval();
    strata::Graph g;
    g.output("probabilities", strata::softmax(net->forward(g.input("waveform", {batch, 3, window})), 1));
    compiled_ = g.compile();
}

std::vector<std::array<float, 3>> GpdClassifier::classify(const strata::Tensor &record, int64_t stride) const {
    if (record.dim() != 2 || record.size(0) != 3 || record.dtype() != strata::DType::f32)
        strata::fail("GpdClassifier: a record of shape [{}]; expected f32 [3, samples]", fmt::join(record.shape(), ", "));
    if (stride < 1) strata::fail("GpdClassifier: stride {}; expected >= 1", stride);
    const int64_t length = record.size(1);
    if (length < window_) strata::fail("a record of {} samples is shorter than one window ({})", length, window_);
    const int64_t windows = (length - window_) / stride + 1;
    const strata::data::Demean demean;
    const strata::data::NormalizeMax normalize;
    strata::Generator unused;  // both transforms are deterministic
    std::vector<std::array<float, 3>> out;
    out.reserve(size_t(windows));
    const float *samples = record.data<float>();
    for (int64_t first = 0; first < windows; first += batch_) {
        strata::Tensor batch = strata::Tensor::zeros({batch_, 3, window_});
        const int64_t n = std::min(batch_, windows - first);
        for (int64_t b = 0; b < n; ++b) {
            strata::Tensor one = strata::Tensor::empty({3, window_});
            for (int64_t c = 0; c < 3; ++c)
                std::copy_n(samples + c * length + (first + b) * stride, window_, one.data<float>() + c * window_);
            strata::data::Example example{{"waveform", one}};
            demean.apply(example, unused);
            normalize.apply(example, unused);
            std::copy_n(example.at("waveform").data<float>(), 3 * window_, batch.data<float>() + b * 3 * window_);
        }
        const strata::Tensor p = compiled_.run(batch);
        for (int64_t b = 0; b < n; ++b)
            out.push_back({float(p.get_flat(b * 3)), float(p.get_flat(b * 3 + 1)), float(p.get_flat(b * 3 + 2))});
    }
    return out;
}

std::vector<Pick> find_picks(const std::vector<std::array<float, 3>> &probabilities, int64_t stride, int64_t window,
                             double threshold) {
    std::vector<Pick> picks;
    for (const GpdClass phase : {kP, kS}) {
        const auto column = size_t(phase);
        for (size_t i = 0; i < probabilities.size();) {
            if (probabilities[i][column] < threshold) {
                ++i;
                continue;
            }
            size_t best = i;
            for (; i < probabilities.size() && probabilities[i][column] >= threshold; ++i)
                if (probabilities[i][column] > probabilities[best][column]) best = i;
            picks.push_back({phase, int64_t(best) * stride + window / 2, probabilities[best][column]});
        }
    }
    std::stable_sort(picks.begin(), picks.end(), [](const Pick &a, const Pick &b) { return a.sample < b.sample; });
    return picks;
}

}  // namespace picking
