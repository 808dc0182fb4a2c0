#pragma once
/// \file
/// The DSL: a `Graph` under construction and the symbolic tensors flowing in it.
///
///     strata::Graph g;
///     auto x = g.input("x", {64, 1, 28, 28});
///     g.output("y", strata::relu(x * 2.0));
///     auto compiled = g.compile();
///     auto y = compiled.run({{"x", batch}}).at("y");

#include "codegen/compiler.h"
#include "ir/program.h"
#include "runtime/tensor.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace strata {

class Graph;

/// A symbolic tensor: a node of a Graph. Cheap to copy.
class SymTensor {
public:
    SymTensor() = default;
    SymTensor(Graph *graph, const ir::Node *node) : graph_(graph), node_(node) {}

    bool defined() const { return node_ != nullptr; }
    const Shape &shape() const;
    DType dtype() const;
    int64_t dim() const;
    /// Extent of dimension `d`; negative `d` counts from the end.
    int64_t size(int64_t d) const;
    int64_t numel() const;
    Graph &graph() const;
    const ir::Node *node() const { return node_; }

private:
    Graph *graph_ = nullptr;
    const ir::Node *node_ = nullptr;
};

/// A Graph compiled for a target, with its parameters bound.
class CompiledGraph {
public:
    CompiledGraph() = default;

    /// Runs with the given inputs (by name); returns the outputs by name.
    /// Parameters are read from the tensors registered in the Graph (shared
    /// storage, so updating them in place is seen by the next run); state
    /// updates (e.g. batch-norm running statistics) are written back into them.
    /// Inputs whose leading (batch) extent differs from the compiled one, all alike and
    /// the other dims as compiled, run a copy of the program rebatched to that size: it
    /// is compiled once per size on first use (from the compile cache when it has it;
    /// a plan's kernels that do not depend on the batch are shared) and kept.
    std::map<std::string, Tensor> run(const std::map<std::string, Tensor> &inputs) const;
    /// For a graph with exactly one input and one output.
    Tensor run(const Tensor &input) const;

    /// The value "rng.step" takes at the next run (saved in checkpoints to resume exactly).
    int64_t run_count() const { return *run_count_; }
    void set_run_count(int64_t count) { *run_count_ = count; }

    const codegen::Executable &executable() const { return executable_; }

private:
    friend class Graph;
    /// The executable for these sources: the compiled one, or one rebatched to their batch.
    const codegen::Executable &executable_for(const std::map<std::string, Tensor> &sources) const;

    /// Programs compiled for other batch sizes, shared by copies of this object.
    struct Rebatched {
        std::mutex mutex;
        std::map<int64_t, codegen::Executable> by_batch;
    };
    codegen::Executable executable_;
    ir::Program program_;  ///< what was compiled (with the state updates), to rebatch
    codegen::CompileOptions options_;
    std::shared_ptr<Rebatched> rebatched_ = std::make_shared<Rebatched>();
    std::map<std::string, Tensor> parameters_;
    std::vector<std::string> input_names_;
    /// For each program output: the parameter it updates, or "" for a user output.
    std::vector<std::string> updates_;
    bool has_run_counter_ = false;
    std::shared_ptr<int64_t> run_count_ = std::make_shared<int64_t>(0);
};

/// A program under construction, plus the values of its parameters.
class Graph {
public:
    Graph() = default;
    Graph(const Graph &) = delete;
    Graph &operator=(const Graph &) = delete;

    /// A named input fed at run time.
    SymTensor input(const std::string &name, const Shape &shape, DType dtype = DType::f32);
    /// A named parameter whose value is `value` (storage shared, not copied).
    /// Asking again for the same name and storage returns the same node.
    SymTensor parameter(const std::string &name, const Tensor &value);
    /// A constant tensor filled with `value`.
    SymTensor constant(double value, const Shape &shape = {}, DType dtype = DType::f32);
    /// A tensor whose elements are their index along `dim` (as torch.arange, broadcastable).
    SymTensor iota(int64_t dim, const Shape &shape, DType dtype = DType::i32);
    /// An i32 scalar input ("rng.step") that `CompiledGraph::run` fills with
    /// 0, 1, 2, ... on successive runs unless given: the per-run seed of dropout.
    SymTensor run_counter();
    /// Marks a named output.
    void output(const std::string &name, const SymTensor &value);
    /// After each run, parameter `name` takes the value of `new_value`
    /// (how batch norm updates its running statistics).
    void update(const std::string &name, const SymTensor &new_value);

    /// The gradients of the scalar `loss` with respect to each of `wrt`
    /// (inputs, parameters or any float node), added to this graph by the
    /// autodiff pass. Gradients are graph values like any other, so they can
    /// be differentiated again.
    std::vector<SymTensor> gradients(const SymTensor &loss, const std::vector<SymTensor> &wrt);

    /// Builds a node; used by the functional ops.
    SymTensor make(ir::Op op, const std::vector<SymTensor> &inputs, ir::Attrs attrs = {});

    const ir::Program &program() const { return program_; }
    /// The program `compile` compiles: `program()` with the new value of every
    /// parameter `update` names as an extra output "update:NAME", in update order.
    ir::Program program_with_updates() const;
    const std::map<std::string, Tensor> &parameter_values() const { return parameters_; }
    /// The IR text of the graph.
    std::string to_string() const;

    /// Compiles for the host (or $STRATA_TARGET / options.target).
    CompiledGraph compile(const codegen::CompileOptions &options = {}) const;

private:
    ir::Program program_;
    std::map<std::string, Tensor> parameters_;
    std::vector<std::pair<std::string, SymTensor>> updates_;
};

}  // namespace strata
