#pragma once
/// \file
/// The op enum and its table (generated from ir/ops.def).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::ir {

enum class Op {
#define STRATA_OP(name, min_in, max_in, cls, shape, vjp, lowering, spatial, forward, schema) name,
#include "ir/ops.def"
#undef STRATA_OP
};

// The values of the table's columns (see ops.def), each listed once.
#define STRATA_OP_CLASSES(X) X(source) X(pointwise) X(reduction) X(conv) X(pool) X(matmul) X(layout)
#define STRATA_SHAPE_RULES(X) \
    X(source) X(pointwise) X(reduction) X(matmul) X(conv) X(pool) X(layout) X(gradient) X(cross_entropy) X(batch_norm) \
    X(unpool) X(resample)
#define STRATA_VJP_RULES(X) \
    X(pointwise) X(reduction) X(matmul) X(conv) X(pool) X(layout) X(leaf) X(nondiff) X(unsupported)
#define STRATA_LOWERINGS(X)                                                                               \
    X(source) X(pointwise) X(reduction) X(matmul) X(conv) X(pool) X(layout) X(conv_grad_weight) X(pool_grad) \
    X(pad_grad) X(cross_entropy) X(cross_entropy_grad) X(batch_norm_train) X(batch_norm_train_grad)     \
    X(pool_indices) X(unpool) X(unpool_grad) X(resample) X(resample_grad)
#define STRATA_ENUM_VALUE(name) name,

/// The schedule class an op belongs to (codegen picks default schedules by it).
enum class OpClass { STRATA_OP_CLASSES(STRATA_ENUM_VALUE) };
/// The shape rule of an op: a function of that name in ir/shape_inference.cpp.
enum class ShapeRule { STRATA_SHAPE_RULES(STRATA_ENUM_VALUE) };
/// The VJP rule of an op: `<rule>_rules` in ir/autodiff/vjp_rules.cpp, or why it has none.
enum class VjpRule { STRATA_VJP_RULES(STRATA_ENUM_VALUE) };
/// The Halide lowering of an op: `lower_<lowering>` in codegen/lower/.
enum class Lowering { STRATA_LOWERINGS(STRATA_ENUM_VALUE) };

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
    ShapeRule shape_rule;
    VjpRule vjp_rule;
    Lowering lowering;
    int spatial_rank;            ///< 1 or 2 for convs, pools and their gradients; else 0
    std::optional<Op> forward;   ///< the forward op of a gradient op
    std::vector<AttrSpec> attrs;
};

const OpInfo &op_info(Op op);
inline const char *op_name(Op op) { return op_info(op).name; }
/// Looks an op up by name; returns false when there is none.
bool find_op(std::string_view name, Op *out);
const char *attr_kind_name(AttrKind kind);
const char *op_class_name(OpClass cls);
const char *shape_rule_name(ShapeRule rule);
const char *vjp_rule_name(VjpRule rule);
const char *lowering_name(Lowering lowering);
/// Every op class, in declaration order.
const std::vector<OpClass> &all_op_classes();
/// Looks an op class up by name; returns false when there is none.
bool find_op_class(std::string_view name, OpClass *out);
/// Every op, in table order.
const std::vector<OpInfo> &all_ops();

}  // namespace strata::ir
