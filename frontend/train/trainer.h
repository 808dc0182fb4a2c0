#pragma once
/// \file
/// `Trainer`: fit and evaluate a model in a few lines, with a progress bar, metrics, callbacks
/// and checkpoints that resume bit for bit.
///
///     strata::Trainer trainer(*net, sgd, loss, {.epochs = 3, .batch_size = 64});
///     trainer.add_metric(strata::metrics::PrecisionRecallF1(10));
///     trainer.add_callback(strata::EarlyStopping("val_loss", 3));
///     trainer.fit(train_set, &test_set);
///
/// Models with several inputs and outputs take a `ForwardFn` and a `MultiLossFn` and train on a
/// `NamedDataset` (frontend/train/named_batch.h). With `checkpoint_path` set, the trainer saves
/// its whole state (weights, optimizer, position in the epoch, sums so far, LR schedule,
/// dropout's counter, metric and callback state); `fit(data, {.resume = path})` continues from
/// it, ending bit for bit where a run that never stopped ends.
///
/// Data sets that do not fit in memory (files, readers with transforms) stream through
/// `data::DataLoader` (runtime/data/loader.h): `fit(dataset_ptr, StreamOptions)`. Each example's
/// fields named in `StreamOptions::inputs` feed the model, the others are targets:
///
///     auto train = std::make_shared<data::RawFileDataset>("train.strata");
///     trainer.fit(train, {.inputs = {"waveform"}, .num_workers = 2, .transforms = {noise}});

#include "frontend/optim/lr_scheduler.h"
#include "frontend/train/data_loader.h"
#include "frontend/train/metrics.h"
#include "frontend/train/named_batch.h"
#include "frontend/train/train_step.h"
#include "runtime/data/loader.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace strata {

struct EpochStats {
    int64_t epoch = 0;
    /// The mean of the batches' losses; accuracy of a single-output classifier (argmax of an
    /// output [N, C] against i32 or i64 targets [N]); NaN for any other model (pick a metric instead).
    double train_loss = 0, train_accuracy = 0;
    /// NaN when there is no validation set.
    double validation_loss = 0, validation_accuracy = 0;
    double seconds = 0, examples_per_second = 0, lr = 0;
    /// Every value of the epoch by key: "loss" and the chosen metrics' keys ("precision/macro")
    /// for training, the same prefixed "val_" for validation ("val_loss", "val_precision/macro").
    std::map<std::string, double> metrics;
};

struct EvalStats {
    double loss = 0, accuracy = 0;
    int64_t examples = 0;
    /// "loss" and the chosen metrics' values over the whole data set.
    std::map<std::string, double> metrics;
};

/// Where the trainer is after a training step.
struct StepStats {
    int64_t epoch = 0;        ///< from 0
    int64_t batch = 0;        ///< the batch just trained, from 0
    int64_t batches = 0;      ///< batches per epoch
    int64_t global_step = 0;  ///< optimizer steps so far (this one included)
    double loss = 0;
    double lr = 0;
};

class ProgressBar;
class Callback;

/// What one training epoch summed over its batches.
struct EpochSums {
    double loss_sum = 0;
    int64_t batches = 0, correct = 0, seen = 0;
};

/// Ends a training epoch (Trainer and distributed::DistributedTrainer): the statistics from
/// `sums` and `train_metrics`, the validation pass when `validate` is set, the progress bar's
/// last line, the epoch callbacks, then the LR scheduler's step (when there is one).
EpochStats finish_epoch(int64_t epoch, const EpochSums &sums, ProgressBar &bar, const optim::Optimizer &optimizer,
                        const std::function<EvalStats()> &validate,
                        const std::vector<std::function<void(const EpochStats &)>> &callbacks,
                        optim::LRScheduler *scheduler, const metrics::Values &train_metrics = {});

struct TrainerOptions {
    int64_t epochs = 1;
    int64_t batch_size = 64;
    uint64_t seed = 0;
    bool shuffle = true;
    bool progress = true;
    double clip_grad_norm = 0;
    /// When the loss turns NaN or infinite, name the input, parameter or first op that made the
    /// non-finite value (TrainStepOptions::detect_anomaly; slow, for debugging).
    bool detect_anomaly = false;
    /// Save the trainer's whole state here (atomically) at the end of every epoch and, when
    /// `checkpoint_every` > 0, after every `checkpoint_every` steps; "" saves nothing.
    std::string checkpoint_path{};
    int64_t checkpoint_every = 0;
    codegen::CompileOptions compile{};
};

/// Options of one `fit` call.
struct FitOptions {
    /// A checkpoint the trainer saved: training continues from it (see `Trainer::resume`).
    std::string resume{};
};

/// How the trainer streams a `data::Dataset` through a `data::DataLoader`. The order options
/// (batch size, shuffle, seed; full batches only for training) come from TrainerOptions, so the
/// order is the one the in-memory `fit` has.
struct StreamOptions {
    /// The example fields the model reads; every other field is a target. A single-input
    /// trainer takes one name (empty: "input") and the one other field is its target (fed as
    /// "input" and "target", the names its loss and metrics see); a named trainer needs them all.
    std::vector<std::string> inputs{};
    /// Threads reading and transforming batches ahead of the step (0: read in the loop).
    int64_t num_workers = 0;
    int64_t prefetch_factor = 2;
    /// Applied to each training example, seeded from (seed, epoch, example): the same batches
    /// whatever the number of workers and after a resume.
    std::vector<data::TransformPtr> transforms{};
    /// Applied to each validation example (no augmentation by default).
    std::vector<data::TransformPtr> validation_transforms{};
    /// Replace an example that fails to read by the next one and count it
    /// (Trainer::skipped_examples) instead of failing (data::LoaderOptions::skip_corrupt).
    bool skip_corrupt = false;
    int64_t max_consecutive_corrupt = 16;
    /// This process's shard of the training set (evaluation reads the whole set).
    int64_t rank = 0;
    int64_t world_size = 1;
};

class Trainer {
public:
    /// A single-input model trained on `Dataset`s: `loss(output, target)`.
    Trainer(nn::Module &model, optim::Optimizer &optimizer, TrainStep::LossFn loss, TrainerOptions options = {});
    /// A model with named inputs and outputs trained on `NamedDataset`s: `forward` builds the
    /// outputs from the inputs with `model`'s modules; `loss` is any scalar of outputs and targets.
    Trainer(nn::Module &model, optim::Optimizer &optimizer, ForwardFn forward, MultiLossFn loss,
            TrainerOptions options = {});
    ~Trainer();

    /// Adds a metric (metrics.h), computed each epoch on training and validation from the
    /// outputs the compiled programs return; returns the trainer's copy (to call `on`).
    template <typename M> M &add_metric(M metric) {
        auto owned = std::make_shared<M>(std::move(metric));
        metrics_.push_back(owned);
        return *owned;
    }
    /// Adds a callback (callbacks.h: EarlyStopping, BestCheckpoint, your own); returns the
    /// trainer's copy.
    template <typename C> C &add_callback(C callback) {
        auto owned = std::make_shared<C>(std::move(callback));
        callbacks_.push_back(owned);
        return *owned;
    }
    /// Called after every epoch (after validation).
    void on_epoch_end(std::function<void(const EpochStats &)> callback) { epoch_callbacks_.push_back(std::move(callback)); }
    /// Called after every training step (before a step checkpoint is saved).
    void on_step_end(std::function<void(const StepStats &)> callback) { step_callbacks_.push_back(std::move(callback)); }
    /// Called before every epoch with its index; set learning rates here. A run resumed inside an
    /// epoch calls it again for that epoch.
    void on_epoch_begin(std::function<void(int64_t epoch)> callback) { begin_callbacks_.push_back(std::move(callback)); }
    /// A learning-rate schedule stepped once after every epoch (after validation and the
    /// epoch-end callbacks), as in PyTorch's loop; it must drive this trainer's optimizer.
    /// Not owned; nullptr removes it. `EpochStats::lr` is the rate the epoch trained with.
    void set_scheduler(optim::LRScheduler *scheduler);
    optim::LRScheduler *scheduler() const { return scheduler_; }

    /// Trains for `options.epochs` epochs; evaluates on `validation` after each when given.
    std::vector<EpochStats> fit(const Dataset &train, const Dataset *validation = nullptr);
    /// With `fit_options.resume`: continues the saved run until it has trained `options.epochs`
    /// epochs in all (the run's length, not more epochs).
    std::vector<EpochStats> fit(const Dataset &train, const FitOptions &fit_options, const Dataset *validation = nullptr);
    std::vector<EpochStats> fit(const NamedDataset &train, const NamedDataset *validation = nullptr);
    std::vector<EpochStats> fit(const NamedDataset &train, const FitOptions &fit_options,
                                const NamedDataset *validation = nullptr);
    /// Streams `train` (and `validation`) through a data::DataLoader; see StreamOptions. The
    /// checkpoint holds the loader's position; a resume refuses another data set's checkpoint.
    std::vector<EpochStats> fit(data::DatasetPtr train, const StreamOptions &stream,
                                data::DatasetPtr validation = nullptr);
    std::vector<EpochStats> fit(data::DatasetPtr train, const StreamOptions &stream, const FitOptions &fit_options,
                                data::DatasetPtr validation = nullptr);
    /// Mean loss, accuracy (single-output classifiers) and the metrics over a whole data set
    /// (the model in eval mode).
    EvalStats evaluate(const Dataset &data);
    EvalStats evaluate(const NamedDataset &data);
    EvalStats evaluate(data::DatasetPtr data, const StreamOptions &stream = {});

    /// Saves the trainer's whole state to `path` (atomically): the model, the optimizer, the
    /// position (epoch, batch), the epoch's sums so far, dropout's counter, the schedule's epoch,
    /// the metrics' and callbacks' state, plus `metadata`.
    void save_checkpoint(const std::string &path, const std::map<std::string, std::string> &metadata = {}) const;
    /// Loads a state `save_checkpoint` wrote; the next `fit` continues from it until the run has
    /// trained `options.epochs` epochs. The checkpoint must come from a run with the same batch
    /// size, seed, shuffling, metrics and callbacks; otherwise the error says what differs and
    /// nothing is loaded.
    void resume(const std::string &path);
    /// Ends `fit` after the current epoch (early stopping).
    void stop() { stop_requested_ = true; }

    /// Epochs finished so far (including those of a resumed run).
    int64_t epochs_done() const { return epochs_done_; }
    /// Corrupt training examples replaced so far with StreamOptions::skip_corrupt (the whole
    /// run's, a resumed one included).
    int64_t skipped_examples() const { return skipped_examples_; }
    /// The compiled training step, once `fit` has built it (null before).
    TrainStep *step() const { return step_.get(); }
    nn::Module &model() const { return model_; }
    optim::Optimizer &optimizer() const { return optimizer_; }
    const TrainerOptions &options() const { return options_; }
    /// Seconds spent building and compiling the training step and evaluation graphs.
    double compile_seconds() const { return compile_seconds_; }

private:
    /// The one training loop: batches from `train`, validation by `validate` when set.
    std::vector<EpochStats> fit_loader(data::DataLoader &train, const std::function<EvalStats()> &validate);
    EvalStats evaluate_loader(data::DataLoader &data);
    /// The loader's options for this trainer: `training` shuffles and keeps full batches only.
    data::LoaderOptions loader_options(const StreamOptions &stream, bool training) const;
    /// A batch as the step takes it: a single-input trainer's fields renamed "input"/"target".
    TensorMap step_batch(data::Example batch) const;
    /// Checks `layout` against `stream.inputs` and sets which fields feed the model; `what` names
    /// the data set in messages.
    void use_fields(const StreamOptions &stream, const data::ExampleLayout &layout, const char *what);
    /// Which of a batch's tensors are the model's inputs.
    bool is_input(const std::string &name) const;
    void build_step(const data::ExampleLayout &layout);
    /// "trainer.*" metadata describing the run (what a resume must match) and its position.
    std::map<std::string, std::string> state_metadata() const;
    void after_step(int64_t epoch, int64_t batch, int64_t batches, double loss);

    nn::Module &model_;
    optim::Optimizer &optimizer_;
    ForwardFn forward_;
    MultiLossFn loss_;
    /// Built from a single-input loss: the step's input takes the parameters' dtype, as before.
    bool single_input_ = false;
    TrainerOptions options_;
    std::unique_ptr<TrainStep> step_;
    std::vector<std::shared_ptr<metrics::Metric>> metrics_;
    std::vector<std::shared_ptr<Callback>> callbacks_;
    std::vector<std::function<void(const EpochStats &)>> epoch_callbacks_;
    std::vector<std::function<void(int64_t)>> begin_callbacks_;
    std::vector<std::function<void(const StepStats &)>> step_callbacks_;
    optim::LRScheduler *scheduler_ = nullptr;
    // The run's position: epochs finished, batches finished in the current epoch and their sums.
    int64_t epochs_done_ = 0;
    int64_t batch_in_epoch_ = 0;
    EpochSums sums_;
    /// Set by `resume`: fit trains up to options.epochs in all; the run counter waits for the step.
    bool resumed_ = false;
    int64_t pending_run_count_ = -1;
    bool stop_requested_ = false;
    /// Between the last batch of an epoch and its end (validation, callbacks, schedule step): a
    /// checkpoint saved then (BestCheckpoint) holds the metric and callback state from before
    /// the epoch's end, so a resume replays that end exactly.
    bool in_epoch_end_ = false;
    std::vector<std::vector<double>> epoch_end_metric_state_;
    std::vector<std::string> epoch_end_callback_state_;
    double compile_seconds_ = 0;
    /// The fields fed to the model (after renaming), and a single-input trainer's stream names.
    std::vector<std::string> input_names_;
    std::string stream_input_, stream_target_;
    /// Which data the run reads ("256 examples, rank 0 of 1, transforms [...]"), saved in the
    /// checkpoint; the one a resumed checkpoint read, checked when fit starts.
    std::string data_signature_, resumed_data_signature_, resumed_path_;
    int64_t skipped_examples_ = 0;
};

}  // namespace strata
