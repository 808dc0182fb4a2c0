#include "frontend/train/trainer.h"

#include "frontend/functional.h"
#include "frontend/train/callbacks.h"
#include "frontend/train/registration_check.h"
#include "runtime/progress.h"

#include <chrono>
#include <cmath>
#include <map>
#include <stdexcept>

namespace strata {

namespace {

NamedDataset as_named(const Dataset &data) {
    data.check();
    return {{{kInputName, data.inputs}}, {{kTargetName, data.targets}}};
}

/// The batches' example rows in DataLoader's order (shuffled by seed and epoch): a loader over
/// the example indices, so named data sets shuffle exactly as `Dataset`s always have.
DataLoader example_order(int64_t examples, int64_t batch_size, bool shuffle, uint64_t seed, bool drop_last) {
    return DataLoader({Tensor::arange(examples, DType::f64), Tensor::arange(examples, DType::f64)},
                      {batch_size, shuffle, seed, drop_last});
}

std::vector<int64_t> rows_of(const DataLoader &order, int64_t batch) {
    const Tensor indices = order.batch(batch).inputs;
    std::vector<int64_t> rows(static_cast<size_t>(indices.numel()));
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(indices.data<double>()[i]);
    return rows;
}

/// Inputs and targets of one batch, in one map (the step and the metrics read both).
TensorMap batch_of(const NamedDataset &data, const std::vector<int64_t> &rows) {
    TensorMap batch = gather_rows(data.inputs, rows);
    for (auto &[name, t] : gather_rows(data.targets, rows)) batch[name] = t;
    return batch;
}

/// Feeds one batch to every metric: the model output it reads and its target.
void update_metrics(const std::vector<std::shared_ptr<metrics::Metric>> &all, const TensorMap &outputs,
                    const TensorMap &batch) {
    for (const auto &m : all) {
        auto out = outputs.find(m->output_name());
        if (out == outputs.end()) {
            std::string names;
            for (const auto &[name, t] : outputs) names += (names.empty() ? "'" : ", '") + name + "'";
            fail("metric {} reads the model output '{}', but the model's outputs are {}", m->kind(), m->output_name(),
                 names);
        }
        auto target = batch.find(m->target_name());
        if (target == batch.end())
            fail("metric {} reads '{}', which is neither a target nor an input of the batch", m->kind(),
                 m->target_name());
        m->update(out->second, target->second);
    }
}

metrics::Values compute_metrics(const std::vector<std::shared_ptr<metrics::Metric>> &all) {
    metrics::Values out;
    for (const auto &m : all)
        for (auto &value : m->compute()) out.push_back(std::move(value));
    return out;
}

/// The progress bar shows the headline values, not per-class ones ("precision/2").
void add_headline(std::vector<std::pair<std::string, double>> &shown, const metrics::Values &values,
                  const std::string &prefix) {
    for (const auto &[key, value] : values)
        if (key.find('/') == std::string::npos) shown.push_back({prefix + key, value});
}

/// "inputs 'x'; targets 't'", for messages.
std::string describe_tensors(const NamedDataset &data) {
    std::string inputs, targets;
    for (const auto &[name, t] : data.inputs) inputs += (inputs.empty() ? "'" : ", '") + name + "'";
    for (const auto &[name, t] : data.targets) targets += (targets.empty() ? "'" : ", '") + name + "'";
    return fmt::format("inputs {}; targets {}", inputs, targets.empty() ? std::string("none") : targets);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Trainer::Trainer(nn::Module &model, optim::Optimizer &optimizer, TrainStep::LossFn loss, TrainerOptions options)
    : Trainer(model, optimizer,
              [&model](const SymMap &in) { return SymMap{{kOutputName, model.forward(in.at(kInputName))}}; },
              [loss](const SymMap &out, const SymMap &t) { return loss(out.at(kOutputName), t.at(kTargetName)); },
              std::move(options)) {
    single_input_ = true;
}

Trainer::Trainer(nn::Module &model, optim::Optimizer &optimizer, ForwardFn forward, MultiLossFn loss,
                 TrainerOptions options)
    : model_(model), optimizer_(optimizer), forward_(std::move(forward)), loss_(std::move(loss)),
      options_(std::move(options)) {
    if (options_.epochs < 0) fail("Trainer: epochs must be >= 0, got {}", options_.epochs);
    if (options_.batch_size <= 0) fail("Trainer: batch_size must be positive, got {}", options_.batch_size);
    if (options_.checkpoint_every < 0)
        fail("Trainer: checkpoint_every must be >= 0 steps (0: at the end of each epoch), got {}",
             options_.checkpoint_every);
    if (options_.checkpoint_every > 0 && options_.checkpoint_path.empty())
        fail("Trainer: checkpoint_every is {} but checkpoint_path is empty", options_.checkpoint_every);
}

Trainer::~Trainer() = default;

void Trainer::set_scheduler(optim::LRScheduler *scheduler) {
    if (scheduler && &scheduler->optimizer() != &optimizer_)
        fail("Trainer::set_scheduler: the scheduler drives a different optimizer than the trainer");
    scheduler_ = scheduler;
}

std::vector<EpochStats> Trainer::fit(const Dataset &train, const Dataset *validation) {
    return fit(train, FitOptions{}, validation);
}

std::vector<EpochStats> Trainer::fit(const Dataset &train, const FitOptions &fit_options, const Dataset *validation) {
    const NamedDataset named_train = as_named(train);
    NamedDataset named_validation;
    if (validation) named_validation = as_named(*validation);
    return fit(named_train, fit_options, validation ? &named_validation : nullptr);
}

std::vector<EpochStats> Trainer::fit(const NamedDataset &train, const NamedDataset *validation) {
    return fit(train, FitOptions{}, validation);
}

std::vector<EpochStats> Trainer::fit(const NamedDataset &train, const FitOptions &fit_options,
                                     const NamedDataset *validation) {
    if (!fit_options.resume.empty()) resume(fit_options.resume);
    return fit_named(train, validation);
}

void Trainer::build_step(const NamedDataset &train) {
    TensorSpecs inputs = batch_specs(train.inputs, options_.batch_size);
    const TensorSpecs targets = batch_specs(train.targets, options_.batch_size);
    if (single_input_) {  // as TrainStep's single-input form: the input takes the parameters' dtype
        const auto params = model_.named_parameters();
        if (params.size() > 0) inputs.at(kInputName).dtype = params.values().front().dtype();
    }
    TrainStepOptions step_options;
    step_options.clip_grad_norm = options_.clip_grad_norm;
    step_options.compile = options_.compile;
    step_options.detect_anomaly = options_.detect_anomaly;
    step_options.keep_outputs = !metrics_.empty();
    const auto start = std::chrono::steady_clock::now();
    step_ = std::make_unique<TrainStep>(model_, optimizer_, inputs, targets, forward_, loss_, step_options);
    compile_seconds_ += seconds_since(start);
    if (pending_run_count_ >= 0) step_->set_run_count(pending_run_count_);
    pending_run_count_ = -1;
}

std::vector<EpochStats> Trainer::fit_named(const NamedDataset &train, const NamedDataset *validation) {
    train.check();
    if (validation) validation->check();
    DataLoader order = example_order(train.size(), options_.batch_size, options_.shuffle, options_.seed, true);
    const int64_t batches = order.num_batches();
    if (!step_) build_step(train);
    if (batch_in_epoch_ > batches)
        fail("Trainer: the resumed run stopped after batch {} of its epoch, but this data set has {} batches of {} "
             "(a different data set?)",
             batch_in_epoch_, batches, options_.batch_size);
    const int64_t last_epoch = resumed_ ? options_.epochs : epochs_done_ + options_.epochs;
    resumed_ = false;
    stop_requested_ = false;
    std::vector<EpochStats> history;
    while (epochs_done_ < last_epoch && !stop_requested_) {
        const int64_t epoch = epochs_done_;
        if (batch_in_epoch_ == 0) {
            sums_ = {};
            for (const auto &m : metrics_) m->reset();
        }
        for (auto &cb : begin_callbacks_) cb(epoch);
        for (auto &cb : callbacks_) cb->on_epoch_begin(*this, epoch);
        model_.train(true);
        order.set_epoch(epoch);
        ProgressBar bar(fmt::format("epoch {}", epoch + 1), batches, options_.batch_size, options_.progress);
        for (int64_t i = batch_in_epoch_; i < batches; ++i) {
            const TensorMap batch = batch_of(train, rows_of(order, i));
            TrainStep::Result r;
            try {
                r = step_->step(batch);
                update_metrics(metrics_, r.outputs, batch);
            } catch (const Error &e) {
                fail("epoch {}, batch {} of {}: {}", epoch + 1, i + 1, batches, e.what());
            }
            sums_.loss_sum += r.loss;
            sums_.correct += r.correct;
            sums_.seen += options_.batch_size;
            sums_.batches += 1;
            batch_in_epoch_ = i + 1;
            after_step(epoch, i, batches, r.loss);
            std::vector<std::pair<std::string, double>> shown = {
                {"loss", sums_.loss_sum / static_cast<double>(sums_.batches)}};
            if (step_->counts_correct())
                shown.push_back({"acc", static_cast<double>(sums_.correct) / static_cast<double>(sums_.seen)});
            bar.update(i + 1, shown);
        }
        std::function<EvalStats()> validate;
        if (validation) validate = [&] { return evaluate(*validation); };
        // The train values are taken before validation reuses the metric objects.
        const metrics::Values train_values = compute_metrics(metrics_);
        epoch_end_metric_state_.clear();
        epoch_end_callback_state_.clear();
        for (const auto &m : metrics_) epoch_end_metric_state_.push_back(m->state());
        for (const auto &cb : callbacks_) epoch_end_callback_state_.push_back(cb->state());
        in_epoch_end_ = true;
        EpochSums sums = sums_;
        if (!step_->counts_correct()) sums.correct = -1;
        std::vector<std::function<void(const EpochStats &)>> callbacks = epoch_callbacks_;
        for (auto &cb : callbacks_) callbacks.push_back([this, cb](const EpochStats &s) { cb->on_epoch_end(*this, s); });
        try {
            history.push_back(finish_epoch(epoch, sums, bar, optimizer_, validate, callbacks, scheduler_, train_values));
        } catch (...) {
            in_epoch_end_ = false;
            throw;
        }
        in_epoch_end_ = false;
        ++epochs_done_;
        batch_in_epoch_ = 0;
        sums_ = {};
        if (!options_.checkpoint_path.empty()) save_checkpoint(options_.checkpoint_path);
    }
    return history;
}

void Trainer::after_step(int64_t epoch, int64_t batch, int64_t batches, double loss) {
    if (!callbacks_.empty() || !step_callbacks_.empty()) {
        StepStats s;
        s.epoch = epoch;
        s.batch = batch;
        s.batches = batches;
        s.global_step = optimizer_.step_count();
        s.loss = loss;
        s.lr = optimizer_.lr();
        for (auto &cb : step_callbacks_) cb(s);
        for (auto &cb : callbacks_) cb->on_step_end(*this, s);
    }
    if (options_.checkpoint_every > 0 && optimizer_.step_count() % options_.checkpoint_every == 0)
        save_checkpoint(options_.checkpoint_path);
}

EpochStats finish_epoch(int64_t epoch, const EpochSums &sums, ProgressBar &bar, const optim::Optimizer &optimizer,
                        const std::function<EvalStats()> &validate,
                        const std::vector<std::function<void(const EpochStats &)>> &callbacks,
                        optim::LRScheduler *scheduler, const metrics::Values &train_metrics) {
    EpochStats stats;
    stats.epoch = epoch;
    stats.train_loss = sums.batches ? sums.loss_sum / static_cast<double>(sums.batches) : NAN;
    // A negative count: the model is no single-output classifier, so no argmax accuracy.
    stats.train_accuracy =
        sums.seen && sums.correct >= 0 ? static_cast<double>(sums.correct) / static_cast<double>(sums.seen) : NAN;
    stats.seconds = bar.elapsed_seconds();
    stats.examples_per_second = stats.seconds > 0 ? static_cast<double>(sums.seen) / stats.seconds : 0;
    stats.lr = optimizer.lr();
    stats.validation_loss = stats.validation_accuracy = NAN;
    stats.metrics["loss"] = stats.train_loss;
    for (const auto &[key, value] : train_metrics) stats.metrics[key] = value;
    std::vector<std::pair<std::string, double>> shown = {{"loss", stats.train_loss}};
    if (!std::isnan(stats.train_accuracy)) shown.push_back({"acc", stats.train_accuracy});
    add_headline(shown, train_metrics, "");
    if (validate) {
        const EvalStats v = validate();
        stats.validation_loss = v.loss;
        stats.validation_accuracy = v.accuracy;
        metrics::Values validation_values;
        for (const auto &[key, value] : v.metrics) {
            stats.metrics["val_" + key] = value;
            if (key != "loss") validation_values.push_back({key, value});
        }
        stats.metrics["val_loss"] = v.loss;
        shown.push_back({"val_loss", v.loss});
        if (!std::isnan(v.accuracy)) shown.push_back({"val_acc", v.accuracy});
        add_headline(shown, validation_values, "val_");
    }
    bar.finish(shown);
    for (auto &cb : callbacks) cb(stats);
    if (scheduler) scheduler->step();
    return stats;
}

EvalStats Trainer::evaluate(const Dataset &data) { return evaluate(as_named(data)); }

EvalStats Trainer::evaluate(const NamedDataset &data) {
    data.check();
    const nn::TrainingModeScope evaluating(model_, false);
    // One compiled graph per distinct batch size (the full batches and the remainder).
    std::map<int64_t, CompiledGraph> graphs;
    std::vector<std::unique_ptr<Graph>> keep;
    std::vector<std::string> output_names;
    bool classification = false;
    auto graph_for = [&](int64_t n) -> CompiledGraph & {
        auto it = graphs.find(n);
        if (it != graphs.end()) return it->second;
        auto g = std::make_unique<Graph>();
        SymMap inputs, targets;
        for (const auto &[name, spec] : batch_specs(data.inputs, n)) inputs[name] = g->input(name, spec.shape, spec.dtype);
        for (const auto &[name, spec] : batch_specs(data.targets, n))
            targets[name] = g->input(name, spec.shape, spec.dtype);
        SymMap outputs;
        SymTensor loss;
        try {
            outputs = forward_(inputs);
            loss = loss_(outputs, targets);
        } catch (const std::out_of_range &e) {  // SymMap::at on a name the data set or model lacks
            fail("Trainer::evaluate: the forward or loss function asked for a name that is not there ({}); the data "
                 "set has {}",
                 e.what(), describe_tensors(data));
        }
        check_modules_registered(model_, *g, "Trainer::evaluate");
        // The mean loss over the batch, re-weighted by the batch size below.
        g->output("loss", loss);
        output_names.clear();
        if (!metrics_.empty())
            for (const auto &[name, out] : outputs) {
                g->output("output:" + name, out);
                output_names.push_back(name);
            }
        auto out = outputs.find(kOutputName);
        auto t = targets.find(kTargetName);
        classification = single_input_ && out != outputs.end() && t != targets.end() && out->second.dim() == 2 &&
                         t->second.dtype() == DType::i32 && t->second.dim() == 1;
        if (classification) g->output("correct", sum(cast(eq(argmax(out->second, 1), t->second), DType::i32)));
        const auto start = std::chrono::steady_clock::now();
        CompiledGraph &compiled = graphs.emplace(n, g->compile(options_.compile)).first->second;
        compile_seconds_ += seconds_since(start);
        keep.push_back(std::move(g));
        return compiled;
    };
    const DataLoader order = example_order(data.size(), options_.batch_size, false, 0, false);
    for (const auto &m : metrics_) m->reset();
    EvalStats stats;
    double loss_sum = 0;
    int64_t correct = 0;
    for (int64_t i = 0; i < order.num_batches(); ++i) {
        const TensorMap batch = batch_of(data, rows_of(order, i));
        const int64_t n = batch.begin()->second.size(0);
        const auto out = graph_for(n).run(batch);
        loss_sum += out.at("loss").item() * static_cast<double>(n);
        if (auto it = out.find("correct"); it != out.end()) correct += static_cast<int64_t>(it->second.item());
        if (!metrics_.empty()) {
            TensorMap model_outputs;
            for (const std::string &name : output_names) model_outputs[name] = out.at("output:" + name);
            update_metrics(metrics_, model_outputs, batch);
        }
        stats.examples += n;
    }
    stats.loss = loss_sum / static_cast<double>(stats.examples);
    stats.accuracy = classification ? static_cast<double>(correct) / static_cast<double>(stats.examples) : NAN;
    stats.metrics["loss"] = stats.loss;
    for (const auto &[key, value] : compute_metrics(metrics_)) stats.metrics[key] = value;
    return stats;
}

}  // namespace strata
