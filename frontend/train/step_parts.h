#pragma once
/// \file
/// What `TrainStep` (one program) and `distributed::DistributedTrainStep` (gradients, allreduce,
/// update) share: the forward and loss graph of named inputs and targets, the single-output
/// classifier's count of right answers and its label check, and `ModelBinding`, which advances
/// batch norm's counters and refuses a model whose tensors were replaced (`module.to(dtype)`)
/// after the step was built.

#include "frontend/graph.h"
#include "frontend/nn/module.h"
#include "frontend/train/named_batch.h"

#include <functional>
#include <string>
#include <vector>

namespace strata {

/// The single-input form in named terms: {"input"} -> model.forward -> {"output"}.
ForwardFn single_input_forward(nn::Module &model);
/// `loss(output, target)` on the names of the single-input form.
MultiLossFn single_output_loss(std::function<SymTensor(const SymTensor &output, const SymTensor &target)> loss);

/// The model's forward and loss in a graph, with the batch's names.
struct ForwardLossGraph {
    SymMap inputs, targets, outputs;
    SymTensor loss;
    /// A single-output classifier (output "output" [N, C], i32 target "target" [N]): `correct`
    /// counts its right argmax answers (the progress bar's "acc").
    bool classification = false;
    int64_t classes = 0;
    SymTensor correct;
};

/// Declares `inputs` and `targets` in `g`, builds the outputs with `forward` and the loss with
/// `loss`, and checks what a user can get wrong: the names, a loss that is not one value, a
/// module read by `forward` but not registered in `model`. `who` starts the messages.
ForwardLossGraph build_forward_loss(Graph &g, const nn::Module &model, const TensorSpecs &inputs,
                                    const TensorSpecs &targets, const ForwardFn &forward, const MultiLossFn &loss,
                                    const char *who);

/// Fails when a class label of `batch`'s "target" lies outside [0, classes) and is not
/// `ignore_index`; `where` starts the message ("training step 3").
void check_class_labels(const TensorMap &batch, int64_t classes, int64_t ignore_index, const std::string &where);

/// The tensors a step was built with. The step reads them from its compiled program; `to(dtype)`
/// (or any replacement of a registered tensor) gives the model new ones the step would never
/// train, so every step checks first.
class ModelBinding {
public:
    ModelBinding() = default;
    /// Records `model`'s parameters and buffers and its batch norms' counters. `model` must
    /// outlive the step.
    explicit ModelBinding(nn::Module &model);
    /// Fails, naming the first tensor, when the model's parameters or buffers are not the ones
    /// recorded; `where` starts the message.
    void check_unchanged(const std::string &where) const;
    /// One more batch for every batch norm's num_batches_tracked, as PyTorch's training-mode
    /// forward counts.
    void count_batch();

private:
    struct Recorded {
        std::string name;
        const void *data;
        DType dtype;
        Shape shape;
    };
    nn::Module *model_ = nullptr;
    std::vector<Recorded> tensors_;
    std::vector<Tensor> batch_counters_;
};

}  // namespace strata
