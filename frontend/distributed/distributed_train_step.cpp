#include "frontend/distributed/distributed_train_step.h"

#include "frontend/functional.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

namespace strata::distributed {

namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

DistributedTrainStep::DistributedTrainStep(ProcessGroup &group, nn::Module &model, optim::Optimizer &optimizer,
                                           const Shape &shard_input_shape, const Shape &shard_target_shape,
                                           DType target_dtype, TrainStep::LossFn loss_fn, TrainStepOptions options)
    : group_(group), optimizer_(optimizer), gradient_graph_(std::make_unique<Graph>()),
      update_graph_(std::make_unique<Graph>()) {
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
    SymTensor x = g.input("input", shard_input_shape, param_dtype_);
    SymTensor target = g.input("target", shard_target_shape, target_dtype);
    SymTensor output = model.forward(x);
    SymTensor loss = loss_fn(output, target);
    if (!loss.defined() || loss.numel() != 1)
        fail("DistributedTrainStep: the loss must be a single value, got shape {}",
             loss.defined() ? shape_str(loss.shape()) : "undefined");
    std::vector<SymTensor> params;
    for (const auto &[name, value] : named.items()) params.push_back(g.parameter(name, value));
    const std::vector<SymTensor> grads = g.gradients(loss, params);
    for (size_t i = 0; i < grads.size(); ++i) g.output("grad:" + param_names_[i], grads[i]);
    g.output("loss", loss);
    classification_ = output.dim() == 2 && target_dtype == DType::i32 && target.dim() == 1;
    classes_ = output.dim() >= 2 ? output.size(1) : 0;
    ignore_index_ = options.ignore_index;
    if (classification_) g.output("correct", sum(cast(eq(argmax(output, 1), target), DType::i32)));
    uses_run_counter_ = g.program().find_source("rng.step") != nullptr;
    gradients_ = g.compile(options.compile);

    // The update program: the summed gradients, one flat buffer, in; parameters and state updated.
    Graph &u = *update_graph_;
    SymTensor flat = u.input("gradients", {total}, param_dtype_);
    std::vector<optim::ParamSlot> slots;
    int64_t offset = 0;
    for (const auto &[name, value] : named.items()) {
        SymTensor grad = reshape(slice(flat, 0, offset, offset + value.numel()), value.shape());
        if (group.size() > 1) grad = grad / static_cast<double>(group.size());  // the mean over the ranks
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
    if (group.size() > 1) {
        for (Tensor value : named.values()) group.broadcast(value, 0);
        for (Tensor &b : buffers_) group.broadcast(b, 0);
        for (const auto &[key, state] : optimizer.state()) {
            Tensor shared = state;
            group.broadcast(shared, 0);
        }
        Tensor steps = Tensor::full({}, static_cast<double>(optimizer.step_count()), DType::f64);
        group.broadcast(steps, 0);
        optimizer.set_step_count(static_cast<int64_t>(steps.item()));
    }
}

void DistributedTrainStep::compute_gradients(const std::function<Batch()> &load_shard, double *local) {
    const Batch batch = load_shard();
    if (classification_ && batch.targets.defined() && batch.targets.dtype() == DType::i32) {
        const Tensor labels = batch.targets.contiguous();
        const int32_t *data = labels.data<int32_t>();
        for (int64_t i = 0; i < labels.numel(); ++i)
            if ((data[i] < 0 || data[i] >= classes_) && data[i] != ignore_index_)
                fail("label {} at position {} of the shard is outside [0, {}) (the model has {} classes)", data[i], i,
                     classes_, classes_);
    }
    std::map<std::string, Tensor> inputs{{"input", batch.inputs}, {"target", batch.targets}};
    // Each rank draws its own dropout masks: the seed of run r on rank k is r * ranks + k.
    if (uses_run_counter_)
        inputs["rng.step"] = Tensor::full(
            {}, static_cast<double>((run_count_ * group_.size() + group_.rank()) & 0x7fffffff), DType::i32);
    const auto outputs = gradients_.run(inputs);
    // Packed into one contiguous buffer: one allreduce for the whole model.
    auto *flat = static_cast<uint8_t *>(flat_gradients_.raw_data());
    size_t offset = 0;
    for (const std::string &name : param_names_) {
        const Tensor grad = outputs.at("grad:" + name).contiguous();
        std::memcpy(flat + offset, grad.raw_data(), grad.nbytes());
        offset += grad.nbytes();
    }
    local[1] = outputs.at("loss").item();
    if (classification_) local[2] = outputs.at("correct").item();
}

TrainStep::Result DistributedTrainStep::step(const std::function<Batch()> &load_shard) {
    const int64_t step_number = optimizer_.step_count() + 1;
    // Summed over the ranks: [ranks that failed, loss, correct]. Agreeing on the status before
    // the gradients means a failed rank stops every rank at the same step, not a hang.
    double stats[3] = {0, 0, 0};
    std::string error;
    try {
        compute_gradients(load_shard, stats);
    } catch (const std::exception &e) {
        stats[0] = 1;
        error = *e.what() ? e.what() : "unknown error";
    }
    const auto agreed = std::chrono::steady_clock::now();
    group_.allreduce_sum(stats, 3);
    wait_seconds_ += seconds_since(agreed);
    if (stats[0] > 0)
        group_.throw_agreed_failure(std::llround(stats[0]), error, fmt::format("training step {}", step_number));
    TrainStep::Result r;
    r.loss = stats[1] / group_.size();
    if (!std::isfinite(r.loss))
        throw JobError(fmt::format("training step {}: the loss is {}; stopping before the update (check the learning "
                                   "rate and the input data)",
                                   step_number, r.loss));
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
    // Batch-norm running statistics: rank 0's, on every rank (as PyTorch DDP's broadcast_buffers).
    if (group_.size() > 1)
        for (Tensor &b : buffers_) group_.broadcast(b, 0);
    optimizer_.finish_step();
    ++run_count_;
    if (auto it = outputs.find("grad_norm"); it != outputs.end()) r.grad_norm = it->second.item();
    return r;
}

TrainStep::Result DistributedTrainStep::step(const Tensor &input, const Tensor &target) {
    return step([&] { return Batch{input, target}; });
}

}  // namespace strata::distributed
