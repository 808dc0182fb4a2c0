#include "ir/op.h"

#include <strata/error.h>

#include <string>

namespace strata::ir {

namespace {

AttrKind parse_kind(const std::string &kind) {
    if (kind == "int") return AttrKind::int_;
    if (kind == "float") return AttrKind::float_;
    if (kind == "bool") return AttrKind::bool_;
    if (kind == "str") return AttrKind::str;
    if (kind == "ints") return AttrKind::ints;
    if (kind == "dtype") return AttrKind::dtype;
    STRATA_ASSERT(false, "bad attribute kind '{}' in ops.def", kind);
}

std::vector<AttrSpec> parse_schema(const std::string &schema) {
    std::vector<AttrSpec> specs;
    size_t pos = 0;
    while (pos < schema.size()) {
        size_t comma = schema.find(',', pos);
        if (comma == std::string::npos) comma = schema.size();
        const std::string item = schema.substr(pos, comma - pos);
        const size_t colon = item.find(':');
        STRATA_ASSERT(colon != std::string::npos, "bad schema item '{}'", item);
        specs.push_back({item.substr(0, colon), parse_kind(item.substr(colon + 1))});
        pos = comma + 1;
    }
    return specs;
}

std::vector<OpInfo> build_table() {
    return {
#define STRATA_OP(name, min_in, max_in, cls, schema) \
    {Op::name, #name, min_in, max_in, OpClass::cls, parse_schema(schema)},
#include "ir/ops.def"
#undef STRATA_OP
    };
}

}  // namespace

const std::vector<OpInfo> &all_ops() {
    static const std::vector<OpInfo> table = build_table();
    return table;
}

const OpInfo &op_info(Op op) { return all_ops()[static_cast<size_t>(op)]; }

bool find_op(std::string_view name, Op *out) {
    for (const OpInfo &info : all_ops()) {
        if (name == info.name) {
            *out = info.op;
            return true;
        }
    }
    return false;
}

const char *attr_kind_name(AttrKind kind) {
    switch (kind) {
    case AttrKind::int_: return "int";
    case AttrKind::float_: return "float";
    case AttrKind::bool_: return "bool";
    case AttrKind::str: return "str";
    case AttrKind::ints: return "ints";
    case AttrKind::dtype: return "dtype";
    }
    return "?";
}

const char *op_class_name(OpClass cls) {
    switch (cls) {
    case OpClass::source: return "source";
    case OpClass::pointwise: return "pointwise";
    case OpClass::reduction: return "reduction";
    case OpClass::conv: return "conv";
    case OpClass::pool: return "pool";
    case OpClass::matmul: return "matmul";
    case OpClass::layout: return "layout";
    }
    return "?";
}

}  // namespace strata::ir
