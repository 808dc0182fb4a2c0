// Every VJP rule in one place. Rules build IR, so gradients of gradients are
// the same pass run again. Semantics follow PyTorch's derivatives.yaml (e.g.
// maximum splits ties evenly, max-pool routes to the first maximum).

#include "ir/autodiff/vjp.h"

#include <strata/error.h>

namespace strata::ir {

namespace {

using N = const Node *;

Ints all_but(int64_t rank, int64_t keep) {
    Ints dims;
    for (int64_t d = 0; d < rank; ++d)
        if (d != keep) dims.push_back(d);
    return dims;
}

/// The reduction's output reshaped to keepdim form and broadcast back to the input.
N unreduce(Builder &b, N g, const Node &node, const Ints &dims) {
    const Shape &in = node.input(0)->shape();
    Shape kept = in;
    for (int64_t d : dims) kept[static_cast<size_t>(d)] = 1;
    return b.expand(b.reshape(g, kept), in);
}

Ints spatial_attr(const Node &node, const char *name) { return node.attrs.get_ints(name); }

/// conv grad_input: a transposed conv whose output_padding recovers the input size.
N conv_grad_input(Builder &b, const Node &conv, N g) {
    const Shape &xs = conv.input(0)->shape(), &ws = conv.input(1)->shape();
    const Ints &stride = spatial_attr(conv, "stride"), &padding = spatial_attr(conv, "padding"),
               &dilation = spatial_attr(conv, "dilation");
    Ints output_padding;
    for (size_t i = 0; i < stride.size(); ++i) {
        const int64_t out = g->shape()[2 + i];
        const int64_t natural = (out - 1) * stride[i] - 2 * padding[i] + dilation[i] * (ws[2 + i] - 1) + 1;
        output_padding.push_back(xs[2 + i] - natural);
    }
    const Op op = conv.op == Op::conv1d ? Op::conv_transpose1d : Op::conv_transpose2d;
    return b.op(op, {g, conv.input(1)},
                {{"stride", stride}, {"padding", padding}, {"output_padding", output_padding},
                 {"dilation", dilation}, {"groups", conv.attrs.get_int("groups")}});
}

N conv_grad_weight(Builder &b, Op op, N input, N grad_output, const Node &attrs_from, const Shape &weight_shape) {
    return b.op(op, {input, grad_output},
                {{"stride", attrs_from.attrs.get_ints("stride")}, {"padding", attrs_from.attrs.get_ints("padding")},
                 {"dilation", attrs_from.attrs.get_ints("dilation")}, {"groups", attrs_from.attrs.get_int("groups")},
                 {"weight_shape", weight_shape}});
}

/// Row `row` of a [2, C] batch-norm statistics or sums node, reshaped to `shape`.
N channel_row(Builder &b, N pair, int64_t row, const Shape &shape) {
    N sliced = b.op(Op::slice, {pair}, {{"dim", int64_t{0}}, {"start", row}, {"end", row + 1}, {"step", int64_t{1}}});
    return b.reshape(sliced, shape);
}

N bias_grad(Builder &b, N g) { return b.sum(g, all_but(g->type.rank(), 1), false); }

std::vector<N> conv_rules(Builder &b, const Node &node, N g) {
    const bool one_d = node.op == Op::conv1d || node.op == Op::conv_transpose1d;
    const Op grad_weight_op = one_d ? Op::conv1d_grad_weight : Op::conv2d_grad_weight;
    std::vector<N> grads;
    if (node.op == Op::conv1d || node.op == Op::conv2d) {
        grads = {conv_grad_input(b, node, g),
                 conv_grad_weight(b, grad_weight_op, node.input(0), g, node, node.input(1)->shape())};
    } else {
        // y = conv_transpose(x, w): dx is the forward conv of dy, dw the conv
        // weight gradient with the roles of x and dy swapped.
        const Op conv = one_d ? Op::conv1d : Op::conv2d;
        N dx = b.op(conv, {g, node.input(1)},
                    {{"stride", node.attrs.get_ints("stride")}, {"padding", node.attrs.get_ints("padding")},
                     {"dilation", node.attrs.get_ints("dilation")}, {"groups", node.attrs.get_int("groups")}});
        grads = {dx, conv_grad_weight(b, grad_weight_op, g, node.input(0), node, node.input(1)->shape())};
    }
    if (node.inputs.size() == 3) grads.push_back(bias_grad(b, g));
    return grads;
}

std::vector<N> pool_rules(Builder &b, const Node &node, N g) {
    const Shape &in = node.input(0)->shape();
    Attrs attrs = node.attrs;
    switch (node.op) {
    case Op::max_pool1d: return {b.op(Op::max_pool1d_grad, {node.input(0), g}, attrs)};
    case Op::max_pool2d: return {b.op(Op::max_pool2d_grad, {node.input(0), g}, attrs)};
    case Op::avg_pool1d: return {b.op(Op::avg_pool1d_grad, {g}, attrs.set("input_shape", in))};
    case Op::avg_pool2d: return {b.op(Op::avg_pool2d_grad, {g}, attrs.set("input_shape", in))};
    case Op::max_unpool1d: return {b.op(Op::max_unpool1d_grad, {g, node.input(1)}, attrs), nullptr};
    case Op::max_unpool2d: return {b.op(Op::max_unpool2d_grad, {g, node.input(1)}, attrs), nullptr};
    case Op::upsample_nearest1d: return {b.op(Op::upsample_nearest1d_grad, {g}, attrs.set("input_shape", in))};
    case Op::upsample_nearest2d: return {b.op(Op::upsample_nearest2d_grad, {g}, attrs.set("input_shape", in))};
    case Op::upsample_linear1d: return {b.op(Op::upsample_linear1d_grad, {g}, attrs.set("input_shape", in))};
    case Op::upsample_bilinear2d: return {b.op(Op::upsample_bilinear2d_grad, {g}, attrs.set("input_shape", in))};
    case Op::adaptive_avg_pool1d:
        return {b.op(Op::adaptive_avg_pool1d_grad, {g}, {{"input_shape", in}})};
    case Op::adaptive_avg_pool2d:
        return {b.op(Op::adaptive_avg_pool2d_grad, {g}, {{"input_shape", in}})};
    default: break;
    }
    STRATA_ASSERT(false, "no pool rule for {}", node.name());
}

std::vector<N> matmul_rules(Builder &b, const Node &node, N g) {
    N a = node.input(0), w = node.input(1);
    if (node.op == Op::matmul) {
        return {b.sum_to(b.op(Op::matmul, {g, b.transpose_last(w)}), a->shape()),
                b.sum_to(b.op(Op::matmul, {b.transpose_last(a), g}), w->shape())};
    }
    // linear: y = x w^T + bias with x [..., in], w [out, in].
    const int64_t out = w->shape()[0], in = w->shape()[1];
    N dx = b.op(Op::matmul, {b.reshape(g, {g->type.numel() / out, out}), w});
    dx = b.reshape(dx, a->shape());
    N g2 = b.reshape(g, {g->type.numel() / out, out});
    N x2 = b.reshape(a, {a->type.numel() / in, in});
    std::vector<N> grads = {dx, b.op(Op::matmul, {b.transpose_last(g2), x2})};
    if (node.inputs.size() == 3) grads.push_back(b.sum(g2, {0}, false));
    return grads;
}

/// d loss / d weight of a weighted cross_entropy. Per element i and class c,
/// loss_i = sum_c weight_c a_ic with a_ic = -log p_ic valid_i ((1 - eps) [c == t_i] + eps / C),
/// and the mean divides the summed losses by D = sum_i valid_i weight_{t_i}:
///   none: sum_i g_i a_ic;  sum: g sum_i a_ic;  mean: g (sum_i a_ic - loss count_c) / D,
/// count_c the number of valid targets of class c.
N cross_entropy_weight_grad(Builder &b, const Node &node, N g) {
    N x = node.input(0), target = node.input(1), w = node.input(2);
    const DType dt = x->dtype();
    const int64_t rank = x->type.rank(), classes = x->shape()[1];
    const double eps = node.attrs.get_float("label_smoothing");
    const std::string &reduction = node.attrs.get_str("reduction");
    Shape class_shape(static_cast<size_t>(rank), 1), element_shape = x->shape();
    class_shape[1] = classes;
    element_shape[1] = 1;
    const Type class_index{target->dtype(), class_shape};
    N iota = b.program().make(Op::iota, {}, {{"dim", int64_t{1}}}, &class_index);
    N ignore = b.program().full(static_cast<double>(node.attrs.get_int("ignore_index")), Type{target->dtype(), {}});
    N hit = b.cast(b.eq(iota, b.reshape(target, element_shape)), dt);                         // [N, C, d...]
    N valid = b.reshape(b.cast(b.op(Op::ne, {target, ignore}), dt), element_shape);          // [N, 1, d...]
    N log_p = b.op(Op::log_softmax, {x}, {{"dim", int64_t{1}}});
    N mix = b.add(b.mul(hit, 1.0 - eps), b.scalar(eps / static_cast<double>(classes), x));
    N a = b.mul(b.neg(log_p), b.mul(valid, mix));
    const Ints dims = all_but(rank, 1);
    if (reduction == "none") return b.sum(b.mul(a, b.reshape(g, element_shape)), dims, false);
    N total = b.sum(a, dims, false);
    if (reduction == "sum") return b.mul(total, g);
    N valid_hit = b.mul(valid, hit);
    N count = b.sum(valid_hit, dims, false);
    N denominator = b.sum(b.mul(valid_hit, b.reshape(w, class_shape)), all_but(rank, -1), false);
    return b.div(b.mul(b.sub(total, b.mul(count, &node)), g), denominator);
}

std::vector<N> reduction_rules(Builder &b, const Node &node, N g) {
    N x = node.input(0);
    switch (node.op) {
    case Op::batch_norm_train: {
        // Statistics once, the two gradient sums once: they are d bias and d weight, and dx reads them.
        // No gradient flows into the shared statistics input: dx already holds their share.
        N w = node.input(1);
        const int64_t channels = x->shape()[1];
        N stats = node.inputs.size() > 3 ? node.input(3) : b.op(Op::batch_norm_stats, {x});
        N sums = b.op(Op::batch_norm_grad_sums, {x, g, stats}, node.attrs);
        N dx = b.op(Op::batch_norm_train_grad, {x, w, g, stats, sums}, node.attrs);
        std::vector<N> grads = {dx, channel_row(b, sums, 1, {channels}), channel_row(b, sums, 0, {channels})};
        if (node.inputs.size() > 3) grads.push_back(nullptr);
        return grads;
    }
    case Op::batch_norm_stats: {
        // mean = sum(x) / M and var = sum((x - mean)^2) / M: d/dx = g_mean / M + g_var * 2 (x - mean) / M.
        const int64_t rank = x->type.rank();
        Shape per_channel(static_cast<size_t>(rank), 1);
        per_channel[1] = x->shape()[1];
        const double count = static_cast<double>(x->type.numel() / x->shape()[1]);
        N centered = b.sub(x, channel_row(b, &node, 0, per_channel));
        return {b.add(b.mul(channel_row(b, g, 0, per_channel), 1.0 / count),
                      b.mul(centered, b.mul(channel_row(b, g, 1, per_channel), 2.0 / count)))};
    }
    case Op::cross_entropy: {  // one fused op: softmax minus the smoothed one-hot, scaled
        if (node.inputs.size() == 2) return {b.op(Op::cross_entropy_grad, {x, node.input(1), g}, node.attrs), nullptr};
        N w = node.input(2);
        return {b.op(Op::cross_entropy_grad, {x, node.input(1), g, w}, node.attrs), nullptr,
                cross_entropy_weight_grad(b, node, g)};
    }
    case Op::sum: return {unreduce(b, g, node, node.attrs.get_ints("dims"))};
    case Op::mean: {
        const double count = static_cast<double>(x->type.numel()) / static_cast<double>(node.type.numel());
        return {b.mul(unreduce(b, g, node, node.attrs.get_ints("dims")), 1.0 / count)};
    }
    case Op::max: {
        // Ties share the gradient evenly (PyTorch's amax backward).
        const Ints &dims = node.attrs.get_ints("dims");
        N out = unreduce(b, &node, node, dims);
        N hit = b.cast(b.eq(x, out), x->dtype());
        N ties = unreduce(b, b.sum(hit, dims, node.attrs.get_bool("keepdim")), node, dims);
        return {b.div(b.mul(unreduce(b, g, node, dims), hit), ties)};
    }
    case Op::softmax: {
        const int64_t dim = node.attrs.get_int("dim");
        N y = &node;
        N dot = b.expand(b.sum(b.mul(g, y), {dim}, true), y->shape());
        return {b.mul(y, b.sub(g, dot))};
    }
    case Op::log_softmax: {
        const int64_t dim = node.attrs.get_int("dim");
        N p = b.op(Op::exp, {&node});
        return {b.sub(g, b.mul(p, b.expand(b.sum(g, {dim}, true), g->shape())))};
    }
    default: break;
    }
    STRATA_ASSERT(false, "no reduction rule for {}", node.name());
}

std::vector<N> layout_rules(Builder &b, const Node &node, N g) {
    N x = node.input(0);
    switch (node.op) {
    case Op::reshape: return {b.reshape(g, x->shape())};
    case Op::permute: {
        const Ints &dims = node.attrs.get_ints("dims");
        Ints inverse(dims.size());
        for (size_t i = 0; i < dims.size(); ++i) inverse[static_cast<size_t>(dims[i])] = static_cast<int64_t>(i);
        return {b.permute(g, inverse)};
    }
    case Op::expand: return {b.sum_to(g, x->shape())};
    case Op::slice: {
        const int64_t dim = node.attrs.get_int("dim"), start = node.attrs.get_int("start"),
                      end = node.attrs.get_int("end"), step = node.attrs.get_int("step");
        const int64_t len = x->shape()[static_cast<size_t>(dim)];
        N spread = g;
        if (step > 1) {
            // Interleave zeros: [.., n, ..] -> [.., n, step, ..] -> take the first of each step.
            Shape s1 = g->shape();
            s1.insert(s1.begin() + dim + 1, 1);
            Ints pads(2 * (s1.size() - static_cast<size_t>(dim) - 2), 0);
            pads.push_back(0);
            pads.push_back(step - 1);
            spread = b.op(Op::pad, {b.reshape(g, s1)}, {{"pad", pads}, {"mode", std::string("constant")}, {"value", 0.0}});
            Shape s2 = g->shape();
            s2[static_cast<size_t>(dim)] *= step;
            spread = b.reshape(spread, s2);
        }
        const int64_t covered = spread->shape()[static_cast<size_t>(dim)];
        Ints pads(2 * (x->shape().size() - static_cast<size_t>(dim) - 1), 0);
        pads.push_back(start);
        pads.push_back(len - start - covered);
        (void)end;
        return {b.op(Op::pad, {spread}, {{"pad", pads}, {"mode", std::string("constant")}, {"value", 0.0}})};
    }
    case Op::concat: {
        const int64_t dim = node.attrs.get_int("dim");
        std::vector<N> grads;
        int64_t offset = 0;
        for (N in : node.inputs) {
            const int64_t len = in->shape()[static_cast<size_t>(dim)];
            grads.push_back(b.op(Op::slice, {g}, {{"dim", dim}, {"start", offset}, {"end", offset + len}, {"step", int64_t{1}}}));
            offset += len;
        }
        return grads;
    }
    case Op::pad:
        return {b.op(Op::pad_grad, {g}, {{"pad", node.attrs.get_ints("pad")}, {"mode", node.attrs.get_str("mode")},
                                          {"input_shape", x->shape()}})};
    default: break;
    }
    STRATA_ASSERT(false, "no layout rule for {}", node.name());
}

std::vector<N> pointwise_rules(Builder &b, const Node &node, N g) {
    N a = node.input(0);
    N y = &node;
    auto one = [&](N like) { return b.scalar(1.0, like); };
    auto zero = [&](N like) { return b.scalar(0.0, like); };
    switch (node.op) {
    case Op::neg: return {b.neg(g)};
    case Op::exp: return {b.mul(g, y)};
    case Op::log: return {b.div(g, a)};
    case Op::sqrt: return {b.div(g, b.mul(y, 2.0))};
    case Op::rsqrt: return {b.mul(g, b.mul(b.mul(y, b.mul(y, y)), -0.5))};
    case Op::abs: {
        N sign = b.where(b.gt(a, zero(a)), one(a), b.where(b.lt(a, zero(a)), b.scalar(-1.0, a), zero(a)));
        return {b.mul(g, sign)};
    }
    // From the result, as PyTorch does (threshold_backward on the output): the input
    // (often a batch norm output) then need not stay alive until the backward pass.
    case Op::relu: return {b.where(b.gt(y, zero(y)), g, zero(g))};
    case Op::leaky_relu:
        return {b.where(b.gt(a, zero(a)), g, b.mul(g, node.attrs.get_float("negative_slope")))};
    case Op::elu:
        return {b.where(b.gt(a, zero(a)), g, b.mul(g, b.add(y, b.scalar(node.attrs.get_float("alpha"), a))))};
    case Op::gelu: {
        if (node.attrs.get_str("approximate") == "tanh") {
            // y = 0.5 x (1 + tanh(u)), u = k (x + 0.044715 x^3)
            const double k = 0.7978845608028654;
            N x2 = b.mul(a, a);
            N u = b.mul(b.add(a, b.mul(b.mul(x2, a), 0.044715)), k);
            N t = b.op(Op::tanh, {u});
            N du = b.mul(b.add(one(a), b.mul(x2, 3 * 0.044715)), k);
            N d = b.add(b.mul(b.add(one(a), t), 0.5), b.mul(b.mul(b.mul(a, b.sub(one(a), b.mul(t, t))), du), 0.5));
            return {b.mul(g, d)};
        }
        // d/dx x Phi(x) = Phi(x) + x phi(x)
        N cdf = b.mul(b.add(one(a), b.op(Op::erf, {b.mul(a, 0.7071067811865476)})), 0.5);
        N pdf = b.mul(b.op(Op::exp, {b.mul(b.mul(a, a), -0.5)}), 0.3989422804014327);
        return {b.mul(g, b.add(cdf, b.mul(a, pdf)))};
    }
    case Op::erf: return {b.mul(g, b.mul(b.op(Op::exp, {b.neg(b.mul(a, a))}), 1.1283791670955126))};
    case Op::sigmoid: return {b.mul(g, b.mul(y, b.sub(one(y), y)))};
    case Op::tanh: return {b.mul(g, b.sub(one(y), b.mul(y, y)))};
    case Op::softplus: {
        const double beta = node.attrs.get_float("beta");
        N bx = b.mul(a, beta);
        return {b.where(b.gt(bx, b.scalar(node.attrs.get_float("threshold"), a)), g,
                        b.mul(g, b.op(Op::sigmoid, {bx})))};
    }
    case Op::cast: return {b.cast(g, a->dtype())};
    case Op::dropout: {  // the same mask, the same scale
        if (node.inputs.size() == 2) return {b.op(Op::dropout, {g, node.input(1)}, node.attrs), nullptr};
        return {b.op(Op::dropout, {g}, node.attrs)};
    }
    case Op::add: return {b.sum_to(g, a->shape()), b.sum_to(g, node.input(1)->shape())};
    case Op::sub: return {b.sum_to(g, a->shape()), b.sum_to(b.neg(g), node.input(1)->shape())};
    case Op::mul: {
        N c = node.input(1);
        return {b.sum_to(b.mul(g, c), a->shape()), b.sum_to(b.mul(g, a), c->shape())};
    }
    case Op::div: {
        N c = node.input(1);
        return {b.sum_to(b.div(g, c), a->shape()), b.sum_to(b.neg(b.div(b.mul(g, y), c)), c->shape())};
    }
    case Op::pow: {
        N e = node.input(1);
        N da = b.mul(g, b.mul(e, b.op(Op::pow, {a, b.sub(e, one(e))})));
        // d/de a^e = a^e log a; PyTorch masks a == 0 (where log is -inf) to 0.
        N de = b.where(b.eq(a, zero(a)), zero(g), b.mul(g, b.mul(y, b.op(Op::log, {a}))));
        return {b.sum_to(da, a->shape()), b.sum_to(de, e->shape())};
    }
    case Op::maximum:
    case Op::minimum: {
        N c = node.input(1);
        N a_wins = node.op == Op::maximum ? b.gt(a, c) : b.lt(a, c);
        N half = b.mul(g, 0.5);
        N tie = b.eq(a, c);
        N ga = b.where(a_wins, g, b.where(tie, half, zero(g)));
        N gc = b.where(a_wins, zero(g), b.where(tie, half, g));
        return {b.sum_to(ga, a->shape()), b.sum_to(gc, c->shape())};
    }
    case Op::where: {
        N c = a;
        return {nullptr, b.sum_to(b.where(c, g, zero(g)), node.input(1)->shape()),
                b.sum_to(b.where(c, zero(g), g), node.input(2)->shape())};
    }
    default: break;
    }
    STRATA_ASSERT(false, "no pointwise rule for {}", node.name());
}

}  // namespace

bool is_differentiable(const Node &node) {
    const VjpRule rule = node.info().vjp_rule;
    if (!is_float(node.dtype()) || rule == VjpRule::nondiff || rule == VjpRule::leaf) return false;
    // A float result of no float input (a cast from an integer) carries no gradient.
    for (const Node *in : node.inputs)
        if (is_float(in->dtype())) return true;
    return false;
}

std::vector<const Node *> vjp(Builder &b, const Node &node, const Node *g) {
    switch (node.info().vjp_rule) {
    case VjpRule::pointwise: return pointwise_rules(b, node, g);
    case VjpRule::reduction: return reduction_rules(b, node, g);
    case VjpRule::matmul: return matmul_rules(b, node, g);
    case VjpRule::conv: return conv_rules(b, node, g);
    case VjpRule::pool: return pool_rules(b, node, g);
    case VjpRule::layout: return layout_rules(b, node, g);
    case VjpRule::unsupported:
        fail("autodiff: {} has no gradient rule yet (a gradient of a conv/pool/pad gradient)", node.label());
    case VjpRule::nondiff: case VjpRule::leaf: break;
    }
    STRATA_ASSERT(false, "vjp called on {}, which ops.def marks {}", node.label(), vjp_rule_name(node.info().vjp_rule));
}

}  // namespace strata::ir
