#include "ir/passes/constant_folding.h"

#include "ir/passes/rebuild.h"

#include <cmath>
#include <cstdint>
#include <optional>

namespace strata::ir {

namespace {

/// `value` as an element of `dtype` holds it, or nothing when it does not fit.
std::optional<double> round_to(DType dtype, double value) {
    switch (dtype) {
    case DType::f32: return static_cast<double>(static_cast<float>(value));
    case DType::f64: return value;
    case DType::i32:
        // static_cast of a value outside the range (or NaN) is undefined; leave such nodes alone.
        if (!(value > -2147483649.0 && value < 2147483648.0)) return std::nullopt;
        return static_cast<double>(static_cast<int32_t>(value));
    case DType::i64:
        // Folded in double: exact only within 2^53 (and an operation whose true result lies beyond
        // rounds to at least 2^53), so anything larger is left to the compiled kernel.
        if (!(value > -9007199254740992.0 && value < 9007199254740992.0)) return std::nullopt;
        return std::trunc(value);
    case DType::boolean: return value != 0.0 ? 1.0 : 0.0;
    }
    return std::nullopt;
}

double nan_or(double a, double b, double result) { return std::isnan(a) ? a : std::isnan(b) ? b : result; }

double gelu(double x, const std::string &approximate) {
    if (approximate == "tanh") {
        const double k = std::sqrt(2.0 / 3.14159265358979323846);
        return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
    }
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
}

/// The op applied to the argument values in double, or nothing when it is not folded.
std::optional<double> evaluate(const Node &node, const std::vector<double> &v) {
    const Attrs &a = node.attrs;
    const double x = v[0];
    switch (node.op) {
    case Op::neg: return -x;
    case Op::exp: return std::exp(x);
    case Op::log: return std::log(x);
    case Op::sqrt: return std::sqrt(x);
    case Op::rsqrt: return 1.0 / std::sqrt(x);
    case Op::abs: return std::fabs(x);
    case Op::relu: return x < 0.0 ? 0.0 : x;
    case Op::leaky_relu: return x < 0.0 ? x * a.get_float("negative_slope") : x;
    case Op::elu: return x > 0.0 ? x : a.get_float("alpha") * std::expm1(x);
    case Op::gelu: return gelu(x, a.get_str("approximate"));
    case Op::sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case Op::tanh: return std::tanh(x);
    case Op::softplus: {
        const double beta = a.get_float("beta");
        return beta * x > a.get_float("threshold") ? x : std::log1p(std::exp(beta * x)) / beta;
    }
    case Op::cast: return x;  // the rounding to the new dtype does the work
    case Op::logical_not: return x == 0.0 ? 1.0 : 0.0;
    case Op::add: return x + v[1];
    case Op::sub: return x - v[1];
    case Op::mul: return x * v[1];
    case Op::div: return x / v[1];
    case Op::pow: return std::pow(x, v[1]);
    case Op::maximum: return nan_or(x, v[1], std::fmax(x, v[1]));  // NaN propagates, as in PyTorch
    case Op::minimum: return nan_or(x, v[1], std::fmin(x, v[1]));
    case Op::eq: return x == v[1];
    case Op::ne: return x != v[1];
    case Op::lt: return x < v[1];
    case Op::le: return x <= v[1];
    case Op::gt: return x > v[1];
    case Op::ge: return x >= v[1];
    case Op::logical_and: return x != 0.0 && v[1] != 0.0;
    case Op::logical_or: return x != 0.0 || v[1] != 0.0;
    case Op::where: return x != 0.0 ? v[1] : v[2];
    default: return std::nullopt;  // dropout, and any op added later until it is taught here
    }
}

/// A pointwise node over `full` inputs as one `full`, or nullptr.
const Node *fold_pointwise(Rebuilder &b, const Node &old, const std::vector<const Node *> &inputs) {
    std::vector<double> values;
    for (const Node *in : inputs) {
        if (in->op != Op::full) return nullptr;
        const std::optional<double> v = round_to(in->dtype(), in->attrs.get_float("value"));
        if (!v) return nullptr;
        values.push_back(*v);
    }
    const std::optional<double> result = evaluate(old, values);
    if (!result) return nullptr;
    const Type type = infer_type(old.op, inputs, old.attrs);
    const std::optional<double> rounded = round_to(type.dtype, *result);
    if (!rounded) return nullptr;
    return b.target().full(*rounded, type);
}

/// Whether `n` is a `full` of exactly `value`.
bool is_full_of(const Node *n, double value) { return n->op == Op::full && n->attrs.get_float("value") == value; }

/// x * 1, 1 * x, x / 1 and x - 0 as x itself when x already has the result's
/// type (no broadcast, no promotion): exact in IEEE arithmetic, NaN and -0
/// included. (x + 0 is not: -0 + 0 is +0.) The gradient of sum(y * g) is
/// 1 * g, which otherwise costs a whole copy of g.
const Node *fold_identity(const Node &old, const std::vector<const Node *> &inputs) {
    if (inputs.size() != 2) return nullptr;
    const Type type = infer_type(old.op, inputs, old.attrs);
    const auto unchanged = [&](const Node *x) { return x->type == type ? x : nullptr; };
    switch (old.op) {
    case Op::mul:
        if (is_full_of(inputs[0], 1.0)) return unchanged(inputs[1]);
        if (is_full_of(inputs[1], 1.0)) return unchanged(inputs[0]);
        return nullptr;
    case Op::div: return is_full_of(inputs[1], 1.0) ? unchanged(inputs[0]) : nullptr;
    case Op::sub:  // x - (+0) only: x - (-0) turns -0 into +0
        return is_full_of(inputs[1], 0.0) && !std::signbit(inputs[1]->attrs.get_float("value")) ? unchanged(inputs[0])
                                                                                                 : nullptr;
    default: return nullptr;
    }
}

const Node *fold(Rebuilder &b, const Node &old) {
    const std::vector<const Node *> inputs = b.mapped_inputs(old);
    if (old.info().op_class == OpClass::pointwise) {
        if (const Node *folded = fold_pointwise(b, old, inputs)) return folded;
        if (const Node *same = fold_identity(old, inputs)) return same;
    } else if ((old.op == Op::reshape || old.op == Op::expand || old.op == Op::permute) &&
               inputs[0]->op == Op::full) {
        // Every element of a full is the same, so moving elements around changes only the shape.
        return b.target().full(inputs[0]->attrs.get_float("value"), infer_type(old.op, inputs, old.attrs));
    }
    return b.copy(old);
}

}  // namespace

Program constant_folding(const Program &program) { return rebuild(program, fold); }

}  // namespace strata::ir
