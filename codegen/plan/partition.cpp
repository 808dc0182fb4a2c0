#include "codegen/plan/partition.h"

#include <strata/error.h>

#include <algorithm>
#include <map>

namespace strata::codegen {

using ir::Node;
using ir::Op;
using ir::OpClass;

bool rereads_inputs(const Node &node) {
    const OpClass c = node.info().op_class;
    if (c == OpClass::conv || c == OpClass::matmul) return true;
    if (c != OpClass::pool) return false;
    // Pools whose windows do not overlap read each element once: their
    // producer (e.g. the relu after a conv) is cheaper inlined.
    if (!node.attrs.has("stride")) return true;
    const ir::Ints &kernel = node.attrs.get_ints("kernel_size"), &stride = node.attrs.get_ints("stride");
    for (size_t i = 0; i < kernel.size(); ++i)
        if (stride[i] < kernel[i]) return true;
    return node.attrs.has("dilation") && node.attrs.get_ints("dilation") != ir::Ints(kernel.size(), 1);
}

namespace {

bool is_external_source(const Node &n) { return n.op == Op::input || n.op == Op::parameter; }
bool is_constant_source(const Node &n) { return n.info().op_class == OpClass::source && !is_external_source(n); }

bool elementwise(const Node &n) {
    const OpClass c = n.info().op_class;
    return c == OpClass::pointwise || is_constant_source(n);
}

/// The nodes that read each node, by id.
using Readers = std::vector<std::vector<const Node *>>;

/// Whether a node is read by the caller or by a node of another group.
bool read_outside(const Node &node, const Readers &readers, const std::vector<bool> &is_output,
                  const std::vector<int> &group_of, int group) {
    const size_t id = static_cast<size_t>(node.id);
    if (is_output[id]) return true;
    for (const Node *reader : readers[id])
        if (group_of[static_cast<size_t>(reader->id)] != group) return true;
    return false;
}

/// Folds an elementwise group into the one elementwise group of the same shape
/// that alone reads its value (the caller may read it too), until none is left.
void merge_elementwise_groups(const ir::Program &program, const Readers &readers, const std::vector<int> &consumers,
                              std::vector<int> &group_of, const std::vector<int> &root_of_group) {
    const auto &nodes = program.nodes();
    auto all_elementwise = [&](int g) {
        for (size_t i = 0; i < nodes.size(); ++i)
            if (group_of[i] == g && !elementwise(*nodes[i])) return false;
        return true;
    };
    for (size_t r = root_of_group.size(); r-- > 0;) {
        const size_t root = static_cast<size_t>(root_of_group[r]);
        const int g = group_of[root];
        if (consumers[root] == 0 || readers[root].empty() || !all_elementwise(g)) continue;
        const int target = group_of[static_cast<size_t>(readers[root].front()->id)];
        bool fits = target >= 0 && target != g;
        for (const Node *reader : readers[root]) fits = fits && group_of[static_cast<size_t>(reader->id)] == target;
        if (!fits) continue;
        // The target's last node sets its shape: every output is computed over it.
        size_t last = 0;
        for (size_t i = 0; i < nodes.size(); ++i)
            if (group_of[i] == target) last = i;
        if (nodes[last]->shape() != nodes[root]->shape() || !all_elementwise(target)) continue;
        for (size_t i = 0; i < nodes.size(); ++i)
            if (group_of[i] == g) group_of[i] = target;
    }
}

}  // namespace

std::vector<KernelGroup> partition_into_kernels(const ir::Program &program) {
    const auto &nodes = program.nodes();
    const size_t n = nodes.size();
    std::vector<int> consumers(n, 0);
    std::vector<const Node *> only_consumer(n, nullptr);
    std::vector<bool> stored(n, false), is_output(n, false);
    Readers readers(n);
    for (const auto &node : nodes)
        for (const Node *in : node->inputs) {
            const size_t id = static_cast<size_t>(in->id);
            readers[id].push_back(node.get());
            // A node read twice by one consumer is still read once per element by it.
            if (only_consumer[id] != node.get()) ++consumers[id];
            only_consumer[id] = node.get();
            if (rereads_inputs(*node)) stored[id] = true;
        }
    for (const ir::Output &out : program.outputs()) {
        const size_t id = static_cast<size_t>(out.node->id);
        stored[id] = is_output[id] = true;
        consumers[id] += 1;
    }
    for (size_t id = 0; id < n; ++id)
        if (consumers[id] != 1) stored[id] = true;
    // As the lowering does (schedules/placement.cpp): a chain of more than
    // kMaxInlinedFuncs inlined nodes is cut, since Halide's cost grows with the
    // square of an inlined expression. Here each piece becomes a kernel of its
    // own, so a long chain compiles in parallel and repeated pieces compile once.
    std::vector<int64_t> inlined(n, 0);
    for (size_t id = 0; id < n; ++id) {
        if (nodes[id]->info().op_class == OpClass::source) continue;
        int64_t expression = 1;
        for (const Node *in : nodes[id]->inputs) expression += inlined[static_cast<size_t>(in->id)];
        if (!stored[id] && expression > kMaxInlinedFuncs) stored[id] = true;
        inlined[id] = stored[id] ? 0 : expression;
    }

    // Walk backwards: a node that is not stored belongs to its only consumer's group.
    std::vector<int> group_of(n, -1);
    std::vector<int> root_of_group;
    for (size_t i = n; i-- > 0;) {
        const Node &node = *nodes[i];
        if (node.info().op_class == OpClass::source) {
            // Constant outputs still need a kernel to write them; other sources need none.
            if (!is_constant_source(node) || !is_output[i]) continue;
        }
        if (consumers[i] == 0) continue;  // dead (the passes normally removed it)
        if (stored[i] || group_of[static_cast<size_t>(only_consumer[i]->id)] < 0) {
            group_of[i] = static_cast<int>(root_of_group.size());
            root_of_group.push_back(static_cast<int>(i));
        } else {
            group_of[i] = group_of[static_cast<size_t>(only_consumer[i]->id)];
        }
    }

    merge_elementwise_groups(program, readers, consumers, group_of, root_of_group);

    // Groups ordered by their last nodes: everything a group reads comes from
    // groups whose last node is earlier.
    std::map<int, std::vector<size_t>> members;  // group -> node ids, in order
    for (size_t i = 0; i < n; ++i)
        if (group_of[i] >= 0) members[group_of[i]].push_back(i);
    std::map<size_t, KernelGroup> by_last;
    for (const auto &[g, ids] : members) {
        KernelGroup group;
        for (size_t id : ids) group.nodes.push_back(nodes[id].get());
        for (const Node *member : group.nodes) {
            for (const Node *in : member->inputs) {
                const bool inside = group_of[static_cast<size_t>(in->id)] == g;
                if (inside || is_constant_source(*in)) continue;
                if (std::find(group.inputs.begin(), group.inputs.end(), in) == group.inputs.end())
                    group.inputs.push_back(in);
            }
            if (read_outside(*member, readers, is_output, group_of, g)) group.outputs.push_back(member);
        }
        STRATA_ASSERT(!group.outputs.empty() && group.outputs.back() == group.nodes.back(),
                      "a kernel group's last node is one of its outputs");
        by_last[ids.back()] = std::move(group);
    }
    std::vector<KernelGroup> groups;
    for (auto &[last, group] : by_last) groups.push_back(std::move(group));
    return groups;
}

ir::Program kernel_program(const KernelGroup &group) {
    ir::Program kernel;
    std::map<const Node *, const Node *> mapped;
    for (size_t i = 0; i < group.inputs.size(); ++i)
        mapped[group.inputs[i]] = kernel.input("in" + std::to_string(i), group.inputs[i]->type);
    auto map_input = [&](const Node *in) {
        auto it = mapped.find(in);
        if (it != mapped.end()) return it->second;
        STRATA_ASSERT(is_constant_source(*in), "a kernel reads a value from outside that is not one of its inputs");
        const Node *copy = kernel.make(in->op, {}, in->attrs, &in->type);
        mapped[in] = copy;
        return copy;
    };
    for (const Node *node : group.nodes) {
        std::vector<const Node *> inputs;
        for (const Node *in : node->inputs) inputs.push_back(map_input(in));
        const bool source = node->info().op_class == OpClass::source;
        mapped[node] = kernel.make(node->op, inputs, node->attrs, source ? &node->type : nullptr);
    }
    for (size_t i = 0; i < group.outputs.size(); ++i) kernel.add_output("out" + std::to_string(i), mapped.at(group.outputs[i]));
    return kernel;
}

}  // namespace strata::codegen
