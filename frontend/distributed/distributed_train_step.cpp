#include "frontend/distributed/distributed_train_step.h"

#include "frontend/functional.h"

#include <strata/stopwatch.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

namespace strata::distributed {

namespace {
constexpr const char *kOutputPrefix = "output:", *kGradPrefix = "grad:";
}  // namespace

DistributedTrainStep::DistributedTrainStep(ProcessGroup &group, nn::Module &model, optim::Optimizer &optimizer,
                                           const Shape &shard_input_shape, const Shape &shard_target_shape,
                                           DType target_dtype, TrainStep::LossFn loss_fn, TrainStepOptions options)
    : group_(group), optimizer_(optimizer) {
    const auto named = model.named_parameters();
    if (named.size() == 0) fail("DistributedTrainStep: the model has no parameters to train");
    input_specs_ = {{kInputName, {shard_input_shape, named.values().front().dtype()}}};
    target_specs_ = {{kTargetName, {shard_target_shape, target_dtype}}};
    build(model, optimizer, single_input_forward(model), single_output_loss(loss_fn), options);
}

DistributedTrainStep::DistributedTrainStep(ProcessGroup &group, nn::Module &model, optim::Optimizer &optimizer,
                                           const TensorSpecs &inputs, const TensorSpecs &targets, ForwardFn forward,
                                           MultiLossFn loss, TrainStepOptions options)
    : group_(group), optimizer_(optimizer), input_specs_(inputs), target_specs_(targets) {
    build(model, optimizer, forward, loss, options);
}

void DistributedTrainStep::build(nn::Module &model, optim::Optimizer &optimizer, const ForwardFn &forward,
                                 const MultiLossFn &loss_fn, const TrainStepOptions &options) {
    if (options.detect_anomaly || options.keep_gradients)
        fail("DistributedTrainStep: {} is not available in distributed training (use a TrainStep in one process)",
             options.detect_anomaly ? "detect_anomaly" : "keep_gradients");
    gradient_graph_ = std::make_unique<Graph>();
    update_graph_ = std::make_unique<Graph>();
    model.train(true);
    const auto named = model.named_parameters();
    if (named.size() == 0) fail("DistributedTrainStep: the model has no parameters to train");
    param_dtype_ = named.values().front().dtype();
    int64_t total = 0;
    for (const auto &[name, value] : named.items()) {
        if (value.dtype() != param_dtype_)
            fail("DistributedTrainStep: parameter '{}' is {} but '{}' is {}; the flat gradient buffer needs one dtype",
                 name, dtype_name(value.dtype()), named.keys().front(), dtype_name(param_dtype_));
        param_names_.push_back(name);
        total += value.numel();
    }

    // The gradients program: forward, loss and backward on this rank's shard.
    Graph &g = *gradient_graph_;
    const ForwardLossGraph f =
        build_forward_loss(g, model, input_specs_, target_specs_, forward, loss_fn, "DistributedTrainStep");
    binding_ = ModelBinding(model);
    std::vector<SymTensor> params;
    for (const auto &[name, value] : named.items()) params.push_back(g.parameter(name, value));
    const std::vector<SymTensor> grads = g.gradients(f.loss, params);
    for (size_t i = 0; i < grads.size(); ++i) g.output(kGradPrefix + param_names_[i], grads[i]);
    g.output("loss", f.loss);
    if (options.keep_outputs)
        for (const auto &[name, out] : f.outputs) {
            g.output(kOutputPrefix + name, out);
            output_names_.push_back(name);
        }
    classification_ = f.classification;
    classes_ = f.classes;
    ignore_index_ = options.ignore_index;
    if (classification_) g.output("correct", f.correct);
    uses_run_counter_ = g.program().find_source("rng.step") != nullptr;
    gradients_ = g.compile(options.compile);

    // The update program: the summed gradients, one flat buffer, in; parameters and state updated.
    Graph &u = *update_graph_;
    SymTensor flat = u.input("gradients", {total}, param_dtype_);
    std::vector<optim::ParamSlot> slots;
    int64_t offset = 0;
    for (const auto &[name, value] : named.items()) {
        SymTensor grad = reshape(slice(flat, 0, offset, offset + value.numel()), value.shape());
        if (group_.size() > 1) grad = grad / static_cast<double>(group_.size());  // the mean over the ranks
        slots.push_back({name, value, u.parameter(name, value), grad});
        offset += value.numel();
    }
    if (options.clip_grad_norm > 0) u.output("grad_norm", optim::clip_grad_norm(slots, options.clip_grad_norm));
    optimizer.build(u, slots);
    for (const ir::Node *in : u.program().inputs()) {
        const std::string &name = in->attrs.get_str("name");
        if (name.rfind("optim.", 0) == 0) optim_inputs_.push_back(name);
    }
    update_ = u.compile(options.compile);
    flat_gradients_ = Tensor::zeros({total}, param_dtype_);

    for (const Tensor &b : model.named_buffers().values()) buffers_.push_back(b);
    // Every rank starts from rank 0's weights, buffers and optimizer state.
    if (group_.size() > 1) {
        for (Tensor value : named.values()) group_.broadcast(value, 0);
        for (Tensor &b : buffers_) group_.broadcast(b, 0);
        for (const auto &[key, state] : optimizer.state()) {
            Tensor shared = state;
            group_.broadcast(shared, 0);
        }
        Tensor steps = Tensor::full({}, static_cast<double>(optimizer.step_count()), DType::f64);
        group_.broadcast(steps, 0);
        optimizer.set_step_count(static_cast<int64_t>(steps.item()));
    }
}

void DistributedTrainStep::compute_gradients(const std::function<TensorMap()> &load_shard, double *local,
                                             TensorMap &model_outputs, const std::string &where) {
    binding_.check_unchanged(where);
    TensorMap inputs = load_shard();
    for (const auto &[name, t] : inputs)
        if (!input_specs_.count(name) && !target_specs_.count(name))
            fail("{}: the shard has '{}', which is neither an input nor a target of the step", where, name);
    check_batch(inputs, input_specs_, "input", where);
    check_batch(inputs, target_specs_, "target", where);
    if (classification_) check_class_labels(inputs, classes_, ignore_index_, where);
    // Each rank draws its own dropout masks: the seed of run r on rank k is r * ranks + k.
    if (uses_run_counter_)
        inputs["rng.step"] = Tensor::full(
            {}, static_cast<double>((run_count_ * group_.size() + group_.rank()) & 0x7fffffff), DType::i32);
    const auto outputs = gradients_.run(inputs);
    // Packed into one contiguous buffer: one allreduce for the whole model.
    auto *flat = static_cast<uint8_t *>(flat_gradients_.raw_data());
    size_t offset = 0;
    for (const std::string &name : param_names_) {
        const Tensor grad = outputs.at(kGradPrefix + name).contiguous();
        std::memcpy(flat + offset, grad.raw_data(), grad.nbytes());
        offset += grad.nbytes();
    }
    local[1] = outputs.at("loss").item();
    if (classification_) local[2] = outputs.at("correct").item();
    for (const std::string &name : output_names_) model_outputs[name] = outputs.at(kOutputPrefix + name);
}

TrainStep::Result DistributedTrainStep::step(const std::function<TensorMap()> &load_shard,
                                             const std::function<void(const TensorMap &)> &use_outputs) {
    const int64_t step_number = optimizer_.step_count() + 1;
    const std::string where = fmt::format("training step {}", step_number);
    TrainStep::Result r;
    // Summed over the ranks: [ranks that failed, loss, correct]. Agreeing on the status before
    // the gradients means a failed rank stops every rank at the same step, not a hang.
    double stats[3] = {0, 0, 0};
    std::string error;
    try {
        compute_gradients(load_shard, stats, r.outputs, where);
        if (use_outputs) use_outputs(r.outputs);
    } catch (const std::exception &e) {
        stats[0] = 1;
        error = *e.what() ? e.what() : "unknown error";
    }
    const auto agreed = std::chrono::steady_clock::now();
    group_.allreduce_sum(stats, 3);
    wait_seconds_ += seconds_since(agreed);
    if (stats[0] > 0) group_.throw_agreed_failure(std::llround(stats[0]), error, where);
    r.loss = stats[1] / group_.size();
    if (!std::isfinite(r.loss))
        throw JobError(fmt::format("{}: the loss is {}; stopping before the update (check the learning rate and the "
                                   "input data)",
                                   where, r.loss));
    r.correct = std::llround(stats[2]);

    const auto summed = std::chrono::steady_clock::now();
    group_.allreduce_sum(flat_gradients_);
    allreduce_seconds_ += seconds_since(summed);
    const std::map<std::string, Tensor> scalars = optimizer_.next_step_inputs(param_dtype_);
    std::map<std::string, Tensor> inputs{{"gradients", flat_gradients_}};
    for (const std::string &name : optim_inputs_) {
        auto it = scalars.find(name);
        if (it == scalars.end()) fail("DistributedTrainStep: the optimizer gives no value for its input '{}'", name);
        inputs[name] = it->second;
    }
    const auto outputs = update_.run(inputs);
    binding_.count_batch();
    // Batch-norm running statistics (and counters): rank 0's, on every rank (as PyTorch DDP's
    // broadcast_buffers).
    if (group_.size() > 1)
        for (Tensor &b : buffers_) group_.broadcast(b, 0);
    optimizer_.finish_step();
    ++run_count_;
    if (auto it = outputs.find("grad_norm"); it != outputs.end()) r.grad_norm = it->second.item();
    return r;
}

TrainStep::Result DistributedTrainStep::step(const std::function<Batch()> &load_shard) {
    if (input_specs_.size() != 1 || target_specs_.size() != 1 || !input_specs_.count(kInputName) ||
        !target_specs_.count(kTargetName))
        fail("DistributedTrainStep::step: this step takes named inputs and targets; pass a function returning a "
             "TensorMap");
    return step([&] {
        Batch b = load_shard();
        return TensorMap{{kInputName, b.inputs}, {kTargetName, b.targets}};
    });
}

TrainStep::Result DistributedTrainStep::step(const Tensor &input, const Tensor &target) {
    return step([&] { return Batch{input, target}; });
}

}  // namespace strata::distributed
