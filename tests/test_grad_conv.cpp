// Gradients of the convolutions against finite differences in f64, under the
// default and the "simple" schedule: conv1d/conv2d with stride, padding
// (numbers, asymmetric, "same" with every padding mode), dilation, groups and
// bias, and the transposed convolutions with stride, padding, output_padding,
// dilation and groups. Shapes are small and odd so every tail is exercised.

#include "tests/grad_test_helpers.h"

using namespace strata;
using testing::GradSource;
using testing::Syms;

TEST_CASE("grad: conv1d with stride, padding, dilation, groups and bias", "[grad][conv]") {
    Generator gen(201);
    const std::vector<GradSource> sources = {{"x", testing::randn64({2, 4, 11}, gen)},
                                             {"w", testing::randn64({6, 2, 3}, gen, 0.5)},
                                             {"b", testing::randn64({6}, gen)},
                                             {"w_dense", testing::randn64({3, 4, 2}, gen, 0.5)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &w = in[1], &b = in[2], &w_dense = in[3];
        ConvOptions grouped;
        grouped.stride = {2};
        grouped.padding = 1;
        grouped.dilation = {2};
        grouped.groups = 2;
        ConvOptions strided;
        strided.stride = {3};
        return {conv1d(x, w, b, grouped), conv1d(x, w_dense, {}, strided),
                // Unbatched input [C, L].
                conv1d(reshape(slice(x, 0, 0, 1), {4, 11}), w_dense, {}, {})};
    });
}

TEST_CASE("grad: conv1d 'same' padding in every padding mode", "[grad][conv]") {
    Generator gen(202);
    // Kernel 4: 'same' pads asymmetrically (1 left, 2 right); with dilation 2 it pads 3 and 3.
    const std::vector<GradSource> sources = {{"x", testing::randn64({2, 3, 9}, gen)},
                                             {"w", testing::randn64({2, 3, 4}, gen, 0.5)},
                                             {"b", testing::randn64({2}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &w = in[1], &b = in[2];
        Syms outs;
        for (const char *mode : {"zeros", "reflect", "replicate", "circular"}) {
            ConvOptions o;
            o.padding = "same";
            o.padding_mode = mode;
            outs.push_back(conv1d(x, w, b, o));
            o.dilation = {2};
            outs.push_back(conv1d(x, w, {}, o));
        }
        return outs;
    });
}

TEST_CASE("grad: conv2d with stride, padding, dilation, groups and bias", "[grad][conv]") {
    Generator gen(203);
    const std::vector<GradSource> sources = {{"x", testing::randn64({2, 4, 5, 6}, gen)},
                                             {"w", testing::randn64({6, 2, 3, 2}, gen, 0.5)},
                                             {"b", testing::randn64({6}, gen)},
                                             {"w_dense", testing::randn64({2, 4, 2, 3}, gen, 0.5)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &w = in[1], &b = in[2], &w_dense = in[3];
        ConvOptions o;
        o.stride = {2, 1};
        o.padding = Ints{1, 2};
        o.dilation = {1, 2};
        o.groups = 2;
        ConvOptions plain;  // stride 1, no padding: the grad_input is a full correlation
        return {conv2d(x, w, b, o), conv2d(x, w_dense, {}, plain)};
    });
}

TEST_CASE("grad: conv2d asymmetric and 'same' padding in every padding mode", "[grad][conv]") {
    Generator gen(204);
    const std::vector<GradSource> sources = {{"x", testing::randn64({1, 2, 5, 6}, gen)},
                                             {"w", testing::randn64({3, 2, 3, 2}, gen, 0.5)},
                                             {"b", testing::randn64({3}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &w = in[1], &b = in[2];
        Syms outs;
        for (const char *mode : {"zeros", "reflect", "replicate", "circular"}) {
            ConvOptions same;
            same.padding = "same";
            same.padding_mode = mode;
            outs.push_back(conv2d(x, w, b, same));
            ConvOptions asymmetric;  // {top, bottom, left, right}
            asymmetric.padding = Ints{2, 0, 1, 2};
            asymmetric.stride = {2, 1};
            asymmetric.padding_mode = mode;
            outs.push_back(conv2d(x, w, {}, asymmetric));
        }
        return outs;
    });
}

TEST_CASE("grad: conv_transpose1d with stride, padding, output_padding, dilation and groups",
          "[grad][conv]") {
    Generator gen(205);
    const std::vector<GradSource> sources = {{"x", testing::randn64({2, 4, 5}, gen)},
                                             {"w", testing::randn64({4, 3, 3}, gen, 0.5)},
                                             {"b", testing::randn64({6}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &w = in[1], &b = in[2];
        ConvTransposeOptions grouped;
        grouped.stride = {2};
        grouped.padding = {1};
        grouped.output_padding = {1};
        grouped.groups = 2;
        ConvTransposeOptions dilated;
        dilated.stride = {3};
        dilated.dilation = {2};
        dilated.output_padding = {2};
        return {conv_transpose1d(x, w, b, grouped), conv_transpose1d(x, w, {}, dilated)};
    });
}

TEST_CASE("grad: conv_transpose2d with stride, padding, output_padding and groups", "[grad][conv]") {
    Generator gen(206);
    const std::vector<GradSource> sources = {{"x", testing::randn64({2, 4, 3, 4}, gen)},
                                             {"w", testing::randn64({4, 2, 3, 2}, gen, 0.5)},
                                             {"b", testing::randn64({4}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &w = in[1], &b = in[2];
        ConvTransposeOptions o;
        o.stride = {2, 3};
        o.padding = {1, 0};
        o.output_padding = {1, 2};
        o.groups = 2;
        ConvTransposeOptions plain;
        return {conv_transpose2d(x, w, b, o), conv_transpose2d(x, w, {}, plain)};
    });
}

TEST_CASE("grad: weight gradients with a vector or more of output channels (the blocked CPU form)", "[grad][conv]") {
    // 8 (AVX-512) or 4 (AVX2) f64 lanes: 20 output channels are two vectors and a
    // tail; 1-d runs past one 128-position block, 2-d blocks of at least 4 rows
    // and 128 positions (whole small images; 7 rows of 20); strides, padding, dilation.
    Generator gen(211);
    const std::vector<GradSource> sources = {{"x1", testing::randn64({2, 3, 141}, gen)},
                                             {"w1", testing::randn64({20, 3, 4}, gen, 0.5)},
                                             {"x2", testing::randn64({2, 2, 7, 9}, gen)},
                                             {"w2", testing::randn64({20, 2, 3, 2}, gen, 0.5)},
                                             {"w3", testing::randn64({8, 2, 3, 3}, gen, 0.5)},
                                             {"x3", testing::randn64({3, 2, 5, 6}, gen)},
                                             {"x4", testing::randn64({1, 2, 5, 6}, gen)},
                                             {"x5", testing::randn64({1, 2, 9, 20}, gen)},
                                             {"x6", testing::randn64({2, 3, 5, 16}, gen)},
                                             {"w6", testing::randn64({16, 3, 3, 3}, gen, 0.5)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        ConvOptions strided;
        strided.stride = {3};
        strided.padding = 2;
        strided.dilation = {2};
        ConvOptions strided2;
        strided2.stride = {2, 1};
        strided2.padding = 1;
        // 9 output rows of 20 in blocks of 7: the last block runs past the end.
        // One block of 8 output channels, fewer than the threads (on 2 to 3 of them): they
        // share the images, 3 of them unevenly; one image: they share the input channels.
        // Rows of 16 (whole f64 vectors): dY is transposed by blocks of rows x channels,
        // for two vectors of output channels.
        ConvOptions padded;
        padded.padding = 1;
        return {conv1d(in[0], in[1], {}, {}), conv1d(in[0], in[1], {}, strided), conv2d(in[2], in[3], {}, strided2),
                conv2d(in[2], in[3], {}, {}), conv2d(in[2], in[4], {}, padded), conv2d(in[5], in[4], {}, padded),
                conv2d(in[6], in[4], {}, padded), conv2d(in[7], in[4], {}, padded),
                conv2d(in[8], in[9], {}, padded)};
    });
}

TEST_CASE("grad: stride-1 conv2d and conv_transpose2d in the flattened-rows form", "[grad][conv]") {
    // Rows of 17-19 outputs are not whole vector tiles: the forward convs and
    // the input gradients (stride-1 transposed convs) run over rows laid end to end.
    Generator gen(212);
    const std::vector<GradSource> sources = {{"x", testing::randn64({1, 2, 4, 17}, gen)},
                                             {"w", testing::randn64({4, 2, 2, 3}, gen, 0.5)},
                                             {"b", testing::randn64({4}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &w = in[1], &b = in[2];
        ConvOptions padded;
        padded.padding = 1;
        ConvTransposeOptions grouped;
        grouped.padding = {0, 1};
        grouped.groups = 2;
        const SymTensor y = conv2d(x, w, b, padded);  // [1, 4, 5, 17]
        return {y, conv_transpose2d(tanh(y), w, {}, grouped)};
    });
}
