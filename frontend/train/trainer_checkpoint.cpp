// Trainer::save_checkpoint and Trainer::resume: the trainer's whole state in a checkpoint's
// "trainer.*" metadata, so a run killed at any step continues bit for bit.
#include "frontend/train/callbacks.h"
#include "frontend/train/checkpoint.h"
#include "frontend/train/trainer.h"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace strata {

namespace {

constexpr const char *kPrefix = "trainer.";

std::string numbers_text(const std::vector<double> &values) {
    std::string out;
    for (double v : values) out += fmt::format("{}{}", out.empty() ? "" : " ", v);  // shortest exact form
    return out;
}

/// The metadata of a checkpoint being resumed, read with messages naming the file and key.
struct SavedState {
    const std::string &path;
    const std::map<std::string, std::string> &metadata;

    const std::string &text(const std::string &key) const {
        auto it = metadata.find(kPrefix + key);
        if (it == metadata.end())
            fail("{}: not a Trainer checkpoint: its metadata has no '{}{}' (saved by Trainer::save_checkpoint?)", path,
                 kPrefix, key);
        return it->second;
    }
    template <typename T> T number(const std::string &key) const {
        const std::string &s = text(key);
        T value{};
        const auto r = std::from_chars(s.data(), s.data() + s.size(), value);
        if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size())
            fail("{}: metadata '{}{}' is '{}', not a number", path, kPrefix, key, s);
        return value;
    }
    std::vector<double> numbers(const std::string &key) const {
        std::vector<double> out;
        std::istringstream in(text(key));
        for (std::string word; in >> word;) {
            double v = 0;
            const auto r = std::from_chars(word.data(), word.data() + word.size(), v);
            if (r.ec != std::errc() || r.ptr != word.data() + word.size())
                fail("{}: metadata '{}{}' holds '{}', not a number", path, kPrefix, key, word);
            out.push_back(v);
        }
        return out;
    }
    /// The saved value of a setting must equal this trainer's.
    void expect(const std::string &key, const std::string &mine, const char *what) const {
        if (text(key) != mine)
            fail("{}: the checkpoint's run had {} {}, this trainer has {}: resuming would not continue that run", path,
                 what, text(key), mine);
    }
};

std::string metric_signature(const metrics::Metric &m) {
    return fmt::format("{}({} -> {})", m.kind(), m.output_name(), m.target_name());
}

}  // namespace

std::map<std::string, std::string> Trainer::state_metadata() const {
    std::map<std::string, std::string> m;
    auto put = [&](const std::string &key, const std::string &value) { m[kPrefix + key] = value; };
    put("epoch", std::to_string(epochs_done_));
    put("batch", std::to_string(batch_in_epoch_));
    put("loss_sum", fmt::format("{}", sums_.loss_sum));
    put("batches", std::to_string(sums_.batches));
    put("correct", std::to_string(sums_.correct));
    put("seen", std::to_string(sums_.seen));
    put("batch_size", std::to_string(options_.batch_size));
    put("seed", std::to_string(options_.seed));
    put("shuffle", options_.shuffle ? "1" : "0");
    put("scheduler", scheduler_ ? std::to_string(scheduler_->last_epoch()) : "none");
    if (!data_signature_.empty()) put("data", data_signature_);  // the loader's position is (epoch, batch)
    put("skipped", std::to_string(skipped_examples_));
    put("metrics", std::to_string(metrics_.size()));
    for (size_t i = 0; i < metrics_.size(); ++i) {
        put(fmt::format("metric.{}.kind", i), metric_signature(*metrics_[i]));
        put(fmt::format("metric.{}.sums", i),
            numbers_text(in_epoch_end_ ? epoch_end_metric_state_[i] : metrics_[i]->state()));
    }
    put("callbacks", std::to_string(callbacks_.size()));
    for (size_t i = 0; i < callbacks_.size(); ++i)
        put(fmt::format("callback.{}", i), in_epoch_end_ ? epoch_end_callback_state_[i] : callbacks_[i]->state());
    return m;
}

std::vector<double> Trainer::process_state() const {
    std::vector<double> state{static_cast<double>(skipped_examples_)};
    for (size_t i = 0; i < metrics_.size(); ++i) {
        const std::vector<double> &sums = in_epoch_end_ ? epoch_end_metric_state_[i] : metrics_[i]->state();
        state.insert(state.end(), sums.begin(), sums.end());
    }
    return state;
}

void Trainer::set_process_state(const std::vector<double> &state) {
    STRATA_ASSERT(state.size() == process_state().size(), "set_process_state: {} numbers", state.size());
    skipped_examples_ = static_cast<int64_t>(state.at(0));
    size_t at = 1;
    for (const auto &m : metrics_) {
        const size_t n = m->state().size();
        m->set_state(std::vector<double>(state.begin() + static_cast<ptrdiff_t>(at),
                                         state.begin() + static_cast<ptrdiff_t>(at + n)));
        at += n;
    }
}

void Trainer::save_checkpoint(const std::string &path, const std::map<std::string, std::string> &metadata) const {
    CheckpointInfo info;
    info.step = optimizer_.step_count();
    info.run_count = engine_->built() ? engine_->run_count() : std::max<int64_t>(pending_run_count_, 0);
    for (const auto &[key, value] : metadata) {
        if (key.rfind(kPrefix, 0) == 0)
            fail("Trainer::save_checkpoint: metadata key '{}' is reserved ('trainer.*' is the trainer's state)", key);
        info.metadata[key] = value;
    }
    for (const auto &[key, value] : state_metadata()) info.metadata[key] = value;
    if (!engine_->is_job()) {
        strata::save_checkpoint(path, model_, &optimizer_, info);
        return;
    }
    // A job: every rank calls this at the same point. Each rank's own counts are kept (a resume
    // on as many ranks continues each exactly) and their sums (a resume on another number, or
    // in one process); rank 0 writes the file.
    const std::vector<double> mine = process_state();
    const size_t n = mine.size(), ranks = static_cast<size_t>(engine_->world_size());
    std::vector<double> all(n * ranks, 0.0);
    std::copy(mine.begin(), mine.end(), all.begin() + static_cast<ptrdiff_t>(n * static_cast<size_t>(engine_->rank())));
    engine_->sum(all, "", fmt::format("saving checkpoint {}", path));
    std::vector<double> total(n, 0.0);
    info.metadata[std::string(kPrefix) + "ranks"] = std::to_string(ranks);
    for (size_t r = 0; r < ranks; ++r) {
        const std::vector<double> part(all.begin() + static_cast<ptrdiff_t>(r * n),
                                       all.begin() + static_cast<ptrdiff_t>((r + 1) * n));
        info.metadata[fmt::format("{}rank.{}", kPrefix, r)] = numbers_text(part);
        for (size_t k = 0; k < n; ++k) total[k] += part[k];
    }
    info.metadata[std::string(kPrefix) + "skipped"] = fmt::format("{}", static_cast<int64_t>(total[0]));
    size_t at = 1;
    for (size_t i = 0; i < metrics_.size(); ++i) {
        const size_t count = metrics_[i]->state().size();
        info.metadata[fmt::format("{}metric.{}.sums", kPrefix, i)] = numbers_text(
            std::vector<double>(total.begin() + static_cast<ptrdiff_t>(at), total.begin() + static_cast<ptrdiff_t>(at + count)));
        at += count;
    }
    std::string error;
    if (engine_->is_main()) {
        try {
            strata::save_checkpoint(path, model_, &optimizer_, info);
        } catch (const std::exception &e) {
            error = e.what();
        }
    }
    std::vector<double> none;
    engine_->sum(none, error, fmt::format("saving checkpoint {}", path));  // rank 0's failure stops every rank
}

void Trainer::resume(const std::string &path) {
    const Checkpoint ck = read_checkpoint(path);
    const SavedState saved{path, ck.info.metadata};
    // What the run was: it must be this run.
    saved.expect("batch_size", std::to_string(options_.batch_size), "batch size");
    saved.expect("seed", std::to_string(options_.seed), "shuffle seed");
    saved.expect("shuffle", options_.shuffle ? "1" : "0", "shuffle (1 on, 0 off)");
    if ((saved.text("scheduler") == "none") != (scheduler_ == nullptr))
        fail("{}: the checkpoint's run {} an LR scheduler, this trainer {}", path,
             scheduler_ ? "had no" : "had", scheduler_ ? "has one" : "has none");
    saved.expect("metrics", std::to_string(metrics_.size()), "number of metrics");
    for (size_t i = 0; i < metrics_.size(); ++i)
        saved.expect(fmt::format("metric.{}.kind", i), metric_signature(*metrics_[i]), fmt::format("metric {} as", i).c_str());
    saved.expect("callbacks", std::to_string(callbacks_.size()), "number of callbacks");

    // Where it stopped.
    const auto epoch = saved.number<int64_t>("epoch"), batch = saved.number<int64_t>("batch");
    EpochSums sums;
    sums.loss_sum = saved.number<double>("loss_sum");
    sums.batches = saved.number<int64_t>("batches");
    sums.correct = saved.number<int64_t>("correct");
    sums.seen = saved.number<int64_t>("seen");
    if (epoch < 0 || batch < 0 || sums.batches != batch)
        fail("{}: the saved position (epoch {}, batch {}, {} batches summed) is inconsistent", path, epoch, batch,
             sums.batches);
    // Checkpoints from before streaming have neither (then fit checks nothing about the data).
    const auto data_it = ck.info.metadata.find(std::string(kPrefix) + "data");
    const int64_t scheduler_epoch = scheduler_ ? saved.number<int64_t>("scheduler") : 0;
    // What this process counted: its own part when the job had as many ranks, else the whole
    // run's sums on rank 0 (alone: the only process) and nothing on the others.
    std::vector<double> state;
    const int64_t ranks = ck.info.metadata.count(std::string(kPrefix) + "ranks") ? saved.number<int64_t>("ranks") : 1;
    if (engine_->is_job() && ranks == engine_->world_size() && ranks > 1) {
        state = saved.numbers(fmt::format("rank.{}", engine_->rank()));
        if (state.size() != process_state().size())
            fail("{}: metadata '{}rank.{}' holds {} numbers, this trainer's metrics keep {}", path, kPrefix,
                 engine_->rank(), state.size(), process_state().size());
    } else {
        state = {ck.info.metadata.count(std::string(kPrefix) + "skipped") ? saved.number<double>("skipped") : 0.0};
        for (size_t i = 0; i < metrics_.size(); ++i) {
            std::vector<double> sums = saved.numbers(fmt::format("metric.{}.sums", i));
            if (sums.size() != metrics_[i]->state().size())
                fail("{}: {}: a saved state of {} sums does not fit this metric's {}", path, metrics_[i]->kind(),
                     sums.size(), metrics_[i]->state().size());
            if (!engine_->is_main()) sums.assign(sums.size(), 0.0);
            state.insert(state.end(), sums.begin(), sums.end());
        }
        if (!engine_->is_main()) state[0] = 0;
    }

    // Metrics and callbacks first (each can refuse its state), the tensors last: load_checkpoint
    // checks everything before it changes anything. On any failure the trainer is as it was.
    const std::vector<double> old_state = process_state();
    std::vector<std::string> old_callback_states;
    for (const auto &cb : callbacks_) old_callback_states.push_back(cb->state());
    try {
        set_process_state(state);
        for (size_t i = 0; i < callbacks_.size(); ++i) callbacks_[i]->set_state(saved.text(fmt::format("callback.{}", i)));
        load_checkpoint(path, model_, &optimizer_);
    } catch (...) {
        set_process_state(old_state);
        for (size_t i = 0; i < callbacks_.size(); ++i) callbacks_[i]->set_state(old_callback_states[i]);
        throw;
    }
    if (scheduler_) scheduler_->set_last_epoch(scheduler_epoch);
    // The checkpoint's learning rate is the one the run trained with (a schedule's closed form
    // gives the same; a callback may have set another).
    optimizer_.set_lr(ck.optimizer->lr);
    epochs_done_ = epoch;
    batch_in_epoch_ = batch;
    sums_ = sums;
    resumed_data_signature_ = data_it == ck.info.metadata.end() ? "" : data_it->second;
    resumed_path_ = path;
    if (engine_->built())
        engine_->set_run_count(ck.info.run_count);
    else
        pending_run_count_ = ck.info.run_count;
    resumed_ = true;
}

}  // namespace strata
