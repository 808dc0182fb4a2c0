// Trainer beyond single-input classification: a binary detector, a regression and a two-headed
// picker (named inputs, outputs and targets) train with the metrics their task needs, computed
// from the programs' own outputs and checked here against a separate forward pass; an
// unregistered submodule and a NaN loss are errors that say what to do.
#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/adam.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/trainer.h"
#include "runtime/random.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"

#include <cmath>

using namespace strata;
using Catch::Matchers::Contains;
using strata::testing::error_message;

namespace {

constexpr int64_t kLength = 16;

TrainerOptions quiet(int64_t epochs, int64_t batch = 16) {
    TrainerOptions o;
    o.epochs = epochs;
    o.batch_size = batch;
    o.progress = false;
    o.seed = 7;
    return o;
}

/// Noise traces [n, 1, 16]; every other one holds an event (a pulse): targets [n, 1] of 0/1.
Dataset detection_data(int64_t n, uint64_t seed) {
    Generator gen(seed);
    Tensor x = Tensor::randn({n, 1, kLength}, gen, DType::f32, 0.0, 0.3);
    Tensor t = Tensor::zeros({n, 1});
    for (int64_t i = 0; i < n; i += 2) {
        t.set_flat(i, 1.0);
        for (int64_t s = 6; s < 10; ++s) x.set_flat(i * kLength + s, x.get_flat(i * kLength + s) + 1.5);
    }
    return {x, t};
}

/// The model's outputs on a whole data set, from a graph compiled here (eval mode).
SymMap run_forward_outputs(Graph &g, const ForwardFn &forward, const TensorMap &inputs) {
    SymMap in;
    for (const auto &[name, t] : inputs) in[name] = g.input(name, t.shape(), t.dtype());
    return forward(in);
}
TensorMap reference_outputs(nn::Module &net, const ForwardFn &forward, const TensorMap &inputs) {
    const nn::TrainingModeScope evaluating(net, false);
    Graph g;
    for (const auto &[name, out] : run_forward_outputs(g, forward, inputs)) g.output(name, out);
    return g.compile().run(inputs);
}

ForwardFn single(nn::Module &net) {
    return [&net](const SymMap &in) { return SymMap{{"output", net.forward(in.at("input"))}}; };
}

}  // namespace

TEST_CASE("A binary detector trained with BCE-with-logits reports its binary accuracy, not 0", "[train][trainer][metrics]") {
    const Dataset train = detection_data(64, 1), validation = detection_data(32, 2);
    manual_seed(1);
    nn::Sequential net(nn::Flatten(), nn::Linear(kLength, 8), nn::ReLU(), nn::Linear(8, 1));
    optim::Adam adam(optim::AdamOptions(0.05));
    Trainer trainer(*net, adam, [](const SymTensor &y, const SymTensor &t) { return binary_cross_entropy_with_logits(y, t); },
                    quiet(6));
    trainer.add_metric(metrics::BinaryAccuracy());
    trainer.add_metric(metrics::PrecisionRecallF1::binary());
    const std::vector<EpochStats> history = trainer.fit(train, &validation);
    REQUIRE(history.size() == 6);
    const EpochStats &last = history.back();
    CHECK(std::isnan(last.train_accuracy));  // no argmax accuracy for a single logit
    CHECK(std::isnan(last.validation_accuracy));
    CHECK(last.metrics.at("binary_accuracy") >= 0.9);
    CHECK(last.metrics.at("val_binary_accuracy") >= 0.9);
    CHECK(last.metrics.at("val_loss") == last.validation_loss);

    // The validation values against the model run once more, separately, on the whole set.
    const Tensor logits = reference_outputs(*net, single(*net), {{"input", validation.inputs}}).at("output");
    double right = 0, true_positive = 0, predicted_positive = 0;
    for (int64_t i = 0; i < validation.size(); ++i) {
        const bool predicted = 1.0 / (1.0 + std::exp(-logits.get_flat(i))) > 0.5, truth = validation.targets.get_flat(i) == 1.0;
        right += predicted == truth;
        true_positive += predicted && truth;
        predicted_positive += predicted;
    }
    CHECK(last.metrics.at("val_binary_accuracy") == Approx(right / 32.0));
    CHECK(last.metrics.at("val_precision/1") == Approx(true_positive / predicted_positive));
    CHECK(trainer.evaluate(validation).metrics.at("binary_accuracy") == Approx(right / 32.0));
}

TEST_CASE("A regression trained with MSE reports MAE and RMSE, consistent with its loss", "[train][trainer][metrics]") {
    Generator gen(3);
    auto make = [&](int64_t n) {
        Tensor x = Tensor::randn({n, 4}, gen), t = Tensor::empty({n, 1});
        for (int64_t i = 0; i < n; ++i)
            t.set_flat(i, 0.5 * x.get_flat(4 * i) - x.get_flat(4 * i + 1) + 2.0 * x.get_flat(4 * i + 3) + 0.3 +
                              0.05 * gen.normal());
        return Dataset{x, t};
    };
    const Dataset train = make(96), validation = make(40);  // 40: a last batch of 8
    manual_seed(2);
    nn::Linear net(4, 1);
    optim::SGD sgd(optim::SGDOptions(0.1));
    Trainer trainer(*net, sgd, [](const SymTensor &y, const SymTensor &t) { return mse_loss(y, t); }, quiet(8));
    trainer.add_metric(metrics::MeanAbsoluteError());
    trainer.add_metric(metrics::RootMeanSquaredError());
    const std::vector<EpochStats> history = trainer.fit(train, &validation);
    const EpochStats &last = history.back();
    CHECK(std::isnan(last.train_accuracy));
    CHECK(last.metrics.at("val_rmse") < history.front().metrics.at("val_rmse"));
    CHECK(last.metrics.at("val_rmse") < 0.2);
    // The loss is the mean squared error over the whole set: the square of the RMSE.
    CHECK(last.metrics.at("val_rmse") * last.metrics.at("val_rmse") == Approx(last.validation_loss).epsilon(1e-4));
    const Tensor predictions = reference_outputs(*net, single(*net), {{"input", validation.inputs}}).at("output");
    double abs_sum = 0;
    for (int64_t i = 0; i < validation.size(); ++i)
        abs_sum += std::abs(predictions.get_flat(i) - validation.targets.get_flat(i));
    CHECK(last.metrics.at("val_mae") == Approx(abs_sum / 40.0).epsilon(1e-5));
}

namespace {

/// A two-headed picker: is there an event, and at which sample does it start.
struct PickerImpl : nn::Module {
    PickerImpl() {
        features = register_module("features", nn::Conv1d(nn::Conv1dOptions(1, 4, 3).padding(1)));
        detect = register_module("detect", nn::Linear(4 * kLength, 1));
        pick = register_module("pick", nn::Conv1d(nn::Conv1dOptions(4, 1, 3).padding(1)));
    }
    SymMap heads(const SymTensor &trace) {
        const SymTensor h = relu(features(trace));
        return {{"detection", squeeze(detect(flatten(h, 1)), 1)}, {"onset", flatten(pick(h), 1)}};
    }
    nn::Conv1d features{nullptr}, pick{nullptr};
    nn::Linear detect{nullptr};
};
STRATA_MODULE(Picker);

/// Traces with an event (a pulse starting at a random sample) or noise; onset -100 for noise.
NamedDataset picking_data(int64_t n, uint64_t seed) {
    Generator gen(seed);
    Tensor x = Tensor::randn({n, 1, kLength}, gen, DType::f32, 0.0, 0.2);
    Tensor is_event = Tensor::zeros({n}), onset = Tensor::full({n}, -100, DType::i32);
    for (int64_t i = 0; i < n; i += 2) {
        const int64_t at = 2 + static_cast<int64_t>(gen.below(kLength - 5));
        is_event.set_flat(i, 1.0);
        onset.set_flat(i, static_cast<double>(at));
        for (int64_t s = at; s < at + 3; ++s) x.set_flat(i * kLength + s, x.get_flat(i * kLength + s) + 2.0);
    }
    return {{{"trace", x}}, {{"is_event", is_event}, {"onset", onset}}};
}

}  // namespace

TEST_CASE("A two-headed picker trains on named inputs, outputs and targets with a metric per head",
          "[train][trainer][metrics][named]") {
    const NamedDataset train = picking_data(64, 4), validation = picking_data(32, 5);
    manual_seed(4);
    Picker net;
    const ForwardFn forward = [&](const SymMap &in) { return net->heads(in.at("trace")); };
    const MultiLossFn loss = [](const SymMap &out, const SymMap &t) {
        return binary_cross_entropy_with_logits(out.at("detection"), t.at("is_event")) +
               0.5 * cross_entropy(out.at("onset"), t.at("onset"));
    };
    optim::Adam adam(optim::AdamOptions(0.03));
    Trainer trainer(*net, adam, forward, loss, quiet(15));
    trainer.add_metric(metrics::BinaryAccuracy()).on("detection", "is_event");
    trainer.add_metric(metrics::PickingResidual(1.0)).on("onset", "onset");
    std::vector<double> step_losses;
    trainer.on_step_end([&](const StepStats &s) { step_losses.push_back(s.loss); });
    const std::vector<EpochStats> history = trainer.fit(train, &validation);
    CHECK(step_losses.size() == 15 * 4);
    CHECK(step_losses == trainer.step()->losses());
    const EpochStats &last = history.back();
    CHECK(std::isnan(last.train_accuracy));
    CHECK(last.train_loss < history.front().train_loss);
    CHECK(last.metrics.at("val_detection.binary_accuracy") >= 0.9);
    CHECK(last.metrics.at("val_onset.picking/within_tolerance") >= 0.5);

    // Both heads' validation values against one separate forward pass.
    const TensorMap out = reference_outputs(*net, forward, validation.inputs);
    double right = 0, picks = 0, within = 0, abs_residual = 0;
    for (int64_t i = 0; i < 32; ++i) {
        right += (out.at("detection").get_flat(i) > 0) == (validation.targets.at("is_event").get_flat(i) == 1.0);
        const double target = validation.targets.at("onset").get_flat(i);
        if (target < 0) continue;
        int64_t best = 0;
        for (int64_t s = 1; s < kLength; ++s)
            if (out.at("onset").get_flat(i * kLength + s) > out.at("onset").get_flat(i * kLength + best)) best = s;
        picks += 1;
        within += std::abs(best - target) <= 1.0;
        abs_residual += std::abs(best - target);
    }
    CHECK(last.metrics.at("val_detection.binary_accuracy") == Approx(right / 32));
    CHECK(last.metrics.at("val_onset.picking/within_tolerance") == Approx(within / picks));
    CHECK(last.metrics.at("val_onset.picking/mae") == Approx(abs_residual / picks));

    // A metric reading an output the model does not have says which it has.
    Trainer wrong(*net, adam, forward, loss, quiet(1));
    wrong.add_metric(metrics::BinaryAccuracy()).on("detector", "is_event");
    CHECK_THAT(error_message([&] { wrong.fit(train); }),
               Contains("metric BinaryAccuracy reads the model output 'detector', but the model's outputs are "
                        "'detection', 'onset'"));
    // A batch without a target the loss reads.
    NamedDataset missing = train;
    missing.targets.erase("onset");
    Trainer incomplete(*net, adam, forward, loss, quiet(1));
    CHECK_THAT(error_message([&] { incomplete.fit(missing); }),
               Contains("TrainStep: the forward or loss function asked for a name that is not there") &&
                   Contains("inputs 'trace'; targets 'is_event'; model outputs 'detection', 'onset'"));
}

namespace {
/// fc2 is a member, used in forward, but never registered.
struct LeakyImpl : nn::Module {
    LeakyImpl() { fc1 = register_module("fc1", nn::Linear(kLength, 8)); }
    SymTensor forward(const SymTensor &x) override { return fc2(relu(fc1(flatten(x, 1)))); }
    nn::Linear fc1{nullptr};
    nn::Linear fc2{nn::Linear(8, 1)};
};
STRATA_MODULE(Leaky);
}  // namespace

TEST_CASE("A submodule used in forward but never registered is an error naming its tensor", "[train][trainer][errors]") {
    const Dataset data = detection_data(32, 1);
    Leaky net;
    optim::SGD sgd(optim::SGDOptions(0.1));
    const auto loss = [](const SymTensor &y, const SymTensor &t) { return mse_loss(y, t); };
    Trainer trainer(*net, sgd, loss, quiet(1));
    const std::string message = error_message([&] { trainer.fit(data); });
    CHECK_THAT(message, Contains("TrainStep: the forward pass reads 'bias' [1] (f32), 'weight' [1, 8] (f32), which are "
                                 "not a parameter or buffer of the model"));
    CHECK_THAT(message, Contains("never registered") && Contains("register_module"));
    CHECK_THAT(error_message([&] { trainer.evaluate(data); }), Contains("Trainer::evaluate: the forward pass reads 'bias' [1] (f32), 'weight'"));
}

TEST_CASE("TrainerOptions::detect_anomaly names where a NaN loss came from, and the message without it names the option",
          "[train][trainer][errors]") {
    Dataset data = detection_data(32, 1);
    data.inputs = data.inputs.clone();
    data.inputs.set_flat(5, NAN);  // example 0, in the first batch (no shuffle)
    const auto loss = [](const SymTensor &y, const SymTensor &t) { return mse_loss(y, t); };
    for (const bool detect : {false, true}) {
        nn::Sequential net(nn::Flatten(), nn::Linear(kLength, 1));
        optim::SGD sgd(optim::SGDOptions(0.1));
        TrainerOptions options = quiet(1);
        options.shuffle = false;
        options.detect_anomaly = detect;
        Trainer trainer(*net, sgd, loss, options);
        const std::string message = error_message([&] { trainer.fit(data); });
        CHECK_THAT(message, Contains("epoch 1, batch 1 of 2: training step 1: the loss is nan"));
        if (detect)
            CHECK_THAT(message, Contains("detect_anomaly: ") && Contains("input 'input' (f32[16,1,16]) holds nan at element 5"));
        else
            CHECK_THAT(message, Contains("set TrainerOptions::detect_anomaly"));
    }
}

TEST_CASE("TrainStep keeps the per-step losses and, asked to, the gradients as backward leaves them",
          "[train][train_step]") {
    // Linear regression: for y = x W^T + b and mean squared error over N x O values, dL/dW is
    // 2/(N*O) (y - t)^T x and dL/db is 2/(N*O) sum over examples of (y - t).
    Generator gen(9);
    const Tensor x = Tensor::randn({8, 3}, gen), t = Tensor::randn({8, 2}, gen);
    manual_seed(9);
    nn::Linear net(3, 2);
    const Tensor w0 = net->named_parameters()["weight"].clone(), b0 = net->named_parameters()["bias"].clone();
    optim::SGD sgd(optim::SGDOptions(0.05));
    TrainStepOptions options;
    options.keep_gradients = true;
    options.clip_grad_norm = 1e-3;  // the kept gradient is the one before clipping
    TrainStep step(*net, sgd, Shape{8, 3}, Shape{8, 2}, DType::f32,
                   [](const SymTensor &y, const SymTensor &target) { return mse_loss(y, target); }, options);
    CHECK(step.gradients().empty());
    const double first = step.step(x, t).loss;
    const TensorMap &grads = step.gradients();
    REQUIRE(grads.size() == 2);
    double loss = 0;
    std::vector<double> dw(6, 0.0), db(2, 0.0);
    for (int64_t i = 0; i < 8; ++i)
        for (int64_t o = 0; o < 2; ++o) {
            double y = b0.get_flat(o);
            for (int64_t k = 0; k < 3; ++k) y += x.get_flat(i * 3 + k) * w0.get_flat(o * 3 + k);
            const double r = y - t.get_flat(i * 2 + o);
            loss += r * r / 16.0;
            db[o] += 2.0 * r / 16.0;
            for (int64_t k = 0; k < 3; ++k) dw[o * 3 + k] += 2.0 * r * x.get_flat(i * 3 + k) / 16.0;
        }
    CHECK(first == Approx(loss).epsilon(1e-5));
    for (int64_t k = 0; k < 6; ++k) CHECK(grads.at("weight").get_flat(k) == Approx(dw[k]).epsilon(1e-4));
    for (int64_t o = 0; o < 2; ++o) CHECK(grads.at("bias").get_flat(o) == Approx(db[o]).epsilon(1e-4));
    const double second = step.step(x, t).loss;
    CHECK(step.losses() == std::vector<double>{first, second});
}
