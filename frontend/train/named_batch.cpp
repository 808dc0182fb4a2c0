#include "frontend/train/named_batch.h"

namespace strata {

TensorSpecs batch_specs(const TensorMap &tensors, int64_t batch) {
    TensorSpecs specs;
    for (const auto &[name, t] : tensors) {
        if (!t.defined() || t.dim() == 0)
            fail("'{}' must be a tensor with examples along dim 0, got {}", name,
                 t.defined() ? "a scalar" : "an undefined tensor");
        Shape shape = t.shape();
        shape[0] = batch;
        specs[name] = {shape, t.dtype()};
    }
    return specs;
}

namespace {
std::string names_of(const TensorSpecs &specs) {
    std::string out;
    for (const auto &[name, spec] : specs) out += (out.empty() ? "'" : ", '") + name + "'";
    return out.empty() ? "none" : out;
}
}  // namespace

void check_batch(const TensorMap &batch, const TensorSpecs &specs, const char *what, const std::string &where) {
    for (const auto &[name, spec] : specs) {
        auto it = batch.find(name);
        if (it == batch.end() || !it->second.defined())
            fail("{}: the batch has no {} '{}' (expected {}: {})", where, what, name, what, names_of(specs));
        const Tensor &t = it->second;
        if (t.shape() != spec.shape || t.dtype() != spec.dtype)
            fail("{}: {} '{}' is {} ({}), expected {} ({})", where, what, name, shape_str(t.shape()),
                 dtype_name(t.dtype()), shape_str(spec.shape), dtype_name(spec.dtype));
    }
}

}  // namespace strata

namespace strata {

int64_t NamedDataset::size() const {
    for (const TensorMap *group : {&inputs, &targets})
        for (const auto &[name, t] : *group)
            if (t.defined() && t.dim() > 0) return t.size(0);
    return 0;
}

void NamedDataset::check() const {
    if (inputs.empty()) fail("NamedDataset: it has no inputs");
    const int64_t n = size();
    for (const TensorMap *group : {&inputs, &targets})
        for (const auto &[name, t] : *group) {
            if (!t.defined() || t.dim() == 0 || t.size(0) != n)
                fail("NamedDataset: '{}' is {}, expected {} examples along dim 0 as the others", name,
                     t.defined() ? shape_str(t.shape()) : std::string("undefined"), n);
            if (group == &targets && inputs.count(name)) fail("NamedDataset: '{}' is both an input and a target", name);
        }
}

NamedDataset NamedDataset::slice(int64_t begin, int64_t end) const {
    check();
    if (begin < 0 || end > size() || begin > end)
        fail("NamedDataset::slice: [{}, {}) is outside the {} examples", begin, end, size());
    auto rows = [&](const TensorMap &tensors) {
        TensorMap out;
        for (const auto &[name, t] : tensors) out[name] = t.slice(0, begin, end).clone();
        return out;
    };
    return {rows(inputs), rows(targets)};
}

}  // namespace strata
