#include "frontend/nn/upsample.h"

#include <strata/error.h>

#include <cmath>

namespace strata::nn {

namespace {

/// A float as Python's repr prints it: 2.0, 0.5.
std::string python_float(double v) {
    std::string text = fmt::format("{}", v);
    if (std::isfinite(v) && text.find_first_of(".e") == std::string::npos) text += ".0";
    return text;
}

/// One value as itself, several as a Python tuple.
template <typename T, typename Format> std::string value_or_tuple(const std::vector<T> &values, Format format) {
    std::vector<std::string> parts;
    for (const T &v : values) parts.push_back(format(v));
    return parts.size() == 1 ? parts[0] : fmt::format("({})", fmt::join(parts, ", "));
}

}  // namespace

UpsampleImpl::UpsampleImpl(const UpsampleOptions &options_) : Module("Upsample"), options(options_) {
    // The arguments are checked against each input by interpolate; what needs no input is checked here.
    if (options.size().empty() == options.scale_factor().empty())
        fail("Upsample: give exactly one of size or scale_factor (got {})",
             options.size().empty() ? "neither" : "both");
}

SymTensor UpsampleImpl::forward(const SymTensor &input) {
    InterpolateOptions o;
    o.size = options.size();
    o.scale_factor = options.scale_factor();
    o.mode = options.mode();
    o.align_corners = options.align_corners();
    o.recompute_scale_factor = options.recompute_scale_factor();
    return interpolate(input, o);
}

std::string UpsampleImpl::extra_repr() const {
    const std::string what =
        options.scale_factor().empty()
            ? "size=" + value_or_tuple(options.size(), [](int64_t v) { return std::to_string(v); })
            : "scale_factor=" + value_or_tuple(options.scale_factor(), python_float);
    return fmt::format("{}, mode='{}'", what, options.mode());
}

}  // namespace strata::nn
