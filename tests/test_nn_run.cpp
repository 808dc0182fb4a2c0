// nn modules compiled and run: numbers against hand computations and a naive LeNet-5, batch-norm
// running statistics, dropout, and parameters shared with the compiled graph.
#include "frontend/nn.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

using namespace strata;

namespace {

std::vector<double> values(const Tensor &t) {
    std::vector<double> out;
    for (int64_t i = 0; i < t.numel(); ++i) out.push_back(t.get_flat(i));
    return out;
}

void set_values(Tensor &t, const std::vector<double> &v) {
    REQUIRE(static_cast<int64_t>(v.size()) == t.numel());
    for (size_t i = 0; i < v.size(); ++i) t.set_flat(static_cast<int64_t>(i), v[i]);
}

void check_close(const std::vector<double> &got, const std::vector<double> &want, double tol) {
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i);
        CHECK(got[i] == Approx(want[i]).margin(tol).epsilon(tol));
    }
}

/// Runs `module` on `x` in a fresh graph and returns the output.
Tensor run_module(nn::Module &module, const Tensor &x) {
    Graph g;
    g.output("y", module.forward(g.input("x", x.shape(), x.dtype())));
    return g.compile().run(x);
}

// ---- a naive LeNet-5 in double, reading the modules' own tensors ----

/// [C, H, W] image, zero padded, stride 1.
std::vector<double> conv2d_ref(const std::vector<double> &in, int64_t c_in, int64_t h, int64_t w,
                               const Tensor &weight, const Tensor &bias, int64_t pad, int64_t *h_out,
                               int64_t *w_out) {
    const int64_t c_out = weight.size(0), k = weight.size(2);
    *h_out = h + 2 * pad - k + 1;
    *w_out = w + 2 * pad - k + 1;
    std::vector<double> out(static_cast<size_t>(c_out * *h_out * *w_out));
    for (int64_t o = 0; o < c_out; ++o)
        for (int64_t y = 0; y < *h_out; ++y)
            for (int64_t x = 0; x < *w_out; ++x) {
                double acc = bias.get_flat(o);
                for (int64_t c = 0; c < c_in; ++c)
                    for (int64_t i = 0; i < k; ++i)
                        for (int64_t j = 0; j < k; ++j) {
                            const int64_t yy = y + i - pad, xx = x + j - pad;
                            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                            acc += in[static_cast<size_t>((c * h + yy) * w + xx)] *
                                   weight.get_flat(((o * c_in + c) * k + i) * k + j);
                        }
                out[static_cast<size_t>((o * *h_out + y) * *w_out + x)] = acc;
            }
    return out;
}

std::vector<double> relu_ref(std::vector<double> v) {
    for (double &x : v) x = std::max(x, 0.0);
    return v;
}

std::vector<double> max_pool2_ref(const std::vector<double> &in, int64_t c, int64_t h, int64_t w) {
    std::vector<double> out;
    for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t y = 0; y < h / 2; ++y)
            for (int64_t x = 0; x < w / 2; ++x) {
                double m = -INFINITY;
                for (int64_t i = 0; i < 2; ++i)
                    for (int64_t j = 0; j < 2; ++j)
                        m = std::max(m, in[static_cast<size_t>((ch * h + 2 * y + i) * w + 2 * x + j)]);
                out.push_back(m);
            }
    return out;
}

std::vector<double> linear_ref(const std::vector<double> &in, const Tensor &weight, const Tensor &bias) {
    std::vector<double> out;
    for (int64_t o = 0; o < weight.size(0); ++o) {
        double acc = bias.get_flat(o);
        for (int64_t i = 0; i < weight.size(1); ++i)
            acc += in[static_cast<size_t>(i)] * weight.get_flat(o * weight.size(1) + i);
        out.push_back(acc);
    }
    return out;
}

}  // namespace

TEST_CASE("Linear computes x W^T + b with the module's tensors", "[nn][run]") {
    nn::Linear fc(3, 2);
    set_values(fc->weight, {1, 2, 3, 4, 5, 6});
    set_values(fc->bias, {0.5, -1});
    Graph g;
    g.output("y", fc(g.input("x", {2, 3})));
    auto compiled = g.compile();
    const Tensor x = Tensor::from_vector<float>({1, 1, 1, 0, 1, -1}, {2, 3});
    check_close(values(compiled.run(x)), {6.5, 14, -0.5, -2}, 1e-6);
    // The compiled graph reads the module's storage: changing a weight changes the next run.
    fc->weight.set_flat(0, 11.0);
    check_close(values(compiled.run(x)), {16.5, 14, -0.5, -2}, 1e-6);
}

TEST_CASE("A compiled graph runs at another batch size: rebatched once per size, the same numbers per sample",
          "[nn][run]") {
    manual_seed(3);
    nn::Sequential net(nn::Conv1d(nn::Conv1dOptions(2, 4, 3).padding(1)), nn::ReLU(), nn::Flatten(), nn::Linear(4 * 9, 3));
    Graph g;
    g.output("y", net(g.input("x", {4, 2, 9})));
    auto compiled = g.compile();
    Generator gen(8);
    const Tensor x7 = Tensor::randn({7, 2, 9}, gen);
    const Tensor y7 = compiled.run(x7);
    REQUIRE(y7.shape() == Shape{7, 3});
    // Each sample alone (batch 1, a third program) gives the same row.
    const std::vector<double> all = values(y7), xs = values(x7);
    for (int64_t n = 0; n < 7; ++n) {
        Tensor one = Tensor::empty({1, 2, 9});
        set_values(one, std::vector<double>(xs.begin() + n * 18, xs.begin() + (n + 1) * 18));
        INFO("sample " << n);
        check_close(values(compiled.run(one)), std::vector<double>(all.begin() + n * 3, all.begin() + (n + 1) * 3), 1e-5);
    }
    // The compiled batch still runs, and another shape than the batch is still an error.
    CHECK(compiled.run(Tensor::randn({4, 2, 9}, gen)).shape() == Shape{4, 3});
    CHECK_THROWS_WITH(compiled.run(Tensor::randn({4, 2, 8}, gen)), Catch::Contains("x"));

    // A program that spells its batch in a reshape cannot be rebatched: the error says so.
    Graph flat;
    flat.output("y", reshape(flat.input("x", {4, 3}), {12}));
    auto flat_compiled = flat.compile();
    CHECK_THROWS_WITH(flat_compiled.run(Tensor::randn({2, 3}, gen)),
                      Catch::Contains("compiled for batch 4; batch 2 needs it rebatched, which failed") &&
                          Catch::Contains("cannot change the batch size"));
}

TEST_CASE("LeNet-5 matches a naive reference", "[nn][run]") {
    manual_seed(0);
    nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::ReLU(), nn::MaxPool2d(2),
                       nn::Conv2d(nn::Conv2dOptions(6, 16, 5)), nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(),
                       nn::Linear(400, 120), nn::ReLU(), nn::Linear(120, 84), nn::ReLU(), nn::Linear(84, 10));
    Generator gen(42);
    const Tensor x = Tensor::rand({2, 1, 28, 28}, gen);
    const Tensor y = run_module(*net, x);
    REQUIRE(y.shape() == Shape{2, 10});

    auto p = net->named_parameters();
    const std::vector<double> xs = values(x), ys = values(y);
    for (int64_t n = 0; n < 2; ++n) {
        std::vector<double> a(xs.begin() + n * 784, xs.begin() + (n + 1) * 784);
        // h and w are set by conv2d_ref before the pool reads them (argument order is unspecified).
        int64_t h = 0, w = 0;
        a = relu_ref(conv2d_ref(a, 1, 28, 28, p["0.weight"], p["0.bias"], 2, &h, &w));
        a = max_pool2_ref(a, 6, h, w);
        a = relu_ref(conv2d_ref(a, 6, 14, 14, p["3.weight"], p["3.bias"], 0, &h, &w));
        a = max_pool2_ref(a, 16, h, w);
        a = relu_ref(linear_ref(a, p["7.weight"], p["7.bias"]));
        a = relu_ref(linear_ref(a, p["9.weight"], p["9.bias"]));
        a = linear_ref(a, p["11.weight"], p["11.bias"]);
        std::vector<double> got(ys.begin() + n * 10, ys.begin() + (n + 1) * 10);
        INFO("sample " << n);
        check_close(got, a, 1e-4);
    }
}

TEST_CASE("Conv1d with padding same and reflect padding", "[nn][run]") {
    nn::Conv1d conv(nn::Conv1dOptions(1, 1, 3).padding("same").padding_mode("reflect").bias(false));
    set_values(conv->weight, {1, 2, 3});
    // reflect-padded input: 2 | 1 2 3 4 | 3
    const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {1, 1, 4});
    check_close(values(run_module(*conv, x)), {10, 14, 20, 20}, 1e-6);
}

TEST_CASE("ConvTranspose1d with stride 2 places each input's kernel copy", "[nn][run]") {
    nn::ConvTranspose1d up(nn::ConvTranspose1dOptions(1, 1, 2).stride(2));
    set_values(up->weight, {1, 2});
    set_values(up->bias, {0.25});
    const Tensor x = Tensor::from_vector<float>({1, 2, 3}, {1, 1, 3});
    check_close(values(run_module(*up, x)), {1.25, 2.25, 2.25, 4.25, 3.25, 6.25}, 1e-6);
}

TEST_CASE("BatchNorm2d updates its running statistics when training and uses them in eval", "[nn][run]") {
    nn::BatchNorm2d bn(2);
    set_values(bn->weight, {1, 2});
    set_values(bn->bias, {0, 1});
    // [N=2, C=2, H=1, W=2]; channel 0 holds 1 2 3 4, channel 1 holds 10 10 20 20.
    const Tensor x = Tensor::from_vector<float>({1, 2, 10, 10, 3, 4, 20, 20}, {2, 2, 1, 2});
    const Tensor y = run_module(*bn, x);
    // Batch statistics: mean 2.5 / 15, biased var 1.25 / 25, unbiased 5/3 / 100/3.
    const double eps = 1e-5, s0 = std::sqrt(1.25 + eps), s1 = std::sqrt(25 + eps);
    check_close(values(y),
                {(1 - 2.5) / s0, (2 - 2.5) / s0, 2 * (10 - 15) / s1 + 1, 2 * (10 - 15) / s1 + 1,
                 (3 - 2.5) / s0, (4 - 2.5) / s0, 2 * (20 - 15) / s1 + 1, 2 * (20 - 15) / s1 + 1},
                1e-5);
    check_close(values(bn->running_mean), {0.25, 1.5}, 1e-6);
    check_close(values(bn->running_var), {0.9 + 0.1 * 5.0 / 3.0, 0.9 + 0.1 * 100.0 / 3.0}, 1e-6);

    bn->eval();
    const double rv0 = 0.9 + 0.1 * 5.0 / 3.0, rv1 = 0.9 + 0.1 * 100.0 / 3.0;
    const Tensor z = run_module(*bn, x);
    check_close(values(z),
                {(1 - 0.25) / std::sqrt(rv0 + eps), (2 - 0.25) / std::sqrt(rv0 + eps),
                 2 * (10 - 1.5) / std::sqrt(rv1 + eps) + 1, 2 * (10 - 1.5) / std::sqrt(rv1 + eps) + 1,
                 (3 - 0.25) / std::sqrt(rv0 + eps), (4 - 0.25) / std::sqrt(rv0 + eps),
                 2 * (20 - 1.5) / std::sqrt(rv1 + eps) + 1, 2 * (20 - 1.5) / std::sqrt(rv1 + eps) + 1},
                1e-5);
    // Eval does not move the statistics.
    check_close(values(bn->running_mean), {0.25, 1.5}, 1e-6);
}

TEST_CASE("Dropout zeroes about p of the elements when training and nothing in eval", "[nn][run]") {
    nn::Dropout drop(0.25);
    const Tensor x = Tensor::ones({4000});
    const std::vector<double> y = values(run_module(*drop, x));
    int64_t zeros = 0;
    for (double v : y) {
        if (v == 0.0)
            ++zeros;
        else
            CHECK(v == Approx(1.0 / 0.75));
    }
    CHECK(zeros > 800);
    CHECK(zeros < 1200);
    drop->eval();
    CHECK(values(run_module(*drop, x)) == values(x));
}

TEST_CASE("LayerNorm normalises the trailing dims", "[nn][run]") {
    nn::LayerNorm ln(Ints{4});
    set_values(ln->weight, {1, 1, 2, 2});
    set_values(ln->bias, {0, 0, 0, 1});
    const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {1, 4});
    const double s = std::sqrt(1.25 + 1e-5);
    check_close(values(run_module(*ln, x)), {-1.5 / s, -0.5 / s, 2 * 0.5 / s, 2 * 1.5 / s + 1}, 1e-5);
}
