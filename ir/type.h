#pragma once
/// \file
/// The result type of a node: dtype and static shape.

#include <strata/dtype.h>
#include <strata/shape.h>

#include <string>

namespace strata::ir {

struct Type {
    DType dtype = DType::f32;
    Shape shape;

    int64_t rank() const { return static_cast<int64_t>(shape.size()); }
    int64_t numel() const { return shape_numel(shape); }
    bool operator==(const Type &o) const { return dtype == o.dtype && shape == o.shape; }
    bool operator!=(const Type &o) const { return !(*this == o); }
};

/// IR text form: f32[64,6,28,28]; a scalar is f32[].
std::string type_str(const Type &type);

}  // namespace strata::ir
