#include "frontend/train/train_step.h"

#include "frontend/debug/anomaly.h"
#include "frontend/functional.h"

#include <cmath>

namespace strata {

TrainStep::TrainStep(nn::Module &model, optim::Optimizer &optimizer, const Shape &input_shape,
                     const Shape &target_shape, DType target_dtype, LossFn loss_fn, TrainStepOptions options)
    : graph_(std::make_unique<Graph>()), optimizer_(optimizer) {
    Graph &g = *graph_;
    model.train(true);
    const auto named = model.named_parameters();
    if (named.size() == 0) fail("TrainStep: the model has no parameters to train");
    param_dtype_ = named.values().front().dtype();
    SymTensor x = g.input("input", input_shape, param_dtype_);
    SymTensor target = g.input("target", target_shape, target_dtype);
    SymTensor output = model.forward(x);
    SymTensor loss = loss_fn(output, target);
    if (!loss.defined() || loss.numel() != 1)
        fail("TrainStep: the loss must be a single value, got shape {}", loss.defined() ? shape_str(loss.shape()) : "undefined");

    std::vector<optim::ParamSlot> slots;
    std::vector<SymTensor> wrt;
    for (const auto &[name, value] : named.items()) {
        SymTensor node = g.parameter(name, value);
        slots.push_back({name, value, node, {}});
        wrt.push_back(node);
    }
    std::vector<SymTensor> grads = g.gradients(loss, wrt);
    for (size_t i = 0; i < slots.size(); ++i) slots[i].grad = grads[i];
    if (options.clip_grad_norm > 0) g.output("grad_norm", optim::clip_grad_norm(slots, options.clip_grad_norm));
    optimizer.build(g, slots);
    for (const ir::Node *in : g.program().inputs()) {
        const std::string &name = in->attrs.get_str("name");
        if (name.rfind("optim.", 0) == 0) optim_inputs_.push_back(name);
    }

    g.output("loss", loss);
    classification_ = output.dim() == 2 && target_dtype == DType::i32 && target.dim() == 1;
    classes_ = output.dim() >= 2 ? output.size(1) : 0;
    ignore_index_ = options.ignore_index;
    detect_anomaly_ = options.detect_anomaly;
    compile_options_ = options.compile;
    if (classification_) g.output("correct", sum(cast(eq(argmax(output, 1), target), DType::i32)));
    compiled_ = g.compile(options.compile);
}

TrainStep::Result TrainStep::step(const Tensor &input, const Tensor &target) {
    const int64_t step_number = optimizer_.step_count() + 1;
    if (classification_ && target.defined() && target.dtype() == DType::i32) {
        const Tensor labels = target.contiguous();
        const int32_t *data = labels.data<int32_t>();
        for (int64_t i = 0; i < labels.numel(); ++i)
            if ((data[i] < 0 || data[i] >= classes_) && data[i] != ignore_index_)
                fail("training step {}: label {} at position {} of the batch is outside [0, {}) (the model has {} "
                     "classes)",
                     step_number, data[i], i, classes_, classes_);
    }
    // Only the scalars this graph reads: running with an unknown input is an error.
    const std::map<std::string, Tensor> scalars = optimizer_.next_step_inputs(param_dtype_);
    std::map<std::string, Tensor> inputs;
    for (const std::string &name : optim_inputs_) {
        auto it = scalars.find(name);
        if (it == scalars.end()) fail("TrainStep: the optimizer gives no value for its input '{}'", name);
        inputs[name] = it->second;
    }
    inputs["input"] = input;
    inputs["target"] = target;
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
    if (!std::isfinite(r.loss)) {
        if (!detect_anomaly_)
            fail("training step {}: the loss is {}; stopping (check the learning rate and the input data; "
                 "set TrainerOptions::detect_anomaly, or TrainStepOptions::detect_anomaly for a TrainStep, to name "
                 "the op that made the first NaN or infinity)",
                 step_number, r.loss);
        fail("training step {}: the loss is {}; stopping. {}", step_number, r.loss, locate_non_finite(before_step));
    }
    if (classification_) r.correct = static_cast<int64_t>(outputs.at("correct").item());
    if (auto it = outputs.find("grad_norm"); it != outputs.end()) r.grad_norm = it->second.item();
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
