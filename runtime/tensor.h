#pragma once
/// \file
/// `strata::Tensor`: an owning, aligned, strided n-d array of f32, f64, i32, i64 or bool.
///
/// Copies of a Tensor share storage (like torch::Tensor); `clone()` copies
/// the data. Storage is 64-byte aligned so compiled kernels can use aligned
/// vector loads.

#include <strata/dtype.h>
#include <strata/error.h>
#include <strata/shape.h>

#include "runtime/generator.h"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <limits>
#include <memory>
#include <type_traits>
#include <string>
#include <vector>

namespace strata {

class Tensor {
public:
    /// An undefined tensor (no storage); `defined()` is false.
    Tensor() = default;

    /// Zero-filled storage of the given shape and dtype (like zeros(): a
    /// recycled buffer never shows an earlier tensor's values).
    static Tensor empty(const Shape &shape, DType dtype = DType::f32);
    /// Storage with unspecified contents, for a tensor that is about to be
    /// overwritten whole (a compiled program's outputs): skips empty()'s fill,
    /// which costs as much as a memory-bound kernel's own writes.
    static Tensor uninitialized(const Shape &shape, DType dtype = DType::f32);
    static Tensor zeros(const Shape &shape, DType dtype = DType::f32);
    static Tensor ones(const Shape &shape, DType dtype = DType::f32);
    static Tensor full(const Shape &shape, double value, DType dtype = DType::f32);
    /// 0, 1, ..., n-1 (like torch.arange(n)).
    static Tensor arange(int64_t n, DType dtype = DType::f32);
    /// start, start+step, ... < end (like torch.arange(start, end, step)).
    static Tensor arange(double start, double end, double step, DType dtype = DType::f32);
    /// Uniform in [low, high).
    static Tensor rand(const Shape &shape, Generator &gen, DType dtype = DType::f32,
                       double low = 0.0, double high = 1.0);
    /// Normal with the given mean and standard deviation.
    static Tensor randn(const Shape &shape, Generator &gen, DType dtype = DType::f32,
                        double mean = 0.0, double stddev = 1.0);
    /// Copies `values` (row-major) into a new tensor of `shape`.
    template <typename T> static Tensor from_vector(const std::vector<T> &values, const Shape &shape);
    /// A 1-d tensor from `values`.
    template <typename T> static Tensor from_vector(const std::vector<T> &values) {
        return from_vector(values, Shape{static_cast<int64_t>(values.size())});
    }

    bool defined() const { return storage_ != nullptr; }
    DType dtype() const { return dtype_; }
    const Shape &shape() const { return shape_; }
    const Shape &strides() const { return strides_; }
    int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
    /// Extent of dimension `d`; negative `d` counts from the end.
    int64_t size(int64_t d) const;
    int64_t numel() const { return shape_numel(shape_); }
    size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
    bool is_contiguous() const;

    /// Typed pointer to the first element; throws when T is not the dtype.
    template <typename T> T *data();
    template <typename T> const T *data() const;
    void *raw_data() { return ptr_; }
    const void *raw_data() const { return ptr_; }

    /// Element access by full index; throws on a wrong rank or out-of-range index.
    template <typename T> T &at(std::initializer_list<int64_t> index);
    template <typename T> const T &at(std::initializer_list<int64_t> index) const;
    /// Element at a row-major flat index, converted to double (any dtype).
    double get_flat(int64_t flat_index) const;
    /// Sets the element at a row-major flat index from a double (any dtype).
    void set_flat(int64_t flat_index, double value);
    /// Element at a row-major flat index as int64, exact for every i64 (a double holds 2^53):
    /// floats truncate toward zero, NaN and values beyond int64 give INT64_MIN (as PyTorch on x86).
    int64_t get_flat_int64(int64_t flat_index) const;
    /// Sets the element from an int64, as PyTorch converts: exact into i64, wrapping into i32,
    /// != 0 into bool, rounded to nearest into f32 and f64.
    void set_flat_int64(int64_t flat_index, int64_t value);
    /// The only element of a one-element tensor, as double.
    double item() const;
    /// The only element as `T` (like torch's `t.item<float>()`): a floating-point value converts
    /// as a C++ cast would (3.7 -> 3 for an integer `T`); one `T` cannot hold (NaN or out of
    /// range for an integer `T`) is an error naming the value and the type.
    template <typename T> T item() const;

    /// A deep copy with contiguous storage.
    Tensor clone() const;
    /// The same data as a contiguous tensor (itself when already contiguous).
    Tensor contiguous() const;
    /// A view with a new shape (same element count; contiguous tensors only).
    /// One extent may be -1 and is inferred.
    Tensor reshape(const Shape &shape) const;
    /// A strided view with dimensions reordered (like torch.permute).
    Tensor permute(const std::vector<int64_t> &dims) const;
    /// Converts to another dtype (a copy).
    Tensor to(DType dtype) const;
    /// Copies `source`'s values into this tensor (same shape; dtypes may differ).
    void copy_from(const Tensor &source);

    /// The tensor printed like PyTorch, e.g. "tensor([[1, 2], [3, 4]], dtype=f32)".
    std::string to_string(int64_t max_elements_per_dim = 6) const;

private:
    std::shared_ptr<uint8_t> storage_;
    uint8_t *ptr_ = nullptr;
    DType dtype_ = DType::f32;
    Shape shape_;
    Shape strides_;

    int64_t offset_of(std::initializer_list<int64_t> index) const;
    int64_t offset_of_flat(int64_t flat_index) const;
    void check_dtype(DType wanted) const;
};

/// Prints `t.to_string()`, as PyTorch prints a tensor: `std::cout << t`.
std::ostream &operator<<(std::ostream &os, const Tensor &t);

namespace detail {
/// "Tensor::item<int32>: 3e+10 does not fit: expected a value in [-2147483648, 2147483647]".
[[noreturn]] void fail_item_conversion(double value, bool is_signed, int bits, double low, double high);
}

// ---- template definitions ----

template <typename T> T Tensor::item() const {
    static_assert(std::is_arithmetic_v<T>, "Tensor::item<T>: T must be a number type (float, double, int, bool...)");
    const double value = item();
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        if (dtype_ == DType::i64) {  // exact: a double holds integers only up to 2^53
            const int64_t exact = get_flat_int64(0);
            using Limits = std::numeric_limits<T>;
            const bool fits = std::is_signed_v<T> ? exact >= static_cast<int64_t>(Limits::min()) &&
                                                        exact <= static_cast<int64_t>(Limits::max())
                                                  : exact >= 0 && static_cast<uint64_t>(exact) <= Limits::max();
            if (!fits)
                detail::fail_item_conversion(value, std::is_signed_v<T>, static_cast<int>(8 * sizeof(T)),
                                             static_cast<double>(Limits::min()), static_cast<double>(Limits::max()));
            return static_cast<T>(exact);
        }
    }
    if constexpr (std::is_same_v<T, bool>) {
        return value != 0;
    } else if constexpr (std::is_floating_point_v<T>) {
        return static_cast<T>(value);
    } else {
        // Truncated first, as the cast does: -0.5 fits an unsigned type (as 0), -1 does not.
        // 2^63 is exactly representable; max() of a 64-bit type rounds up to it as a double.
        const double whole = std::trunc(value);
        const double low = static_cast<double>(std::numeric_limits<T>::min());
        const double high = static_cast<double>(std::numeric_limits<T>::max());
        if (!(whole >= low) || whole >= high + (high >= 9.2e18 ? 0.0 : 1.0))
            detail::fail_item_conversion(value, std::is_signed_v<T>, static_cast<int>(8 * sizeof(T)), low, high);
        return static_cast<T>(whole);
    }
}

template <typename T> T *Tensor::data() {
    check_dtype(dtype_of<T>::value);
    return reinterpret_cast<T *>(ptr_);
}
template <typename T> const T *Tensor::data() const {
    check_dtype(dtype_of<T>::value);
    return reinterpret_cast<const T *>(ptr_);
}
template <typename T> T &Tensor::at(std::initializer_list<int64_t> index) {
    check_dtype(dtype_of<T>::value);
    return reinterpret_cast<T *>(ptr_)[offset_of(index)];
}
template <typename T> const T &Tensor::at(std::initializer_list<int64_t> index) const {
    check_dtype(dtype_of<T>::value);
    return reinterpret_cast<const T *>(ptr_)[offset_of(index)];
}
template <typename T> Tensor Tensor::from_vector(const std::vector<T> &values, const Shape &shape) {
    Tensor t = empty(shape, dtype_of<T>::value);
    if (static_cast<int64_t>(values.size()) != t.numel())
        fail("Tensor::from_vector: {} values do not fill shape {} ({} elements)", values.size(),
             shape_str(shape), t.numel());
    T *out = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
    return t;
}

}  // namespace strata

template <> struct fmt::formatter<strata::Tensor> : fmt::formatter<std::string_view> {
    template <typename Context> auto format(const strata::Tensor &t, Context &ctx) const {
        return fmt::formatter<std::string_view>::format(t.to_string(), ctx);
    }
};
