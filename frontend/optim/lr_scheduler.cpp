#include "frontend/optim/lr_scheduler.h"

#include <strata/error.h>

#include <algorithm>
#include <cmath>

namespace strata::optim {

// ---- LRScheduler ----

LRScheduler::LRScheduler(Optimizer &optimizer) : optimizer_(optimizer), last_lr_(optimizer.lr()) {
    // The first scheduler fixes the base learning rate; later ones (e.g. SequentialLR's
    // children, built after a warm-up already lowered lr()) share it, as in PyTorch.
    if (!optimizer.has_initial_lr()) optimizer.set_initial_lr(optimizer.lr());
    base_lr_ = optimizer.initial_lr();
}

LRScheduler::~LRScheduler() = default;

void LRScheduler::step() { set_last_epoch(last_epoch_ + 1); }

void LRScheduler::set_last_epoch(int64_t epoch) {
    if (epoch < 0) fail("LRScheduler: epoch must be >= 0, got {}", epoch);
    last_epoch_ = epoch;
    on_epoch(epoch);
    last_lr_ = lr_at(epoch);
    optimizer_.set_lr(last_lr_);
}

// ---- StepLR, MultiStepLR, ExponentialLR ----

StepLR::StepLR(Optimizer &optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
    if (step_size < 1) fail("StepLR: step_size must be >= 1, got {}", step_size);
    if (!(gamma >= 0) || !std::isfinite(gamma)) fail("StepLR: gamma must be finite and >= 0, got {}", gamma);
    initial_step();
}

double StepLR::lr_at(int64_t epoch) const {
    return base_lr() * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

MultiStepLR::MultiStepLR(Optimizer &optimizer, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
    if (!std::is_sorted(milestones_.begin(), milestones_.end()))
        fail("MultiStepLR: milestones must be in increasing order");
    if (!milestones_.empty() && milestones_.front() < 0)
        fail("MultiStepLR: milestones must be >= 0, got {}", milestones_.front());
    if (!(gamma >= 0) || !std::isfinite(gamma))
        fail("MultiStepLR: gamma must be finite and >= 0, got {}", gamma);
    initial_step();
}

double MultiStepLR::lr_at(int64_t epoch) const {
    // A milestone listed twice decays twice, as PyTorch's Counter of milestones does.
    const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), epoch) - milestones_.begin();
    return base_lr() * std::pow(gamma_, static_cast<double>(passed));
}

ExponentialLR::ExponentialLR(Optimizer &optimizer, double gamma) : LRScheduler(optimizer), gamma_(gamma) {
    if (!(gamma >= 0) || !std::isfinite(gamma))
        fail("ExponentialLR: gamma must be finite and >= 0, got {}", gamma);
    initial_step();
}

double ExponentialLR::lr_at(int64_t epoch) const {
    return base_lr() * std::pow(gamma_, static_cast<double>(epoch));
}

// ---- CosineAnnealingLR ----

CosineAnnealingLR::CosineAnnealingLR(Optimizer &optimizer, int64_t T_max, double eta_min)
    : LRScheduler(optimizer), T_max_(T_max), eta_min_(eta_min) {
    if (T_max < 1) fail("CosineAnnealingLR: T_max must be >= 1, got {}", T_max);
    if (!(eta_min >= 0) || !std::isfinite(eta_min))
        fail("CosineAnnealingLR: eta_min must be finite and >= 0, got {}", eta_min);
    initial_step();
}

double CosineAnnealingLR::lr_at(int64_t epoch) const {
    const double pi = std::acos(-1.0);
    return eta_min_ + (base_lr() - eta_min_) *
                          (1 + std::cos(pi * static_cast<double>(epoch) / static_cast<double>(T_max_))) / 2;
}

// ---- ConstantLR, LinearLR ----

ConstantLR::ConstantLR(Optimizer &optimizer, double factor, int64_t total_iters)
    : LRScheduler(optimizer), factor_(factor), total_iters_(total_iters) {
    if (!(factor >= 0 && factor <= 1))
        fail("ConstantLR: constant multiplicative factor must be between 0 and 1, got {}", factor);
    if (total_iters < 0) fail("ConstantLR: total_iters must be >= 0, got {}", total_iters);
    initial_step();
}

double ConstantLR::lr_at(int64_t epoch) const { return base_lr() * (epoch < total_iters_ ? factor_ : 1.0); }

LinearLR::LinearLR(Optimizer &optimizer, double start_factor, double end_factor, int64_t total_iters)
    : LRScheduler(optimizer), start_factor_(start_factor), end_factor_(end_factor),
      total_iters_(total_iters) {
    if (!(start_factor > 0 && start_factor <= 1))
        fail("LinearLR: start_factor must be greater than 0 and at most 1, got {}", start_factor);
    if (!(end_factor >= 0 && end_factor <= 1))
        fail("LinearLR: end_factor must be between 0 and 1, got {}", end_factor);
    if (total_iters < 1) fail("LinearLR: total_iters must be >= 1, got {}", total_iters);
    initial_step();
}

double LinearLR::lr_at(int64_t epoch) const {
    const double t = static_cast<double>(std::min(epoch, total_iters_)) / static_cast<double>(total_iters_);
    return base_lr() * (start_factor_ + (end_factor_ - start_factor_) * t);
}

// ---- SequentialLR ----

SequentialLR::SequentialLR(Optimizer &optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                           std::vector<int64_t> milestones)
    : LRScheduler(optimizer), schedulers_(std::move(schedulers)), milestones_(std::move(milestones)) {
    if (schedulers_.empty()) fail("SequentialLR: expects at least one scheduler");
    for (size_t i = 0; i < schedulers_.size(); ++i) {
        if (!schedulers_[i]) fail("SequentialLR: scheduler {} is null", i);
        if (&schedulers_[i]->optimizer() != &optimizer)
            fail("SequentialLR: scheduler {} drives a different optimizer than the SequentialLR", i);
    }
    if (milestones_.size() != schedulers_.size() - 1)
        fail("SequentialLR: expects {} milestones for {} schedulers, got {}", schedulers_.size() - 1,
             schedulers_.size(), milestones_.size());
    for (size_t i = 0; i < milestones_.size(); ++i)
        if (milestones_[i] < 1 || (i > 0 && milestones_[i] <= milestones_[i - 1]))
            fail("SequentialLR: milestones must be positive and strictly increasing, got {} at index {}",
                 milestones_[i], i);
    initial_step();
}

std::pair<size_t, int64_t> SequentialLR::child_at(int64_t epoch) const {
    const size_t index = static_cast<size_t>(std::upper_bound(milestones_.begin(), milestones_.end(), epoch) -
                                             milestones_.begin());
    return {index, index == 0 ? epoch : epoch - milestones_[index - 1]};
}

double SequentialLR::lr_at(int64_t epoch) const {
    const auto [index, local] = child_at(epoch);
    return schedulers_[index]->lr_at(local);
}

void SequentialLR::on_epoch(int64_t epoch) {
    const auto [index, local] = child_at(epoch);
    schedulers_[index]->set_last_epoch(local);
}

}  // namespace strata::optim
