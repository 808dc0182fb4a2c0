// `strata schedule dump|check MODEL`: the schedule in effect for every node,
// and a schedule checked against the default one on the same inputs; with
// --train, of the training step `strata emit --train` compiles.

#include "tools/commands.h"

#include "tools/model_files.h"
#include "tools/training_program.h"

#include "codegen/compiler.h"
#include "ir/parser.h"
#include "ir/passes/rebatch.h"
#include "runtime/atomic_file.h"
#include "runtime/generator.h"

#include <strata/error.h>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace strata::tools {

namespace {

bool ends_with(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// A model: the IR of a checkpoint (with its weights) or of an IR text file, or
/// the training step of a checkpoint (with the start value of its parameters).
struct Model {
    ir::Program program;
    std::map<std::string, Tensor> weights;
};

Model load_model(const ScheduleCommand &options) {
    Model m;
    if (!options.train && options.momentum != 0.9)
        fail("schedule: --momentum sets the training step's SGD momentum; add --train");
    if (options.train) {
        if (!ends_with(options.model, ".safetensors"))
            fail("schedule --train: {} is not a checkpoint; the training step is built from a checkpoint (.safetensors) "
                 "saved with its model IR, as `strata emit --train` builds it",
                 options.model);
        if (options.momentum < 0) fail("schedule --momentum: must be >= 0, got {}", options.momentum);
        // The program `strata emit --train` compiles (tools/emit.cpp): same nodes, ids and stage names.
        const Checkpoint checkpoint = read_checkpoint(options.model);
        const ir::Program inference = checkpoint_program(checkpoint, options.model, options.batch);
        TrainingProgram training = build_training_program(inference, checkpoint, {.momentum = options.momentum});
        m.program = std::move(training.program);
        m.weights = std::move(training.parameters);
        return m;
    }
    if (ends_with(options.model, ".safetensors")) {
        const Checkpoint checkpoint = read_checkpoint(options.model);
        m.program = checkpoint_program(checkpoint, options.model, options.batch);
        for (const auto &[name, tensor] : checkpoint.file.tensors) m.weights[name] = tensor;
    } else {
        m.program = read_ir_file(options.model);
        if (options.batch > 0) m.program = ir::rebatch(m.program, options.batch);
    }
    return m;
}

codegen::CompileOptions compile_options(const ScheduleCommand &options) {
    codegen::CompileOptions o;
    o.target = options.target;
    o.schedule = options.schedule;
    return o;
}

/// The same random sources for both runs: the checkpoint's weights where it
/// has them, else normal values (floats) or 0/1 (integers, e.g. labels).
std::map<std::string, Tensor> sources_for(const Model &m) {
    Generator gen(2024);
    std::map<std::string, Tensor> sources;
    for (const auto &node : m.program.nodes()) {
        if (node->op != ir::Op::input && node->op != ir::Op::parameter) continue;
        const std::string &name = node->attrs.get_str("name");
        if (auto it = m.weights.find(name); it != m.weights.end() && it->second.shape() == node->shape()) {
            sources[name] = it->second;
        } else if (node->dtype() == DType::f32 || node->dtype() == DType::f64) {
            sources[name] = Tensor::randn(node->shape(), gen, node->dtype());
        } else {
            Tensor t = Tensor::zeros(node->shape(), node->dtype());
            for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, static_cast<double>(gen.below(2)));
            sources[name] = t;
        }
    }
    return sources;
}

/// max |a - b| / max(max |b|, 1e-30), and whether any value is NaN in one only.
double relative_difference(const Tensor &a, const Tensor &b) {
    double diff = 0, scale = 1e-30;
    for (int64_t i = 0; i < a.numel(); ++i) {
        const double x = a.get_flat(i), y = b.get_flat(i);
        if (std::isnan(x) != std::isnan(y)) return INFINITY;
        if (std::isnan(x)) continue;
        diff = std::max(diff, std::fabs(x - y));
        scale = std::max(scale, std::fabs(y));
    }
    return diff / scale;
}

}  // namespace

int schedule_dump(const ScheduleCommand &options) {
    const Model m = load_model(options);
    std::string text = options.stages ? codegen::stage_schedule_in_effect(m.program, compile_options(options))
                                      : codegen::schedule_in_effect(m.program, compile_options(options));
    if (options.train)
        text = fmt::format("# the training step of {} (strata emit --train{} --momentum {}): load it with "
                           "--train-schedule FILE\n",
                           options.model, options.batch > 0 ? fmt::format(" --batch {}", options.batch) : "",
                           options.momentum) +
               text;
    if (options.out.empty()) fmt::print("{}", text);
    else write_file_atomically(options.out, text), fmt::print("wrote {}\n", options.out);
    return 0;
}

int schedule_check(const ScheduleCommand &options) {
    const Model m = load_model(options);
    const auto sources = sources_for(m);
    codegen::CompileOptions reference_options;
    reference_options.target = options.target;
    const auto reference = codegen::compile(m.program, reference_options);
    const auto checked = codegen::compile(m.program, compile_options(options));
    const auto want = reference.run(sources);
    const auto got = checked.run(sources);
    bool ok = true;
    fmt::print("{:<28} {:>14} {:>12}  {}\n", "output", "rel. diff", "tolerance", "agrees");
    for (size_t i = 0; i < want.size(); ++i) {
        // f32 sums in another order differ by a few ulps per term; 1e-4 of the
        // largest magnitude covers reductions of ~10^4 terms.
        const double tolerance = want[i].dtype() == DType::f64 ? 1e-10 : 1e-4;
        const double diff = relative_difference(got[i], want[i]);
        ok = ok && diff <= tolerance;
        fmt::print("{:<28} {:>14.3e} {:>12.0e}  {}\n", reference.output_names()[i], diff, tolerance,
                   diff <= tolerance ? "yes" : "NO");
    }
    fmt::print("schedule '{}' {} the default schedule\n", options.schedule, ok ? "agrees with" : "DISAGREES with");
    return ok ? 0 : 1;
}

}  // namespace strata::tools
