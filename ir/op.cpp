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

/// The forward column names an op (or `none`); resolved once the table exists.
std::optional<Op> forward_named(const std::vector<OpInfo> &table, const std::string &name) {
    if (name == "none") return std::nullopt;
    for (const OpInfo &info : table)
        if (name == info.name) return info.op;
    STRATA_ASSERT(false, "ops.def: forward op '{}' is not an op", name);
}

std::vector<OpInfo> build_table() {
    std::vector<OpInfo> table = {
#define STRATA_OP(name, min_in, max_in, cls, shape, vjp, lowering, spatial, forward, schema)           \
    {Op::name,        #name,        min_in,             max_in,  OpClass::cls, ShapeRule::shape, VjpRule::vjp, \
     Lowering::lowering, spatial, std::nullopt, parse_schema(schema)},
#include "ir/ops.def"
#undef STRATA_OP
    };
    const char *forward_names[] = {
#define STRATA_OP(name, min_in, max_in, cls, shape, vjp, lowering, spatial, forward, schema) #forward,
#include "ir/ops.def"
#undef STRATA_OP
    };
    for (size_t i = 0; i < table.size(); ++i) table[i].forward = forward_named(table, forward_names[i]);
    return table;
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

#define STRATA_NAME_CASE(type, name) \
    case type::name: return #name;
#define STRATA_CLASS_CASE(name) STRATA_NAME_CASE(OpClass, name)
#define STRATA_SHAPE_CASE(name) STRATA_NAME_CASE(ShapeRule, name)
#define STRATA_VJP_CASE(name) STRATA_NAME_CASE(VjpRule, name)
#define STRATA_LOWERING_CASE(name) STRATA_NAME_CASE(Lowering, name)

const char *op_class_name(OpClass cls) {
    switch (cls) { STRATA_OP_CLASSES(STRATA_CLASS_CASE) }
    return "?";
}

const char *shape_rule_name(ShapeRule rule) {
    switch (rule) { STRATA_SHAPE_RULES(STRATA_SHAPE_CASE) }
    return "?";
}

const char *vjp_rule_name(VjpRule rule) {
    switch (rule) { STRATA_VJP_RULES(STRATA_VJP_CASE) }
    return "?";
}

const char *lowering_name(Lowering lowering) {
    switch (lowering) { STRATA_LOWERINGS(STRATA_LOWERING_CASE) }
    return "?";
}

const std::vector<OpClass> &all_op_classes() {
#define STRATA_CLASS_ITEM(name) OpClass::name,
    static const std::vector<OpClass> classes = {STRATA_OP_CLASSES(STRATA_CLASS_ITEM)};
    return classes;
}

bool find_op_class(std::string_view name, OpClass *out) {
    for (OpClass cls : all_op_classes()) {
        if (name == op_class_name(cls)) {
            *out = cls;
            return true;
        }
    }
    return false;
}

}  // namespace strata::ir
