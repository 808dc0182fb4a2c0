#pragma once
/// \file
/// `DistributedTrainer`: `Trainer` for a job of several MPI ranks (`mpirun -np 4 prog`), with
/// everything Trainer has: named inputs, outputs and targets, metrics, callbacks, checkpoints
/// that resume exactly, and streaming fit from any `data::DatasetPtr`. Each global batch of
/// `batch_size` examples is shared out evenly across the ranks (rank r reads positions r,
/// r + ranks, ... of it); every rank shuffles with the same seed, so the ranks together see
/// exactly the batches one process with the same batch size would see, and the gradients are
/// averaged across the ranks before every update (`DistributedTrainStep`).
///
///     auto &group = strata::distributed::ProcessGroup::world();
///     strata::distributed::DistributedTrainer trainer(group, *net, sgd, loss, {.epochs = 3, .batch_size = 64});
///     trainer.add_metric(strata::metrics::PrecisionRecallF1(10));
///     trainer.fit(train_set, &test_set);      // every rank calls it; only rank 0 shows progress
///     trainer.fit(raw_file_dataset, {.inputs = {"waveform"}, .num_workers = 2});   // streaming
///
/// Reported losses, accuracies and metrics are global (summed over the ranks); validation and
/// `evaluate` are shared out across the ranks too. Callbacks run on every rank with the same
/// values; `save_checkpoint` (and so `checkpoint_path`, BestCheckpoint) is called by every rank
/// and written by rank 0. A checkpoint resumes on any number of ranks (each rank continues
/// exactly when the number is the same). An error on one rank in a step or an evaluation (its
/// data, a bad label, a metric) stops every rank there with a `JobError` naming that rank.

#include "frontend/distributed/distributed_train_step.h"
#include "frontend/train/trainer.h"

namespace strata::distributed {

class DistributedTrainer : public Trainer {
public:
    /// `options.batch_size` is the global batch; it must divide evenly by the number of ranks.
    DistributedTrainer(ProcessGroup &group, nn::Module &model, optim::Optimizer &optimizer, TrainStep::LossFn loss,
                       TrainerOptions options = {});
    /// A model with named inputs and outputs and any loss of them (Trainer's named form).
    DistributedTrainer(ProcessGroup &group, nn::Module &model, optim::Optimizer &optimizer, ForwardFn forward,
                       MultiLossFn loss, TrainerOptions options = {});

    /// The step, once `fit` has built it (null before).
    DistributedTrainStep *step() const;
    ProcessGroup &group() const { return group_; }

private:
    ProcessGroup &group_;
};

}  // namespace strata::distributed
