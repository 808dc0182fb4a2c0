// conv1d_grad_weight with few output channels (PhaseNet's 8-22): the CPU default
// sums it with one vector lane per output position (codegen/lower/conv1d_grad_weight_lanes.cpp).
// Checked against a naive double loop and the "simple" schedule, in f32 and f64, on shapes
// that reach every part of the form: output channels not a whole number of register tiles,
// a batch not a whole number of thread shares (and batch 1), positions not whole vectors,
// 32 channels over a short output,
// stride (the input read by phase), dilation, padding, taps that fill the register tile
// alone, and an input long enough that each image is summed on its own.

#include "tests/op_test_helpers.h"

using namespace strata;
using testing::float_dtypes;
using testing::tolerance;

namespace {

struct Case {
    int64_t images, channels_in, channels_out, length, taps, stride, padding, dilation;
};

/// dW[co, ci, k] = sum over n, o of dy[n, co, o] * x[n, ci, o*stride - padding + k*dilation], in double.
Tensor naive_grad_weight(const Tensor &x, const Tensor &dy, const Case &c) {
    const int64_t out_length = dy.shape()[2];
    std::vector<double> dw(static_cast<size_t>(c.channels_out * c.channels_in * c.taps));
    for (int64_t co = 0; co < c.channels_out; ++co)
        for (int64_t ci = 0; ci < c.channels_in; ++ci)
            for (int64_t k = 0; k < c.taps; ++k) {
                double s = 0;
                for (int64_t n = 0; n < c.images; ++n)
                    for (int64_t o = 0; o < out_length; ++o) {
                        const int64_t i = o * c.stride - c.padding + k * c.dilation;
                        if (i < 0 || i >= c.length) continue;
                        s += dy.get_flat((n * c.channels_out + co) * out_length + o) *
                             x.get_flat((n * c.channels_in + ci) * c.length + i);
                    }
                dw[static_cast<size_t>((co * c.channels_in + ci) * c.taps + k)] = s;
            }
    return Tensor::from_vector(dw, {c.channels_out, c.channels_in, c.taps});
}

}  // namespace

TEST_CASE("conv1d weight gradients with few output channels match a naive sum", "[ops][conv][grad]") {
    const Case cases[] = {
        {3, 5, 11, 50, 7, 1, 3, 1},    // 3 images on 2 threads, 11 channels = 3 tiles of 3 + 2
        {2, 4, 8, 37, 5, 4, 2, 1},     // stride 4: by phase
        {5, 3, 22, 41, 3, 2, 1, 2},    // stride 2 with dilation 2
        {1, 2, 3, 20, 3, 1, 0, 1},     // batch 1: one share
        {2, 2, 5, 40, 24, 1, 0, 1},    // 24 taps: one channel per tile
        {4, 8, 8, 4500, 7, 1, 3, 1},   // each image summed on its own (its data staged in cache)
        {3, 6, 32, 40, 5, 4, 2, 1},    // two vectors of channels over 10 output positions
    };
    Generator gen(1801);
    for (const Case &c : cases) {
        for (DType dtype : float_dtypes) {
            INFO("N" << c.images << " Ci" << c.channels_in << " Co" << c.channels_out << " L" << c.length << " K"
                     << c.taps << " stride " << c.stride << " padding " << c.padding << " dilation " << c.dilation
                     << " " << dtype_name(dtype));
            Graph g;
            auto x = g.input("x", {c.images, c.channels_in, c.length}, dtype);
            auto w = g.parameter("w", testing::randn({c.channels_out, c.channels_in, c.taps}, dtype, gen));
            ConvOptions o;
            o.stride = {c.stride};
            o.padding = c.padding;
            o.dilation = {c.dilation};
            auto y = conv1d(x, w, {}, o);
            auto t = g.input("t", y.shape(), dtype);
            g.output("dw", g.gradients(sum(y * t), {w})[0]);
            const std::map<std::string, Tensor> inputs = {{"x", testing::randn(x.shape(), dtype, gen)},
                                                          {"t", testing::randn(y.shape(), dtype, gen)}};
            const Tensor expected = naive_grad_weight(inputs.at("x"), inputs.at("t"), c);
            const double rtol = tolerance(dtype, static_cast<double>(c.images * y.shape()[2]));
            for (const char *schedule : testing::kSchedules) {
                INFO(schedule);
                CHECK_CLOSE(g.compile(testing::with_schedule(schedule)).run(inputs).at("dw"), expected.to(dtype),
                            dtype, rtol);
            }
        }
    }
}
