#include "bench/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace strata::bench {

Agreement compare_results(const std::vector<Tensor> &got, const std::vector<Tensor> &reference,
                          const std::string &reference_name) {
    Agreement a;
    a.reference = reference_name;
    if (got.size() != reference.size()) {
        a.problem = fmt::format("{} results, {} has {}", got.size(), reference_name, reference.size());
        return a;
    }
    for (size_t t = 0; t < got.size(); ++t) {
        if (got[t].shape() != reference[t].shape()) {
            a.problem = fmt::format("result {} has shape [{}], {} [{}]", t, fmt::join(got[t].shape(), ","),
                                    reference_name, fmt::join(reference[t].shape(), ","));
            return a;
        }
        const Tensor g = got[t].to(DType::f64).contiguous(), r = reference[t].to(DType::f64).contiguous();
        const double *gp = g.data<double>(), *rp = r.data<double>();
        double max_diff = 0, max_ref = 0;
        for (int64_t i = 0; i < g.numel(); ++i) {
            if (std::isnan(gp[i]) != std::isnan(rp[i])) {
                a.problem = fmt::format("result {} element {} is {} ({}: {})", t, i, gp[i], reference_name, rp[i]);
                return a;
            }
            if (std::isnan(gp[i])) continue;
            max_diff = std::max(max_diff, std::abs(gp[i] - rp[i]));
            max_ref = std::max(max_ref, std::abs(rp[i]));
        }
        a.max_abs_error = std::max(a.max_abs_error, max_diff);
        a.max_rel_error = std::max(a.max_rel_error, max_ref > 0 ? max_diff / max_ref : max_diff);
    }
    a.passed = a.max_rel_error <= kTolerance;
    return a;
}

}  // namespace strata::bench
