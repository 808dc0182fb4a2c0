// Pointwise ops, operators and activations.

#include "frontend/functional/common.h"

#include <cmath>

namespace strata {

using detail::make;
using detail::scalar_like;
using ir::Op;

namespace {

/// alpha * b for torch.add/sub's `alpha`, in b's dtype. An integer tensor takes
/// only an integral alpha that fits its dtype, as in PyTorch ("alpha must not be a
/// floating point number"); alpha = 1 leaves b as it is.
SymTensor scaled_by_alpha(const char *op, const SymTensor &b, double alpha) {
    if (alpha == 1.0 || !b.defined()) return b;
    if (b.dtype() == DType::boolean)
        fail("{}: alpha must be 1 for bool tensors, got {}", op, alpha);
    if (b.dtype() == DType::i32 &&
        !(std::nearbyint(alpha) == alpha && alpha >= -2147483648.0 && alpha <= 2147483647.0))
        fail("{}: for i32 tensors alpha must be an integer in the i32 range, got {}", op, alpha);
    // Within 2^53: the IR keeps alpha as a double, exact up to there.
    if (b.dtype() == DType::i64 &&
        !(std::nearbyint(alpha) == alpha && alpha >= -9007199254740992.0 && alpha <= 9007199254740992.0))
        fail("{}: for i64 tensors alpha must be an integer within +-2^53, got {}", op, alpha);
    return make(Op::mul, {b, scalar_like(b, alpha)});
}

}  // namespace

// alpha is a composition (a + alpha * b), not an attribute of add/sub: the add
// op, and every program printed before, stays as it is; the gradient is mul's.
SymTensor add(const SymTensor &a, const SymTensor &b, double alpha) {
    return make(Op::add, {a, scaled_by_alpha("add", b, alpha)});
}
SymTensor sub(const SymTensor &a, const SymTensor &b, double alpha) {
    return make(Op::sub, {a, scaled_by_alpha("sub", b, alpha)});
}
SymTensor mul(const SymTensor &a, const SymTensor &b) { return make(Op::mul, {a, b}); }
SymTensor div(const SymTensor &a, const SymTensor &b) { return make(Op::div, {a, b}); }
SymTensor neg(const SymTensor &x) { return make(Op::neg, {x}); }
SymTensor pow(const SymTensor &a, const SymTensor &b) { return make(Op::pow, {a, b}); }
SymTensor pow(const SymTensor &a, double exponent) { return make(Op::pow, {a, scalar_like(a, exponent)}); }
SymTensor exp(const SymTensor &x) { return make(Op::exp, {x}); }
SymTensor log(const SymTensor &x) { return make(Op::log, {x}); }
SymTensor sqrt(const SymTensor &x) { return make(Op::sqrt, {x}); }
SymTensor rsqrt(const SymTensor &x) { return make(Op::rsqrt, {x}); }
SymTensor abs(const SymTensor &x) { return make(Op::abs, {x}); }
SymTensor maximum(const SymTensor &a, const SymTensor &b) { return make(Op::maximum, {a, b}); }
SymTensor minimum(const SymTensor &a, const SymTensor &b) { return make(Op::minimum, {a, b}); }
SymTensor eq(const SymTensor &a, const SymTensor &b) { return make(Op::eq, {a, b}); }
SymTensor ne(const SymTensor &a, const SymTensor &b) { return make(Op::ne, {a, b}); }
SymTensor lt(const SymTensor &a, const SymTensor &b) { return make(Op::lt, {a, b}); }
SymTensor le(const SymTensor &a, const SymTensor &b) { return make(Op::le, {a, b}); }
SymTensor gt(const SymTensor &a, const SymTensor &b) { return make(Op::gt, {a, b}); }
SymTensor ge(const SymTensor &a, const SymTensor &b) { return make(Op::ge, {a, b}); }
SymTensor where(const SymTensor &c, const SymTensor &x, const SymTensor &y) { return make(Op::where, {c, x, y}); }
SymTensor cast(const SymTensor &x, DType dtype) {
    if (x.defined() && x.dtype() == dtype) return x;
    return make(Op::cast, {x}, {{"dtype", dtype}});
}

SymTensor operator+(const SymTensor &a, const SymTensor &b) { return add(a, b); }
SymTensor operator-(const SymTensor &a, const SymTensor &b) { return sub(a, b); }
SymTensor operator*(const SymTensor &a, const SymTensor &b) { return mul(a, b); }
SymTensor operator/(const SymTensor &a, const SymTensor &b) { return div(a, b); }
SymTensor operator-(const SymTensor &a) { return neg(a); }
SymTensor operator+(const SymTensor &a, double b) { return add(a, scalar_like(a, b)); }
SymTensor operator-(const SymTensor &a, double b) { return sub(a, scalar_like(a, b)); }
SymTensor operator*(const SymTensor &a, double b) { return mul(a, scalar_like(a, b)); }
SymTensor operator/(const SymTensor &a, double b) { return div(a, scalar_like(a, b)); }
SymTensor operator+(double a, const SymTensor &b) { return add(scalar_like(b, a), b); }
SymTensor operator-(double a, const SymTensor &b) { return sub(scalar_like(b, a), b); }
SymTensor operator*(double a, const SymTensor &b) { return mul(scalar_like(b, a), b); }
SymTensor operator/(double a, const SymTensor &b) { return div(scalar_like(b, a), b); }
SymTensor operator==(const SymTensor &a, const SymTensor &b) { return eq(a, b); }
SymTensor operator!=(const SymTensor &a, const SymTensor &b) { return ne(a, b); }
SymTensor operator<(const SymTensor &a, const SymTensor &b) { return lt(a, b); }
SymTensor operator<=(const SymTensor &a, const SymTensor &b) { return le(a, b); }
SymTensor operator>(const SymTensor &a, const SymTensor &b) { return gt(a, b); }
SymTensor operator>=(const SymTensor &a, const SymTensor &b) { return ge(a, b); }
SymTensor operator&&(const SymTensor &a, const SymTensor &b) { return make(Op::logical_and, {a, b}); }
SymTensor operator||(const SymTensor &a, const SymTensor &b) { return make(Op::logical_or, {a, b}); }
SymTensor operator!(const SymTensor &a) { return make(Op::logical_not, {a}); }

SymTensor erf(const SymTensor &x) { return make(Op::erf, {x}); }

std::vector<SymTensor> grad(const SymTensor &loss, const std::vector<SymTensor> &wrt) {
    if (!loss.defined()) fail("grad: the loss is undefined");
    return loss.graph().gradients(loss, wrt);
}

SymTensor relu(const SymTensor &x) { return make(Op::relu, {x}); }
SymTensor leaky_relu(const SymTensor &x, double slope) {
    return make(Op::leaky_relu, {x}, {{"negative_slope", slope}});
}
SymTensor elu(const SymTensor &x, double alpha) { return make(Op::elu, {x}, {{"alpha", alpha}}); }
SymTensor gelu(const SymTensor &x, const std::string &approximate) {
    return make(Op::gelu, {x}, {{"approximate", approximate}});
}
SymTensor sigmoid(const SymTensor &x) { return make(Op::sigmoid, {x}); }
SymTensor tanh(const SymTensor &x) { return make(Op::tanh, {x}); }
SymTensor softplus(const SymTensor &x, double beta, double threshold) {
    return make(Op::softplus, {x}, {{"beta", beta}, {"threshold", threshold}});
}
SymTensor dropout(const SymTensor &x, double p, bool training, int64_t seed, const SymTensor &step) {
    if (!(p >= 0.0 && p <= 1.0)) fail("dropout: p must be in [0, 1], got {}", p);
    if (!training || p == 0.0) return x;
    if (step.defined()) return make(Op::dropout, {x, step}, {{"p", p}, {"seed", seed}});
    return make(Op::dropout, {x}, {{"p", p}, {"seed", seed}});
}

}  // namespace strata
