#pragma once
/// \file
/// Callbacks a `Trainer` calls while it fits, with the metrics at hand:
///
///     trainer.add_callback(strata::EarlyStopping("val_loss", /*patience=*/3));
///     trainer.add_callback(strata::BestCheckpoint("best.safetensors", "val_f1/macro", strata::Mode::max));
///
/// Your own: derive from `Callback` and override what you need. A callback whose decisions
/// depend on earlier epochs keeps that in `state()`, so a resumed run decides the same.

#include "frontend/train/trainer.h"

#include <cstdint>
#include <limits>
#include <string>

namespace strata {

class Callback {
public:
    virtual ~Callback() = default;
    virtual void on_epoch_begin(Trainer &, int64_t /*epoch*/) {}
    virtual void on_step_end(Trainer &, const StepStats &) {}
    /// After validation, with every metric in `stats.metrics`.
    virtual void on_epoch_end(Trainer &, const EpochStats &) {}
    /// What the callback remembers across epochs, as text for a checkpoint ("" when nothing).
    virtual std::string state() const { return ""; }
    virtual void set_state(const std::string & /*state*/) {}
};

/// Whether a smaller or a larger monitored value is better.
enum class Mode { min, max };

/// The value of `key` in `stats.metrics`; an error listing the keys there when it is missing.
double monitored_value(const EpochStats &stats, const std::string &key, const char *who);

/// Stops training when `monitor` has not improved by more than `min_delta` for `patience`
/// epochs in a row (PyTorch Lightning's EarlyStopping); a NaN value never improves.
class EarlyStopping : public Callback {
public:
    explicit EarlyStopping(std::string monitor = "val_loss", int64_t patience = 3, double min_delta = 0.0,
                           Mode mode = Mode::min);
    void on_epoch_end(Trainer &trainer, const EpochStats &stats) override;
    std::string state() const override;
    void set_state(const std::string &state) override;

    /// The best value seen (+-infinity before the first epoch) and the epoch that stopped training (-1: none).
    double best() const { return best_; }
    int64_t stopped_epoch() const { return stopped_epoch_; }

private:
    std::string monitor_;
    int64_t patience_;
    double min_delta_;
    Mode mode_;
    double best_;
    int64_t wait_ = 0, stopped_epoch_ = -1;
};

/// Saves the trainer's checkpoint to `path` whenever `monitor` reaches a new best (Lightning's
/// ModelCheckpoint with save_top_k=1); the file's metadata holds "best.monitor", "best.value"
/// and "best.epoch".
class BestCheckpoint : public Callback {
public:
    explicit BestCheckpoint(std::string path, std::string monitor = "val_loss", Mode mode = Mode::min);
    void on_epoch_end(Trainer &trainer, const EpochStats &stats) override;
    std::string state() const override;
    void set_state(const std::string &state) override;

    double best() const { return best_; }
    int64_t best_epoch() const { return best_epoch_; }

private:
    std::string path_, monitor_;
    Mode mode_;
    double best_;
    int64_t best_epoch_ = -1;
};

}  // namespace strata
