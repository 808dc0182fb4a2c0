#include "tools/training_program.h"

#include "codegen/aot.h"
#include "frontend/functional.h"
#include "frontend/optim/sgd.h"
#include "ir/printer.h"

#include <strata/error.h>

#include <vector>

namespace strata::tools {

namespace {

bool ends_with(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The names in the checkpoint's "buffers" metadata (one a line): tensors the model holds but
/// does not train, which `strata import` lists (BatchNormalization statistics, constants).
bool listed_as_buffer(const std::string &name, const Checkpoint &checkpoint) {
    const auto it = checkpoint.info.metadata.find("buffers");
    if (it == checkpoint.info.metadata.end()) return false;
    size_t start = 0;
    for (;;) {
        const size_t end = it->second.find('\n', start);
        if (it->second.compare(start, end == std::string::npos ? std::string::npos : end - start, name) == 0) return true;
        if (end == std::string::npos) return false;
        start = end + 1;
    }
}

/// Which parameters a fine-tune updates: those the saved optimizer kept state for, or,
/// when it kept none, every float parameter but batch norm's running statistics and the
/// buffers the checkpoint lists.
bool is_trained(const std::string &name, DType dtype, const Checkpoint &checkpoint) {
    if (dtype != DType::f32) return false;
    if (checkpoint.optimizer) {
        for (const auto &[key, tensor] : checkpoint.file.tensors)
            if (key.rfind("optim." + name + ".", 0) == 0) return true;
        return false;
    }
    return !ends_with(name, ".running_mean") && !ends_with(name, ".running_var") && !listed_as_buffer(name, checkpoint);
}

/// The logits of the model's output: softmax(logits, 1) or log_softmax(logits, 1) of [N, C], or
/// the output itself when it is a float [N, C] computed by other ops (the logits, as a PyTorch
/// classifier returns them and `strata import` keeps them).
const ir::Node *classifier_logits(const ir::Program &inference) {
    if (inference.outputs().size() != 1 || inference.inputs().size() != 1)
        fail("emit --train: the model must have one input and one output, it has {} inputs and {} outputs",
             inference.inputs().size(), inference.outputs().size());
    const ir::Output &out = inference.outputs().front();
    const ir::Node *node = out.node;
    const bool normalized = node->op == ir::Op::softmax || node->op == ir::Op::log_softmax;
    const bool raw_logits = !normalized && node->dtype() == DType::f32 && node->op != ir::Op::input &&
                            node->op != ir::Op::parameter;
    if (node->shape().size() != 2 || (normalized && node->attrs.get_int("dim") != 1) || (!normalized && !raw_logits))
        fail("emit --train: the model's output '{}' is {} : {}; a training step needs a classifier whose output is "
             "its f32 logits [N, classes], or softmax(logits, 1) or log_softmax(logits, 1) of them",
             out.name, ir::op_name(node->op), ir::type_str(node->type));
    return normalized ? node->inputs.front() : node;
}

}  // namespace

TrainingProgram build_training_program(const ir::Program &inference, const Checkpoint &checkpoint,
                                       const TrainingProgramOptions &options) {
    namespace names = codegen::train_step_names;
    if (options.momentum < 0) fail("emit --train: momentum must be >= 0, got {}", options.momentum);
    const ir::Node *logits_node = classifier_logits(inference);

    Graph g;
    // The model, node for node, with parameter values from the checkpoint.
    std::vector<SymTensor> mapped(inference.nodes().size());
    std::vector<optim::ParamSlot> trained;
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
            const Tensor start = value->clone();
            m = g.parameter(name, start);
            if (is_trained(name, node->dtype(), checkpoint)) trained.push_back({name, start, m, {}});
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
    const SymTensor labels = g.input(names::labels, {logits.size(0)}, DType::i32);
    const SymTensor loss = cross_entropy(logits, labels);
    std::vector<SymTensor> wrt;
    for (const optim::ParamSlot &slot : trained) wrt.push_back(slot.param);
    const std::vector<SymTensor> grads = g.gradients(loss, wrt);
    for (size_t i = 0; i < trained.size(); ++i) trained[i].grad = grads[i];

    // The update is optim::SGD's, as a TrainStep builds it. Its momentum buffers resume
    // from the checkpoint only when every one is there; otherwise all start afresh.
    optim::SGD sgd(optim::SGDOptions(options.learning_rate).momentum(options.momentum));
    TrainingProgram result;
    result.momentum_from_checkpoint = options.momentum > 0;
    auto saved_buffer = [&](const optim::ParamSlot &slot) -> const Tensor * {
        const Tensor *saved = checkpoint.file.find("optim." + slot.name + ".momentum_buffer");
        return saved && saved->dtype() == DType::f32 && saved->shape() == slot.value.shape() ? saved : nullptr;
    };
    for (const optim::ParamSlot &slot : trained)
        if (!saved_buffer(slot)) result.momentum_from_checkpoint = false;
    if (result.momentum_from_checkpoint)
        for (const optim::ParamSlot &slot : trained) sgd.restore_state(slot.name + ".momentum_buffer", *saved_buffer(slot));
    sgd.build(g, trained);
    g.output(names::loss, loss);

    result.program = g.program_with_updates();
    result.parameters = g.parameter_values();
    result.classes = logits.size(1);
    return result;
}

}  // namespace strata::tools
