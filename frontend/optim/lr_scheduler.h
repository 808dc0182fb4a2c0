#pragma once
/// \file
/// Learning-rate schedules (torch.optim.lr_scheduler), stepped once per epoch:
///
///     optim::SGD sgd(optim::SGDOptions(0.1).momentum(0.9));
///     auto warmup = std::make_shared<optim::LinearLR>(sgd, 0.1, 1.0, 5);
///     auto cosine = std::make_shared<optim::CosineAnnealingLR>(sgd, 45);
///     optim::SequentialLR schedule(sgd, {warmup, cosine}, {5});
///     for (int epoch = 0; epoch < 50; ++epoch) {
///         train_one_epoch();     // uses sgd.lr()
///         schedule.step();       // sets sgd's lr for the next epoch
///     }
///
/// or `trainer.set_scheduler(&schedule)`. As in PyTorch, constructing a
/// scheduler performs its initial step: `last_epoch()` becomes 0 and the
/// optimizer's learning rate becomes the schedule's value at epoch 0.
///
/// Every schedule is computed in its closed form (PyTorch's
/// `_get_closed_form_lr`) from the base learning rate, which is the
/// optimizer's `initial_lr()` (PyTorch's `param_group['initial_lr']`: the
/// learning rate when the first scheduler was attached). PyTorch's recursive
/// (chainable) forms give the same values up to rounding, as long as nothing
/// else changes the learning rate between steps. Since the learning rate is
/// an input of the compiled training step, changing it never recompiles.

#include "frontend/optim/optimizer.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace strata::optim {

/// The base of every schedule: an epoch counter and the closed form `lr_at`.
class LRScheduler {
public:
    virtual ~LRScheduler();
    LRScheduler(const LRScheduler &) = delete;
    LRScheduler &operator=(const LRScheduler &) = delete;

    /// Advances one epoch and sets the optimizer's learning rate to `lr_at(last_epoch())`.
    void step();
    /// Jumps to `epoch` (>= 0) and sets the learning rate (resuming from a checkpoint).
    void set_last_epoch(int64_t epoch);
    /// The epochs stepped so far (0 right after construction).
    int64_t last_epoch() const { return last_epoch_; }
    /// The learning rate this scheduler set last.
    double get_last_lr() const { return last_lr_; }
    /// The learning rate the schedule scales (the optimizer's initial_lr()).
    double base_lr() const { return base_lr_; }
    Optimizer &optimizer() const { return optimizer_; }

    /// The learning rate at `epoch` (>= 0), in closed form.
    virtual double lr_at(int64_t epoch) const = 0;

protected:
    explicit LRScheduler(Optimizer &optimizer);
    /// PyTorch's initial step (epoch 0); each final class calls it at the end of its constructor,
    /// where `lr_at` can be called.
    void initial_step() { set_last_epoch(0); }
    /// Called by `set_last_epoch` before the learning rate is applied (SequentialLR moves its children).
    virtual void on_epoch(int64_t /*epoch*/) {}

private:
    Optimizer &optimizer_;
    double base_lr_ = 0;
    int64_t last_epoch_ = -1;
    double last_lr_;
};

/// base_lr * gamma^floor(epoch / step_size) (torch.optim.lr_scheduler.StepLR).
class StepLR : public LRScheduler {
public:
    StepLR(Optimizer &optimizer, int64_t step_size, double gamma = 0.1);
    double lr_at(int64_t epoch) const override;

private:
    int64_t step_size_;
    double gamma_;
};

/// base_lr * gamma^(number of milestones <= epoch) (torch.optim.lr_scheduler.MultiStepLR).
class MultiStepLR : public LRScheduler {
public:
    MultiStepLR(Optimizer &optimizer, std::vector<int64_t> milestones, double gamma = 0.1);
    double lr_at(int64_t epoch) const override;

private:
    std::vector<int64_t> milestones_;
    double gamma_;
};

/// base_lr * gamma^epoch (torch.optim.lr_scheduler.ExponentialLR).
class ExponentialLR : public LRScheduler {
public:
    ExponentialLR(Optimizer &optimizer, double gamma);
    double lr_at(int64_t epoch) const override;

private:
    double gamma_;
};

/// eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2
/// (torch.optim.lr_scheduler.CosineAnnealingLR; past T_max the closed form rises again).
class CosineAnnealingLR : public LRScheduler {
public:
    CosineAnnealingLR(Optimizer &optimizer, int64_t T_max, double eta_min = 0.0);
    double lr_at(int64_t epoch) const override;

private:
    int64_t T_max_;
    double eta_min_;
};

/// base_lr * factor for the first total_iters epochs, then base_lr (torch.optim.lr_scheduler.ConstantLR).
class ConstantLR : public LRScheduler {
public:
    ConstantLR(Optimizer &optimizer, double factor = 1.0 / 3.0, int64_t total_iters = 5);
    double lr_at(int64_t epoch) const override;

private:
    double factor_;
    int64_t total_iters_;
};

/// A linear warm-up: base_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters) /
/// total_iters) (torch.optim.lr_scheduler.LinearLR).
class LinearLR : public LRScheduler {
public:
    LinearLR(Optimizer &optimizer, double start_factor = 1.0 / 3.0, double end_factor = 1.0,
             int64_t total_iters = 5);
    double lr_at(int64_t epoch) const override;

private:
    double start_factor_, end_factor_;
    int64_t total_iters_;
};

/// Runs `schedulers[0]` until `milestones[0]`, then `schedulers[1]` restarted from its
/// epoch 0, and so on (torch.optim.lr_scheduler.SequentialLR): warm-up then cosine is
///
///     SequentialLR(opt, {std::make_shared<LinearLR>(opt, 0.1, 1.0, 5),
///                        std::make_shared<CosineAnnealingLR>(opt, 45)}, {5});
///
/// The children must drive the same optimizer; their `last_epoch()` follows the
/// active one's position as in PyTorch.
class SequentialLR : public LRScheduler {
public:
    SequentialLR(Optimizer &optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                 std::vector<int64_t> milestones);
    double lr_at(int64_t epoch) const override;
    const std::vector<std::shared_ptr<LRScheduler>> &schedulers() const { return schedulers_; }

protected:
    void on_epoch(int64_t epoch) override;

private:
    /// Which child runs at `epoch`, and the epoch it is at.
    std::pair<size_t, int64_t> child_at(int64_t epoch) const;

    std::vector<std::shared_ptr<LRScheduler>> schedulers_;
    std::vector<int64_t> milestones_;
};

}  // namespace strata::optim
