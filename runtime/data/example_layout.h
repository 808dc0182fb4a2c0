#pragma once
/// \file
/// The names, dtypes and shapes every example of a dataset shares, and the stacking of
/// examples into a batch (torch.utils.data's default_collate for tensors).

#include "runtime/data/dataset.h"

#include <map>
#include <string>

namespace strata::data {

/// One named tensor of an example: its dtype and shape.
struct FieldSpec {
    DType dtype = DType::f32;
    Shape shape;
    bool operator==(const FieldSpec &other) const { return dtype == other.dtype && shape == other.shape; }
    bool operator!=(const FieldSpec &other) const { return !(*this == other); }
};

/// The fields of an example by name.
using ExampleLayout = std::map<std::string, FieldSpec>;

/// The layout of `example`.
ExampleLayout layout_of(const Example &example);
/// "{label: i32[], waveform: f32[3, 6000]}", for messages.
std::string layout_str(const ExampleLayout &layout);
/// Throws a strata::Error naming `where` (the example, unless empty) and each field that is missing,
/// unexpected or of another dtype or shape than `layout`.
void check_layout(const Example &example, const ExampleLayout &layout, const std::string &where);

/// A batch being filled: one tensor per field, [count, shape...], allocated once; examples
/// are copied into their rows as they arrive (in any order), so a batch never holds its
/// examples twice.
class BatchStacker {
public:
    BatchStacker(const ExampleLayout &layout, int64_t count);
    /// Copies `example`, already checked against the layout (check_layout), into row `row`.
    /// Rows must each be filled once before `take`.
    void add(int64_t row, const Example &example);
    /// The batch; the stacker is empty afterwards.
    Example take() { return std::move(batch_); }

private:
    int64_t count_;
    Example batch_;
};

}  // namespace strata::data
