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

/// A module's state dict, and which of its keys are batch-norm counters.
struct ModuleState {
    NamedTensors tensors;
    std::set<std::string> counters;
};

/// Appends the state of `module` and its descendants as PyTorch's state_dict orders it: each
/// module's parameters, then its buffers (and a batch norm's counter), then its children. A module
/// or tensor shared by two paths is listed under both, as PyTorch does.
void collect_state(const Module &module, const std::string &prefix, ModuleState &out) {
    for (const auto &[name, t] : module.named_parameters(false)) out.tensors.emplace_back(prefix + name, t);
    for (const auto &[name, t] : module.named_buffers(false)) out.tensors.emplace_back(prefix + name, t);
    if (Tensor counter = batch_counter_of(module); counter.defined()) {
        out.tensors.emplace_back(prefix + batch_counter, counter);
        out.counters.insert(prefix + batch_counter);
    }
    for (const auto &[name, child] : module.named_children()) collect_state(*child, prefix + name + ".", out);
}

ModuleState module_state(const Module &module) {
    ModuleState state;
    collect_state(module, "", state);
    return state;
}

/// '"a", "b"', as PyTorch lists keys.
std::string quoted(const std::vector<std::string> &keys) {
    std::string out;
    for (const std::string &k : keys) out += (out.empty() ? "\"" : ", \"") + k + "\"";
    return out;
}

/// Matches the keys and shapes of a state dict (`entries`, from `source`: a file's path or "")
/// with the module's, PyTorch's way; throws with every problem at once, or fills `targets` (the
/// module's tensors by key) and returns the keys left unmatched.
IncompatibleKeys match_keys(const Module &module, const std::vector<std::pair<std::string, Shape>> &entries,
                            const std::string &source, const LoadStateDictOptions &options,
                            std::unordered_map<std::string, Tensor> &targets) {
    std::unordered_map<std::string, const Shape *> given;
    for (const auto &[name, shape] : entries) given[name] = &shape;
    IncompatibleKeys result;
    std::vector<std::string> size_mismatches;
    const ModuleState state = module_state(module);
    for (const auto &[name, t] : state.tensors) {
        targets[name] = t;
        const auto found = given.find(name);
        if (found == given.end()) {
            if (!state.counters.count(name)) result.missing_keys.push_back(name);
            continue;
        }
        if (*found->second != t.shape())
            size_mismatches.push_back(fmt::format("size mismatch for {}: copying a param with shape {} from "
                                                  "checkpoint, the shape in current model is {}.",
                                                  name, shape_str(*found->second), shape_str(t.shape())));
    }
    for (const auto &named : entries)
        if (!targets.count(named.first)) result.unexpected_keys.push_back(named.first);

    std::vector<std::string> errors;
    if (options.strict && !result.missing_keys.empty())
        errors.push_back(fmt::format("Missing key(s) in state_dict: {}.", quoted(result.missing_keys)));
    if (options.strict && !result.unexpected_keys.empty())
        errors.push_back(fmt::format("Unexpected key(s) in state_dict: {}.", quoted(result.unexpected_keys)));
    errors.insert(errors.end(), size_mismatches.begin(), size_mismatches.end());
    if (!errors.empty())
        fail("{}Error(s) in loading state_dict for {}:\n\t{}", source.empty() ? "" : source + ": ", module.name(),
             fmt::join(errors, "\n\t"));
    return result;
}

}  // namespace

NamedTensors state_dict(const Module &module) { return module_state(module).tensors; }

IncompatibleKeys load_state_dict(Module &module, const std::string &path, const LoadStateDictOptions &options) {
    std::vector<std::pair<std::string, Shape>> entries;
    for (const SafetensorsEntry &e : read_safetensors_header(path).entries) entries.emplace_back(e.name, e.shape);
    // Match every key first: nothing changes in the module unless all of the load succeeds.
    std::unordered_map<std::string, Tensor> targets;
    const IncompatibleKeys result = match_keys(module, entries, path, options, targets);

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

IncompatibleKeys load_state_dict(Module &module, const NamedTensors &tensors, const LoadStateDictOptions &options) {
    std::vector<std::pair<std::string, Shape>> entries;
    std::set<std::string> names;
    for (const auto &[name, t] : tensors) {
        if (!t.defined()) fail("load_state_dict: tensor '{}' is undefined", name);
        if (!names.insert(name).second) fail("load_state_dict: tensor '{}' is given twice", name);
        entries.emplace_back(name, t.shape());
    }
    std::unordered_map<std::string, Tensor> targets;
    const IncompatibleKeys result = match_keys(module, entries, "", options, targets);
    ConversionOptions conversion;
    conversion.allow_rounding = options.allow_rounding;
    std::vector<std::pair<Tensor, Tensor>> copies;  // converted first: all or nothing
    for (const auto &[name, t] : tensors) {
        const auto target = targets.find(name);
        if (target == targets.end()) continue;
        const Tensor source = t.contiguous();
        const std::string what = fmt::format("tensor '{}' ({} {})", name, dtype_name(t.dtype()), shape_str(t.shape()));
        copies.emplace_back(target->second, convert_stored(source.raw_data(), stored_dtype_of(t.dtype()), t.shape(),
                                                           target->second.dtype(), what, conversion));
    }
    for (auto &[target, value] : copies) target.copy_from(value);
    return result;
}

void save_state_dict(const Module &module, const std::string &path) {
    const ModuleState state = module_state(module);
    std::map<std::string, StoredDType> stored_as;
    for (const std::string &counter : state.counters) stored_as[counter] = StoredDType::i64;  // torch.long
    save_safetensors(path, state.tensors, {{"format", "pt"}}, stored_as);
}

}  // namespace strata::nn
