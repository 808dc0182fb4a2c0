// Pointwise references: elementwise maps with NumPy broadcasting, casts and
// the activations, each written from PyTorch's documented formula.

#include "tests/reference/indexing.h"
#include "tests/reference/reference.h"

#include <cmath>

namespace strata::reference {

using namespace detail;

Tensor map(const Tensor &x, const std::function<double(double)> &f) {
    std::vector<double> v = values(x);
    for (double &e : v) e = f(e);
    return make_f64(v, x.shape());
}

Tensor map2(const Tensor &a, const Tensor &b, const std::function<double(double, double)> &f) {
    const Shape out = broadcast_shapes(a.shape(), b.shape());
    const std::vector<double> va = values(a), vb = values(b);
    std::vector<double> r(static_cast<size_t>(shape_numel(out)));
    for (size_t i = 0; i < r.size(); ++i) {
        const Ints index = unravel(static_cast<int64_t>(i), out);
        r[i] = f(va[static_cast<size_t>(broadcast_source(index, out, a.shape()))],
                 vb[static_cast<size_t>(broadcast_source(index, out, b.shape()))]);
    }
    return make_f64(r, out);
}

Tensor where(const Tensor &condition, const Tensor &x, const Tensor &y) {
    const Shape out = broadcast_shapes(broadcast_shapes(condition.shape(), x.shape()), y.shape());
    const std::vector<double> vc = values(condition), vx = values(x), vy = values(y);
    std::vector<double> r(static_cast<size_t>(shape_numel(out)));
    for (size_t i = 0; i < r.size(); ++i) {
        const Ints index = unravel(static_cast<int64_t>(i), out);
        const bool c = vc[static_cast<size_t>(broadcast_source(index, out, condition.shape()))] != 0;
        r[i] = c ? vx[static_cast<size_t>(broadcast_source(index, out, x.shape()))]
                 : vy[static_cast<size_t>(broadcast_source(index, out, y.shape()))];
    }
    return make_f64(r, out);
}

Tensor cast(const Tensor &x, DType dtype) {
    Tensor out = Tensor::empty(x.shape(), dtype);
    // i64 does not survive a double: to or from it, go through int64 (PyTorch's rules: floats
    // truncate toward zero, i32 wraps, floats round to nearest, bool is != 0).
    if (x.dtype() == DType::i64 || dtype == DType::i64) {
        for (int64_t i = 0; i < x.numel(); ++i) out.set_flat_int64(i, x.get_flat_int64(i));
        return out;
    }
    for (int64_t i = 0; i < x.numel(); ++i) {
        const double v = x.get_flat(i);
        switch (dtype) {
        case DType::boolean: out.set_flat(i, v != 0 ? 1.0 : 0.0); break;
        case DType::i32: out.set_flat(i, std::trunc(v)); break;  // C++ and PyTorch truncate toward zero
        case DType::f32: out.set_flat(i, static_cast<double>(static_cast<float>(v))); break;
        case DType::f64: out.set_flat(i, v); break;
        case DType::i64: break;  // above
        }
    }
    return out;
}

double gelu(double x, const std::string &approximate) {
    if (approximate == "tanh") {
        const double k = std::sqrt(2.0 / M_PI);
        return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
    }
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
}

double softplus(double x, double beta, double threshold) {
    // Reverts to the identity when beta * x > threshold (PyTorch's rule).
    if (beta * x > threshold) return x;
    return std::log1p(std::exp(beta * x)) / beta;
}

double elu(double x, double alpha) { return x > 0 ? x : alpha * std::expm1(x); }

double leaky_relu(double x, double negative_slope) { return x > 0 ? x : negative_slope * x; }

double sigmoid(double x) {
    // Written so that neither branch overflows.
    if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
    const double e = std::exp(x);
    return e / (1.0 + e);
}

}  // namespace strata::reference
