#include "gpd_windows.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace picking {

namespace data = strata::data;

GpdPlan plan_gpd_examples(const data::MetadataTable &table) {
    const size_t category = table.column("trace_category"), p = table.column("p_arrival_sample"),
                 s = table.column("s_arrival_sample");
    const bool has_split = table.has_column("split");
    const size_t split = has_split ? table.column("split") : 0;
    GpdPlan plan;
    int64_t earthquakes = 0;
    for (int64_t row = 0; row < table.rows(); ++row) {
        const std::string &kind = table.field(row, category);
        const bool earthquake = kind.rfind("earthquake", 0) == 0;
        if (!earthquake && kind != "noise")
            strata::fail("{}: line {}: trace_category '{}'; expected earthquake_local (or another earthquake_*) or noise",
                         table.path(), table.line_of(row), kind);
        bool validation = row % 10 == 9;
        if (has_split) {
            const std::string &which = table.field(row, split);
            if (which != "train" && which != "dev" && which != "test")
                strata::fail("{}: line {}: split '{}'; expected train, dev or test", table.path(), table.line_of(row),
                             which);
            validation = which != "train";
        }
        if (earthquake && (table.field(row, p).empty() || table.field(row, s).empty()))
            strata::fail("{}: line {}: an earthquake trace without p_arrival_sample or s_arrival_sample", table.path(),
                         table.line_of(row));
        std::vector<GpdItem> &items = validation ? plan.validation : plan.train;
        if (earthquake) {
            items.push_back({row, kP});
            items.push_back({row, kS});
            if (earthquakes++ % 2 == 1) items.push_back({row, kNoise});
            if (validation) plan.validation_earthquakes.push_back(row);
        } else {
            items.push_back({row, kNoise});
        }
    }
    if (plan.train.empty() || plan.validation.empty())
        strata::fail("{}: {} training and {} validation examples; expected some of each", table.path(),
                     plan.train.size(), plan.validation.size());
    return plan;
}

GpdExamples::GpdExamples(std::shared_ptr<const data::Hdf5TraceDataset> traces, std::vector<GpdItem> items)
    : traces_(std::move(traces)), items_(std::move(items)) {
    for (const GpdItem &item : items_)
        if (item.trace < 0 || item.trace >= traces_->size())
            strata::fail("GPD examples: trace {} of a file of {} traces", item.trace, traces_->size());
}

data::Example GpdExamples::get(int64_t index) const {
    if (index < 0 || index >= size()) strata::fail("GPD examples: index {} of {}", index, size());
    const GpdItem &item = items_[size_t(index)];
    data::Example example = traces_->get(item.trace);
    if (example.at("waveform").dim() != 2 || example.at("waveform").size(0) != 3)
        strata::fail("{}: {} channels; the GPD picker reads three (E, N, Z)", traces_->describe(item.trace),
                     example.at("waveform").size(0));
    example["label"] = strata::Tensor::full({}, double(item.label), strata::DType::i32);
    return example;
}

std::string GpdExamples::describe(int64_t index) const {
    if (index < 0 || index >= size()) return fmt::format("GPD example {} of {}", index, size());
    const GpdItem &item = items_[size_t(index)];
    return fmt::format("{} ({} window)", traces_->describe(item.trace), kGpdClassNames[size_t(item.label)]);
}

GpdCrop::GpdCrop(GpdCropOptions options) : options_(options) {
    if (options_.length < 1 || options_.jitter < 0 || options_.gap < 0)
        strata::fail("GpdCrop: length {}, jitter {}, gap {}; expected length >= 1 and the others >= 0", options_.length,
                     options_.jitter, options_.gap);
}

void GpdCrop::apply(data::Example &example, strata::Generator &rng) const {
    const strata::Tensor &trace = example.at("waveform");
    const int64_t channels = trace.size(0), length = trace.size(1), half = options_.length / 2;
    if (length < options_.length)
        strata::fail("GpdCrop: a trace of {} samples is shorter than the window ({})", length, options_.length);
    const double p = example.at("p_arrival_sample").get_flat(0), s = example.at("s_arrival_sample").get_flat(0);
    const auto label = static_cast<GpdClass>(example.at("label").get_flat_int64(0));
    // Centres c with the window [c - half, c - half + length) inside the trace.
    const int64_t lo = half, hi = length - (options_.length - half);
    int64_t centre = 0;
    if (label == kP || label == kS) {
        const double at = label == kP ? p : s;
        if (!std::isfinite(at)) strata::fail("GpdCrop: a {} window of a trace without that arrival", kGpdClassNames[label]);
        const int64_t pick = std::llround(at);
        const int64_t first = std::max(lo, pick - options_.jitter), last = std::min(hi, pick + options_.jitter);
        if (first > last)
            strata::fail("GpdCrop: a {} arrival at sample {} of a {}-sample trace cannot be within {} samples of the "
                         "centre of a {}-sample window",
                         kGpdClassNames[label], at, length, options_.jitter, options_.length);
        centre = first + int64_t(rng.below(uint64_t(last - first + 1)));
    } else {
        auto far = [&](int64_t c) {
            return !(std::fabs(double(c) - p) <= double(options_.gap)) && !(std::fabs(double(c) - s) <= double(options_.gap));
        };
        int64_t allowed = 0;
        for (int64_t c = lo; c <= hi; ++c) allowed += far(c);
        if (allowed == 0)
            strata::fail("GpdCrop: no noise window of a {}-sample trace is {} samples from its arrivals ({}, {})", length,
                         options_.gap, p, s);
        int64_t k = int64_t(rng.below(uint64_t(allowed)));
        for (centre = lo; !(far(centre) && k-- == 0); ++centre) {
        }
    }
    strata::Tensor window = strata::Tensor::empty({channels, options_.length});
    const float *from = trace.data<float>();
    float *to = window.data<float>();
    for (int64_t c = 0; c < channels; ++c)
        std::copy_n(from + c * length + (centre - half), options_.length, to + c * options_.length);
    example["waveform"] = window;
    example.erase("p_arrival_sample");
    example.erase("s_arrival_sample");
}

std::string GpdCrop::describe() const {
    return fmt::format("gpd_crop(length {}, P/S within {} of the centre, noise {} away)", options_.length,
                       options_.jitter, options_.gap);
}

RandomApply::RandomApply(double probability, data::TransformPtr transform)
    : probability_(probability), transform_(std::move(transform)) {
    if (!(probability_ >= 0 && probability_ <= 1) || !transform_)
        strata::fail("RandomApply: probability {} and a transform; expected [0, 1] and non-null", probability_);
}

void RandomApply::apply(data::Example &example, strata::Generator &rng) const {
    if (rng.uniform() < probability_) transform_->apply(example, rng);
}

std::string RandomApply::describe() const { return fmt::format("random_apply({}, {})", probability_, transform_->describe()); }

}  // namespace picking
