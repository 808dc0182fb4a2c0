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

}  // namespace strata::reference
