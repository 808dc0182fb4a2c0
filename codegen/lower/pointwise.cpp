// Lowering of sources (input, parameter, full, iota) and pointwise ops.

#include "codegen/lower/class_targets.h"
#include "codegen/lower/context.h"
#include "codegen/lower/math.h"

#include <strata/error.h>

#include <cmath>
#include <cstring>

namespace strata::codegen {

using namespace Halide;
using ir::Op;

namespace {
/// A copy of `value` as a Halide buffer; used in a definition it is embedded
/// in the compiled object as constant data.
Buffer<> constant_buffer(const Tensor &value, const ir::Node &node) {
    if (value.dtype() != node.dtype() || value.shape() != node.shape())
        fail("parameter '{}' is {}, but the value to embed is {}{}", node.attrs.get_str("name"),
             ir::type_str(node.type), dtype_name(value.dtype()), shape_str(value.shape()));
    const Shape &shape = node.shape();
    std::vector<int> extents(shape.rbegin(), shape.rend());
    Buffer<> buffer(halide_type(node.dtype()), extents, func_name(node, "_data"));
    const Tensor dense = value.contiguous();
    std::memcpy(buffer.data(), dense.raw_data(), dense.nbytes());
    return buffer;
}
}  // namespace

Func lower_source(const ir::Node &node, LowerContext &ctx) {
    const size_t rank = node.shape().size();
    auto vars = make_vars(rank);
    Func f(func_name(node));
    const Type t = halide_type(node.dtype());
    switch (node.op) {
    case Op::input:
    case Op::parameter: {
        if (node.op == Op::parameter && ctx.constants) {
            auto it = ctx.constants->find(node.attrs.get_str("name"));
            if (it != ctx.constants->end()) {
                Buffer<> data = constant_buffer(it->second, node);
                std::vector<Expr> args = to_halide_args(as_index(vars));
                define(f, vars, data(args));
                return f;
            }
        }
        ImageParam p(t, static_cast<int>(rank), func_name(node, "_buf"));
        const Shape strides = contiguous_strides(node.shape());
        for (size_t i = 0; i < rank; ++i) {
            // Fixed, dense shapes let Halide fold every index computation.
            const int hd = static_cast<int>(rank - 1 - i);
            p.dim(hd).set_bounds(0, static_cast<int>(node.shape()[i]));
            p.dim(hd).set_stride(static_cast<int>(strides[i]));
        }
        ctx.params[static_cast<size_t>(node.id)] = p;
        define(f, vars, call(p, as_index(vars)));
        return f;
    }
    case Op::full: define(f, vars, constant(t, node.attrs.get_float("value"))); return f;
    case Op::iota:
        define(f, vars, cast(t, vars[static_cast<size_t>(node.attrs.get_int("dim"))]));
        return f;
    default: break;
    }
    STRATA_ASSERT(false, "not a source op: {}", node.name());
}

namespace {

/// A uniform float in [0, 1) from a counter and a seed (a 32-bit integer hash;
/// the same numbers on every target and schedule).
Expr hash_uniform(Expr counter, Expr seed) {
    auto u32 = [](uint32_t v) { return Internal::make_const(UInt(32), v); };
    Expr h = cast<uint32_t>(counter) * u32(0x9E3779B1u) + cast<uint32_t>(seed) * u32(0x85EBCA77u) + u32(1u);
    h = h ^ (h >> 16);
    h = h * u32(0x7FEB352Du);
    h = h ^ (h >> 15);
    h = h * u32(0x846CA68Bu);
    h = h ^ (h >> 16);
    return cast<double>(h >> 8) * Expr(1.0 / 16777216.0);
}

Expr flat_index(const Index &idx, const Shape &shape) {
    Expr flat = 0;
    for (size_t i = 0; i < idx.size(); ++i) flat = flat * static_cast<int>(shape[i]) + idx[i];
    return flat;
}

Expr unary(const ir::Node &node, Expr a, const Index &idx, const std::vector<Expr> &extra) {
    const Type t = a.type();
    auto c = [&t](double v) { return constant(t, v); };
    switch (node.op) {
    case Op::neg: return -a;
    case Op::exp: return ieee_exp(a);
    case Op::log: return ieee_log(a);
    case Op::sqrt: return sqrt(a);
    case Op::rsqrt: return c(1.0) / sqrt(a);
    case Op::abs: return cast(t, abs(a));
    case Op::relu: return nan_max(a, c(0));
    case Op::leaky_relu: return keep_nan(a, select(a > c(0), a, a * c(node.attrs.get_float("negative_slope"))));
    case Op::elu: return keep_nan(a, select(a > c(0), a, c(node.attrs.get_float("alpha")) * expm1(a)));
    case Op::gelu:
        if (node.attrs.get_str("approximate") == "tanh")
            return c(0.5) * a * (c(1.0) + tanh(c(std::sqrt(2.0 / M_PI)) * (a + c(0.044715) * a * a * a)));
        return c(0.5) * a * (c(1.0) + accurate_erf(a * c(M_SQRT1_2)));
    case Op::erf: return accurate_erf(a);
    case Op::sigmoid: return keep_nan(a, c(1.0) / (c(1.0) + ieee_exp(-a)));
    case Op::tanh: return tanh(a);
    case Op::softplus: {
        // PyTorch: log1p(exp(beta x)) / beta, and x itself once beta x > threshold.
        Expr bx = a * c(node.attrs.get_float("beta"));
        return keep_nan(a, select(bx > c(node.attrs.get_float("threshold")), a,
                                  log1p(ieee_exp(bx)) / c(node.attrs.get_float("beta"))));
    }
    case Op::cast: {
        const DType to = node.dtype();
        const DType from = node.input(0)->dtype();
        Expr v = from == DType::boolean ? cast<int>(a) : a;
        if (to == DType::boolean) return store_bool(v != constant(v.type(), 0));
        return cast(halide_type(to), v);
    }
    case Op::logical_not: return store_bool(!load_bool(a));
    case Op::dropout: {
        const double p = node.attrs.get_float("p");
        if (p >= 1.0) return c(0.0);
        Expr seed = Internal::make_const(UInt(32), static_cast<uint32_t>(node.attrs.get_int("seed")));
        // The per-run step (when given) moves the whole mask: a new mask every training step.
        if (!extra.empty()) seed = seed + cast<uint32_t>(extra[0]) * Internal::make_const(UInt(32), 0x2545F491u);
        Expr u = hash_uniform(flat_index(idx, node.shape()), seed);
        return select(u < Expr(p), c(0.0), a * c(1.0 / (1.0 - p)));
    }
    default: break;
    }
    STRATA_ASSERT(false, "not a unary op: {}", node.name());
}

Expr binary(Op op, Expr a, Expr b) {
    switch (op) {
    case Op::add: return a + b;
    case Op::sub: return a - b;
    case Op::mul: return a * b;
    case Op::div: return a / b;
    case Op::pow:
        // f32 goes through libm's f64 pow too: Halide's f32 pow is exp(b log a)
        // with its polynomials, wrong for infinities and huge results (2^1e20 = 0).
        if (a.type() == Float(64)) return pow(a, b);
        return cast(a.type(), pow(cast<double>(a), cast<double>(b)));
    case Op::maximum: return nan_max(a, b);
    case Op::minimum: return nan_min(a, b);
    case Op::eq: return store_bool(a == b);
    case Op::ne: return store_bool(a != b);
    case Op::lt: return store_bool(a < b);
    case Op::le: return store_bool(a <= b);
    case Op::gt: return store_bool(a > b);
    case Op::ge: return store_bool(a >= b);
    case Op::logical_and: return store_bool(load_bool(a) && load_bool(b));
    case Op::logical_or: return store_bool(load_bool(a) || load_bool(b));
    default: break;
    }
    STRATA_ASSERT(false, "not a binary op: {}", op_name(op));
}

}  // namespace

Func lower_pointwise(const ir::Node &node, LowerContext &ctx) {
    if (node.op == Op::check_class_index)
        return checked_class_targets(func_name(node), ctx.func(node.input(0)), node.shape(),
                                     node.attrs.get_int("classes"), node.attrs.get_int("ignore_index"), ctx);
    auto vars = make_vars(node.shape().size());
    const Index idx = as_index(vars);
    std::vector<Expr> args;
    for (const ir::Node *in : node.inputs)
        args.push_back(call(ctx.func(in), broadcast_index(in->shape(), idx, node.shape())));
    Expr value;
    if (node.op == Op::dropout) value = unary(node, args[0], idx, {args.begin() + 1, args.end()});
    else if (args.size() == 1) value = unary(node, args[0], idx, {});
    else if (args.size() == 2) value = binary(node.op, args[0], args[1]);
    else value = select(load_bool(args[0]), args[1], args[2]);  // where
    Func f(func_name(node));
    define(f, vars, value);
    return f;
}

}  // namespace strata::codegen
