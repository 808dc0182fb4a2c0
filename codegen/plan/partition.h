#pragma once
/// \file
/// Splitting an optimised program into kernels (fusion groups). No Halide here.
///
/// A group starts as one stored value (its root) together with the producers
/// that the lowering would inline into it anyway: a node joins its consumer's
/// group when it has exactly one consumer, is not a program output and does
/// not feed an op that rereads its input (conv, matmul, overlapping pools).
/// Every value that crosses a group boundary is therefore one the
/// single-pipeline lowering would have stored too. Then an elementwise group
/// whose value only one other elementwise group of the same shape reads (and
/// perhaps the caller) joins that group as an extra output: an optimizer's
/// moment updates join the parameter update, one kernel per parameter.
/// Constant sources (full, iota) are copied into every group that reads them.
/// What a plan gives up against one pipeline: fusions across groups (a max
/// pool's gradient no longer runs in its forward pool's loops).

#include "ir/program.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strata::codegen {

/// At most this many Funcs are inlined into one expression (by the lowering,
/// schedules/placement.cpp, and so by the partition): Halide simplifies the
/// grown expression at each inlining, a cost quadratic in the chain's length.
constexpr int64_t kMaxInlinedFuncs = 32;

/// Ops that read each input element many times: their producers are stored
/// rather than recomputed per read (the lowering's rule as well).
bool rereads_inputs(const ir::Node &node);

struct KernelGroup {
    /// The nodes computed by this kernel, in program (topological) order.
    std::vector<const ir::Node *> nodes;
    /// Values read from outside: inputs, parameters and other groups' outputs,
    /// in the order the kernel takes them.
    std::vector<const ir::Node *> inputs;
    /// The values other kernels or the caller read, in node order; the last
    /// is the group's last node.
    std::vector<const ir::Node *> outputs;
};

/// The groups of `program` in an order that runs every producer before its
/// consumers. Program outputs that are sources (an input returned as is) get
/// no group.
std::vector<KernelGroup> partition_into_kernels(const ir::Program &program);

/// The kernel of one group as a program of its own, named canonically so two
/// groups that compute the same thing print (and cache) the same: inputs
/// "in0", "in1", ... in `group.inputs` order, outputs "out0", "out1", ... in
/// `group.outputs` order.
ir::Program kernel_program(const KernelGroup &group);

}  // namespace strata::codegen
