// Trainer::save_checkpoint and Trainer::resume: the trainer's whole state in a checkpoint's
// "trainer.*" metadata, so a run killed at any step continues bit for bit.
#include "frontend/train/callbacks.h"
#include "frontend/train/checkpoint.h"
#include "frontend/train/trainer.h"

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

void Trainer::save_checkpoint(const std::string &path, const std::map<std::string, std::string> &metadata) const {
    CheckpointInfo info;
    info.step = optimizer_.step_count();
    info.run_count = step_ ? step_->run_count() : std::max<int64_t>(pending_run_count_, 0);
    for (const auto &[key, value] : metadata) {
        if (key.rfind(kPrefix, 0) == 0)
            fail("Trainer::save_checkpoint: metadata key '{}' is reserved ('trainer.*' is the trainer's state)", key);
        info.metadata[key] = value;
    }
    for (const auto &[key, value] : state_metadata()) info.metadata[key] = value;
    strata::save_checkpoint(path, model_, &optimizer_, info);
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
    const int64_t skipped = ck.info.metadata.count(std::string(kPrefix) + "skipped") ? saved.number<int64_t>("skipped") : 0;
    const int64_t scheduler_epoch = scheduler_ ? saved.number<int64_t>("scheduler") : 0;
    std::vector<std::vector<double>> metric_sums;
    for (size_t i = 0; i < metrics_.size(); ++i) metric_sums.push_back(saved.numbers(fmt::format("metric.{}.sums", i)));

    // Metrics and callbacks first (each can refuse its state), the tensors last: load_checkpoint
    // checks everything before it changes anything. On any failure the trainer is as it was.
    std::vector<std::vector<double>> old_metric_sums;
    std::vector<std::string> old_callback_states;
    for (const auto &m : metrics_) old_metric_sums.push_back(m->state());
    for (const auto &cb : callbacks_) old_callback_states.push_back(cb->state());
    try {
        for (size_t i = 0; i < metrics_.size(); ++i) metrics_[i]->set_state(metric_sums[i]);
        for (size_t i = 0; i < callbacks_.size(); ++i) callbacks_[i]->set_state(saved.text(fmt::format("callback.{}", i)));
        load_checkpoint(path, model_, &optimizer_);
    } catch (...) {
        for (size_t i = 0; i < metrics_.size(); ++i) metrics_[i]->set_state(old_metric_sums[i]);
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
    skipped_examples_ = skipped;
    resumed_data_signature_ = data_it == ck.info.metadata.end() ? "" : data_it->second;
    resumed_path_ = path;
    if (step_)
        step_->set_run_count(ck.info.run_count);
    else
        pending_run_count_ = ck.info.run_count;
    resumed_ = true;
}

}  // namespace strata
