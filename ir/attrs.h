#pragma once
/// \file
/// Node attributes: a small sorted map from name to a typed value.

#include "ir/op.h"

#include <strata/dtype.h>

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace strata::ir {

using Ints = std::vector<int64_t>;
using AttrValue = std::variant<int64_t, double, bool, std::string, Ints, DType>;

/// The kind tag of a value (matches the variant's alternatives in order).
AttrKind attr_kind(const AttrValue &value);

/// Attributes are kept sorted by name, so equal sets compare and hash equal
/// and print in one canonical order.
class Attrs {
public:
    Attrs() = default;
    Attrs(std::initializer_list<std::pair<const std::string, AttrValue>> init) : map_(init) {}

    Attrs &set(const std::string &name, AttrValue value) {
        map_[name] = std::move(value);
        return *this;
    }
    bool has(const std::string &name) const { return map_.count(name) != 0; }

    int64_t get_int(const std::string &name) const;
    double get_float(const std::string &name) const;
    bool get_bool(const std::string &name) const;
    const std::string &get_str(const std::string &name) const;
    const Ints &get_ints(const std::string &name) const;
    DType get_dtype(const std::string &name) const;

    const std::map<std::string, AttrValue> &map() const { return map_; }
    /// Floats compare by bit pattern: full(-0.0) is not full(0.0), and a NaN equals itself.
    bool operator==(const Attrs &other) const;
    size_t hash() const;

private:
    std::map<std::string, AttrValue> map_;
    const AttrValue &get(const std::string &name, AttrKind kind) const;
};

/// An attribute value as IR text: 3, 0.5, true, "zeros", [1,2], f32.
std::string attr_value_str(const AttrValue &value);

}  // namespace strata::ir
