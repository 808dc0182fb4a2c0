#include "frontend/train/checkpoint.h"

#include "runtime/random.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <set>
#include <sstream>
#include <unordered_map>
#include <vector>

namespace strata {

namespace {

constexpr const char *layout_version = "1";
constexpr const char *optim_prefix = "optim.";

bool is_reserved_key(const std::string &key) { return key == "format" || key.rfind("strata.", 0) == 0; }

std::string encode_rng(const Generator::State &s) {
    uint64_t spare_bits;
    std::memcpy(&spare_bits, &s.spare, sizeof spare_bits);
    return fmt::format("xoshiro256** {:016x} {:016x} {:016x} {:016x} {} {:016x}", s.words[0], s.words[1],
                       s.words[2], s.words[3], s.has_spare ? 1 : 0, spare_bits);
}

/// The metadata entry `key`; a Strata checkpoint always has it.
const std::string &required(const std::string &path, const SafetensorsFile &file, const std::string &key) {
    auto it = file.metadata.find(key);
    if (it == file.metadata.end())
        fail("{}: not a complete Strata checkpoint: the metadata has no '{}'", path, key);
    return it->second;
}

template <typename T>
T parse_number(const std::string &path, const std::string &key, const std::string &text, int base = 10) {
    T value{};
    const char *end = text.data() + text.size();
    std::from_chars_result r;
    if constexpr (std::is_floating_point_v<T>)
        r = std::from_chars(text.data(), end, value);
    else
        r = std::from_chars(text.data(), end, value, base);
    if (text.empty() || r.ec != std::errc() || r.ptr != end)
        fail("{}: metadata '{}' is '{}', not a number", path, key, text);
    return value;
}

Generator::State decode_rng(const std::string &path, const std::string &text) {
    std::istringstream in(text);
    std::string name, word[4], spare_flag, spare;
    in >> name >> word[0] >> word[1] >> word[2] >> word[3] >> spare_flag >> spare;
    std::string rest;
    if (!in || name != "xoshiro256**" || (spare_flag != "0" && spare_flag != "1") || (in >> rest))
        fail("{}: metadata 'strata.rng' is '{}', not a generator state (\"xoshiro256** <4 words> <0|1> "
             "<spare>\")",
             path, text);
    Generator::State s{};
    for (int i = 0; i < 4; ++i) s.words[i] = parse_number<uint64_t>(path, "strata.rng", word[i], 16);
    s.has_spare = spare_flag == "1";
    const uint64_t spare_bits = parse_number<uint64_t>(path, "strata.rng", spare, 16);
    std::memcpy(&s.spare, &spare_bits, sizeof spare_bits);
    return s;
}

/// "[3, 64] (f32)", for messages.
std::string describe(const Tensor &t) {
    return fmt::format("{} ({})", shape_str(t.shape()), dtype_name(t.dtype()));
}

bool same_type(const Tensor &a, const Tensor &b) { return a.shape() == b.shape() && a.dtype() == b.dtype(); }

/// A weight or state that is NaN or infinite makes every prediction NaN (and argmax picks
/// class 0): refused, naming the tensor and the element.
void check_finite(const std::string &path, const std::string &name, const Tensor &t) {
    if (t.dtype() != DType::f32 && t.dtype() != DType::f64) return;
    const Tensor c = t.contiguous();
    const int64_t n = c.numel();
    for (int64_t i = 0; i < n; ++i) {
        const double v = c.dtype() == DType::f32 ? static_cast<double>(c.data<float>()[i]) : c.data<double>()[i];
        if (!std::isfinite(v))
            fail("{}: tensor '{}' {} holds {} at flat index {}; a checkpoint's weights and state must be finite (was "
                 "it saved after training diverged?)",
                 path, name, describe(c), v, i);
    }
}

}  // namespace

void save_checkpoint(const std::string &path, const nn::Module &model, const optim::Optimizer *optimizer,
                     const CheckpointInfo &info) {
    NamedTensors tensors;
    const auto params = model.named_parameters(), buffers = model.named_buffers();
    for (const auto &[name, t] : params.items()) tensors.emplace_back(name, t);
    for (const auto &[name, t] : buffers.items()) tensors.emplace_back(name, t);
    std::map<std::string, std::string> metadata;
    for (const auto &[key, value] : info.metadata) {
        if (is_reserved_key(key))
            fail("{}: metadata key '{}' is reserved (\"format\" and \"strata.*\" are written by "
                 "save_checkpoint)",
                 path, key);
        metadata[key] = value;
    }
    if (optimizer) {
        for (const auto &[key, t] : optimizer->state()) tensors.emplace_back(optim_prefix + key, t);
        metadata["strata.optim.step"] = std::to_string(optimizer->step_count());
        // fmt prints the shortest text that reads back as the same double.
        metadata["strata.optim.lr"] = fmt::format("{}", optimizer->lr());
        if (optimizer->has_initial_lr())
            metadata["strata.optim.initial_lr"] = fmt::format("{}", optimizer->initial_lr());
    }
    metadata["format"] = "pt";
    metadata["strata.checkpoint"] = layout_version;
    metadata["strata.step"] = std::to_string(info.step);
    metadata["strata.run_count"] = std::to_string(info.run_count);
    metadata["strata.rng"] = encode_rng(default_generator().state());
    if (!info.ir.empty()) metadata["strata.ir"] = info.ir;
    if (!info.schedule.empty()) metadata["strata.schedule"] = info.schedule;
    metadata["strata.checksum"] = fmt::format("crc32:{:08x}", safetensors_data_crc32(tensors));
    save_safetensors(path, tensors, metadata);
}

Checkpoint read_checkpoint(const std::string &path) {
    Checkpoint ck;
    ck.file = read_safetensors(path);
    const SafetensorsFile &f = ck.file;
    const std::string &version = required(path, f, "strata.checkpoint");
    if (version != layout_version)
        fail("{}: checkpoint layout version '{}' is not one this Strata reads ('{}')", path, version,
             layout_version);
    const std::string &checksum = required(path, f, "strata.checksum");
    const std::string actual = fmt::format("crc32:{:08x}", f.data_crc32);
    if (checksum != actual)
        fail("{}: checksum mismatch: the metadata says {}, the tensor data hashes to {} (the file is "
             "corrupt)",
             path, checksum, actual);
    for (const auto &[name, t] : f.tensors) check_finite(path, name, t);

    ck.info.step = parse_number<int64_t>(path, "strata.step", required(path, f, "strata.step"));
    ck.info.run_count =
        parse_number<int64_t>(path, "strata.run_count", required(path, f, "strata.run_count"));
    ck.rng = decode_rng(path, required(path, f, "strata.rng"));
    for (const auto &[key, value] : f.metadata) {
        if (key == "strata.ir")
            ck.info.ir = value;
        else if (key == "strata.schedule")
            ck.info.schedule = value;
        else if (!is_reserved_key(key))
            ck.info.metadata[key] = value;
    }
    if (f.metadata.count("strata.optim.step")) {
        Checkpoint::OptimizerInfo o;
        o.step_count = parse_number<int64_t>(path, "strata.optim.step", f.metadata.at("strata.optim.step"));
        o.lr = parse_number<double>(path, "strata.optim.lr", required(path, f, "strata.optim.lr"));
        if (auto it = f.metadata.find("strata.optim.initial_lr"); it != f.metadata.end())
            o.initial_lr = parse_number<double>(path, "strata.optim.initial_lr", it->second);
        ck.optimizer = o;
    }
    return ck;
}

CheckpointInfo load_checkpoint(const std::string &path, nn::Module &model, optim::Optimizer *optimizer) {
    const Checkpoint ck = read_checkpoint(path);
    std::unordered_map<std::string, const Tensor *> saved;
    for (const auto &[name, t] : ck.file.tensors) saved[name] = &t;

    // First every check, collecting the copies; nothing changes until all pass.
    std::vector<std::pair<Tensor, const Tensor *>> copies;
    std::set<std::string> matched;
    const auto params = model.named_parameters(), buffers = model.named_buffers();
    auto match = [&](const std::string &name, const Tensor &target, const char *kind) {
        auto it = saved.find(name);
        if (it == saved.end())
            fail("{}: the model's {} '{}' {} is not in the checkpoint", path, kind, name, describe(target));
        if (!same_type(*it->second, target))
            fail("{}: {} '{}' is {} in the checkpoint but {} in the model", path, kind, name,
                 describe(*it->second), describe(target));
        copies.emplace_back(target, it->second);
        matched.insert(name);
    };
    for (const auto &[name, t] : params.items()) match(name, t, "parameter");
    for (const auto &[name, t] : buffers.items()) match(name, t, "buffer");

    std::vector<std::pair<std::string, const Tensor *>> optimizer_state;  // key without "optim."
    for (const auto &[name, t] : ck.file.tensors) {
        if (matched.count(name)) continue;
        if (name.rfind(optim_prefix, 0) != 0)
            fail("{}: unexpected tensor '{}' {} in the checkpoint: the model has no parameter or buffer "
                 "of that name",
                 path, name, describe(t));
        if (!optimizer) continue;  // weights only
        // "optim.<parameter>.<slot>": slots have no dots, parameter paths may.
        const std::string key = name.substr(std::strlen(optim_prefix));
        const std::string param = key.substr(0, key.rfind('.') == std::string::npos ? 0 : key.rfind('.'));
        const Tensor *p = params.find(param);
        if (!p)
            fail("{}: optimizer state '{}' {} belongs to no parameter of the model", path, name, describe(t));
        if (!same_type(t, *p))
            fail("{}: optimizer state '{}' is {} in the checkpoint but parameter '{}' is {} in the model",
                 path, name, describe(t), param, describe(*p));
        optimizer_state.emplace_back(key, &t);
    }
    if (optimizer) {
        if (!ck.optimizer)
            fail("{}: the checkpoint has no optimizer state (it was saved without an optimizer)", path);
        // A built optimizer knows its slots: they must be exactly the saved ones.
        const auto &state = optimizer->state();
        if (!state.empty()) {
            for (const auto &[key, t] : optimizer_state)
                if (!state.count(key))
                    fail("{}: optimizer state 'optim.{}' {} in the checkpoint is not a slot of this "
                         "optimizer (saved with a different optimizer?)",
                         path, key, describe(*t));
            for (const auto &[key, t] : state)
                if (!saved.count(optim_prefix + key))
                    fail("{}: the optimizer's state 'optim.{}' {} is not in the checkpoint (saved with a "
                         "different optimizer?)",
                         path, key, describe(t));
        }
    }

    // All checked: apply.
    for (auto &[target, source] : copies) target.copy_from(*source);
    if (optimizer) {
        for (const auto &[key, t] : optimizer_state) optimizer->restore_state(key, *t);
        optimizer->set_step_count(ck.optimizer->step_count);
        optimizer->set_lr(ck.optimizer->lr);
        if (ck.optimizer->initial_lr) optimizer->set_initial_lr(*ck.optimizer->initial_lr);
    }
    default_generator().set_state(ck.rng);
    return ck.info;
}

}  // namespace strata
