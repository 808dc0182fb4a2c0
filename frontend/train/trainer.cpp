#include "frontend/train/trainer.h"

#include "frontend/functional.h"
#include "frontend/train/callbacks.h"
#include "frontend/train/registration_check.h"
#include "runtime/data/tensor_dataset.h"
#include "runtime/progress.h"

#include <strata/stopwatch.h>

#include <algorithm>
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

/// A named data set as a data::Dataset (the tensors shared, not copied): example i is row i of
/// every input and target. Streamed with 0 workers, it gives the batches the in-memory loader
/// (frontend/train/data_loader.h) always gave, in the same order.
data::DatasetPtr as_dataset(const NamedDataset &data, const char *name) {
    data.check();
    data::Example tensors = data.inputs;
    for (const auto &[key, t] : data.targets) tensors[key] = t;
    return std::make_shared<data::TensorDataset>(std::move(tensors), name);
}

StreamOptions stream_of(const NamedDataset &data) {
    StreamOptions stream;
    for (const auto &[name, t] : data.inputs) stream.inputs.push_back(name);
    return stream;
}

/// "'a', 'b'", for messages.
template <typename Map> std::string names_of(const Map &map) {
    std::string out;
    for (const auto &[name, value] : map) out += (out.empty() ? "'" : ", '") + name + "'";
    return out.empty() ? std::string("none") : out;
}

/// Feeds one batch to every metric: the model output it reads and its target.
void update_metrics(const std::vector<std::shared_ptr<metrics::Metric>> &all, const TensorMap &outputs,
                    const TensorMap &batch) {
    for (const auto &m : all) {
        auto out = outputs.find(m->output_name());
        if (out == outputs.end()) {
            fail("metric {} reads the model output '{}', but the model's outputs are {}", m->kind(), m->output_name(),
                 names_of(outputs));
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

}  // namespace

Trainer::Trainer(nn::Module &model, optim::Optimizer &optimizer, TrainStep::LossFn loss, TrainerOptions options)
    : Trainer(model, optimizer, std::move(loss), std::move(options), std::make_unique<LocalStepEngine>()) {}

Trainer::Trainer(nn::Module &model, optim::Optimizer &optimizer, ForwardFn forward, MultiLossFn loss,
                 TrainerOptions options)
    : Trainer(model, optimizer, std::move(forward), std::move(loss), std::move(options),
              std::make_unique<LocalStepEngine>()) {}

Trainer::Trainer(nn::Module &model, optim::Optimizer &optimizer, TrainStep::LossFn loss, TrainerOptions options,
                 std::unique_ptr<StepEngine> engine)
    : Trainer(model, optimizer, single_input_forward(model), single_output_loss(std::move(loss)), std::move(options),
              std::move(engine)) {
    single_input_ = true;
}

Trainer::Trainer(nn::Module &model, optim::Optimizer &optimizer, ForwardFn forward, MultiLossFn loss,
                 TrainerOptions options, std::unique_ptr<StepEngine> engine)
    : model_(model), optimizer_(optimizer), forward_(std::move(forward)), loss_(std::move(loss)),
      options_(std::move(options)), engine_(std::move(engine)) {
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
    return fit(as_dataset(train, "training set"), stream_of(train), fit_options,
               validation ? as_dataset(*validation, "validation set") : nullptr);
}

std::vector<EpochStats> Trainer::fit(data::DatasetPtr train, const StreamOptions &stream, data::DatasetPtr validation) {
    return fit(std::move(train), stream, FitOptions{}, std::move(validation));
}

std::vector<EpochStats> Trainer::fit(data::DatasetPtr train, const StreamOptions &stream, const FitOptions &fit_options,
                                     data::DatasetPtr validation) {
    if (!fit_options.resume.empty()) resume(fit_options.resume);
    if (!train) fail("Trainer::fit: the training data set is null");
    data::DataLoader train_loader(train, loader_options(stream, true));
    use_fields(stream, train_loader.example_layout(), "training set");
    std::string transforms;
    for (const auto &t : stream.transforms) transforms += (transforms.empty() ? "" : ", ") + t->describe();
    // A job's ranks read one order together, whatever their number: its checkpoint resumes on any.
    const std::string shard = engine_->is_job() ? std::string("shared out across the job's ranks")
                                  : fmt::format("rank {} of {}", stream.rank, stream.world_size);
    data_signature_ = fmt::format("{} examples {}, {}, transforms [{}]{}", train->size(),
                                  data::layout_str(train_loader.example_layout()), shard, transforms,
                                  stream.skip_corrupt ? ", skip_corrupt" : "");
    if (!resumed_data_signature_.empty() && resumed_data_signature_ != data_signature_)
        fail("{}: the checkpoint's run read {}; this fit reads {}: resuming would not continue that run",
             resumed_path_, resumed_data_signature_, data_signature_);
    resumed_data_signature_.clear();
    std::unique_ptr<data::DataLoader> validation_loader;
    if (validation) {
        validation_loader = std::make_unique<data::DataLoader>(validation, loader_options(stream, false));
        const std::string train_target = stream_target_;
        use_fields(stream, validation_loader->example_layout(), "validation set");
        if (stream_target_ != train_target)
            fail("Trainer: the validation set's target field is '{}', the training set's is '{}'", stream_target_,
                 train_target);
    }
    std::function<EvalStats()> validate;
    if (validation_loader) validate = [&] { return evaluate_loader(*validation_loader); };
    return fit_loader(train_loader, validate);
}

data::LoaderOptions Trainer::loader_options(const StreamOptions &stream, bool training) const {
    const bool job = engine_->is_job();
    if (job && (stream.rank != 0 || stream.world_size != 1))
        fail("DistributedTrainer: StreamOptions::rank and world_size are for a Trainer reading its own shard; a "
             "DistributedTrainer shards by its process group (rank {} of {}): leave them at 0 and 1",
             engine_->rank(), engine_->world_size());
    data::LoaderOptions o;
    // A job's ranks each read their part of every global batch (positions rank, rank + ranks, ...
    // of its examples), so together they read the batches one process would; they evaluate
    // their own parts of the set too.
    o.batch_size = process_batch();
    o.shuffle = training && options_.shuffle;
    o.seed = options_.seed;
    o.drop_last = training;  // the compiled step has one batch size; evaluation compiles the rest
    o.rank = job ? engine_->rank() : training ? stream.rank : 0;
    o.world_size = job ? engine_->world_size() : training ? stream.world_size : 1;
    o.num_workers = stream.num_workers;
    o.prefetch_factor = stream.prefetch_factor;
    o.transforms = training ? stream.transforms : stream.validation_transforms;
    o.skip_corrupt = stream.skip_corrupt;
    o.max_consecutive_corrupt = stream.max_consecutive_corrupt;
    return o;
}

void Trainer::use_fields(const StreamOptions &stream, const data::ExampleLayout &layout, const char *what) {
    for (const std::string &name : stream.inputs)
        if (!layout.count(name))
            fail("Trainer: the {} has no field '{}' (StreamOptions::inputs); its examples are {}", what, name,
                 data::layout_str(layout));
    if (!single_input_) {
        if (stream.inputs.empty())
            fail("Trainer: StreamOptions::inputs must name the fields the model reads (the {}'s examples are {})",
                 what, data::layout_str(layout));
        input_names_ = stream.inputs;
        return;
    }
    if (stream.inputs.size() > 1)
        fail("Trainer: a single-input trainer reads one field, but StreamOptions::inputs names {}",
             stream.inputs.size());
    const std::string input = stream.inputs.empty() ? kInputName : stream.inputs.front();
    if (!layout.count(input))
        fail("Trainer: the {} has no field '{}' (StreamOptions::inputs); its examples are {}", what, input,
             data::layout_str(layout));
    if (layout.size() != 2)
        fail("Trainer: a single-input trainer needs examples of two fields, its input '{}' and a target; the {}'s "
             "examples are {}",
             input, what, data::layout_str(layout));
    stream_input_ = input;
    stream_target_ = layout.begin()->first == input ? std::next(layout.begin())->first : layout.begin()->first;
    input_names_ = {kInputName};
}

bool Trainer::is_input(const std::string &name) const {
    return std::find(input_names_.begin(), input_names_.end(), name) != input_names_.end();
}

TensorMap Trainer::step_batch(data::Example batch) const {
    if (!single_input_) return batch;
    return {{kInputName, std::move(batch.at(stream_input_))}, {kTargetName, std::move(batch.at(stream_target_))}};
}

void Trainer::build_step(const data::ExampleLayout &layout) {
    TensorSpecs inputs, targets;
    for (const auto &[field, spec] : layout) {
        const std::string name = !single_input_ ? field : field == stream_input_ ? kInputName : kTargetName;
        Shape shape{process_batch()};
        shape.insert(shape.end(), spec.shape.begin(), spec.shape.end());
        (is_input(name) ? inputs : targets)[name] = {shape, spec.dtype};
    }
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
    engine_->build(model_, optimizer_, inputs, targets, forward_, loss_, step_options);
    compile_seconds_ += seconds_since(start);
    if (pending_run_count_ >= 0) engine_->set_run_count(pending_run_count_);
    pending_run_count_ = -1;
}

std::vector<EpochStats> Trainer::fit_loader(data::DataLoader &train, const std::function<EvalStats()> &validate) {
    const int64_t batches = train.num_batches();
    if (!engine_->built()) build_step(train.example_layout());
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
        train.restore(epoch, batch_in_epoch_);  // the loader's position is the trainer's
        ProgressBar bar(fmt::format("epoch {}", epoch + 1), batches, options_.batch_size,
                        options_.progress && engine_->is_main());
        for (int64_t i = batch_in_epoch_; i < batches; ++i) {
            const int64_t skipped_before = train.skipped();
            TrainStep::Result r;
            TensorMap batch;
            try {
                r = engine_->step(
                    [&] {
                        std::optional<data::Example> next = train.next();
                        if (!next) fail("the data loader ended its epoch after {} batches", i);
                        batch = step_batch(std::move(*next));
                        return batch;
                    },
                    [&](const TensorMap &outputs) { update_metrics(metrics_, outputs, batch); });
            } catch (const Error &e) {
                engine_->rethrow(fmt::format("epoch {}, batch {} of {}: {}", epoch + 1, i + 1, batches, e.what()));
            }
            skipped_examples_ += train.skipped() - skipped_before;
            sums_.loss_sum += r.loss;
            sums_.correct += r.correct;
            sums_.seen += options_.batch_size;
            sums_.batches += 1;
            batch_in_epoch_ = i + 1;
            after_step(epoch, i, batches, r.loss);
            std::vector<std::pair<std::string, double>> shown = {
                {"loss", sums_.loss_sum / static_cast<double>(sums_.batches)}};
            if (engine_->counts_correct())
                shown.push_back({"acc", static_cast<double>(sums_.correct) / static_cast<double>(sums_.seen)});
            bar.update(i + 1, shown);
        }
        // The train values are taken before validation reuses the metric objects.
        const metrics::Values train_values = global_metrics();
        epoch_end_metric_state_.clear();
        epoch_end_callback_state_.clear();
        for (const auto &m : metrics_) epoch_end_metric_state_.push_back(m->state());
        for (const auto &cb : callbacks_) epoch_end_callback_state_.push_back(cb->state());
        in_epoch_end_ = true;
        EpochSums sums = sums_;
        if (!engine_->counts_correct()) sums.correct = -1;
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

metrics::Values Trainer::global_metrics() {
    if (engine_->world_size() == 1) return compute_metrics(metrics_);
    std::vector<double> sums;
    for (const auto &m : metrics_) sums.insert(sums.end(), m->state().begin(), m->state().end());
    engine_->sum(sums, "", "the training metrics");
    // Computed from the job's sums, then each process keeps its own (a checkpoint saves those).
    metrics::Values values;
    size_t at = 0;
    for (const auto &m : metrics_) {
        const std::vector<double> mine = m->state();
        m->set_state(std::vector<double>(sums.begin() + static_cast<ptrdiff_t>(at),
                                         sums.begin() + static_cast<ptrdiff_t>(at + mine.size())));
        for (auto &value : m->compute()) values.push_back(std::move(value));
        m->set_state(mine);
        at += mine.size();
    }
    return values;
}

EvalStats Trainer::evaluate(const Dataset &data) { return evaluate(as_named(data)); }

EvalStats Trainer::evaluate(const NamedDataset &data) { return evaluate(as_dataset(data, "evaluation set"), stream_of(data)); }

EvalStats Trainer::evaluate(data::DatasetPtr data, const StreamOptions &stream) {
    if (!data) fail("Trainer::evaluate: the data set is null");
    data::DataLoader loader(data, loader_options(stream, false));
    use_fields(stream, loader.example_layout(), "evaluation set");
    return evaluate_loader(loader);
}

EvalStats Trainer::evaluate_loader(data::DataLoader &loader) {
    const nn::TrainingModeScope evaluating(model_, false);
    // One compiled graph per distinct batch size (the full batches and the remainder).
    std::map<int64_t, CompiledGraph> graphs;
    std::vector<std::unique_ptr<Graph>> keep;
    std::vector<std::string> output_names;
    bool classification = false;
    auto graph_for = [&](const TensorMap &batch, int64_t n) -> CompiledGraph & {
        auto it = graphs.find(n);
        if (it != graphs.end()) return it->second;
        auto g = std::make_unique<Graph>();
        SymMap inputs, targets;
        for (const auto &[name, spec] : batch_specs(batch, n))
            (is_input(name) ? inputs : targets)[name] = g->input(name, spec.shape, spec.dtype);
        SymMap outputs;
        SymTensor loss;
        try {
            outputs = forward_(inputs);
            loss = loss_(outputs, targets);
        } catch (const std::out_of_range &e) {  // SymMap::at on a name the data set or model lacks
            fail("Trainer::evaluate: the forward or loss function asked for a name that is not there ({}); the data "
                 "set has inputs {}; targets {}",
                 e.what(), names_of(inputs), names_of(targets));
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
                         is_integer(t->second.dtype()) && t->second.dim() == 1;
        if (classification)
            g->output("correct",
                      sum(cast(eq(cast(argmax(out->second, 1), t->second.dtype()), t->second), DType::i32)));
        const auto start = std::chrono::steady_clock::now();
        CompiledGraph &compiled = graphs.emplace(n, g->compile(options_.compile)).first->second;
        compile_seconds_ += seconds_since(start);
        keep.push_back(std::move(g));
        return compiled;
    };
    loader.set_epoch(0);
    for (const auto &m : metrics_) m->reset();
    // Summed over the processes (each evaluates its part): the loss times the examples, the right
    // answers, the examples, whether the model is a classifier, then the metrics' sums.
    std::vector<double> sums(4, 0.0);
    std::string error;
    try {
        while (std::optional<data::Example> next = loader.next()) {
            const TensorMap batch = step_batch(std::move(*next));
            const int64_t n = batch.begin()->second.size(0);
            const auto out = graph_for(batch, n).run(batch);
            sums[0] += out.at("loss").item() * static_cast<double>(n);
            if (auto it = out.find("correct"); it != out.end()) sums[1] += it->second.item();
            if (!metrics_.empty()) {
                TensorMap model_outputs;
                for (const std::string &name : output_names) model_outputs[name] = out.at("output:" + name);
                update_metrics(metrics_, model_outputs, batch);
            }
            sums[2] += static_cast<double>(n);
        }
    } catch (const std::exception &e) {
        if (engine_->world_size() == 1) throw;
        error = *e.what() ? e.what() : "unknown error";
    }
    sums[3] = classification ? 1 : 0;
    for (const auto &m : metrics_) sums.insert(sums.end(), m->state().begin(), m->state().end());
    engine_->sum(sums, error, "evaluation");
    size_t at = 4;
    for (const auto &m : metrics_) {
        const size_t n = m->state().size();
        m->set_state(std::vector<double>(sums.begin() + static_cast<ptrdiff_t>(at),
                                         sums.begin() + static_cast<ptrdiff_t>(at + n)));
        at += n;
    }
    EvalStats stats;
    stats.examples = std::llround(sums[2]);
    stats.loss = sums[0] / sums[2];
    stats.accuracy = sums[3] > 0 ? sums[1] / sums[2] : NAN;
    stats.metrics["loss"] = stats.loss;
    for (const auto &[key, value] : compute_metrics(metrics_)) stats.metrics[key] = value;
    return stats;
}

}  // namespace strata
