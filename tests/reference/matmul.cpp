// matmul and linear references: torch.matmul's rules for 1-d operands and
// broadcast batch dims, then a triple loop.

#include "tests/reference/indexing.h"
#include "tests/reference/reference.h"

namespace strata::reference {

using namespace detail;

Tensor matmul(const Tensor &a, const Tensor &b) {
    if (a.dim() == 0 || b.dim() == 0) fail("reference matmul: 0-d operand");
    // A 1-d left operand is a row [1, K], a 1-d right operand a column [K, 1];
    // the added dim is dropped from the result.
    Shape sa = a.shape(), sb = b.shape();
    if (a.dim() == 1) sa.insert(sa.begin(), 1);
    if (b.dim() == 1) sb.push_back(1);
    const int64_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
    if (sb[sb.size() - 2] != k) fail("reference matmul: {} x {}", shape_str(a.shape()), shape_str(b.shape()));
    const Shape batch_a(sa.begin(), sa.end() - 2), batch_b(sb.begin(), sb.end() - 2);
    const Shape batch = broadcast_shapes(batch_a, batch_b);
    const std::vector<double> va = values(a), vb = values(b);
    std::vector<double> out(static_cast<size_t>(shape_numel(batch) * m * n));
    for (int64_t bi = 0; bi < shape_numel(batch); ++bi) {
        const Ints index = unravel(bi, batch);
        const int64_t oa = broadcast_source(index, batch, batch_a) * m * k;
        const int64_t ob = broadcast_source(index, batch, batch_b) * k * n;
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
                double acc = 0;
                for (int64_t p = 0; p < k; ++p)
                    acc += va[static_cast<size_t>(oa + i * k + p)] * vb[static_cast<size_t>(ob + p * n + j)];
                out[static_cast<size_t>((bi * m + i) * n + j)] = acc;
            }
    }
    Shape shape = batch;
    if (a.dim() > 1) shape.push_back(m);
    if (b.dim() > 1) shape.push_back(n);
    return make_f64(out, shape);
}

Tensor linear(const Tensor &x, const Tensor &weight, const Tensor &bias) {
    const int64_t in = weight.shape()[1], outf = weight.shape()[0];
    if (x.shape().back() != in)
        fail("reference linear: {} with weight {}", shape_str(x.shape()), shape_str(weight.shape()));
    const std::vector<double> vx = values(x), vw = values(weight);
    const std::vector<double> vb =
        bias.defined() ? values(bias) : std::vector<double>(static_cast<size_t>(outf));
    const int64_t rows = x.numel() / in;
    std::vector<double> out(static_cast<size_t>(rows * outf));
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t o = 0; o < outf; ++o) {
            double acc = vb[static_cast<size_t>(o)];
            for (int64_t i = 0; i < in; ++i)
                acc += vx[static_cast<size_t>(r * in + i)] * vw[static_cast<size_t>(o * in + i)];
            out[static_cast<size_t>(r * outf + o)] = acc;
        }
    Shape shape = x.shape();
    shape.back() = outf;
    return make_f64(out, shape);
}

}  // namespace strata::reference
