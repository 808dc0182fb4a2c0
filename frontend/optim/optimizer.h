#pragma once
/// \file
/// Optimizers as IR: an optimizer adds the update of every parameter (and of
/// its own state) to the training graph, so forward, backward and update run
/// as one compiled program. The learning rate and per-step scalars are graph
/// inputs, so LR schedules change them without recompiling.

#include "frontend/graph.h"

#include <map>
#include <string>
#include <vector>

namespace strata::optim {

/// One trainable parameter of a training graph.
struct ParamSlot {
    std::string name;  ///< graph name ("conv1.weight")
    Tensor value;      ///< the tensor updated in place
    SymTensor param;   ///< its node
    SymTensor grad;    ///< the node of its gradient
};

class Optimizer {
public:
    explicit Optimizer(double lr);
    virtual ~Optimizer();

    double lr() const { return lr_; }
    void set_lr(double lr);
    /// The learning rate LR schedules start from (PyTorch's `param_group['initial_lr']`):
    /// taken from `lr()` when the first scheduler is attached, shared by later ones.
    double initial_lr() const { return has_initial_lr_ ? initial_lr_ : lr_; }
    bool has_initial_lr() const { return has_initial_lr_; }
    void set_initial_lr(double lr);
    /// Updates applied so far (PyTorch's `state['step']`).
    int64_t step_count() const { return steps_; }

    /// Adds to `g` the new value of every parameter and of the optimizer
    /// state, registered with `Graph::update`.
    void build(Graph &g, const std::vector<ParamSlot> &params);
    /// The scalar inputs of the next step (learning rate, bias corrections, ...),
    /// computed in double on the host the way PyTorch computes them. A graph reads
    /// only those its updates use (plain SGD has no "optim.first", Adam without
    /// decoupled weight decay no "optim.lr"): pass it just the ones it has.
    std::map<std::string, Tensor> next_step_inputs(DType dtype) const;
    /// Records that a step ran.
    void finish_step() { ++steps_; }

    /// State tensors by name ("conv1.weight.exp_avg"), for checkpoints.
    const std::map<std::string, Tensor> &state() const { return state_; }
    /// Restores the step count (when resuming from a checkpoint).
    void set_step_count(int64_t steps) { steps_ = steps; }
    /// Restores state tensor `key` ("conv1.weight.exp_avg") from a checkpoint: copied into
    /// the existing tensor (which a built training step reads), or kept for `build` to use.
    void restore_state(const std::string &key, const Tensor &value);

protected:
    /// Adds the update of one parameter; scalar inputs come from `input(g, name)`.
    virtual void build_param(Graph &g, const ParamSlot &p) = 0;
    /// Scalars for step number `t` (1-based), by input name without the "optim." prefix.
    virtual std::map<std::string, double> step_scalars(int64_t t) const = 0;

    /// The optimizer's scalar graph input `name` ("lr"), typed like `like`.
    SymTensor input(Graph &g, const std::string &name, const SymTensor &like);
    /// A state tensor of `p` (zeros at first) as a graph parameter "optim.<param>.<slot>".
    SymTensor state(Graph &g, const ParamSlot &p, const std::string &slot);
    /// Registers the new value of a state tensor made by `state`.
    void update_state(Graph &g, const ParamSlot &p, const std::string &slot, const SymTensor &value);

private:
    double lr_;
    double initial_lr_ = 0;
    bool has_initial_lr_ = false;
    int64_t steps_ = 0;
    std::map<std::string, Tensor> state_;
};

/// Scales every gradient by min(1, max_norm / (total_norm + 1e-6)), where
/// total_norm is the 2-norm of all gradients together (torch.nn.utils.clip_grad_norm_).
/// Returns the total norm (before clipping).
SymTensor clip_grad_norm(std::vector<ParamSlot> &params, double max_norm);

}  // namespace strata::optim
