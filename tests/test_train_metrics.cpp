// Metrics (frontend/train/metrics.h) against values worked out by hand with torchmetrics'
// conventions, and against a reference built another way (from a confusion matrix counted here);
// their errors name the metric, the tensors and what was expected.
#include "frontend/train/metrics.h"
#include "runtime/generator.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"
#include "tests/support/temp_dir.h"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

using namespace strata;
using namespace strata::metrics;
using Catch::Matchers::Contains;
using strata::testing::error_message;

namespace {

std::map<std::string, double> as_map(const Values &values) { return {values.begin(), values.end()}; }

/// Scores [N, C] whose argmax is `predicted` (a 1 there, 0 elsewhere).
Tensor one_hot_scores(const std::vector<int> &predicted, int64_t classes) {
    Tensor t = Tensor::zeros({static_cast<int64_t>(predicted.size()), classes});
    for (size_t i = 0; i < predicted.size(); ++i) t.set_flat(static_cast<int64_t>(i) * classes + predicted[i], 1.0);
    return t;
}

Tensor labels(const std::vector<int32_t> &values) { return Tensor::from_vector<int32_t>(values); }

}  // namespace

TEST_CASE("Accuracy: argmax over dim 1, ignored targets left out, every position of an N x C x L output counted", "[train][metrics]") {
    Accuracy acc;
    acc.update(one_hot_scores({0, 2, 1, 1}, 3), labels({0, 2, 2, -100}));
    CHECK(as_map(acc.compute()).at("accuracy") == Approx(2.0 / 3.0));
    acc.update(one_hot_scores({1}, 3), labels({1}));  // sums over batches
    CHECK(as_map(acc.compute()).at("accuracy") == Approx(3.0 / 4.0));
    acc.reset();
    CHECK(std::isnan(as_map(acc.compute()).at("accuracy")));  // nothing seen: no score, not 0

    // [N=1, C=2, L=3] scores against [1, 3] targets; a tie picks the first class, as torch.argmax.
    const Tensor scores = Tensor::from_vector<float>({1, 0, 5, 2, 0, 1}, {1, 2, 3});
    Accuracy positions;
    positions.update(scores, Tensor::from_vector<int32_t>({1, 0, 0}, {1, 3}));  // argmax 1, 0 (tie), 0
    CHECK(as_map(positions.compute()).at("accuracy") == Approx(1.0));
}

TEST_CASE("BinaryAccuracy: sigmoid of logits above the threshold, or probabilities as given", "[train][metrics]") {
    // sigmoid: 0.269, 0.550, 0.953, 0.5 (not above 0.5, so class 0).
    const Tensor logits = Tensor::from_vector<float>({-1, 0.2f, 3, 0}, {4, 1});
    BinaryAccuracy acc;
    acc.update(logits, Tensor::from_vector<float>({0, 1, 0, 1}));
    CHECK(as_map(acc.compute()).at("binary_accuracy") == 0.5);
    BinaryAccuracy strict(0.6);  // 0.550 is now class 0
    strict.update(logits, Tensor::from_vector<int32_t>({0, 0, 1, 0}));
    CHECK(as_map(strict.compute()).at("binary_accuracy") == 1.0);
    BinaryAccuracy probabilities(0.5, BinaryInput::probabilities);
    probabilities.update(Tensor::from_vector<double>({0.2, 0.7, 0.5}), Tensor::from_vector<double>({0, 1, 1}));
    CHECK(as_map(probabilities.compute()).at("binary_accuracy") == Approx(2.0 / 3.0));
}

TEST_CASE("MultilabelAccuracy: the mean of each label's accuracy, and exact matches", "[train][metrics]") {
    MultilabelAccuracy acc(3, 0.5, BinaryInput::probabilities);
    acc.update(Tensor::from_vector<float>({0.9f, 0.1f, 0.8f, 0.2f, 0.3f, 0.7f}, {2, 3}),
               Tensor::from_vector<float>({1, 0, 1, 1, 0, 0}, {2, 3}));
    const auto v = as_map(acc.compute());
    CHECK(v.at("multilabel_accuracy") == Approx((1.0 + 0.5 + 0.5) / 3.0));
    CHECK(v.at("multilabel_accuracy/exact_match") == 0.5);
}

TEST_CASE("PrecisionRecallF1 per class and macro, classes never seen left out of the macro average",
          "[train][metrics]") {
    // targets 0 0 1 1 2 2, predictions 0 1 1 1 0 2:
    // class 0: tp 1 fp 1 fn 1; class 1: tp 2 fp 1 fn 0; class 2: tp 1 fp 0 fn 1; class 3: absent.
    PrecisionRecallF1 prf(4);
    prf.update(one_hot_scores({0, 1, 1, 1, 0, 2}, 4), labels({0, 0, 1, 1, 2, 2}));
    const auto v = as_map(prf.compute());
    CHECK(v.at("precision/0") == 0.5);
    CHECK(v.at("recall/0") == 0.5);
    CHECK(v.at("precision/1") == Approx(2.0 / 3.0));
    CHECK(v.at("recall/1") == 1.0);
    CHECK(v.at("f1/1") == Approx(0.8));
    CHECK(v.at("precision/2") == 1.0);
    CHECK(v.at("f1/2") == Approx(2.0 / 3.0));
    CHECK(v.at("precision/3") == 0.0);  // 0/0 counts as 0, as torchmetrics' zero_division
    CHECK(v.at("precision/macro") == Approx((0.5 + 2.0 / 3.0 + 1.0) / 3.0));
    CHECK(v.at("recall/macro") == Approx((0.5 + 1.0 + 0.5) / 3.0));
    CHECK(v.at("f1/macro") == Approx((0.5 + 0.8 + 2.0 / 3.0) / 3.0));
}

TEST_CASE("PrecisionRecallF1 and ConfusionMatrix agree with a reference on random data", "[train][metrics]") {
    Generator gen(5);
    const int64_t n = 300, c = 4;
    const Tensor scores = Tensor::randn({n, c}, gen);
    Tensor target = Tensor::empty({n}, DType::i32);
    for (int64_t i = 0; i < n; ++i) target.set_flat(i, static_cast<double>(gen.below(c)));
    // Two batches, to check the sums carry over.
    PrecisionRecallF1 prf(c);
    ConfusionMatrix cm(c);
    Accuracy acc;
    for (auto [begin, end] : {std::pair<int64_t, int64_t>{0, 120}, {120, n}}) {
        Tensor s = Tensor::empty({end - begin, c}), t = Tensor::empty({end - begin}, DType::i32);
        for (int64_t i = begin; i < end; ++i) {
            t.set_flat(i - begin, target.get_flat(i));
            for (int64_t k = 0; k < c; ++k) s.set_flat((i - begin) * c + k, scores.get_flat(i * c + k));
        }
        prf.update(s, t);
        cm.update(s, t);
        acc.update(s, t);
    }
    // The reference: a confusion matrix counted here, then the textbook formulas.
    std::vector<std::vector<double>> counts(c, std::vector<double>(c, 0.0));
    for (int64_t i = 0; i < n; ++i) {
        int64_t best = 0;
        for (int64_t k = 1; k < c; ++k)
            if (scores.get_flat(i * c + k) > scores.get_flat(i * c + best)) best = k;
        counts[static_cast<size_t>(target.get_flat(i))][static_cast<size_t>(best)] += 1;
    }
    const Tensor matrix = cm.matrix();
    double diagonal = 0, f1_sum = 0;
    const auto v = as_map(prf.compute());
    for (int64_t k = 0; k < c; ++k) {
        double row = 0, column = 0;
        for (int64_t j = 0; j < c; ++j) {
            row += counts[k][j];
            column += counts[j][k];
            CHECK(matrix.get_flat(k * c + j) == counts[k][j]);
        }
        const double tp = counts[k][k], precision = tp / column, recall = tp / row;
        diagonal += tp;
        CHECK(v.at(fmt::format("precision/{}", k)) == Approx(precision));
        CHECK(v.at(fmt::format("recall/{}", k)) == Approx(recall));
        f1_sum += 2 * precision * recall / (precision + recall);
    }
    CHECK(v.at("f1/macro") == Approx(f1_sum / c));
    CHECK(as_map(acc.compute()).at("accuracy") == Approx(diagonal / n));
}

TEST_CASE("ConfusionMatrix prints as a table and draws as SVG, and the binary form thresholds", "[train][metrics]") {
    ConfusionMatrix cm(3);
    cm.update(one_hot_scores({0, 1, 1, 1, 0, 2}, 3), labels({0, 0, 1, 1, 2, 2}));
    const auto v = as_map(cm.compute());
    CHECK(v.at("confusion/0/1") == 1);
    CHECK(v.at("confusion/2/0") == 1);
    CHECK(v.at("confusion/1/1") == 2);
    CHECK(cm.to_string({"noise", "P", "S"}) ==
          "        predicted\n"
          "target   noise       P       S\n"
          " noise       1       1       0\n"
          "     P       0       2       0\n"
          "     S       1       0       1\n");
    strata::testing::TempDir dir;
    const std::string path = dir / "confusion.svg";
    cm.write_svg(path, {"noise", "P", "S"});
    std::ifstream in(path);
    std::stringstream svg;
    svg << in.rdbuf();
    CHECK_THAT(svg.str(), Contains("<svg") && Contains(">noise</text>") && Contains("</svg>"));
    CHECK_THAT(error_message([&] { cm.to_string({"a"}); }), Contains("1 class names given for 3 classes"));

    ConfusionMatrix binary = ConfusionMatrix::binary();
    binary.update(Tensor::from_vector<float>({-2, 2, 2, -2}), Tensor::from_vector<float>({0, 1, 0, 1}));
    CHECK(binary.matrix().get_flat(0) == 1);  // target 0, predicted 0
    CHECK(binary.matrix().get_flat(1) == 1);  // target 0, predicted 1
    CHECK(binary.matrix().get_flat(2) == 1);
    CHECK(binary.matrix().get_flat(3) == 1);
}

TEST_CASE("MAE and RMSE over every element", "[train][metrics]") {
    MeanAbsoluteError mae;
    RootMeanSquaredError rmse;
    const Tensor out = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}), target = Tensor::from_vector<float>({1, 0, 4, 4}, {2, 2});
    mae.update(out, target);
    rmse.update(out, target);
    CHECK(as_map(mae.compute()).at("mae") == Approx(3.0 / 4.0));
    CHECK(as_map(rmse.compute()).at("rmse") == Approx(std::sqrt(5.0 / 4.0)));
}

TEST_CASE("PickingResidual: arg-max position against the target, no-pick targets left out", "[train][metrics]") {
    Tensor scores = Tensor::zeros({3, 10});
    scores.set_flat(0 * 10 + 2, 1.0);  // peaks at 2, 5 and 9
    scores.set_flat(1 * 10 + 5, 1.0);
    scores.set_flat(2 * 10 + 9, 1.0);
    PickingResidual pick(0.5);
    pick.update(scores, Tensor::from_vector<int32_t>({3, 5, -1}));
    auto v = as_map(pick.compute());
    CHECK(v.at("picking/mean_residual") == -0.5);
    CHECK(v.at("picking/mae") == 0.5);
    CHECK(v.at("picking/rmse") == Approx(std::sqrt(0.5)));
    CHECK(v.at("picking/within_tolerance") == 0.5);

    // [N, C, L]: channel 1 holds the picks; float targets (sub-sample positions).
    Tensor channels = Tensor::zeros({1, 2, 10});
    channels.set_flat(7, 9.0);        // channel 0 peaks at 7: not read
    channels.set_flat(10 + 4, 1.0);   // channel 1 peaks at 4
    PickingResidual p_phase(1.0, 1);
    p_phase.update(channels, Tensor::from_vector<float>({4.75f}));
    v = as_map(p_phase.compute());
    CHECK(v.at("picking/mean_residual") == -0.75);
    CHECK(v.at("picking/within_tolerance") == 1.0);
}

TEST_CASE("A metric on a named output prefixes its keys, and its sums are its state", "[train][metrics]") {
    BinaryAccuracy acc;
    acc.on("detection", "is_event");
    CHECK(acc.output_name() == "detection");
    acc.update(Tensor::from_vector<float>({3, -3}), Tensor::from_vector<float>({1, 1}));
    CHECK(acc.compute() == Values{{"detection.binary_accuracy", 0.5}});
    BinaryAccuracy copy;
    copy.set_state(acc.state());
    CHECK(as_map(copy.compute()).at("binary_accuracy") == 0.5);
    CHECK_THAT(error_message([&] { copy.set_state({1, 2, 3}); }), Contains("a saved state of 3 sums does not fit"));
}

TEST_CASE("Metric errors name the metric, the tensors and what was expected", "[train][metrics][errors]") {
    BinaryAccuracy binary;
    CHECK_THAT(error_message([&] { binary.update(Tensor::zeros({3}), Tensor::from_vector<float>({0, 2, 1})); }),
               Contains("BinaryAccuracy (output 'output' [3], target 'target' [3]): target 2 at flat position 1 is "
                        "not 0 or 1"));
    CHECK_THAT(error_message([&] { binary.update(Tensor::zeros({3, 2}), Tensor::zeros({3})); }),
               Contains("same number of elements, got 6 and 3"));
    CHECK_THAT(error_message([&] { binary.update(Tensor::zeros({4}), Tensor::zeros({3})); }),
               Contains("the output has 4 examples [4] but the target 3 [3]"));
    Accuracy acc;
    CHECK_THAT(error_message([&] { acc.update(one_hot_scores({0}, 3), labels({3})); }),
               Contains("target 3 at flat position 0 is not a class in [0, 3)"));
    PrecisionRecallF1 prf(3);
    CHECK_THAT(error_message([&] { prf.update(Tensor::zeros({2, 4}), labels({0, 1})); }),
               Contains("expected an output [N, 3, ...] of class scores"));
    CHECK_THAT(error_message([] { PrecisionRecallF1 one(1); }), Contains("needs at least 2 classes, got 1"));
    CHECK_THAT(error_message([] { BinaryAccuracy bad(1.5); }), Contains("threshold 1.5 is not a probability"));
    CHECK_THAT(error_message([] { PickingResidual bad(-1); }), Contains("tolerance must be a finite number"));
    PickingResidual pick(2);
    CHECK_THAT(error_message([&] { pick.update(Tensor::zeros({2, 3, 5}), Tensor::zeros({2})); }),
               Contains("expected an output [N, L]"));
    CHECK_THAT(error_message([&] { acc.on("", "t"); }), Contains("must not be empty"));
}
