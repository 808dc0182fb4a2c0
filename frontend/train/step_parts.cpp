#include "frontend/train/step_parts.h"

#include "frontend/functional.h"
#include "frontend/nn/normalization.h"
#include "frontend/train/registration_check.h"

#include <stdexcept>

namespace strata {

namespace {

std::string quoted(const SymMap &names) {
    std::string out;
    for (const auto &[name, value] : names) out += (out.empty() ? "'" : ", '") + name + "'";
    return out.empty() ? "none" : out;
}

/// "inputs 'x'; targets 't'; model outputs 'y'", for messages.
std::string describe_names(const SymMap &inputs, const SymMap &targets, const SymMap &outputs) {
    return fmt::format("inputs {}; targets {}; model outputs {}", quoted(inputs), quoted(targets),
                       outputs.empty() ? std::string("(not built yet)") : quoted(outputs));
}

/// Input and target names share the graph's input namespace with the optimizer's and dropout's.
void check_names(const TensorSpecs &inputs, const TensorSpecs &targets, const char *who) {
    if (inputs.empty()) fail("{}: the model needs at least one input", who);
    for (const TensorSpecs *group : {&inputs, &targets})
        for (const auto &[name, spec] : *group) {
            if (name.empty() || name == "rng.step" || name.rfind("optim.", 0) == 0)
                fail("{}: '{}' cannot name an input or target (empty, 'rng.step' and 'optim.*' are Strata's)", who,
                     name);
            if (spec.shape.empty() || spec.shape[0] <= 0)
                fail("{}: '{}' must have examples along dim 0, got shape {}", who, name, shape_str(spec.shape));
        }
    for (const auto &[name, spec] : targets)
        if (inputs.count(name)) fail("{}: '{}' is both an input and a target", who, name);
}

}  // namespace

ForwardFn single_input_forward(nn::Module &model) {
    return [&model](const SymMap &in) { return SymMap{{kOutputName, model.forward(in.at(kInputName))}}; };
}

MultiLossFn single_output_loss(std::function<SymTensor(const SymTensor &, const SymTensor &)> loss) {
    return [loss = std::move(loss)](const SymMap &out, const SymMap &t) {
        return loss(out.at(kOutputName), t.at(kTargetName));
    };
}

ForwardLossGraph build_forward_loss(Graph &g, const nn::Module &model, const TensorSpecs &inputs,
                                    const TensorSpecs &targets, const ForwardFn &forward, const MultiLossFn &loss_fn,
                                    const char *who) {
    check_names(inputs, targets, who);
    ForwardLossGraph f;
    for (const auto &[name, spec] : inputs) f.inputs[name] = g.input(name, spec.shape, spec.dtype);
    for (const auto &[name, spec] : targets) f.targets[name] = g.input(name, spec.shape, spec.dtype);
    try {
        f.outputs = forward(f.inputs);
        if (f.outputs.empty()) fail("{}: the forward function returned no outputs", who);
        for (const auto &[name, out] : f.outputs)
            if (!out.defined()) fail("{}: the forward function's output '{}' is undefined", who, name);
        f.loss = loss_fn(f.outputs, f.targets);
    } catch (const std::out_of_range &e) {  // SymMap::at on a name the batch or model lacks
        fail("{}: the forward or loss function asked for a name that is not there ({}); the step has {}", who,
             e.what(), describe_names(f.inputs, f.targets, f.outputs));
    }
    if (!f.loss.defined() || f.loss.numel() != 1)
        fail("{}: the loss must be a single value, got shape {}", who,
             f.loss.defined() ? shape_str(f.loss.shape()) : "undefined");
    check_modules_registered(model, g, who);
    auto output = f.outputs.find(kOutputName);
    auto target = f.targets.find(kTargetName);
    f.classification = f.outputs.size() == 1 && output != f.outputs.end() && target != f.targets.end() &&
                       output->second.dim() == 2 && is_integer(target->second.dtype()) && target->second.dim() == 1;
    if (f.classification) {
        f.classes = output->second.size(1);
        // argmax is i32; the target i32 or PyTorch's i64.
        f.correct = sum(cast(eq(cast(argmax(output->second, 1), target->second.dtype()), target->second), DType::i32));
    }
    return f;
}

void check_class_labels(const TensorMap &batch, int64_t classes, int64_t ignore_index, const std::string &where) {
    auto it = batch.find(kTargetName);
    if (it == batch.end() || !it->second.defined() || !is_integer(it->second.dtype())) return;
    const Tensor labels = it->second.contiguous();  // i32 or PyTorch's i64, read exactly
    for (int64_t i = 0; i < labels.numel(); ++i) {
        const int64_t label = labels.get_flat_int64(i);
        if ((label < 0 || label >= classes) && label != ignore_index)
            fail("{}: label {} at position {} of the batch is outside [0, {}) (the model has {} classes)", where,
                 label, i, classes, classes);
    }
}

ModelBinding::ModelBinding(nn::Module &model) : model_(&model) {
    auto record = [&](const nn::OrderedDict<Tensor> &tensors) {
        for (const auto &[name, t] : tensors.items()) tensors_.push_back({name, t.raw_data(), t.dtype(), t.shape()});
    };
    record(model.named_parameters());
    record(model.named_buffers());
    model.apply([this](nn::Module &m) {
        Tensor counter;
        if (auto *bn = dynamic_cast<nn::BatchNorm1dImpl *>(&m)) counter = bn->num_batches_tracked;
        if (auto *bn = dynamic_cast<nn::BatchNorm2dImpl *>(&m)) counter = bn->num_batches_tracked;
        if (counter.defined()) batch_counters_.push_back(counter);
    });
}

void ModelBinding::check_unchanged(const std::string &where) const {
    if (!model_) return;
    const auto params = model_->named_parameters(), buffers = model_->named_buffers();
    size_t i = 0;
    for (const auto *group : {&params, &buffers})
        for (const auto &[name, t] : group->items()) {
            const Recorded *was = i < tensors_.size() ? &tensors_[i] : nullptr;
            ++i;
            if (was && was->name == name && was->data == t.raw_data()) continue;
            const std::string now = fmt::format("{} {}", dtype_name(t.dtype()), shape_str(t.shape()));
            if (was && was->name == name)
                fail("{}: the model's tensor '{}' is not the one this step was built with (it is now {}, was {} {}): "
                     "module.to(dtype), or replacing a registered tensor, after the step was built leaves the step "
                     "training the old tensors. Build the step (and the optimizer) after converting the model",
                     where, name, now, dtype_name(was->dtype), shape_str(was->shape));
            fail("{}: the model's tensors changed after this step was built ('{}' {} is not what the step was built "
                 "with); build the step again after changing the model",
                 where, name, now);
        }
    if (i != tensors_.size())
        fail("{}: the model has {} parameters and buffers, the step was built with {}; build the step again after "
             "changing the model",
             where, i, tensors_.size());
}

void ModelBinding::count_batch() {
    for (Tensor &counter : batch_counters_) counter.set_flat(0, counter.get_flat(0) + 1);
}

}  // namespace strata
