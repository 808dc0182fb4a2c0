// The GPD example's pieces that are not the library's (examples/phase_picking/gpd_windows.*,
// gpd_sliding.*): the window cut around a pick against a direct index of the trace, its centre
// drawn uniformly among the allowed samples, the example plan read from a STEAD-like CSV, and
// the picks found in a run of window probabilities.
#include "examples/phase_picking/gpd_sliding.h"
#include "examples/phase_picking/gpd_windows.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"
#include "tests/support/temp_dir.h"

#include <cmath>
#include <map>
#include <set>

using namespace picking;
using strata::testing::error_message;
using Catch::Matchers::Contains;

namespace {

/// A trace [3, length] whose sample (c, i) is c * 100000 + i, with its picks and label.
strata::data::Example trace_example(int64_t length, double p, double s, GpdClass label) {
    std::vector<float> values;
    for (int64_t c = 0; c < 3; ++c)
        for (int64_t i = 0; i < length; ++i) values.push_back(float(c * 100000 + i));
    return {{"waveform", strata::Tensor::from_vector(values, strata::Shape{3, length})},
            {"p_arrival_sample", strata::Tensor::full({}, p, strata::DType::f64)},
            {"s_arrival_sample", strata::Tensor::full({}, s, strata::DType::f64)},
            {"label", strata::Tensor::full({}, double(label), strata::DType::i32)}};
}

/// Crops with seeds 0..draws-1 and returns how often each window centre came out, after
/// checking every window against the trace sample by sample.
std::map<int64_t, int> centres(const GpdCrop &crop, int64_t length, double p, double s, GpdClass label, int draws) {
    std::map<int64_t, int> seen;
    for (int seed = 0; seed < draws; ++seed) {
        strata::data::Example e = trace_example(length, p, s, label);
        strata::Generator rng{uint64_t(seed)};
        crop.apply(e, rng);
        REQUIRE(e.size() == 2);  // waveform and label; the picks are dropped
        REQUIRE(e.at("label").get_flat(0) == double(label));
        const strata::Tensor &w = e.at("waveform");
        REQUIRE(w.shape() == strata::Shape{3, 400});
        const auto start = static_cast<int64_t>(w.get_flat(0));
        for (int64_t c = 0; c < 3; ++c)
            for (int64_t j = 0; j < 400; j += 37) REQUIRE(w.get_flat(c * 400 + j) == double(c * 100000 + start + j));
        ++seen[start + 200];
    }
    return seen;
}

}  // namespace

TEST_CASE("GpdCrop centres P and S windows within the jitter of the arrival, uniformly") {
    const GpdCrop crop({.length = 400, .jitter = 20, .gap = 50});
    const auto p = centres(crop, 1000, 500, 700, kP, 2000);
    REQUIRE(p.size() == 41);  // every centre 480..520
    CHECK(p.begin()->first == 480);
    CHECK(p.rbegin()->first == 520);
    for (const auto &[centre, count] : p) CHECK(count > 20);  // 2000 / 41 ~ 49 each
    const auto s = centres(crop, 1000, 500, 700, kS, 300);
    CHECK(s.begin()->first >= 680);
    CHECK(s.rbegin()->first <= 720);
    // Near the end of the trace the centres stop where the window does.
    const auto late = centres(crop, 1000, 300, 790, kS, 300);
    CHECK(late.rbegin()->first == 800);
    CHECK(late.begin()->first == 770);
    // The same seed cuts the same window.
    CHECK(centres(crop, 1000, 500, 700, kP, 5) == centres(crop, 1000, 500, 700, kP, 5));
}

TEST_CASE("GpdCrop centres noise windows away from both arrivals, anywhere on a noise trace") {
    const GpdCrop crop({.length = 400, .jitter = 20, .gap = 50});
    const auto quake = centres(crop, 1000, 400, 600, kNoise, 1000);
    for (const auto &[centre, count] : quake) {
        INFO("centre " << centre);
        CHECK(std::fabs(double(centre) - 400) > 50);
        CHECK(std::fabs(double(centre) - 600) > 50);
        CHECK(centre >= 200);
        CHECK(centre <= 800);
    }
    CHECK(quake.count(200) + quake.count(500) + quake.count(800) > 0);  // both ends and the middle reached
    const auto noise = centres(crop, 1000, NAN, NAN, kNoise, 3000);
    CHECK(noise.begin()->first == 200);
    CHECK(noise.rbegin()->first == 800);
    CHECK(noise.size() > 550);  // of 601 centres
}

TEST_CASE("GpdCrop refuses windows it cannot cut, naming the pick") {
    const GpdCrop crop({.length = 400, .jitter = 20, .gap = 50});
    strata::Generator rng(0);
    auto cut = [&](int64_t length, double p, double s, GpdClass label) {
        strata::data::Example e = trace_example(length, p, s, label);
        crop.apply(e, rng);
    };
    CHECK_THAT(error_message([&] { cut(1000, 300, 950, kS); }), Contains("S arrival at sample 950 of a 1000-sample trace"));
    CHECK_THAT(error_message([&] { cut(1000, NAN, NAN, kP); }), Contains("a P window of a trace without that arrival"));
    CHECK_THAT(error_message([&] { cut(300, NAN, NAN, kNoise); }), Contains("shorter than the window"));
    CHECK_THAT(error_message([&] { cut(420, 210, 215, kNoise); }), Contains("no noise window"));
    CHECK_THAT(error_message([&] { GpdCrop({.length = 0}); }), Contains("expected length >= 1"));
}

TEST_CASE("plan_gpd_examples: P, S and noise examples from a STEAD-like CSV, split by its split column") {
    strata::testing::TempDir dir;
    const std::string csv = dir.write("meta.csv", "trace_name,trace_category,p_arrival_sample,s_arrival_sample,split\n"
                                                  "a,earthquake_local,100,300,train\n"
                                                  "b,noise,,,train\n"
                                                  "c,earthquake_local,120,320,train\n"
                                                  "d,earthquake_local,150,350,dev\n"
                                                  "e,noise,,,test\n");
    const GpdPlan plan = plan_gpd_examples(strata::data::MetadataTable::read_csv(csv));
    // a: P, S; b: noise; c: P, S and (the second earthquake) noise.
    std::vector<std::pair<int64_t, int>> train, validation;
    for (const GpdItem &i : plan.train) train.emplace_back(i.trace, int(i.label));
    for (const GpdItem &i : plan.validation) validation.emplace_back(i.trace, int(i.label));
    CHECK(train == std::vector<std::pair<int64_t, int>>{{0, kP}, {0, kS}, {1, kNoise}, {2, kP}, {2, kS}, {2, kNoise}});
    CHECK(validation == std::vector<std::pair<int64_t, int>>{{3, kP}, {3, kS}, {4, kNoise}});
    CHECK(plan.validation_earthquakes == std::vector<int64_t>{3});

    const std::string bad = dir.write("bad.csv", "trace_name,trace_category,p_arrival_sample,s_arrival_sample\n"
                                                 "a,earthquake_local,100,300\nb,explosion,,\n");
    CHECK_THAT(error_message([&] { plan_gpd_examples(strata::data::MetadataTable::read_csv(bad)); }),
               Contains("bad.csv: line 3: trace_category 'explosion'"));
    const std::string no_s = dir.write("no_s.csv", "trace_name,trace_category,p_arrival_sample,s_arrival_sample\n"
                                                   "a,earthquake_local,100,\n");
    CHECK_THAT(error_message([&] { plan_gpd_examples(strata::data::MetadataTable::read_csv(no_s)); }),
               Contains("no_s.csv: line 2: an earthquake trace without"));
}

TEST_CASE("find_picks: one pick per run above the threshold, at its peak window's centre") {
    // Windows every 10 samples, 400 long: window k is centred at 10 k + 200.
    std::vector<std::array<float, 3>> p(10, {0.0f, 0.0f, 1.0f});
    const float p_column[] = {0.1f, 0.6f, 0.95f, 0.7f, 0.2f, 0.9f, 0.9f, 0.1f, 0.3f, 0.8f};
    const float s_column[] = {0.0f, 0.0f, 0.0f, 0.0f, 0.7f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    for (size_t k = 0; k < p.size(); ++k) p[k] = {p_column[k], s_column[k], 1 - p_column[k] - s_column[k]};
    const std::vector<Pick> picks = find_picks(p, 10, 400, 0.5);
    REQUIRE(picks.size() == 4);
    CHECK((picks[0].phase == kP && picks[0].sample == 220 && picks[0].probability == Approx(0.95)));
    CHECK((picks[1].phase == kS && picks[1].sample == 240));
    CHECK((picks[2].phase == kP && picks[2].sample == 250));  // a tie: the first window
    CHECK((picks[3].phase == kP && picks[3].sample == 290));  // a run that reaches the end
    CHECK(find_picks(p, 10, 400, 0.99).empty());
    CHECK(find_picks({}, 10, 400, 0.5).empty());
}

TEST_CASE("RandomApply applies its transform to the asked fraction of examples") {
    struct Mark : strata::data::Transform {
        void apply(strata::data::Example &e, strata::Generator &) const override { e["marked"] = strata::Tensor::ones({}); }
        std::string describe() const override { return "mark"; }
    };
    const RandomApply never(0.0, std::make_shared<Mark>()), always(1.0, std::make_shared<Mark>()),
        some(0.3, std::make_shared<Mark>());
    int marked = 0;
    for (uint64_t seed = 0; seed < 1000; ++seed) {
        strata::data::Example a, b, c;
        strata::Generator rng(seed);
        never.apply(a, rng);
        always.apply(b, rng);
        some.apply(c, rng);
        CHECK(a.empty());
        CHECK(b.count("marked"));
        marked += int(c.count("marked"));
    }
    CHECK(marked > 240);
    CHECK(marked < 360);
    CHECK_THAT(error_message([&] { RandomApply(1.5, std::make_shared<Mark>()); }), Contains("expected [0, 1]"));
}
