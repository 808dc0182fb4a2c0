#include "frontend/train/train_step.h"

#include "frontend/debug/anomaly.h"
#include "frontend/functional.h"
#include "frontend/nn/normalization.h"
#include "frontend/train/registration_check.h"

#include <cmath>
#include <stdexcept>

namespace strata {

namespace {
constexpr const char *kOutputPrefix = "output:", *kGradPrefix = "grad:";

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
void check_names(const TensorSpecs &inputs, const TensorSpecs &targets) {
    if (inputs.empty()) fail("TrainStep: the model needs at least one input");
    for (const TensorSpecs *group : {&inputs, &targets})
        for (const auto &[name, spec] : *group) {
            if (name.empty() || name == "rng.step" || name.rfind("optim.", 0) == 0)
                fail("TrainStep: '{}' cannot name an input or target (empty, 'rng.step' and 'optim.*' are Strata's)",
                     name);
            if (spec.shape.empty() || spec.shape[0] <= 0)
                fail("TrainStep: '{}' must have examples along dim 0, got shape {}", name, shape_str(spec.shape));
        }
    for (const auto &[name, spec] : targets)
        if (inputs.count(name)) fail("TrainStep: '{}' is both an input and a target", name);
}
}  // namespace

TrainStep::TrainStep(nn::Module &model, optim::Optimizer &optimizer, const Shape &input_shape,
                     const Shape &target_shape, DType target_dtype, LossFn loss_fn, TrainStepOptions options)
    : graph_(std::make_unique<Graph>()), optimizer_(optimizer) {
    const auto named = model.named_parameters();
    if (named.size() == 0) fail("TrainStep: the model has no parameters to train");
    input_specs_ = {{kInputName, {input_shape, named.values().front().dtype()}}};
    target_specs_ = {{kTargetName, {target_shape, target_dtype}}};
    ForwardFn forward = [&model](const SymMap &in) { return SymMap{{kOutputName, model.forward(in.at(kInputName))}}; };
    MultiLossFn loss = [loss_fn](const SymMap &out, const SymMap &t) {
        return loss_fn(out.at(kOutputName), t.at(kTargetName));
    };
    build(model, optimizer, forward, loss, options);
}

TrainStep::TrainStep(nn::Module &model, optim::Optimizer &optimizer, const TensorSpecs &inputs,
                     const TensorSpecs &targets, ForwardFn forward, MultiLossFn loss, TrainStepOptions options)
    : graph_(std::make_unique<Graph>()), optimizer_(optimizer), input_specs_(inputs), target_specs_(targets) {
    build(model, optimizer, forward, loss, options);
}

void TrainStep::build(nn::Module &model, optim::Optimizer &optimizer, const ForwardFn &forward,
                      const MultiLossFn &loss_fn, const TrainStepOptions &options) {
    Graph &g = *graph_;
    check_names(input_specs_, target_specs_);
    model.train(true);
    model.apply([this](nn::Module &m) {
        Tensor counter;
        if (auto *bn = dynamic_cast<nn::BatchNorm1dImpl *>(&m)) counter = bn->num_batches_tracked;
        if (auto *bn = dynamic_cast<nn::BatchNorm2dImpl *>(&m)) counter = bn->num_batches_tracked;
        if (counter.defined()) batch_counters_.push_back(counter);
    });
    const auto named = model.named_parameters();
    if (named.size() == 0) fail("TrainStep: the model has no parameters to train");
    param_dtype_ = named.values().front().dtype();
    SymMap inputs, targets;
    for (const auto &[name, spec] : input_specs_) inputs[name] = g.input(name, spec.shape, spec.dtype);
    for (const auto &[name, spec] : target_specs_) targets[name] = g.input(name, spec.shape, spec.dtype);
    SymMap outputs;
    SymTensor loss;
    try {
        outputs = forward(inputs);
        if (outputs.empty()) fail("TrainStep: the forward function returned no outputs");
        for (const auto &[name, out] : outputs)
            if (!out.defined()) fail("TrainStep: the forward function's output '{}' is undefined", name);
        loss = loss_fn(outputs, targets);
    } catch (const std::out_of_range &e) {  // SymMap::at on a name the batch or model lacks
        fail("TrainStep: the forward or loss function asked for a name that is not there ({}); the step has {}",
             e.what(), describe_names(inputs, targets, outputs));
    }
    if (!loss.defined() || loss.numel() != 1)
        fail("TrainStep: the loss must be a single value, got shape {}", loss.defined() ? shape_str(loss.shape()) : "undefined");
    check_modules_registered(model, g, "TrainStep");

    std::vector<optim::ParamSlot> slots;
    std::vector<SymTensor> wrt;
    for (const auto &[name, value] : named.items()) {
        SymTensor node = g.parameter(name, value);
        slots.push_back({name, value, node, {}});
        wrt.push_back(node);
    }
    std::vector<SymTensor> grads = g.gradients(loss, wrt);
    for (size_t i = 0; i < slots.size(); ++i) slots[i].grad = grads[i];
    keep_gradients_ = options.keep_gradients;
    if (keep_gradients_)
        for (size_t i = 0; i < slots.size(); ++i) g.output(kGradPrefix + slots[i].name, grads[i]);
    if (options.clip_grad_norm > 0) g.output("grad_norm", optim::clip_grad_norm(slots, options.clip_grad_norm));
    optimizer.build(g, slots);
    for (const ir::Node *in : g.program().inputs()) {
        const std::string &name = in->attrs.get_str("name");
        if (name.rfind("optim.", 0) == 0) optim_inputs_.push_back(name);
    }

    g.output("loss", loss);
    if (options.keep_outputs)
        for (const auto &[name, out] : outputs) {
            g.output(kOutputPrefix + name, out);
            output_names_.push_back(name);
        }
    // The single-output classifier's running accuracy (the progress bar's "acc").
    auto output = outputs.find(kOutputName);
    auto target = targets.find(kTargetName);
    classification_ = outputs.size() == 1 && output != outputs.end() && target != targets.end() &&
                      output->second.dim() == 2 && is_integer(target->second.dtype()) && target->second.dim() == 1;
    classes_ = classification_ ? output->second.size(1) : 0;
    ignore_index_ = options.ignore_index;
    detect_anomaly_ = options.detect_anomaly;
    compile_options_ = options.compile;
    if (classification_)
        g.output("correct", sum(cast(eq(cast(argmax(output->second, 1), target->second.dtype()), target->second),
                                     DType::i32)));
    compiled_ = g.compile(options.compile);
}

TrainStep::Result TrainStep::step(const Tensor &input, const Tensor &target) {
    if (input_specs_.size() != 1 || target_specs_.size() != 1)
        fail("TrainStep::step(input, target): this step takes named inputs and targets; call step(batch)");
    return step(TensorMap{{input_specs_.begin()->first, input}, {target_specs_.begin()->first, target}});
}

TrainStep::Result TrainStep::step(const TensorMap &batch) {
    const int64_t step_number = optimizer_.step_count() + 1;
    for (const auto &[name, t] : batch)
        if (!input_specs_.count(name) && !target_specs_.count(name))
            fail("training step {}: the batch has '{}', which is neither an input nor a target of the step",
                 step_number, name);
    if (classification_) {
        auto it = batch.find(kTargetName);
        if (it != batch.end() && it->second.defined() && is_integer(it->second.dtype())) {
            const Tensor &labels = it->second;  // i32 or PyTorch's i64, read exactly
            for (int64_t i = 0; i < labels.numel(); ++i) {
                const int64_t label = labels.get_flat_int64(i);
                if ((label < 0 || label >= classes_) && label != ignore_index_)
                    fail("training step {}: label {} at position {} of the batch is outside [0, {}) (the model has {} "
                         "classes)",
                         step_number, label, i, classes_, classes_);
            }
        }
    }
    // Only the scalars this graph reads: running with an unknown input is an error.
    const std::map<std::string, Tensor> scalars = optimizer_.next_step_inputs(param_dtype_);
    std::map<std::string, Tensor> inputs = batch;
    for (const std::string &name : optim_inputs_) {
        auto it = scalars.find(name);
        if (it == scalars.end()) fail("TrainStep: the optimizer gives no value for its input '{}'", name);
        inputs[name] = it->second;
    }
    // The step updates parameters and optimizer state in place: anomaly detection needs them as they were.
    std::map<std::string, Tensor> before_step;
    if (detect_anomaly_) {
        before_step = inputs;
        for (const auto &[name, value] : graph_->parameter_values()) before_step[name] = value.clone();
        for (const ir::Node *in : graph_->program().inputs())  // dropout's seed, as this run gets it
            if (in->attrs.get_str("name") == "rng.step")
                before_step["rng.step"] = Tensor::full({}, static_cast<double>(run_count() & 0x7fffffff), DType::i32);
    }
    const auto outputs = compiled_.run(inputs);
    optimizer_.finish_step();
    Result r;
    r.loss = outputs.at("loss").item();
    losses_.push_back(r.loss);
    if (!std::isfinite(r.loss)) {
        if (!detect_anomaly_)
            fail("training step {}: the loss is {}; stopping (check the learning rate and the input data; "
                 "set TrainerOptions::detect_anomaly, or TrainStepOptions::detect_anomaly for a TrainStep, to name "
                 "the op that made the first NaN or infinity)",
                 step_number, r.loss);
        fail("training step {}: the loss is {}; stopping. {}", step_number, r.loss, locate_non_finite(before_step));
    }
    for (Tensor &counter : batch_counters_) counter.set_flat(0, counter.get_flat(0) + 1);
    if (classification_) r.correct = static_cast<int64_t>(outputs.at("correct").item());
    if (auto it = outputs.find("grad_norm"); it != outputs.end()) r.grad_norm = it->second.item();
    for (const std::string &name : output_names_) r.outputs[name] = outputs.at(kOutputPrefix + name);
    if (keep_gradients_) {
        gradients_.clear();
        const size_t prefix = std::char_traits<char>::length(kGradPrefix);
        for (const auto &[name, t] : outputs)
            if (name.rfind(kGradPrefix, 0) == 0) gradients_[name.substr(prefix)] = t;
    }
    return r;
}

std::string TrainStep::locate_non_finite(const std::map<std::string, Tensor> &sources) const {
    try {
        if (auto where = find_first_non_finite(graph_->program(), sources, compile_options_))
            return fmt::format("detect_anomaly: {}", where->message);
        return "detect_anomaly: running the step again unfused gave only finite values (a non-deterministic "
               "op, or a difference between the fused and unfused programs)";
    } catch (const Error &e) {
        return fmt::format("detect_anomaly could not run the step again: {}", e.what());
    }
}

}  // namespace strata
