// Gradients of the losses against finite differences in f64, under the
// default and the "simple" schedule: cross_entropy (every reduction,
// ignore_index, label_smoothing, [N, C, d] logits), nll_loss, mse_loss and
// binary_cross_entropy_with_logits with respect to both input and target.
// Class targets are i32 sources that are fed but not differentiated.

#include "tests/grad_test_helpers.h"

using namespace strata;
using testing::GradSource;
using testing::Syms;
using testing::targets_with_ignored;

TEST_CASE("grad: cross_entropy with every reduction, ignore_index and label smoothing", "[grad][losses]") {
    Generator gen(801);
    const std::vector<GradSource> sources = {{"logits", testing::randn64({7, 5}, gen, 2.0)},
                                             {"target", testing::classes32({7}, 5, gen), false},
                                             {"target_ignored", targets_with_ignored({7}, 5, 2, gen), false}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &logits = in[0], &target = in[1], &ignored = in[2];
        Syms outs;
        for (const char *reduction : {"mean", "sum", "none"}) {
            CrossEntropyOptions plain;
            plain.reduction = reduction;
            outs.push_back(cross_entropy(logits, target, plain));
            // ignore_index 2 is also a valid class: those rows simply drop out.
            CrossEntropyOptions smoothed = plain;
            smoothed.ignore_index = 2;
            smoothed.label_smoothing = 0.15;
            outs.push_back(cross_entropy(logits, ignored, smoothed));
        }
        return outs;
    });
}

TEST_CASE("grad: cross_entropy on (N, C, d) logits", "[grad][losses]") {
    Generator gen(802);
    const std::vector<GradSource> sources = {{"logits", testing::randn64({2, 4, 5}, gen)},
                                             {"target", targets_with_ignored({2, 5}, 4, -100, gen), false}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &logits = in[0], &target = in[1];
        CrossEntropyOptions smoothed;
        smoothed.label_smoothing = 0.3;
        return {cross_entropy(logits, target), cross_entropy(logits, target, smoothed)};
    });
}

TEST_CASE("grad: nll_loss on log-probabilities and on raw scores", "[grad][losses]") {
    Generator gen(803);
    const std::vector<GradSource> sources = {{"scores", testing::randn64({6, 4}, gen)},
                                             {"target", targets_with_ignored({6}, 4, -1, gen), false}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &scores = in[0], &target = in[1];
        // -1 is the ignore_index of every loss here (with the default -100 it is out of bounds, as in PyTorch).
        return {nll_loss(log_softmax(scores, 1), target, "mean", -1), nll_loss(scores, target, "sum", -1),
                nll_loss(scores, target, "none", -1), nll_loss(scores * scores, target, "mean", -1)};
    });
}

TEST_CASE("grad: mse_loss with respect to input and target", "[grad][losses]") {
    Generator gen(804);
    const std::vector<GradSource> sources = {{"input", testing::randn64({3, 7}, gen)},
                                             {"target", testing::randn64({3, 7}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &input = in[0], &target = in[1];
        return {mse_loss(input, target), mse_loss(input, target, "sum"),
                mse_loss(tanh(input), target, "none")};
    });
}

TEST_CASE("grad: binary_cross_entropy_with_logits with respect to input and target", "[grad][losses]") {
    Generator gen(805);
    // Logits away from 0, where the stable form's relu and abs have their kinks.
    const std::vector<GradSource> sources = {{"input", testing::randn64_away_from_zero({4, 6}, gen)},
                                             {"target", testing::rand64({4, 6}, gen, 0.0, 1.0)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &input = in[0], &target = in[1];
        return {binary_cross_entropy_with_logits(input * 3.0, target),
                binary_cross_entropy_with_logits(input, target, "sum"),
                binary_cross_entropy_with_logits(input, target, "none")};
    });
}
