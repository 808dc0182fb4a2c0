// LR schedulers: each one's sequence of learning rates against PyTorch's closed forms (and a few
// values printed by torch.optim.lr_scheduler), errors, and the Trainer stepping a schedule per epoch.
#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/lr_scheduler.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/trainer.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <vector>

using namespace strata;
using namespace strata::optim;

namespace {

const double pi = std::acos(-1.0);

/// The learning rates of epochs 0..epochs-1: the one after construction, then one per step().
std::vector<double> sequence(LRScheduler &s, int epochs) {
    std::vector<double> lrs{s.optimizer().lr()};
    CHECK(s.last_epoch() == 0);
    for (int e = 1; e < epochs; ++e) {
        s.step();
        CHECK(s.last_epoch() == e);
        CHECK(s.get_last_lr() == s.optimizer().lr());
        lrs.push_back(s.optimizer().lr());
    }
    return lrs;
}

std::vector<double> closed_form(int epochs, const std::function<double(int)> &f) {
    std::vector<double> out;
    for (int e = 0; e < epochs; ++e) out.push_back(f(e));
    return out;
}

void check_sequence(const std::vector<double> &got, const std::vector<double> &want) {
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        INFO("epoch " << i);
        CHECK(got[i] == Approx(want[i]).epsilon(1e-12).margin(1e-15));
    }
}

}  // namespace

TEST_CASE("StepLR decays by gamma every step_size epochs", "[optim][lr_scheduler]") {
    SGD sgd(SGDOptions(0.1));
    StepLR s(sgd, 3, 0.5);
    CHECK(s.base_lr() == 0.1);
    check_sequence(sequence(s, 10), closed_form(10, [](int e) { return 0.1 * std::pow(0.5, e / 3); }));
    // torch: StepLR(SGD(lr=0.1), step_size=3, gamma=0.5) -> 0.1 0.1 0.1 0.05 0.05 0.05 0.025
    CHECK(sgd.lr() == Approx(0.1 * 0.125));
}

TEST_CASE("MultiStepLR decays at each milestone", "[optim][lr_scheduler]") {
    SGD sgd(SGDOptions(1.0));
    MultiStepLR s(sgd, {2, 5, 5}, 0.1);
    // A repeated milestone decays twice (PyTorch counts milestones).
    check_sequence(sequence(s, 7), {1, 1, 0.1, 0.1, 0.1, 0.001, 0.001});
}

TEST_CASE("ExponentialLR multiplies by gamma every epoch", "[optim][lr_scheduler]") {
    SGD sgd(SGDOptions(0.2));
    ExponentialLR s(sgd, 0.9);
    check_sequence(sequence(s, 6), closed_form(6, [](int e) { return 0.2 * std::pow(0.9, e); }));
}

TEST_CASE("CosineAnnealingLR follows half a cosine from base_lr to eta_min", "[optim][lr_scheduler]") {
    SGD sgd(SGDOptions(0.1));
    CosineAnnealingLR s(sgd, 4, 0.01);
    // The closed form is periodic: past T_max it rises again (as PyTorch's closed form does).
    check_sequence(sequence(s, 9), closed_form(9, [](int e) {
                       return 0.01 + (0.1 - 0.01) * (1 + std::cos(pi * e / 4)) / 2;
                   }));
    SGD sgd2(SGDOptions(1.0));
    CosineAnnealingLR s2(sgd2, 4);
    // torch: 1.0, 0.8535533905932737, 0.5, 0.14644660940672627, 0.0
    check_sequence(sequence(s2, 5), {1.0, 0.8535533905932737, 0.5, 0.14644660940672627, 0.0});
}

TEST_CASE("ConstantLR scales by factor until total_iters", "[optim][lr_scheduler]") {
    SGD sgd(SGDOptions(0.3));
    ConstantLR s(sgd, 0.5, 2);
    check_sequence(sequence(s, 4), {0.15, 0.15, 0.3, 0.3});
}

TEST_CASE("LinearLR warms up linearly and then holds", "[optim][lr_scheduler]") {
    SGD sgd(SGDOptions(0.1));
    LinearLR s(sgd);  // start 1/3, end 1, 5 iterations
    check_sequence(sequence(s, 8), closed_form(8, [](int e) {
                       return 0.1 * (1.0 / 3 + (1 - 1.0 / 3) * std::min(e, 5) / 5.0);
                   }));
    // Construction already applied the epoch-0 rate, as PyTorch's initial step does.
    SGD sgd2(SGDOptions(1.0));
    LinearLR s2(sgd2, 0.25, 0.75, 2);
    check_sequence(sequence(s2, 4), {0.25, 0.5, 0.75, 0.75});
}

TEST_CASE("SequentialLR chains a linear warm-up and cosine annealing", "[optim][lr_scheduler]") {
    SGD sgd(SGDOptions(1.0));
    auto warmup = std::make_shared<LinearLR>(sgd, 0.1, 1.0, 3);
    // Built after the warm-up lowered lr() to 0.1: it still anneals from the initial 1.0.
    auto cosine = std::make_shared<CosineAnnealingLR>(sgd, 4);
    CHECK(cosine->base_lr() == 1.0);
    SequentialLR s(sgd, {warmup, cosine}, {3});
    CHECK(sgd.lr() == Approx(0.1));  // the first scheduler's epoch 0
    std::vector<double> want = {0.1, 0.4, 0.7};
    for (int e = 0; e < 5; ++e) want.push_back((1 + std::cos(pi * e / 4)) / 2);
    check_sequence(sequence(s, 8), want);
    // The active child follows: the cosine restarted at the milestone.
    CHECK(cosine->last_epoch() == 4);
    CHECK(warmup->last_epoch() == 2);

    // Resuming: jumping to an epoch gives the same rate as stepping there.
    s.set_last_epoch(1);
    CHECK(sgd.lr() == Approx(0.4));
    s.set_last_epoch(5);
    CHECK(sgd.lr() == Approx(0.5));
}

TEST_CASE("SequentialLR with three phases", "[optim][lr_scheduler]") {
    SGD sgd(SGDOptions(0.5));
    auto a = std::make_shared<ConstantLR>(sgd, 0.1, 10);
    auto b = std::make_shared<ExponentialLR>(sgd, 0.5);
    auto c = std::make_shared<StepLR>(sgd, 1, 1.0);
    SequentialLR s(sgd, {a, b, c}, {2, 4});
    check_sequence(sequence(s, 6), {0.05, 0.05, 0.5, 0.25, 0.5, 0.5});
}

TEST_CASE("LR scheduler options errors", "[optim][lr_scheduler][errors]") {
    SGD sgd(SGDOptions(0.1));
    SGD other(SGDOptions(0.1));
    CHECK_THROWS_WITH(StepLR(sgd, 0), Catch::Contains("StepLR: step_size must be >= 1, got 0"));
    CHECK_THROWS_WITH(StepLR(sgd, 2, -1), Catch::Contains("gamma must be finite and >= 0"));
    CHECK_THROWS_WITH(MultiStepLR(sgd, {3, 1}), Catch::Contains("increasing order"));
    CHECK_THROWS_WITH(CosineAnnealingLR(sgd, 0), Catch::Contains("T_max must be >= 1, got 0"));
    CHECK_THROWS_WITH(LinearLR(sgd, 0.0), Catch::Contains("start_factor must be greater than 0"));
    CHECK_THROWS_WITH(LinearLR(sgd, 0.5, 1.5),
                      Catch::Contains("end_factor must be between 0 and 1, got 1.5"));
    CHECK_THROWS_WITH(LinearLR(sgd, 0.5, 1.0, 0), Catch::Contains("total_iters must be >= 1"));
    CHECK_THROWS_WITH(ConstantLR(sgd, 2.0), Catch::Contains("factor must be between 0 and 1"));

    auto a = std::make_shared<LinearLR>(sgd);
    auto b = std::make_shared<StepLR>(sgd, 2);
    auto foreign = std::make_shared<StepLR>(other, 2);
    CHECK_THROWS_WITH(SequentialLR(sgd, {}, {}), Catch::Contains("at least one scheduler"));
    CHECK_THROWS_WITH(SequentialLR(sgd, {a, b}, {}),
                      Catch::Contains("expects 1 milestones for 2 schedulers, got 0"));
    CHECK_THROWS_WITH(SequentialLR(sgd, {a, foreign}, {3}),
                      Catch::Contains("scheduler 1 drives a different optimizer"));
    CHECK_THROWS_WITH(SequentialLR(sgd, {a, b, a}, {3, 3}), Catch::Contains("strictly increasing"));
    CHECK_THROWS_WITH(a->set_last_epoch(-1), Catch::Contains("epoch must be >= 0, got -1"));
}

TEST_CASE("Trainer steps its scheduler after every epoch", "[optim][lr_scheduler][trainer]") {
    manual_seed(3);
    nn::Linear fc(2, 1);
    Generator gen(1);
    Dataset data{Tensor::randn({8, 2}, gen), Tensor::randn({8, 1}, gen)};
    SGD sgd(SGDOptions(0.1));
    SGD other(SGDOptions(1.0));
    StepLR other_schedule(other, 1);
    auto loss = [](const SymTensor &y, const SymTensor &t) { return mse_loss(y, t); };
    TrainerOptions options;
    options.epochs = 4;
    options.batch_size = 4;
    options.progress = false;
    Trainer trainer(*fc, sgd, loss, options);
    CHECK_THROWS_WITH(trainer.set_scheduler(&other_schedule), Catch::Contains("different optimizer"));

    CosineAnnealingLR cosine(sgd, 4);
    trainer.set_scheduler(&cosine);
    std::vector<double> seen_at_end;
    trainer.on_epoch_end([&](const EpochStats &) { seen_at_end.push_back(sgd.lr()); });
    const auto history = trainer.fit(data);
    REQUIRE(history.size() == 4);
    for (int e = 0; e < 4; ++e) {
        INFO("epoch " << e);
        // The epoch trained with the schedule's rate; the callback ran before the scheduler stepped.
        CHECK(history[static_cast<size_t>(e)].lr == Approx(0.05 * (1 + std::cos(pi * e / 4))));
        CHECK(seen_at_end[static_cast<size_t>(e)] == history[static_cast<size_t>(e)].lr);
    }
    CHECK(cosine.last_epoch() == 4);
    CHECK(sgd.lr() == Approx(0.0).margin(1e-15));
    // Two steps per epoch ran, each with the rate of its epoch (the rate is an input: no recompiles).
    CHECK(sgd.step_count() == 8);
}
