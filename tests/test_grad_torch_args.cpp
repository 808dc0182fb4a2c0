// Gradients of the PyTorch arguments of issue 20 against finite differences
// in f64, under the default and the "simple" schedule: add/sub `alpha`;
// cross_entropy's class `weight` (with respect to the logits and to the weight
// itself, every reduction, ignore_index, label smoothing, [N, C, d] logits);
// nll_loss's weight; binary_cross_entropy_with_logits with respect to input,
// target, weight and pos_weight; avg_pool with divisor_override; max_unpool
// (SegNet's max_pool -> max_unpool pair).

#include "tests/grad_test_helpers.h"

using namespace strata;
using testing::GradSource;
using testing::Syms;
using testing::targets_with_ignored;

TEST_CASE("grad: add and sub with alpha", "[grad][torch_args]") {
    Generator gen(2101);
    const std::vector<GradSource> sources = {{"a", testing::randn64({3, 4}, gen)}, {"b", testing::randn64({4}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &a = in[0], &b = in[1];
        return {add(a, b, 2.5), sub(a * a, b, -3.0), add(a, b * b, 0.0)};
    });
}

TEST_CASE("grad: weighted cross_entropy with respect to logits and weight", "[grad][torch_args][losses]") {
    Generator gen(2102);
    const std::vector<GradSource> sources = {{"logits", testing::randn64({7, 5}, gen, 2.0)},
                                             {"weight", testing::rand64({5}, gen, 0.2, 2.0)},
                                             {"target", testing::classes32({7}, 5, gen), false},
                                             {"target_ignored", targets_with_ignored({7}, 5, 2, gen), false}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &logits = in[0], &weight = in[1], &target = in[2], &ignored = in[3];
        Syms outs;
        for (const char *reduction : {"mean", "sum", "none"}) {
            outs.push_back(cross_entropy(logits, target, {.reduction = reduction, .weight = weight}));
            // ignore_index 2 is also a valid class: those rows drop out of the loss and the mean's weight sum.
            outs.push_back(cross_entropy(logits, ignored,
                                         {.reduction = reduction, .ignore_index = 2, .label_smoothing = 0.15,
                                          .weight = weight}));
        }
        return outs;
    });
}

TEST_CASE("grad: weighted cross_entropy on (N, C, d) logits", "[grad][torch_args][losses]") {
    Generator gen(2103);
    const std::vector<GradSource> sources = {{"logits", testing::randn64({2, 4, 5}, gen)},
                                             {"weight", testing::rand64({4}, gen, 0.2, 2.0)},
                                             {"target", targets_with_ignored({2, 5}, 4, -100, gen), false}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &logits = in[0], &weight = in[1], &target = in[2];
        return {cross_entropy(logits, target, {.weight = weight}),
                cross_entropy(logits, target, {.label_smoothing = 0.3, .weight = weight}),
                cross_entropy(logits, target, {.reduction = "none", .label_smoothing = 0.3, .weight = weight})};
    });
}

TEST_CASE("grad: weighted nll_loss with respect to scores and weight", "[grad][torch_args][losses]") {
    Generator gen(2104);
    const std::vector<GradSource> sources = {{"scores", testing::randn64({6, 4}, gen)},
                                             {"weight", testing::rand64({4}, gen, 0.2, 2.0)},
                                             {"target", targets_with_ignored({6}, 4, -1, gen), false}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &scores = in[0], &weight = in[1], &target = in[2];
        Syms outs;
        for (const char *reduction : {"mean", "sum", "none"})
            outs.push_back(
                nll_loss(log_softmax(scores, 1), target, {.reduction = reduction, .ignore_index = -1, .weight = weight}));
        return outs;
    });
}

TEST_CASE("grad: binary_cross_entropy_with_logits with weight and pos_weight", "[grad][torch_args][losses]") {
    Generator gen(2105);
    // Logits away from 0, where the stable form's relu and abs have their kinks.
    const std::vector<GradSource> sources = {{"input", testing::randn64_away_from_zero({4, 6}, gen)},
                                             {"target", testing::rand64({4, 6}, gen, 0.0, 1.0)},
                                             {"weight", testing::rand64({4, 1}, gen, 0.2, 2.0)},
                                             {"pos_weight", testing::rand64({6}, gen, 0.5, 4.0)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &input = in[0], &target = in[1], &weight = in[2], &pos_weight = in[3];
        return {binary_cross_entropy_with_logits(input * 3.0, target, {.pos_weight = pos_weight}),
                binary_cross_entropy_with_logits(input, target, {.reduction = "sum", .weight = weight}),
                binary_cross_entropy_with_logits(input, target,
                                                 {.reduction = "none", .weight = weight, .pos_weight = pos_weight})};
    });
}

TEST_CASE("grad: avg_pool1d and avg_pool2d with divisor_override", "[grad][torch_args][pool]") {
    Generator gen(2106);
    const std::vector<GradSource> sources = {{"x1", testing::randn64({2, 2, 11}, gen)},
                                             {"x2", testing::randn64({2, 2, 7, 6}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x1 = in[0], &x2 = in[1];
        return {avg_pool1d(x1, {4}, {.stride = {3}, .padding = {2}, .ceil_mode = true, .divisor_override = 3}),
                avg_pool2d(x2, {3, 3}, {.stride = {2, 3}, .padding = {1, 1}, .ceil_mode = true,
                                        .count_include_pad = false, .divisor_override = 7}),
                avg_pool2d(x2, {3, 2}, {.stride = {1, 2}, .padding = {1, 0}, .divisor_override = -2})};
    });
}

TEST_CASE("grad: max_unpool after max_pool with indices, as in SegNet", "[grad][torch_args][pool]") {
    Generator gen(2107);
    // Values 0.1 apart: no window has a tie that a difference step could flip.
    const std::vector<GradSource> sources = {{"x1", testing::distinct64({2, 2, 9}, gen)},
                                             {"x2", testing::distinct64({1, 2, 6, 7}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x1 = in[0], &x2 = in[1];
        const MaxPoolWithIndices p1 = max_pool1d_with_indices(x1, {2});
        // Windows that do not overlap: where two windows share a maximum, the unpool keeps one
        // value but PyTorch's backward (a gather) gives the gradient to both, which no finite
        // difference reproduces; test_ops_torch_args checks that case against PyTorch's numbers.
        const MaxPoolWithIndices p2 = max_pool2d_with_indices(x2, {2}, {.padding = {1}});
        // The unpooled values are scaled, so the gradient through the unpool is not the pool's own.
        return {max_unpool1d(p1.output * p1.output, p1.indices, {2}, {.output_size = {9}}),
                max_unpool2d(tanh(p2.output), p2.indices, {2}, {.padding = {1}, .output_size = {6, 7}}) * x2};
    });
}
