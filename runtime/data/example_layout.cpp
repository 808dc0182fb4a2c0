#include "runtime/data/example_layout.h"

#include <cstring>
#include <vector>

namespace strata::data {

ExampleLayout layout_of(const Example &example) {
    ExampleLayout layout;
    for (const auto &[name, tensor] : example) {
        if (!tensor.defined()) fail("example field '{}' is an undefined tensor", name);
        layout[name] = {tensor.dtype(), tensor.shape()};
    }
    return layout;
}

std::string layout_str(const ExampleLayout &layout) {
    std::string out = "{";
    for (const auto &[name, field] : layout) {
        if (out.size() > 1) out += ", ";
        out += fmt::format("{}: {}{}", name, dtype_name(field.dtype), shape_str(field.shape));
    }
    return out + "}";
}

void check_layout(const Example &example, const ExampleLayout &layout, const std::string &where) {
    std::vector<std::string> problems;
    for (const auto &[name, field] : layout) {
        const auto found = example.find(name);
        if (found == example.end()) {
            problems.push_back(fmt::format("field '{}' is missing", name));
        } else if (!found->second.defined()) {
            problems.push_back(fmt::format("field '{}' is an undefined tensor", name));
        } else if (FieldSpec{found->second.dtype(), found->second.shape()} != field) {
            problems.push_back(fmt::format("field '{}' is {}{}, expected {}{}", name, dtype_name(found->second.dtype()),
                                           shape_str(found->second.shape()), dtype_name(field.dtype),
                                           shape_str(field.shape)));
        }
    }
    for (const auto &[name, tensor] : example)
        if (!layout.count(name)) problems.push_back(fmt::format("field '{}' is unexpected", name));
    if (!problems.empty())
        fail("{}{}{} (every example must have the layout {})", where, where.empty() ? "" : ": ",
             fmt::join(problems, "; "), layout_str(layout));
}

BatchStacker::BatchStacker(const ExampleLayout &layout, int64_t count) : count_(count) {
    for (const auto &[name, field] : layout) {
        Shape shape = field.shape;
        shape.insert(shape.begin(), count);
        batch_[name] = Tensor::uninitialized(shape, field.dtype);  // every row is overwritten
    }
}

void BatchStacker::add(int64_t row, const Example &example) {
    STRATA_ASSERT(row >= 0 && row < count_, "row {} of a batch of {}", row, count_);
    for (auto &[name, stacked] : batch_) {
        const Tensor source = example.at(name).contiguous();
        const size_t row_bytes = source.nbytes();
        STRATA_ASSERT(row_bytes * static_cast<size_t>(count_) == stacked.nbytes(), "field '{}' unchecked", name);
        std::memcpy(static_cast<uint8_t *>(stacked.raw_data()) + static_cast<size_t>(row) * row_bytes,
                    source.raw_data(), row_bytes);
    }
}

}  // namespace strata::data
