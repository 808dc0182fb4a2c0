#include "tools/training_program.h"

#include "frontend/functional.h"
#include "ir/printer.h"

#include <strata/error.h>

#include <vector>

namespace strata::tools {

namespace {

bool ends_with(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Which parameters a fine-tune updates: those the saved optimizer kept state for, or,
/// when it kept none, every float parameter but batch norm's running statistics.
bool is_trained(const std::string &name, DType dtype, const Checkpoint &checkpoint) {
    if (dtype != DType::f32) return false;
    if (checkpoint.optimizer) {
        for (const auto &[key, tensor] : checkpoint.file.tensors)
            if (key.rfind("optim." + name + ".", 0) == 0) return true;
        return false;
    }
    return !ends_with(name, ".running_mean") && !ends_with(name, ".running_var");
}

/// The logits under the model's output: softmax(logits, 1) or log_softmax(logits, 1) of [N, C].
const ir::Node *classifier_logits(const ir::Program &inference) {
    if (inference.outputs().size() != 1 || inference.inputs().size() != 1)
        fail("emit --train: the model must have one input and one output, it has {} inputs and {} outputs",
             inference.inputs().size(), inference.outputs().size());
    const ir::Output &out = inference.outputs().front();
    const ir::Node *node = out.node;
    if ((node->op != ir::Op::softmax && node->op != ir::Op::log_softmax) || node->shape().size() != 2 ||
        node->attrs.get_int("dim") != 1)
        fail("emit --train: the model's output '{}' is {} : {}; a training step needs a classifier whose output is "
             "softmax(logits, 1) or log_softmax(logits, 1) of logits [N, classes]",
             out.name, ir::op_name(node->op), ir::type_str(node->type));
    return node->inputs.front();
}

}  // namespace

TrainingProgram build_training_program(const ir::Program &inference, const Checkpoint &checkpoint,
                                       const TrainingProgramOptions &options) {
    if (options.momentum < 0) fail("emit --train: momentum must be >= 0, got {}", options.momentum);
    const ir::Node *logits_node = classifier_logits(inference);

    TrainingProgram result;
    result.graph = std::make_unique<Graph>();
    Graph &g = *result.graph;
    // The model, node for node, with parameter values from the checkpoint.
    std::vector<SymTensor> mapped(inference.nodes().size());
    std::vector<SymTensor> trained;
    std::vector<std::string> trained_names;
    for (const auto &node : inference.nodes()) {
        SymTensor &m = mapped[static_cast<size_t>(node->id)];
        switch (node->op) {
        case ir::Op::input: m = g.input(node->attrs.get_str("name"), node->shape(), node->dtype()); break;
        case ir::Op::parameter: {
            const std::string &name = node->attrs.get_str("name");
            const Tensor *value = checkpoint.file.find(name);
            if (!value) fail("emit --train: the checkpoint has no tensor '{}' for the model's parameter", name);
            if (value->dtype() != node->dtype() || value->shape() != node->shape())
                fail("emit --train: the checkpoint's '{}' is {}{} but the model's parameter is {}", name,
                     dtype_name(value->dtype()), shape_str(value->shape()), ir::type_str(node->type));
            m = g.parameter(name, value->clone());
            if (is_trained(name, node->dtype(), checkpoint)) {
                trained.push_back(m);
                trained_names.push_back(name);
            }
            break;
        }
        case ir::Op::full: m = g.constant(node->attrs.get_float("value"), node->shape(), node->dtype()); break;
        case ir::Op::iota: m = g.iota(node->attrs.get_int("dim"), node->shape(), node->dtype()); break;
        default: {
            std::vector<SymTensor> inputs;
            for (const ir::Node *in : node->inputs) inputs.push_back(mapped[static_cast<size_t>(in->id)]);
            m = g.make(node->op, inputs, node->attrs);
        }
        }
    }
    if (trained.empty()) fail("emit --train: the model has no f32 parameters to train");
    const SymTensor logits = mapped[static_cast<size_t>(logits_node->id)];
    result.classes = logits.size(1);
    const SymTensor labels = g.input("labels", {logits.size(0)}, DType::i32);
    const SymTensor loss = cross_entropy(logits, labels);
    const std::vector<SymTensor> grads = g.gradients(loss, trained);

    // SGD as PyTorch's torch.optim.SGD (no dampening, no weight decay).
    const SymTensor lr = g.input("optim.lr", {}, DType::f32);
    SymTensor first;
    if (options.momentum > 0) first = g.input("optim.first", {}, DType::f32);
    // Resume the saved momentum only when every buffer is there; otherwise all start afresh.
    auto saved_buffer = [&](const std::string &key, const SymTensor &param) -> const Tensor * {
        const Tensor *saved = checkpoint.file.find(key);
        return saved && saved->dtype() == DType::f32 && saved->shape() == param.shape() ? saved : nullptr;
    };
    result.momentum_from_checkpoint = options.momentum > 0;
    for (size_t i = 0; i < trained.size(); ++i)
        if (!saved_buffer("optim." + trained_names[i] + ".momentum_buffer", trained[i]))
            result.momentum_from_checkpoint = false;
    for (size_t i = 0; i < trained.size(); ++i) {
        SymTensor step = grads[i];
        if (options.momentum > 0) {
            const std::string key = "optim." + trained_names[i] + ".momentum_buffer";
            const Tensor start = result.momentum_from_checkpoint ? saved_buffer(key, trained[i])->clone()
                                                                 : Tensor::zeros(trained[i].shape(), DType::f32);
            const SymTensor buffer = g.parameter(key, start);
            const SymTensor later = buffer * options.momentum + grads[i];
            step = where(first > g.constant(0.5, {}, DType::f32), grads[i], later);
            g.output("update:" + key, step);
        }
        g.output("update:" + trained_names[i], trained[i] - lr * step);
    }
    g.output("loss", loss);
    return result;
}

}  // namespace strata::tools
