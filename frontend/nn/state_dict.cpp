#include "frontend/nn/state_dict.h"

#include "frontend/nn/normalization.h"

#include <strata/error.h>

#include <set>
#include <unordered_map>

namespace strata::nn {

namespace {

constexpr const char *batch_counter = "num_batches_tracked";

/// The num_batches_tracked of `module` when it is a batch norm that tracks running statistics.
Tensor batch_counter_of(const Module &module) {
    if (const auto *bn = dynamic_cast<const BatchNorm1dImpl *>(&module)) return bn->num_batches_tracked;
    if (const auto *bn = dynamic_cast<const BatchNorm2dImpl *>(&module)) return bn->num_batches_tracked;
    return {};
}

/// Each batch norm's num_batches_tracked by its PyTorch key ("features.1.num_batches_tracked").
NamedTensors batch_counters(const Module &module) {
    NamedTensors out;
    if (Tensor t = batch_counter_of(module); t.defined()) out.emplace_back(batch_counter, t);
    for (const auto &[path, child] : module.named_modules())
        if (Tensor t = batch_counter_of(*child); t.defined()) out.emplace_back(path + "." + batch_counter, t);
    return out;
}

bool is_batch_counter(const std::string &key) {
    const std::string suffix = batch_counter;
    return key == suffix || (key.size() > suffix.size() && key.compare(key.size() - suffix.size() - 1,
                                                                        std::string::npos, "." + suffix) == 0);
}

/// '"a", "b"', as PyTorch lists keys.
std::string quoted(const std::vector<std::string> &keys) {
    std::string out;
    for (const std::string &k : keys) out += (out.empty() ? "\"" : ", \"") + k + "\"";
    return out;
}

}  // namespace

NamedTensors state_dict(const Module &module) {
    NamedTensors out;
    for (const auto &[name, t] : module.named_parameters()) out.emplace_back(name, t);
    for (const auto &[name, t] : module.named_buffers()) out.emplace_back(name, t);
    for (auto &named : batch_counters(module)) out.push_back(std::move(named));
    return out;
}

IncompatibleKeys load_state_dict(Module &module, const std::string &path, const LoadStateDictOptions &options) {
    const SafetensorsHeader header = read_safetensors_header(path);
    std::unordered_map<std::string, const SafetensorsEntry *> in_file;
    for (const SafetensorsEntry &e : header.entries) in_file[e.name] = &e;

    // Match every key first: nothing changes in the module unless all of the load succeeds.
    const NamedTensors own = state_dict(module);
    std::unordered_map<std::string, Tensor> targets;
    IncompatibleKeys result;
    std::vector<std::string> size_mismatches;
    for (const auto &[name, t] : own) {
        targets[name] = t;
        const auto found = in_file.find(name);
        if (found == in_file.end()) {
            if (!is_batch_counter(name)) result.missing_keys.push_back(name);
            continue;
        }
        if (found->second->shape != t.shape())
            size_mismatches.push_back(fmt::format("size mismatch for {}: copying a param with shape {} from "
                                                  "checkpoint, the shape in current model is {}.",
                                                  name, shape_str(found->second->shape), shape_str(t.shape())));
    }
    for (const SafetensorsEntry &e : header.entries)
        if (!targets.count(e.name)) result.unexpected_keys.push_back(e.name);

    std::vector<std::string> errors;
    if (options.strict && !result.missing_keys.empty())
        errors.push_back(fmt::format("Missing key(s) in state_dict: {}.", quoted(result.missing_keys)));
    if (options.strict && !result.unexpected_keys.empty())
        errors.push_back(fmt::format("Unexpected key(s) in state_dict: {}.", quoted(result.unexpected_keys)));
    errors.insert(errors.end(), size_mismatches.begin(), size_mismatches.end());
    if (!errors.empty())
        fail("{}: Error(s) in loading state_dict for {}:\n\t{}", path, module.name(), fmt::join(errors, "\n\t"));

    // Read the matched tensors in the module's dtypes (checked), then copy them all.
    ConversionOptions conversion;
    conversion.allow_rounding = options.allow_rounding;
    const SafetensorsFile file = read_safetensors(
        path,
        [&](const SafetensorsEntry &e) -> std::optional<DType> {
            const auto target = targets.find(e.name);
            if (target == targets.end()) return std::nullopt;
            return target->second.dtype();
        },
        conversion);
    for (const auto &[name, value] : file.tensors) targets.at(name).copy_from(value);
    return result;
}

void save_state_dict(const Module &module, const std::string &path) {
    std::map<std::string, StoredDType> stored_as;
    for (const auto &named : batch_counters(module)) stored_as[named.first] = StoredDType::i64;  // torch.long
    save_safetensors(path, state_dict(module), {{"format", "pt"}}, stored_as);
}

}  // namespace strata::nn
