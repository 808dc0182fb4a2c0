#include "tests/reference/reference.h"

#include <cmath>

namespace strata::reference {

double max_abs_diff(const Tensor &a, const Tensor &b) {
    if (a.shape() != b.shape())
        fail("max_abs_diff: shapes {} and {} differ", shape_str(a.shape()), shape_str(b.shape()));
    double worst = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
        const double x = a.get_flat(i), y = b.get_flat(i);
        if (std::isnan(x) != std::isnan(y)) return INFINITY;
        if (!std::isnan(x) && !(x == y)) worst = std::max(worst, std::fabs(x - y));
    }
    return worst;
}

std::string mismatch(const Tensor &actual, const Tensor &expected, double rtol) {
    if (actual.shape() != expected.shape())
        return fmt::format("shape {} but expected {}", shape_str(actual.shape()),
                           shape_str(expected.shape()));
    // The magnitude of the whole result: errors of a sum scale with its terms,
    // not with an element that happens to cancel to nearly zero.
    double magnitude = 0;
    for (int64_t i = 0; i < expected.numel(); ++i) {
        const double e = expected.get_flat(i);
        if (std::isfinite(e)) magnitude = std::max(magnitude, std::fabs(e));
    }
    int64_t bad = 0, worst_index = -1;
    double worst_ratio = 0;
    for (int64_t i = 0; i < expected.numel(); ++i) {
        const double a = actual.get_flat(i), e = expected.get_flat(i);
        double ratio;
        if (std::isnan(e) || std::isnan(a) || std::isinf(e) || std::isinf(a)) {
            const bool same = (std::isnan(e) && std::isnan(a)) || a == e;
            ratio = same ? 0.0 : INFINITY;
        } else {
            const double bound = rtol * (std::fabs(e) + magnitude);
            const double err = std::fabs(a - e);
            ratio = err == 0 ? 0.0 : bound == 0 ? INFINITY : err / bound;
        }
        if (ratio > 1) ++bad;
        if (ratio > worst_ratio) worst_ratio = ratio, worst_index = i;
    }
    if (bad == 0) return "";
    Shape shape = expected.shape();
    int64_t flat = worst_index;
    std::vector<int64_t> index(shape.size());
    for (size_t d = shape.size(); d-- > 0;) index[d] = flat % shape[d], flat /= shape[d];
    return fmt::format("{} of {} elements differ (rtol {:g}, magnitude {:g}); worst at [{}]: got {:.17g}, "
                       "expected {:.17g} ({:.3g}x the tolerance)",
                       bad, expected.numel(), rtol, magnitude, fmt::join(index, ", "),
                       actual.get_flat(worst_index), expected.get_flat(worst_index), worst_ratio);
}

}  // namespace strata::reference
