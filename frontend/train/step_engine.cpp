#include "frontend/train/step_engine.h"

namespace strata {

void LocalStepEngine::build(nn::Module &model, optim::Optimizer &optimizer, const TensorSpecs &inputs,
                            const TensorSpecs &targets, const ForwardFn &forward, const MultiLossFn &loss,
                            const TrainStepOptions &options) {
    step_ = std::make_unique<TrainStep>(model, optimizer, inputs, targets, forward, loss, options);
}

TrainStep::Result LocalStepEngine::step(const std::function<TensorMap()> &load_batch,
                                        const std::function<void(const TensorMap &)> &use_outputs) {
    TrainStep::Result r = step_->step(load_batch());
    if (use_outputs) use_outputs(r.outputs);
    return r;
}

void LocalStepEngine::sum(std::vector<double> & /*values*/, const std::string &error, const std::string &context) {
    if (!error.empty()) fail("{}: {}", context, error);
}

void LocalStepEngine::rethrow(const std::string &message) const { throw Error(message); }

}  // namespace strata
