#include "runtime/data/transforms/waveform.h"

#include <algorithm>
#include <cmath>

namespace strata::data {

Tensor &example_tensor(Example &example, const std::string &key, const std::string &transform) {
    const auto it = example.find(key);
    if (it == example.end()) {
        std::vector<std::string> names;
        for (const auto &entry : example) names.push_back(entry.first);
        fail("{}: the example has no tensor '{}' (it has: {})", transform, key, fmt::join(names, ", "));
    }
    return it->second;
}

Waveform::Waveform(Example &example, const std::string &key, const std::string &transform)
    : example_(example), key_(key) {
    const Tensor &tensor = example_tensor(example, key, transform);
    dtype_ = tensor.dtype();
    if (dtype_ != DType::f32 && dtype_ != DType::f64)
        fail("{}: '{}' is {}; expected a float waveform (f32 or f64)", transform, key, dtype_name(dtype_));
    if (tensor.dim() != 1 && tensor.dim() != 2)
        fail("{}: '{}' has shape {}; expected [channels, samples] or [samples]", transform, key,
             shape_str(tensor.shape()));
    one_dimensional_ = tensor.dim() == 1;
    channels_ = one_dimensional_ ? 1 : tensor.size(0);
    length_ = tensor.size(-1);
    if (channels_ < 1 || length_ < 1)
        fail("{}: '{}' has shape {}; expected at least one channel and one sample", transform, key,
             shape_str(tensor.shape()));
    values_.resize(static_cast<size_t>(channels_ * length_));
    const Tensor dense = tensor.contiguous();
    if (dtype_ == DType::f32) {
        const float *in = dense.data<float>();
        for (size_t i = 0; i < values_.size(); ++i) values_[i] = in[i];
    } else {
        const double *in = dense.data<double>();
        for (size_t i = 0; i < values_.size(); ++i) values_[i] = in[i];
    }
}

double mean_of(const double *samples, int64_t n) {
    double sum = 0.0;
    for (int64_t t = 0; t < n; ++t) sum += samples[t];
    return sum / static_cast<double>(n);
}

void Waveform::resize(int64_t length) {
    STRATA_ASSERT(length >= 1, "a waveform keeps at least one sample");
    length_ = length;
    values_.resize(static_cast<size_t>(channels_ * length_));
}

void Waveform::store() {
    const Shape shape = one_dimensional_ ? Shape{length_} : Shape{channels_, length_};
    Tensor out = Tensor::uninitialized(shape, dtype_);
    if (dtype_ == DType::f32) {
        float *o = out.data<float>();
        for (size_t i = 0; i < values_.size(); ++i) o[i] = static_cast<float>(values_[i]);
    } else {
        double *o = out.data<double>();
        for (size_t i = 0; i < values_.size(); ++i) o[i] = values_[i];
    }
    example_[key_] = out;
}

Picks::Picks(Example &example, const std::vector<std::string> &keys, const std::string &transform)
    : example_(example), keys_(keys) {
    for (const std::string &key : keys_) {
        const Tensor &pick = example_tensor(example, key, transform);
        if (pick.numel() != 1 || (pick.dtype() != DType::f32 && pick.dtype() != DType::f64))
            fail("{}: the pick '{}' is {} of shape {}; expected one f32 or f64 sample index (NaN when "
                 "absent)",
                 transform, key, dtype_name(pick.dtype()), shape_str(pick.shape()));
    }
}

double Picks::value(const std::string &key) const {
    STRATA_ASSERT(std::find(keys_.begin(), keys_.end(), key) != keys_.end(), "unknown pick {}", key);
    return example_.at(key).get_flat(0);
}

void Picks::shift_all(double shift, double wrap) {
    for (const std::string &key : keys_) {
        Tensor moved = example_.at(key).clone();
        double at = moved.get_flat(0) + shift;
        if (wrap > 0.0) at = std::fmod(std::fmod(at, wrap) + wrap, wrap);
        if (!std::isnan(at)) moved.set_flat(0, at);
        example_[key] = moved;
    }
}

}  // namespace strata::data
