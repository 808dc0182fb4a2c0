#pragma once
/// \file
/// Helpers for the options structs of the nn modules, in LibTorch's style
/// (`torch/arg.h`, `torch/expanding_array.h`):
///
///     nn::Conv2dOptions(1, 6, 5).stride(2).padding(2)   // chained setters
///     options.stride()                                   // getter
///
/// and `ExpandingArray<D>`, a per-dimension argument given as one value for
/// every dimension (`5`) or one value per dimension (`{5, 3}`).

#include <strata/dtype.h>
#include <strata/error.h>
#include <strata/shape.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

/// Declares an option `name` of type `T`: a chained setter `name(value)`
/// returning the options object, a getter `name()`, and the member `name_`.
#define STRATA_ARG(T, name)                                                                                  \
public:                                                                                                      \
    inline auto name(const T &new_##name)->decltype(*this) {                                                 \
        this->name##_ = new_##name;                                                                          \
        return *this;                                                                                        \
    }                                                                                                        \
    inline const T &name() const noexcept { return this->name##_; }                                          \
    inline T &name() noexcept { return this->name##_; }                                                      \
                                                                                                             \
private:                                                                                                     \
    T name##_

namespace strata::nn {

/// A per-dimension integer argument of a D-dimensional module (kernel size,
/// stride, padding, ...). One value is repeated for every dimension; a list
/// is kept as given, and the module checks it has D values (so the error can
/// name the module and the option).
template <size_t D> class ExpandingArray {
public:
    /* implicit */ ExpandingArray(int64_t value) : values_(D, value) {}
    /* implicit */ ExpandingArray(std::initializer_list<int64_t> values) : values_(values) {}
    /* implicit */ ExpandingArray(const std::vector<int64_t> &values) : values_(values) {}

    const std::vector<int64_t> &vec() const { return values_; }
    operator const std::vector<int64_t> &() const { return values_; }
    size_t size() const { return values_.size(); }
    int64_t operator[](size_t i) const { return values_[i]; }
    auto begin() const { return values_.begin(); }
    auto end() const { return values_.end(); }

    bool operator==(const ExpandingArray &other) const { return values_ == other.values_; }
    bool operator!=(const ExpandingArray &other) const { return values_ != other.values_; }

private:
    std::vector<int64_t> values_;
};

namespace detail {

/// "(5, 5)": a per-dimension option as PyTorch prints it in a module's repr.
inline std::string tuple_str(const std::vector<int64_t> &values) {
    if (values.size() == 1) return fmt::format("({},)", values[0]);
    return fmt::format("({})", fmt::join(values, ", "));
}

/// Fails unless `values` has `dims` entries, each satisfying `ok`; `what`
/// describes the requirement ("positive", ">= 0").
template <typename Predicate>
void check_per_dim(const char *module, const char *option, const std::vector<int64_t> &values, size_t dims,
                   Predicate ok, const char *what) {
    if (values.size() != dims)
        fail("{}: {} must have {} value{} (one per spatial dimension), got {}", module, option, dims,
             dims == 1 ? "" : "s", shape_str(values));
    for (int64_t v : values)
        if (!ok(v)) fail("{}: {} must be {}, got {}", module, option, what, shape_str(values));
}

inline void check_positive(const char *module, const char *option, const std::vector<int64_t> &values,
                           size_t dims) {
    auto positive = [](int64_t v) { return v > 0; };
    check_per_dim(module, option, values, dims, positive, "positive");
}

/// Fails unless `dtype`, a module's `dtype` option, is floating point: its parameters are trained.
inline void check_parameter_dtype(const std::string &module, DType dtype) {
    if (!is_float(dtype))
        fail("{}: dtype must be f32 or f64 (parameters are trained), got {}", module, dtype_name(dtype));
}

inline void check_non_negative(const char *module, const char *option, const std::vector<int64_t> &values,
                               size_t dims) {
    auto non_negative = [](int64_t v) { return v >= 0; };
    check_per_dim(module, option, values, dims, non_negative, ">= 0");
}

}  // namespace detail

}  // namespace strata::nn
