#include "runtime/tensor.h"

#include "runtime/buffer_pool.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <ostream>

namespace strata {

Tensor Tensor::empty(const Shape &shape, DType dtype) {
    Tensor t = uninitialized(shape, dtype);
    if (t.nbytes() > 0) std::memset(t.ptr_, 0, t.nbytes());
    return t;
}

Tensor Tensor::uninitialized(const Shape &shape, DType dtype) {
    Tensor t;
    t.dtype_ = dtype;
    t.shape_ = shape;
    const int64_t numel = shape_numel(shape);
    // Strides multiply the trailing extents (a zero extent counts as 1), so even an empty
    // tensor such as [0, 2^40, 2^40] needs that product to fit in 64 bits.
    int64_t span = 1;
    for (int64_t e : shape) {
        if (e > 1 && span > std::numeric_limits<int64_t>::max() / e)
            fail("tensor of shape {} is too large: its strides do not fit in 64 bits", shape_str(shape));
        span *= std::max<int64_t>(e, 1);
    }
    t.strides_ = contiguous_strides(shape);
    // Checked so that a huge shape fails here instead of wrapping to a small allocation.
    if (static_cast<uint64_t>(numel) > (std::numeric_limits<size_t>::max() - 63) / dtype_size(dtype))
        fail("tensor of shape {} and dtype {} is too large to allocate", shape_str(shape),
             dtype_name(dtype));
    const size_t bytes = static_cast<size_t>(numel) * dtype_size(dtype);
    void *p = pool_allocate(bytes);
    if (!p) fail("out of memory allocating a tensor of shape {} ({} bytes)", shape_str(shape), bytes);
    t.storage_ = std::shared_ptr<uint8_t>(static_cast<uint8_t *>(p), [](uint8_t *q) { pool_release(q); });
    t.ptr_ = t.storage_.get();
    return t;
}

Tensor Tensor::zeros(const Shape &shape, DType dtype) { return empty(shape, dtype); }

Tensor Tensor::ones(const Shape &shape, DType dtype) { return full(shape, 1.0, dtype); }

Tensor Tensor::full(const Shape &shape, double value, DType dtype) {
    Tensor t = empty(shape, dtype);
    const int64_t n = t.numel();
    for (int64_t i = 0; i < n; ++i) t.set_flat(i, value);
    return t;
}

Tensor Tensor::arange(int64_t n, DType dtype) { return arange(0.0, static_cast<double>(n), 1.0, dtype); }

Tensor Tensor::arange(double start, double end, double step, DType dtype) {
    if (step == 0 || !std::isfinite(step))
        fail("Tensor::arange: step must be finite and non-zero, got {}", step);
    if (!std::isfinite(start) || !std::isfinite(end))
        fail("Tensor::arange: start and end must be finite, got {} and {}", start, end);
    const double count = std::ceil((end - start) / step);
    if (count > 9.0e18) fail("Tensor::arange({}, {}, {}): too many elements", start, end, step);
    const int64_t n = count > 0 ? static_cast<int64_t>(count) : 0;
    Tensor t = empty({n}, dtype);
    for (int64_t i = 0; i < n; ++i) t.set_flat(i, start + static_cast<double>(i) * step);
    return t;
}

Tensor Tensor::rand(const Shape &shape, Generator &gen, DType dtype, double low, double high) {
    Tensor t = empty(shape, dtype);
    const int64_t n = t.numel();
    for (int64_t i = 0; i < n; ++i) {
        double v = low + (high - low) * gen.uniform();
        // A double just below `high` can round up to `high` in f32; keep the interval half-open.
        if (dtype == DType::f32 && high > low && static_cast<float>(v) >= high)
            v = std::nextafter(static_cast<float>(high), -std::numeric_limits<float>::infinity());
        t.set_flat(i, v);
    }
    return t;
}

Tensor Tensor::randn(const Shape &shape, Generator &gen, DType dtype, double mean, double stddev) {
    Tensor t = empty(shape, dtype);
    const int64_t n = t.numel();
    for (int64_t i = 0; i < n; ++i) t.set_flat(i, mean + stddev * gen.normal());
    return t;
}

int64_t Tensor::size(int64_t d) const {
    const int64_t r = dim();
    if (d < -r || d >= r) fail("Tensor::size: dimension {} is out of range for a {}-d tensor", d, r);
    return shape_[static_cast<size_t>(d < 0 ? d + r : d)];
}

bool Tensor::is_contiguous() const { return strides_ == contiguous_strides(shape_); }

void Tensor::check_dtype(DType wanted) const {
    if (!defined()) fail("the tensor is undefined (it has no storage)");
    if (dtype_ != wanted)
        fail("tensor has dtype {} but was accessed as {}", dtype_name(dtype_), dtype_name(wanted));
}

int64_t Tensor::offset_of(std::initializer_list<int64_t> index) const {
    if (static_cast<int64_t>(index.size()) != dim())
        fail("Tensor::at: {} indices given for a {}-d tensor of shape {}", index.size(), dim(),
             shape_str(shape_));
    int64_t off = 0;
    size_t d = 0;
    for (int64_t i : index) {
        if (i < 0 || i >= shape_[d])
            fail("Tensor::at: index {} is out of range for dimension {} of shape {}", i, d,
                 shape_str(shape_));
        off += i * strides_[d++];
    }
    return off;
}

int64_t Tensor::offset_of_flat(int64_t flat) const {
    if (flat < 0 || flat >= numel())
        fail("flat index {} is out of range for shape {}", flat, shape_str(shape_));
    int64_t off = 0;
    for (size_t d = shape_.size(); d-- > 0;) {
        off += (flat % shape_[d]) * strides_[d];
        flat /= shape_[d];
    }
    return off;
}

double Tensor::get_flat(int64_t flat) const {
    if (!defined()) fail("the tensor is undefined (it has no storage)");
    const int64_t off = offset_of_flat(flat);
    switch (dtype_) {
    case DType::f32: return reinterpret_cast<const float *>(ptr_)[off];
    case DType::f64: return reinterpret_cast<const double *>(ptr_)[off];
    case DType::i32: return reinterpret_cast<const int32_t *>(ptr_)[off];
    case DType::boolean: return ptr_[off] != 0 ? 1.0 : 0.0;
    case DType::i64: return static_cast<double>(reinterpret_cast<const int64_t *>(ptr_)[off]);
    }
    return 0.0;
}

namespace {
/// A double as int64 the way x86's cvttsd2si (PyTorch's CPU cast) does it: truncated toward zero,
/// and INT64_MIN for NaN or a value beyond the range (where a plain C++ cast is undefined).
int64_t truncate_to_int64(double value) {
    if (!(value >= -9223372036854775808.0 && value < 9223372036854775808.0))
        return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(value);
}
}  // namespace

int64_t Tensor::get_flat_int64(int64_t flat) const {
    if (!defined()) fail("the tensor is undefined (it has no storage)");
    const int64_t off = offset_of_flat(flat);
    switch (dtype_) {
    case DType::i64: return reinterpret_cast<const int64_t *>(ptr_)[off];
    case DType::i32: return reinterpret_cast<const int32_t *>(ptr_)[off];
    case DType::boolean: return ptr_[off] != 0 ? 1 : 0;
    case DType::f32: return truncate_to_int64(reinterpret_cast<const float *>(ptr_)[off]);
    case DType::f64: return truncate_to_int64(reinterpret_cast<const double *>(ptr_)[off]);
    }
    return 0;
}

void Tensor::set_flat_int64(int64_t flat, int64_t value) {
    if (!defined()) fail("the tensor is undefined (it has no storage)");
    const int64_t off = offset_of_flat(flat);
    switch (dtype_) {
    case DType::i64: reinterpret_cast<int64_t *>(ptr_)[off] = value; break;
    // Two's complement wrap, as PyTorch's .to(torch.int32) (defined behaviour since C++20, and GCC's).
    case DType::i32: reinterpret_cast<int32_t *>(ptr_)[off] = static_cast<int32_t>(static_cast<uint32_t>(value)); break;
    case DType::boolean: ptr_[off] = value != 0 ? 1 : 0; break;
    case DType::f32: reinterpret_cast<float *>(ptr_)[off] = static_cast<float>(value); break;
    case DType::f64: reinterpret_cast<double *>(ptr_)[off] = static_cast<double>(value); break;
    }
}

void Tensor::set_flat(int64_t flat, double value) {
    if (!defined()) fail("the tensor is undefined (it has no storage)");
    const int64_t off = offset_of_flat(flat);
    switch (dtype_) {
    case DType::f32: reinterpret_cast<float *>(ptr_)[off] = static_cast<float>(value); break;
    case DType::f64: reinterpret_cast<double *>(ptr_)[off] = value; break;
    case DType::i32: reinterpret_cast<int32_t *>(ptr_)[off] = static_cast<int32_t>(value); break;
    case DType::boolean: ptr_[off] = value != 0.0 ? 1 : 0; break;
    case DType::i64: reinterpret_cast<int64_t *>(ptr_)[off] = truncate_to_int64(value); break;
    }
}

double Tensor::item() const {
    if (numel() != 1)
        fail("Tensor::item: the tensor has {} elements (shape {}), expected exactly 1", numel(),
             shape_str(shape_));
    return get_flat(0);
}

namespace detail {
void fail_item_conversion(double value, bool is_signed, int bits, double low, double high) {
    fail("Tensor::item<{}int{}>: the value {} does not fit: expected a number in [{:.0f}, {:.0f}]",
         is_signed ? "" : "u", bits, value, low, high);
}
}  // namespace detail

Tensor Tensor::clone() const {
    if (!defined()) return Tensor();
    Tensor t = empty(shape_, dtype_);
    if (is_contiguous()) {
        std::memcpy(t.ptr_, ptr_, nbytes());
    } else {
        t.copy_from(*this);  // element by element, exact for i64 too
    }
    return t;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::reshape(const Shape &shape) const {
    Shape resolved = shape;
    int64_t known = 1, infer = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1) {
            if (infer >= 0) fail("Tensor::reshape: only one extent may be -1 in {}", shape_str(shape));
            infer = static_cast<int64_t>(i);
        } else if (shape[i] < 0) {
            fail("Tensor::reshape: invalid extent {} in {} (only -1 may be negative)", shape[i],
                 shape_str(shape));
        } else {
            known *= shape[i];
        }
    }
    if (infer >= 0) {
        if (known == 0 || numel() % known != 0)
            fail("Tensor::reshape: cannot reshape {} into {}", shape_str(shape_), shape_str(shape));
        resolved[static_cast<size_t>(infer)] = numel() / known;
    }
    if (shape_numel(resolved) != numel())
        fail("Tensor::reshape: cannot reshape {} ({} elements) into {} ({} elements)",
             shape_str(shape_), numel(), shape_str(resolved), shape_numel(resolved));
    Tensor t = contiguous();
    t.shape_ = resolved;
    t.strides_ = contiguous_strides(resolved);
    return t;
}

Tensor Tensor::permute(const std::vector<int64_t> &dims) const {
    if (static_cast<int64_t>(dims.size()) != dim())
        fail("Tensor::permute: {} dims given for a {}-d tensor", dims.size(), dim());
    Tensor t = *this;
    std::vector<bool> seen(dims.size(), false);
    for (size_t i = 0; i < dims.size(); ++i) {
        int64_t d = dims[i] < 0 ? dims[i] + dim() : dims[i];
        if (d < 0 || d >= dim() || seen[static_cast<size_t>(d)])
            fail("Tensor::permute: [{}] is not a permutation of {} dims", fmt::join(dims, ", "), dim());
        seen[static_cast<size_t>(d)] = true;
        t.shape_[i] = shape_[static_cast<size_t>(d)];
        t.strides_[i] = strides_[static_cast<size_t>(d)];
    }
    return t;
}

Tensor Tensor::to(DType dtype) const {
    Tensor t = empty(shape_, dtype);
    t.copy_from(*this);
    return t;
}

void Tensor::copy_from(const Tensor &source) {
    if (source.shape_ != shape_)
        fail("Tensor::copy_from: source shape {} differs from destination shape {}",
             shape_str(source.shape_), shape_str(shape_));
    if (source.dtype_ == dtype_ && is_contiguous() && source.is_contiguous()) {
        if (ptr_ != source.ptr_) std::memmove(ptr_, source.ptr_, nbytes());
        return;
    }
    // An element-wise copy from a view of our own storage (e.g. t.copy_from(t.permute(...)))
    // would read values it has already overwritten; copy the source out first.
    if (source.storage_ == storage_ && defined()) {
        copy_from(source.clone());
        return;
    }
    const int64_t n = numel();
    // An i64 beyond 2^53 does not survive a double: copies from i64 go through int64 (exact, and
    // wrapping into i32 as PyTorch does), as do copies of integers into i64.
    if (source.dtype_ == DType::i64 || (dtype_ == DType::i64 && !is_float(source.dtype_))) {
        for (int64_t i = 0; i < n; ++i) set_flat_int64(i, source.get_flat_int64(i));
        return;
    }
    for (int64_t i = 0; i < n; ++i) set_flat(i, source.get_flat(i));
}

namespace {
void format_rec(const Tensor &t, std::string &out, size_t d, int64_t &flat, int64_t max_per_dim,
                int indent) {
    const auto &shape = t.shape();
    if (d == shape.size()) {
        const double v = t.get_flat(flat++);
        if (t.dtype() == DType::boolean) out += v != 0 ? "true" : "false";
        else if (t.dtype() == DType::i32) out += fmt::format("{}", static_cast<int64_t>(v));
        else if (t.dtype() == DType::i64) out += fmt::format("{}", t.get_flat_int64(flat - 1));
        else out += fmt::format("{:.4g}", v);
        return;
    }
    const int64_t n = shape[d];
    int64_t inner = 1;
    for (size_t k = d + 1; k < shape.size(); ++k) inner *= shape[k];
    out += '[';
    for (int64_t i = 0; i < n; ++i) {
        if (n > max_per_dim && i == max_per_dim / 2) {
            out += "..., ";
            const int64_t skip = n - max_per_dim;
            flat += skip * inner;
            i += skip - 1;
            continue;
        }
        format_rec(t, out, d + 1, flat, max_per_dim, indent + 1);
        if (i + 1 < n) {
            out += ',';
            if (d + 1 < shape.size()) out += '\n' + std::string(static_cast<size_t>(indent + 8), ' ');
            else out += ' ';
        }
    }
    out += ']';
}
}  // namespace

std::string Tensor::to_string(int64_t max_per_dim) const {
    if (!defined()) return "tensor(undefined)";
    std::string out = "tensor(";
    int64_t flat = 0;
    format_rec(*this, out, 0, flat, std::max<int64_t>(max_per_dim, 2), 0);
    out += fmt::format(", dtype={})", dtype_name(dtype_));
    return out;
}

std::ostream &operator<<(std::ostream &os, const Tensor &t) { return os << t.to_string(); }

}  // namespace strata
