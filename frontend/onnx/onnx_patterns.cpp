#include "frontend/onnx/onnx_patterns.h"

#include "frontend/functional.h"
#include "ir/node.h"

#include <cmath>

namespace strata::onnx {

namespace {

using ir::Node;
using ir::Op;

bool is(const Node *n, Op op, size_t inputs) { return n && n->op == op && n->inputs.size() == inputs; }

/// A scalar constant equal to `value` as the exporter writes it in the node's dtype.
bool is_scalar(const Node *n, double value) {
    if (!n || n->op != Op::full || !n->shape().empty()) return false;
    const double v = n->attrs.get_float("value");
    if (n->dtype() == DType::f32) return static_cast<float>(v) == static_cast<float>(value);
    return n->dtype() == DType::f64 && v == value;
}

/// A scalar constant (its value in `value`).
bool scalar_value(const Node *n, double *value) {
    if (!n || n->op != Op::full || !n->shape().empty() || (n->dtype() != DType::f32 && n->dtype() != DType::f64))
        return false;
    *value = n->attrs.get_float("value");
    return true;
}

const Node *rsqrt_of(const Node *a, const Node *b) {
    return is_scalar(a, 1.0) && is(b, Op::sqrt, 1) ? b->input(0) : nullptr;
}

/// x of Mul(0.5, x).
const Node *half_of(const Node *n) { return is(n, Op::mul, 2) && is_scalar(n->input(0), 0.5) ? n->input(1) : nullptr; }

/// The argument of 1 + erf(x / sqrt 2) (`tanh_form` false) or of 1 + tanh(sqrt(2 / pi) (x + 0.044715 x x x)).
bool is_gelu_tail(const Node *n, const Node *x, bool tanh_form) {
    if (!is(n, Op::add, 2) || !is_scalar(n->input(0), 1.0)) return false;
    const Node *f = n->input(1);
    if (!tanh_form)
        return is(f, Op::erf, 1) && is(f->input(0), Op::mul, 2) && f->input(0)->input(0) == x &&
               is_scalar(f->input(0)->input(1), M_SQRT1_2);
    if (!is(f, Op::tanh, 1)) return false;
    const Node *inner = f->input(0);
    if (!is(inner, Op::mul, 2) || !is_scalar(inner->input(0), std::sqrt(2.0 / M_PI))) return false;
    const Node *sum = inner->input(1);
    if (!is(sum, Op::add, 2) || sum->input(0) != x) return false;
    const Node *cube = sum->input(1);  // ((0.044715 x) x) x
    if (!is(cube, Op::mul, 2) || cube->input(1) != x) return false;
    const Node *square = cube->input(0);
    if (!is(square, Op::mul, 2) || square->input(1) != x) return false;
    const Node *scaled = square->input(0);
    return is(scaled, Op::mul, 2) && is_scalar(scaled->input(0), 0.044715) && scaled->input(1) == x;
}

}  // namespace

SymTensor exported_composition(const std::string &op_type, const std::vector<SymTensor> &inputs) {
    if (inputs.empty() || !inputs[0].defined()) return {};
    Graph *graph = &inputs[0].graph();
    auto sym = [&](const Node *n) { return SymTensor(graph, n); };
    if (op_type == "Div" && inputs.size() == 2) {
        if (const Node *x = rsqrt_of(inputs[0].node(), inputs[1].node())) return rsqrt(sym(x));
    } else if (op_type == "Mul" && inputs.size() == 2) {
        const Node *x = half_of(inputs[0].node());
        if (x && is_gelu_tail(inputs[1].node(), x, false)) return gelu(sym(x), "none");
        if (x && is_gelu_tail(inputs[1].node(), x, true)) return gelu(sym(x), "tanh");
    } else if (op_type == "Not" && inputs.size() == 1) {
        const Node *e = inputs[0].node();
        if (is(e, Op::eq, 2)) return ne(sym(e->input(0)), sym(e->input(1)));
    } else if (op_type == "Where" && inputs.size() == 3) {
        const Node *cond = inputs[0].node(), *x = inputs[1].node(), *other = inputs[2].node();
        if (!is(cond, Op::gt, 2)) return {};
        double slope = 0, beta = 0, threshold = 0;
        // leaky_relu: Where(x > 0, x, x * slope)
        if (cond->input(0) == x && is_scalar(cond->input(1), 0.0) && is(other, Op::mul, 2) && other->input(0) == x &&
            scalar_value(other->input(1), &slope) && other->input(1)->dtype() == x->dtype())
            return leaky_relu(sym(x), slope);
        // softplus: Where(x b > t, x, softplus(x b) / b); Softplus imports as softplus(., 1, 20)
        const Node *bx = cond->input(0);
        if (is(bx, Op::mul, 2) && bx->input(0) == x && scalar_value(bx->input(1), &beta) &&
            scalar_value(cond->input(1), &threshold) && is(other, Op::div, 2) && other->input(1) == bx->input(1) &&
            is(other->input(0), Op::softplus, 1) && other->input(0)->input(0) == bx &&
            other->input(0)->attrs.get_float("beta") == 1.0 && other->input(0)->attrs.get_float("threshold") == 20.0)
            return softplus(sym(x), beta, threshold);
    } else if (op_type == "MatMul" && inputs.size() == 2) {
        const Node *wt = inputs[1].node();
        if (inputs[0].dim() != 2 && is(wt, Op::permute, 1) && wt->attrs.get_ints("dims") == Ints{1, 0} &&
            wt->input(0)->op == Op::parameter)
            return linear(inputs[0], sym(wt->input(0)));
    } else if (op_type == "Add" && inputs.size() == 2) {
        const Node *y = inputs[0].node(), *b = inputs[1].node();
        if (is(y, Op::linear, 2) && b->op == Op::parameter && b->shape() == Shape{y->input(1)->shape().at(0)} &&
            b->dtype() == y->dtype())
            return linear(sym(y->input(0)), sym(y->input(1)), sym(b));
    }
    return {};
}

}  // namespace strata::onnx
