#include "codegen/lower/context.h"

#include <strata/error.h>

#include <thread>

namespace strata::codegen {

using namespace Halide;

Type halide_type(DType dtype) {
    switch (dtype) {
    case DType::f32: return Float(32);
    case DType::f64: return Float(64);
    case DType::i32: return Int(32);
    case DType::i64: return Int(64);
    case DType::boolean: return UInt(8);
    }
    STRATA_ASSERT(false, "unknown dtype");
}

std::vector<Var> make_vars(size_t rank, const std::string &prefix) {
    std::vector<Var> vars;
    for (size_t i = 0; i < rank; ++i) vars.emplace_back(prefix + std::to_string(i));
    return vars;
}

std::vector<Expr> to_halide_args(const Index &ir_index) { return {ir_index.rbegin(), ir_index.rend()}; }

std::vector<Var> to_halide_args(const std::vector<Var> &ir_vars) { return {ir_vars.rbegin(), ir_vars.rend()}; }

Index as_index(const std::vector<Var> &vars) { return {vars.begin(), vars.end()}; }

FuncRef call(const Func &f, const Index &ir_index) {
    return const_cast<Func &>(f)(to_halide_args(ir_index));
}

void define(Func &f, const std::vector<Var> &ir_vars, const Expr &value) { f(to_halide_args(ir_vars)) = value; }

Index broadcast_index(const Shape &in_shape, const Index &out_index, const Shape &out_shape) {
    const size_t off = out_shape.size() - in_shape.size();
    Index idx;
    for (size_t i = 0; i < in_shape.size(); ++i)
        idx.push_back(in_shape[i] == 1 && out_shape[i + off] != 1 ? Expr(0) : out_index[i + off]);
    return idx;
}

Expr store_bool(const Expr &condition) { return cast<uint8_t>(select(condition, 1, 0)); }

Expr load_bool(const Expr &stored) { return stored != constant(stored.type(), 0); }

Expr lowest_value(const Type &t) {
    if (t.is_float()) return Internal::make_const(t, -std::numeric_limits<double>::infinity());
    return t.min();
}

PoolWindow pool_window(const ir::Node &node, size_t spatial_rank) {
    PoolWindow w;
    w.kernel = node.attrs.get_ints("kernel_size");
    w.stride = node.attrs.get_ints("stride");
    w.padding = node.attrs.get_ints("padding");
    w.dilation = node.attrs.has("dilation") ? node.attrs.get_ints("dilation") : ir::Ints(spatial_rank, 1);
    w.divisor_override = node.attrs.has("divisor_override") ? node.attrs.get_int("divisor_override") : 0;
    return w;
}

Expr PoolWindow::input_position(size_t d, const Expr &o, const Expr &k) const {
    return o * static_cast<int>(stride[d]) - static_cast<int>(padding[d]) + k * static_cast<int>(dilation[d]);
}

int64_t PoolWindow::taps() const {
    int64_t n = 1;
    for (int64_t k : kernel) n *= k;
    return n;
}

bool PoolWindow::windows_inside(const Shape &xs, const Shape &os) const {
    for (size_t d = 0; d < kernel.size(); ++d) {
        const int64_t last_tap = (os[2 + d] - 1) * stride[d] + span(d) - 1;
        if (padding[d] != 0 || last_tap >= xs[2 + d]) return false;
    }
    return true;
}

Expr PoolWindow::avg_divisor(const std::vector<Expr> &o, const Shape &xs, bool count_include_pad,
                             const Type &t) const {
    if (divisor_override != 0) return Internal::make_const(t, static_cast<double>(divisor_override));
    Expr divisor = 1;
    for (size_t d = 0; d < o.size(); ++d) {
        const int len = static_cast<int>(xs[2 + d]), pad = static_cast<int>(padding[d]);
        Expr start = o[d] * static_cast<int>(stride[d]) - pad;
        Expr end = min(start + static_cast<int>(kernel[d]), len + pad);
        divisor = divisor * (count_include_pad ? end - start : min(end, len) - max(start, 0));
    }
    return cast(t, max(divisor, 1));  // at least 1: a gradient's candidate window may lie outside
}

std::vector<int64_t> unflatten(int64_t index, const std::vector<int64_t> &extents) {
    std::vector<int64_t> at(extents.size());
    for (size_t d = extents.size(); d-- > 0;) {
        at[d] = index % extents[d];
        index /= extents[d];
    }
    return at;
}

Func constant_outside_spatial(const Func &x, const Shape &shape, const Expr &value) {
    Region bounds;  // Halide order: spatial dims (innermost first), then C and N unbounded
    for (size_t i = shape.size(); i-- > 2;) bounds.push_back(Range(0, static_cast<int>(shape[i])));
    bounds.push_back(Range());
    bounds.push_back(Range());
    return BoundaryConditions::constant_exterior(x, value, bounds);
}

LowerContext::LowerContext(const ir::Program &p, const Target &t, LowerMode mode)
    : program(p), target(t), funcs(p.nodes().size()), params(p.nodes().size()), consumers(p.nodes().size(), 0),
      feeds_heavy_op(p.nodes().size(), false), is_output(p.nodes().size(), false), live(p.nodes().size(), false), mode_(mode) {}

int LowerContext::vector_width(DType dtype) const { return target.natural_vector_size(halide_type(dtype)); }

int thread_count() {
    if (const char *env = std::getenv("HL_NUM_THREADS")) {
        const int n = std::atoi(env);
        if (n > 0) return n;
    }
    const unsigned n = std::thread::hardware_concurrency();
    return n > 0 ? static_cast<int>(n) : 1;
}

std::string func_name(const ir::Node &node, const char *suffix) {
    return "n" + std::to_string(node.id) + "_" + node.name() + suffix;
}

}  // namespace strata::codegen
