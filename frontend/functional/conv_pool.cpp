// Convolutions and pooling: PyTorch's argument handling (single values
// broadcast to every dim, "same"/"valid", padding modes, unbatched inputs).

#include "frontend/functional/common.h"

#include <algorithm>
#include <cstdint>

namespace strata {

using detail::expand_list;
using detail::make;
using ir::Op;

namespace {

/// Runs `body` on a batched input: an unbatched [C, ...] input gets a batch
/// dim of 1, which is removed again from the result (as PyTorch does).
template <typename Body>
SymTensor with_batch(const char *op, const SymTensor &input, size_t spatial, Body body) {
    if (!input.defined()) fail("{}: the input tensor is undefined", op);
    const size_t rank = static_cast<size_t>(input.dim());
    if (rank == spatial + 2) return body(input);
    if (rank == spatial + 1) return squeeze(body(unsqueeze(input, 0)), 0);
    fail("{}: expected a {}-d (batched) or {}-d (unbatched) input, got shape {}", op, spatial + 2, spatial + 1,
         shape_str(input.shape()));
}

SymTensor conv_nd(Op op, size_t s, const SymTensor &input, const SymTensor &weight, const SymTensor &bias,
                  const ConvOptions &o) {
    const char *name = ir::op_name(op);
    return with_batch(name, input, s, [&](const SymTensor &x) {
        if (!weight.defined()) fail("{}: the weight tensor is undefined", name);
        if (weight.dim() != static_cast<int64_t>(s) + 2)
            fail("{}: weight must be {}-d, got shape {}", name, s + 2, shape_str(weight.shape()));
        const Ints stride = expand_list(name, "stride", o.stride, s);
        const Ints dilation = expand_list(name, "dilation", o.dilation, s);
        Ints lo(s), hi(s);
        if (o.padding.mode == "same") {
            for (int64_t st : stride)
                if (st != 1) fail("{}: padding='same' is not supported for strided convolutions", name);
            for (size_t i = 0; i < s; ++i) {
                const int64_t total = dilation[i] * (weight.shape()[2 + i] - 1);
                lo[i] = total / 2;
                hi[i] = total - lo[i];
            }
        } else if (o.padding.mode == "valid") {
        } else if (!o.padding.mode.empty()) {
            fail("{}: padding must be a number, a list, \"same\" or \"valid\", got \"{}\"", name, o.padding.mode);
        } else if (o.padding.values.size() == 2 * s && s > 1) {
            for (size_t i = 0; i < s; ++i) lo[i] = o.padding.values[2 * i], hi[i] = o.padding.values[2 * i + 1];
        } else {
            lo = hi = expand_list(name, "padding", o.padding.values, s);
        }
        for (size_t i = 0; i < s; ++i)
            if (lo[i] < 0 || hi[i] < 0) fail("{}: padding must be >= 0, got {}", name, lo[i] < 0 ? lo[i] : hi[i]);
        const std::string &mode = o.padding_mode;
        if (mode != "zeros" && mode != "reflect" && mode != "replicate" && mode != "circular")
            fail("{}: padding_mode must be zeros, reflect, replicate or circular, got \"{}\"", name, mode);
        // Non-zero modes and asymmetric padding become an explicit pad (as
        // PyTorch does); the conv keeps the symmetric zero part.
        Ints conv_pad(s), extra;
        bool needs_pad = false;
        for (size_t i = s; i-- > 0;) {
            const int64_t sym = mode == "zeros" ? std::min(lo[i], hi[i]) : 0;
            conv_pad[i] = sym;
            extra.push_back(lo[i] - sym);
            extra.push_back(hi[i] - sym);
            needs_pad = needs_pad || lo[i] != sym || hi[i] != sym;
        }
        SymTensor padded = needs_pad ? pad(x, extra, mode == "zeros" ? "constant" : mode) : x;
        std::vector<SymTensor> inputs = {padded, weight};
        if (bias.defined()) inputs.push_back(bias);
        return make(op, inputs,
                    {{"stride", stride}, {"padding", conv_pad}, {"dilation", dilation}, {"groups", o.groups}});
    });
}

SymTensor conv_transpose_nd(Op op, size_t s, const SymTensor &input, const SymTensor &weight,
                            const SymTensor &bias, const ConvTransposeOptions &o) {
    const char *name = ir::op_name(op);
    return with_batch(name, input, s, [&](const SymTensor &x) {
        std::vector<SymTensor> inputs = {x, weight};
        if (bias.defined()) inputs.push_back(bias);
        return make(op, inputs,
                    {{"stride", expand_list(name, "stride", o.stride, s)},
                     {"padding", expand_list(name, "padding", o.padding, s)},
                     {"output_padding", expand_list(name, "output_padding", o.output_padding, s)},
                     {"dilation", expand_list(name, "dilation", o.dilation, s)},
                     {"groups", o.groups}});
    });
}

/// A max pool's attributes (shared by max_poolNd and max_poolNd_indices).
ir::Attrs max_pool_attrs(const char *name, size_t s, const Ints &kernel, const MaxPoolOptions &o) {
    const Ints k = expand_list(name, "kernel_size", kernel, s);
    return {{"kernel_size", k},
            {"stride", o.stride.empty() ? k : expand_list(name, "stride", o.stride, s)},
            {"padding", expand_list(name, "padding", o.padding, s)},
            {"dilation", expand_list(name, "dilation", o.dilation, s)},
            {"ceil_mode", o.ceil_mode}};
}

SymTensor max_pool_nd(Op op, size_t s, const SymTensor &input, const Ints &kernel, const MaxPoolOptions &o) {
    const char *name = ir::op_name(op);
    return with_batch(name, input, s,
                      [&](const SymTensor &x) { return make(op, {x}, max_pool_attrs(name, s, kernel, o)); });
}

SymTensor avg_pool_nd(Op op, size_t s, const SymTensor &input, const Ints &kernel, const AvgPoolOptions &o) {
    const char *name = ir::op_name(op);
    return with_batch(name, input, s, [&](const SymTensor &x) {
        const Ints k = expand_list(name, "kernel_size", kernel, s);
        // PyTorch's check; None is 0 in the IR.
        if (o.divisor_override && *o.divisor_override == 0) fail("{}: divisor_override must not be zero", name);
        return make(op, {x},
                    {{"kernel_size", k},
                     {"stride", o.stride.empty() ? k : expand_list(name, "stride", o.stride, s)},
                     {"padding", expand_list(name, "padding", o.padding, s)},
                     {"ceil_mode", o.ceil_mode},
                     {"count_include_pad", o.count_include_pad},
                     {"divisor_override", o.divisor_override.value_or(0)}});
    });
}

MaxPoolWithIndices max_pool_with_indices(Op op, Op indices_op, size_t s, const SymTensor &input, const Ints &kernel,
                                         const MaxPoolOptions &o) {
    MaxPoolWithIndices r;
    r.output = max_pool_nd(op, s, input, kernel, o);
    const char *name = ir::op_name(indices_op);
    if (o.indices_dtype != DType::i32 && o.indices_dtype != DType::i64)
        fail("{}: indices_dtype must be i32 or i64, got {}", name, dtype_name(o.indices_dtype));
    r.indices = with_batch(name, input, s, [&](const SymTensor &x) {
        return make(indices_op, {x}, max_pool_attrs(name, s, kernel, o));
    });
    // The op computes i32 positions (a plane holds fewer than 2^31); PyTorch's int64 is a cast of them.
    if (o.indices_dtype == DType::i64) r.indices = cast(r.indices, DType::i64);
    return r;
}

SymTensor max_unpool_nd(Op op, size_t s, const SymTensor &input, const SymTensor &indices, const Ints &kernel,
                        const MaxUnpoolOptions &o) {
    const char *name = ir::op_name(op);
    if (!indices.defined()) fail("{}: the indices tensor is undefined", name);
    if (input.defined() && indices.shape() != input.shape())
        fail("{}: indices of shape {} must have the input's shape {}", name, shape_str(indices.shape()),
             shape_str(input.shape()));
    const bool unbatched = input.defined() && static_cast<size_t>(input.dim()) == s + 1;
    const SymTensor batched_indices = unbatched ? unsqueeze(indices, 0) : indices;
    return with_batch(name, input, s, [&](const SymTensor &x) {
        const Ints k = expand_list(name, "kernel_size", kernel, s);
        const Ints stride = o.stride.empty() ? k : expand_list(name, "stride", o.stride, s);
        const Ints padding = expand_list(name, "padding", o.padding, s);
        // PyTorch's _unpool_output_size: the default, or a given size within stride of it.
        Ints size;
        for (size_t i = 0; i < s; ++i) {
            int64_t natural = 0;
            if (__builtin_mul_overflow(x.size(static_cast<int64_t>(2 + i)) - 1, stride[i], &natural) ||
                __builtin_add_overflow(natural, k[i], &natural) ||
                __builtin_sub_overflow(natural, 2 * std::min<int64_t>(padding[i], INT64_MAX / 4), &natural))
                fail("{}: the output size overflows (input shape {}, kernel_size [{}], stride [{}])", name,
                     shape_str(x.shape()), fmt::join(k, ","), fmt::join(stride, ","));
            size.push_back(natural);
        }
        if (!o.output_size.empty()) {
            if (o.output_size.size() != s && o.output_size.size() != s + 2 &&
                !(unbatched && o.output_size.size() == s + 1))
                fail("{}: output_size must have {} spatial values (or a full size), got [{}]", name, s,
                     fmt::join(o.output_size, ","));
            const Ints given(o.output_size.end() - static_cast<std::ptrdiff_t>(s), o.output_size.end());
            for (size_t i = 0; i < s; ++i)
                if (given[i] <= size[i] - stride[i] || given[i] >= size[i] + stride[i])
                    fail("{}: invalid output_size [{}] (dim {} must be between {} and {})", name,
                         fmt::join(o.output_size, ","), i, size[i] - stride[i] + 1, size[i] + stride[i] - 1);
            size = given;
        }
        return make(op, {x, batched_indices},
                    {{"kernel_size", k}, {"stride", stride}, {"padding", padding}, {"output_size", size}});
    });
}

SymTensor adaptive_nd(Op op, size_t s, const SymTensor &input, const Ints &size) {
    const char *name = ir::op_name(op);
    return with_batch(name, input, s, [&](const SymTensor &x) {
        return make(op, {x}, {{"output_size", expand_list(name, "output_size", size, s)}});
    });
}

}  // namespace

SymTensor conv1d(const SymTensor &x, const SymTensor &w, const SymTensor &b, const ConvOptions &o) {
    return conv_nd(Op::conv1d, 1, x, w, b, o);
}
SymTensor conv2d(const SymTensor &x, const SymTensor &w, const SymTensor &b, const ConvOptions &o) {
    return conv_nd(Op::conv2d, 2, x, w, b, o);
}
SymTensor conv_transpose1d(const SymTensor &x, const SymTensor &w, const SymTensor &b,
                           const ConvTransposeOptions &o) {
    return conv_transpose_nd(Op::conv_transpose1d, 1, x, w, b, o);
}
SymTensor conv_transpose2d(const SymTensor &x, const SymTensor &w, const SymTensor &b,
                           const ConvTransposeOptions &o) {
    return conv_transpose_nd(Op::conv_transpose2d, 2, x, w, b, o);
}
SymTensor max_pool1d(const SymTensor &x, const Ints &k, const MaxPoolOptions &o) {
    return max_pool_nd(Op::max_pool1d, 1, x, k, o);
}
SymTensor max_pool2d(const SymTensor &x, const Ints &k, const MaxPoolOptions &o) {
    return max_pool_nd(Op::max_pool2d, 2, x, k, o);
}
MaxPoolWithIndices max_pool1d_with_indices(const SymTensor &x, const Ints &k, const MaxPoolOptions &o) {
    return max_pool_with_indices(Op::max_pool1d, Op::max_pool1d_indices, 1, x, k, o);
}
MaxPoolWithIndices max_pool2d_with_indices(const SymTensor &x, const Ints &k, const MaxPoolOptions &o) {
    return max_pool_with_indices(Op::max_pool2d, Op::max_pool2d_indices, 2, x, k, o);
}
SymTensor max_unpool1d(const SymTensor &x, const SymTensor &indices, const Ints &k, const MaxUnpoolOptions &o) {
    return max_unpool_nd(Op::max_unpool1d, 1, x, indices, k, o);
}
SymTensor max_unpool2d(const SymTensor &x, const SymTensor &indices, const Ints &k, const MaxUnpoolOptions &o) {
    return max_unpool_nd(Op::max_unpool2d, 2, x, indices, k, o);
}
SymTensor avg_pool1d(const SymTensor &x, const Ints &k, const AvgPoolOptions &o) {
    return avg_pool_nd(Op::avg_pool1d, 1, x, k, o);
}
SymTensor avg_pool2d(const SymTensor &x, const Ints &k, const AvgPoolOptions &o) {
    return avg_pool_nd(Op::avg_pool2d, 2, x, k, o);
}
SymTensor adaptive_avg_pool1d(const SymTensor &x, const Ints &size) {
    return adaptive_nd(Op::adaptive_avg_pool1d, 1, x, size);
}
SymTensor adaptive_avg_pool2d(const SymTensor &x, const Ints &size) {
    return adaptive_nd(Op::adaptive_avg_pool2d, 2, x, size);
}

}  // namespace strata
