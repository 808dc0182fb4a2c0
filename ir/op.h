#pragma once
/// \file
/// The op enum and its table (generated from ir/ops.def).

#include <string>
#include <string_view>
#include <vector>

namespace strata::ir {

enum class Op {
#define STRATA_OP(name, min_in, max_in, cls, schema) name,
#include "ir/ops.def"
#undef STRATA_OP
};

/// The schedule class an op belongs to (codegen picks default schedules by it).
enum class OpClass { source, pointwise, reduction, conv, pool, matmul, layout };

enum class AttrKind { int_, float_, bool_, str, ints, dtype };

struct AttrSpec {
    std::string name;
    AttrKind kind;
};

/// Everything the table says about one op.
struct OpInfo {
    Op op;
    const char *name;
    int min_inputs;
    int max_inputs;
    OpClass op_class;
    std::vector<AttrSpec> attrs;
};

const OpInfo &op_info(Op op);
inline const char *op_name(Op op) { return op_info(op).name; }
/// Looks an op up by name; returns false when there is none.
bool find_op(std::string_view name, Op *out);
const char *attr_kind_name(AttrKind kind);
const char *op_class_name(OpClass cls);
/// Every op, in table order.
const std::vector<OpInfo> &all_ops();

}  // namespace strata::ir
