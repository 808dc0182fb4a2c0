#pragma once
// The ONNX graph -> Strata graph translation: one pass over the (topologically sorted)
// nodes. A value known at import (initializers of integer type, Constant nodes, Shape of a
// tensor, and whatever is computed from those alone: the shape arithmetic PyTorch's exporter
// emits) is evaluated on the host; everything else becomes Graph nodes. Internal to strata_onnx.

#include "frontend/graph.h"
#include "frontend/onnx/onnx_host_tensor.h"
#include "frontend/onnx/onnx_import.h"

#include <strata/error.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace strata::onnx {

/// A value of the ONNX graph while it is translated.
struct Value {
    SymTensor sym;                           ///< its graph node, once it has one
    std::shared_ptr<const HostTensor> host;  ///< its elements, when known at import
    bool trainable = false;                  ///< a float initializer: a parameter, never folded
};

class Converter;

/// What one node converter sees: its inputs, attributes and where its outputs go.
class NodeContext {
public:
    NodeContext(Converter &converter, const ::onnx::NodeProto &node, int64_t opset)
        : converter_(converter), node_(node), opset_(opset) {}

    const ::onnx::NodeProto &node() const { return node_; }
    int64_t opset() const { return opset_; }
    Graph &graph() const;
    /// "node 'conv1' (Conv)", for messages.
    std::string where() const;

    int input_count() const { return node_.input_size(); }
    /// Input i is given (optional inputs are absent or named "").
    bool has_input(int i) const { return i < node_.input_size() && !node_.input(i).empty(); }
    const Value &input(int i) const;
    /// Input i as a graph node (constants are added to the graph).
    SymTensor tensor(int i) const;
    /// Input i's elements; Unsupported when they are only known at run time.
    const HostTensor &constant(int i, const std::string &what) const;
    bool is_constant(int i) const { return has_input(i) && input(i).host && !input(i).trainable; }

    bool has_attr(const std::string &name) const { return attr(name) != nullptr; }
    const ::onnx::AttributeProto *attr(const std::string &name) const;
    int64_t attr_int(const std::string &name, int64_t fallback) const;
    double attr_float(const std::string &name, double fallback) const;
    std::string attr_string(const std::string &name, const std::string &fallback) const;
    std::vector<int64_t> attr_ints(const std::string &name, const std::vector<int64_t> &fallback = {}) const;
    std::vector<double> attr_floats(const std::string &name) const;
    /// Unsupported naming the first attribute of the node not in `known`.
    void check_attrs(std::initializer_list<const char *> known) const;
    /// Unsupported when output i (of an op with optional outputs) is used.
    void refuse_output(int i, const std::string &what) const;

    int output_count() const { return node_.output_size(); }
    void set_output(int i, const SymTensor &value) const;
    void set_output(int i, HostTensor value) const;

    template <typename... Args>
    [[noreturn]] void unsupported(fmt::format_string<Args...> format, Args &&...args) const {
        throw Unsupported(where() + ": " + fmt::format(format, std::forward<Args>(args)...));
    }
    template <typename... Args>
    [[noreturn]] void error(fmt::format_string<Args...> format, Args &&...args) const {
        throw Error(where() + ": " + fmt::format(format, std::forward<Args>(args)...));
    }

private:
    Converter &converter_;
    const ::onnx::NodeProto &node_;
    int64_t opset_;
};

/// Converts one node into graph nodes (sets every output it produces).
using GraphOp = void (*)(const NodeContext &);
/// Evaluates one node on the host, from inputs all known at import (sets every output).
using HostOp = void (*)(const NodeContext &);

struct OpTable {
    std::map<std::string, GraphOp> graph;
    std::map<std::string, HostOp> host;
};
void register_math_ops(OpTable &table);
void register_nn_ops(OpTable &table);
void register_shape_ops(OpTable &table);
void register_resize_ops(OpTable &table);
const OpTable &op_table();

/// Where the graph gets its tensors from (the module that owns them).
struct TensorSources {
    /// The graph node of the float initializer `name` (a parameter or buffer).
    std::function<SymTensor(const std::string &name)> initializer;
    /// A graph node holding `value`, a constant computed at import and named after the value `name`.
    std::function<SymTensor(const std::string &name, const HostTensor &value)> constant;
};

class Converter {
public:
    /// `buffers` names the float initializers that are not trained (batch-norm statistics).
    Converter(const ::onnx::ModelProto &model, Graph &graph, TensorSources sources,
              std::map<std::string, HostTensor> fixed_inputs = {});

    /// Translates the graph on `inputs` (by ONNX input name); returns the outputs by ONNX name.
    std::map<std::string, SymTensor> run(const std::map<std::string, SymTensor> &inputs);

    // For NodeContext.
    Graph &graph() { return graph_; }
    const Value &value(const std::string &name, const std::string &where) const;
    void set_value(const std::string &name, Value value) { values_[name] = std::move(value); }
    SymTensor materialize(const std::string &name, const std::string &where);
    bool is_used(const std::string &name) const { return used_.count(name) != 0; }

private:
    const ::onnx::ModelProto &model_;
    Graph &graph_;
    TensorSources sources_;
    int64_t opset_;
    std::map<std::string, Value> values_;
    std::map<std::string, HostTensor> fixed_inputs_;
    std::set<std::string> used_;  ///< every value some node or the graph's outputs reads
};

/// The float initializers the graph uses as statistics (BatchNormalization's mean and var):
/// they become buffers, the other float initializers trainable parameters.
std::set<std::string> statistics_initializers(const ::onnx::GraphProto &graph);

/// The numpy broadcast of two shapes; an error naming the node when they do not broadcast.
Shape broadcast_shape(const NodeContext &ctx, const Shape &a, const Shape &b);
/// The elements of `t` broadcast to `shape` (numpy rules).
HostTensor host_broadcast(const HostTensor &t, const Shape &shape);

/// Strata's dim for an ONNX axis of a rank-`rank` tensor (negative counts from the end).
int64_t normalize_axis(const NodeContext &ctx, int64_t axis, int64_t rank, const char *what = "axis");

}  // namespace strata::onnx
