#include "frontend/train/callbacks.h"

#include <charconv>
#include <cmath>
#include <sstream>

namespace strata {

double monitored_value(const EpochStats &stats, const std::string &key, const char *who) {
    auto it = stats.metrics.find(key);
    if (it == stats.metrics.end()) {
        std::string keys;
        for (const auto &[name, value] : stats.metrics) keys += (keys.empty() ? "" : ", ") + name;
        fail("{}: no metric '{}' after epoch {} (there are: {}; validation metrics need a validation set)", who, key,
             stats.epoch + 1, keys.empty() ? std::string("none") : keys);
    }
    return it->second;
}

namespace {
double worst(Mode mode) {
    return mode == Mode::min ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
}
/// Better than `best` by more than `min_delta`; NaN never is.
bool improves(double value, double best, double min_delta, Mode mode) {
    return mode == Mode::min ? value < best - min_delta : value > best + min_delta;
}
/// "<number> <number> ...": doubles written so that they read back exactly.
std::string join_numbers(std::initializer_list<double> values) {
    std::string out;
    for (double v : values) out += fmt::format("{}{}", out.empty() ? "" : " ", v);
    return out;
}
std::vector<double> split_numbers(const std::string &text, size_t count, const char *who) {
    std::vector<double> out;
    std::istringstream in(text);
    for (std::string word; in >> word;) {
        double v = 0;
        if (word == "inf" || word == "-inf") {
            v = word[0] == '-' ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
        } else {
            const auto r = std::from_chars(word.data(), word.data() + word.size(), v);
            if (r.ec != std::errc() || r.ptr != word.data() + word.size())
                fail("{}: saved state '{}' is not {} numbers", who, text, count);
        }
        out.push_back(v);
    }
    if (out.size() != count) fail("{}: saved state '{}' is not {} numbers", who, text, count);
    return out;
}
void check_monitor(const std::string &monitor, const char *who) {
    if (monitor.empty()) fail("{}: the monitored metric's name is empty (e.g. \"val_loss\")", who);
}
}  // namespace

EarlyStopping::EarlyStopping(std::string monitor, int64_t patience, double min_delta, Mode mode)
    : monitor_(std::move(monitor)), patience_(patience), min_delta_(min_delta), mode_(mode), best_(worst(mode)) {
    check_monitor(monitor_, "EarlyStopping");
    if (patience < 1) fail("EarlyStopping: patience must be at least 1 epoch, got {}", patience);
    if (!(min_delta >= 0) || !std::isfinite(min_delta))
        fail("EarlyStopping: min_delta must be a finite number >= 0, got {}", min_delta);
}

void EarlyStopping::on_epoch_end(Trainer &trainer, const EpochStats &stats) {
    const double value = monitored_value(stats, monitor_, "EarlyStopping");
    if (improves(value, best_, min_delta_, mode_)) {
        best_ = value;
        wait_ = 0;
        return;
    }
    if (++wait_ >= patience_) {
        stopped_epoch_ = stats.epoch;
        trainer.stop();
    }
}

std::string EarlyStopping::state() const {
    return join_numbers({best_, static_cast<double>(wait_), static_cast<double>(stopped_epoch_)});
}

void EarlyStopping::set_state(const std::string &state) {
    const std::vector<double> v = split_numbers(state, 3, "EarlyStopping");
    best_ = v[0];
    wait_ = static_cast<int64_t>(v[1]);
    stopped_epoch_ = static_cast<int64_t>(v[2]);
}

BestCheckpoint::BestCheckpoint(std::string path, std::string monitor, Mode mode)
    : path_(std::move(path)), monitor_(std::move(monitor)), mode_(mode), best_(worst(mode)) {
    if (path_.empty()) fail("BestCheckpoint: the checkpoint path is empty");
    check_monitor(monitor_, "BestCheckpoint");
}

void BestCheckpoint::on_epoch_end(Trainer &trainer, const EpochStats &stats) {
    const double value = monitored_value(stats, monitor_, "BestCheckpoint");
    if (!improves(value, best_, 0.0, mode_)) return;
    best_ = value;
    best_epoch_ = stats.epoch;
    // Saved with the new best already in this callback's state: resuming from it keeps it.
    trainer.save_checkpoint(path_, {{"best.monitor", monitor_},
                                    {"best.value", fmt::format("{}", value)},
                                    {"best.epoch", std::to_string(stats.epoch)}});
}

std::string BestCheckpoint::state() const { return join_numbers({best_, static_cast<double>(best_epoch_)}); }

void BestCheckpoint::set_state(const std::string &state) {
    const std::vector<double> v = split_numbers(state, 2, "BestCheckpoint");
    best_ = v[0];
    best_epoch_ = static_cast<int64_t>(v[1]);
}

}  // namespace strata
