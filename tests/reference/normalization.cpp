// Normalisation references: batch_norm (per-channel statistics over N and the
// spatial dims, PyTorch's running-stat update) and layer_norm (statistics over
// the trailing dims). Variances are two-pass, in double.

#include "tests/reference/indexing.h"
#include "tests/reference/reference.h"

#include <cmath>

namespace strata::reference {

using namespace detail;

BatchNormResult batch_norm(const Tensor &x, const Tensor &running_mean, const Tensor &running_var,
                           const Tensor &weight, const Tensor &bias, bool training, double momentum,
                           double eps) {
    const int64_t n = x.shape()[0], c = x.shape()[1];
    const int64_t inner = x.numel() / (n * c);  // spatial elements per (sample, channel)
    const int64_t count = n * inner;
    const std::vector<double> v = values(x);
    auto at = [&](int64_t b, int64_t ch, int64_t s) { return static_cast<size_t>((b * c + ch) * inner + s); };
    std::vector<double> mu(static_cast<size_t>(c)), var(static_cast<size_t>(c)),
        unbiased(static_cast<size_t>(c));
    if (training) {
        for (int64_t ch = 0; ch < c; ++ch) {
            double total = 0;
            for (int64_t b = 0; b < n; ++b)
                for (int64_t s = 0; s < inner; ++s) total += v[at(b, ch, s)];
            const double m = total / static_cast<double>(count);
            double sq = 0;
            for (int64_t b = 0; b < n; ++b)
                for (int64_t s = 0; s < inner; ++s) sq += (v[at(b, ch, s)] - m) * (v[at(b, ch, s)] - m);
            mu[static_cast<size_t>(ch)] = m;
            var[static_cast<size_t>(ch)] = sq / static_cast<double>(count);  // biased: used to normalise
            unbiased[static_cast<size_t>(ch)] = sq / static_cast<double>(count - 1);  // for the running stat
        }
    } else {
        mu = values(running_mean);
        var = values(running_var);
    }
    const std::vector<double> w =
        weight.defined() ? values(weight) : std::vector<double>(static_cast<size_t>(c), 1.0);
    const std::vector<double> b0 =
        bias.defined() ? values(bias) : std::vector<double>(static_cast<size_t>(c), 0.0);
    std::vector<double> out(v.size());
    for (int64_t b = 0; b < n; ++b)
        for (int64_t ch = 0; ch < c; ++ch)
            for (int64_t s = 0; s < inner; ++s) {
                const size_t k = static_cast<size_t>(ch);
                out[at(b, ch, s)] = (v[at(b, ch, s)] - mu[k]) / std::sqrt(var[k] + eps) * w[k] + b0[k];
            }
    BatchNormResult r;
    r.output = make_f64(out, x.shape());
    if (training && running_mean.defined()) {
        std::vector<double> rm = values(running_mean), rv = values(running_var);
        for (size_t k = 0; k < rm.size(); ++k) {
            rm[k] = (1 - momentum) * rm[k] + momentum * mu[k];
            rv[k] = (1 - momentum) * rv[k] + momentum * unbiased[k];
        }
        r.running_mean = make_f64(rm, {c});
        r.running_var = make_f64(rv, {c});
    }
    return r;
}

Tensor layer_norm(const Tensor &x, int64_t normalized_dims, const Tensor &weight, const Tensor &bias,
                  double eps) {
    int64_t inner = 1;
    for (int64_t d = x.dim() - normalized_dims; d < x.dim(); ++d) inner *= x.shape()[static_cast<size_t>(d)];
    const int64_t rows = x.numel() / inner;
    const std::vector<double> v = values(x);
    const std::vector<double> w =
        weight.defined() ? values(weight) : std::vector<double>(static_cast<size_t>(inner), 1.0);
    const std::vector<double> b =
        bias.defined() ? values(bias) : std::vector<double>(static_cast<size_t>(inner), 0.0);
    std::vector<double> out(v.size());
    for (int64_t r = 0; r < rows; ++r) {
        const size_t base = static_cast<size_t>(r * inner);
        double total = 0;
        for (int64_t i = 0; i < inner; ++i) total += v[base + static_cast<size_t>(i)];
        const double m = total / static_cast<double>(inner);
        double sq = 0;
        for (int64_t i = 0; i < inner; ++i)
            sq += (v[base + static_cast<size_t>(i)] - m) * (v[base + static_cast<size_t>(i)] - m);
        const double denom = std::sqrt(sq / static_cast<double>(inner) + eps);  // biased variance
        for (int64_t i = 0; i < inner; ++i) {
            const size_t k = static_cast<size_t>(i);
            out[base + k] = (v[base + k] - m) / denom * w[k] + b[k];
        }
    }
    return make_f64(out, x.shape());
}

}  // namespace strata::reference
