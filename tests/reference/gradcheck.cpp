#include "tests/reference/gradcheck.h"

#include "frontend/functional.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace strata::reference {

namespace {

/// The row-major multi-index of a flat index, e.g. "[1, 0, 4]".
std::string index_str(const Shape &shape, int64_t flat) {
    std::vector<int64_t> index(shape.size());
    for (size_t d = shape.size(); d-- > 0;) {
        index[d] = flat % shape[d];
        flat /= shape[d];
    }
    return fmt::format("[{}]", fmt::join(index, ", "));
}

/// f's outputs, built on graph inputs named after the sources.
std::vector<SymTensor> build_outputs(Graph &g, const std::vector<GradSource> &sources, const GradFunction &f,
                                     std::vector<SymTensor> &inputs) {
    inputs.clear();
    for (const GradSource &s : sources) inputs.push_back(g.input(s.name, s.value.shape(), s.value.dtype()));
    const std::vector<SymTensor> outputs = f(g, inputs);
    if (outputs.empty()) fail("gradcheck: the checked function returned no outputs");
    return outputs;
}

}  // namespace

GradCheckResult gradcheck(const std::vector<GradSource> &sources, const GradFunction &f,
                          const GradCheckOptions &options) {
    // Copies, so perturbing never touches the caller's tensors.
    std::map<std::string, Tensor> feed;
    for (const GradSource &s : sources) feed[s.name] = s.value.clone();

    // The analytic gradients: the loss sum_i sum(out_i * R_i), with the R_i
    // graph inputs, and grad(loss, checked sources) in one graph.
    Graph with_grads;
    std::vector<SymTensor> inputs;
    const std::vector<SymTensor> outputs = build_outputs(with_grads, sources, f, inputs);
    Generator gen(options.seed);
    std::vector<Tensor> fold;
    SymTensor loss;
    for (size_t i = 0; i < outputs.size(); ++i) {
        const SymTensor &out = outputs[i];
        const std::string name = fmt::format("gradcheck_r{}", i);
        fold.push_back(Tensor::randn(out.shape(), gen, out.dtype()));
        feed[name] = fold.back();
        SymTensor term = sum(out * with_grads.input(name, out.shape(), out.dtype()));
        loss = loss.defined() ? loss + term : term;
    }
    std::vector<SymTensor> wrt;
    std::vector<size_t> checked;
    for (size_t i = 0; i < sources.size(); ++i) {
        if (!sources[i].check) continue;
        wrt.push_back(inputs[i]);
        checked.push_back(i);
    }
    const std::vector<SymTensor> grads = grad(loss, wrt);
    for (size_t i = 0; i < grads.size(); ++i) with_grads.output("grad" + std::to_string(i), grads[i]);
    std::map<std::string, Tensor> analytic = with_grads.compile(options.compile).run(feed);

    // The finite differences run f's outputs alone (cheaper, 2x per element)
    // and fold them here in long double: the terms a step does not change are
    // then bitwise equal in both runs and cancel, leaving only the rounding of
    // the changed outputs (about 1e-16 / h relative) as noise.
    Graph forward;
    const std::vector<SymTensor> forward_outputs = build_outputs(forward, sources, f, inputs);
    for (size_t i = 0; i < forward_outputs.size(); ++i)
        forward.output("out" + std::to_string(i), forward_outputs[i]);
    const CompiledGraph evaluate = forward.compile(options.compile);
    std::map<std::string, Tensor> forward_feed;
    for (const GradSource &s : sources) forward_feed[s.name] = feed.at(s.name);
    auto loss_at = [&]() {
        const std::map<std::string, Tensor> outs = evaluate.run(forward_feed);
        long double total = 0;
        for (size_t i = 0; i < fold.size(); ++i) {
            const Tensor &out = outs.at("out" + std::to_string(i));
            for (int64_t k = 0; k < out.numel(); ++k)
                total += static_cast<long double>(out.get_flat(k)) * fold[i].get_flat(k);
        }
        return total;
    };

    GradCheckResult result;
    std::string failures;
    std::string worst_line = "no elements checked";
    for (size_t c = 0; c < checked.size(); ++c) {
        const GradSource &source = sources[checked[c]];
        Tensor value = feed.at(source.name);
        const Tensor &an_grad = analytic.at("grad" + std::to_string(c));
        for (int64_t k = 0; k < value.numel(); ++k) {
            // Divided by the step actually taken (v + h rounds).
            const double v = value.get_flat(k), up = v + options.step, down = v - options.step;
            value.set_flat(k, up);
            const long double plus = loss_at();
            value.set_flat(k, down);
            const long double minus = loss_at();
            value.set_flat(k, v);
            const double fd = static_cast<double>((plus - minus) / (up - down)), an = an_grad.get_flat(k);
            double rel = std::fabs(fd - an) / std::max(options.floor, std::fabs(fd) + std::fabs(an));
            if (std::isnan(rel)) rel = INFINITY;
            const std::string line =
                fmt::format("rel {:.3g} at d loss / d {}{}: finite difference {:.12g}, grad {:.12g}", rel,
                            source.name, index_str(value.shape(), k), fd, an);
            ++result.checked;
            if (rel > options.tolerance && ++result.failures <= 8) failures += "\n  " + line;
            if (rel >= result.worst) {
                result.worst = rel;
                worst_line = line;
            }
        }
    }
    result.ok = result.failures == 0 && result.checked > 0;
    result.report = fmt::format("schedule \"{}\": {} elements checked, {} over {:g}; worst: {}{}",
                                options.compile.schedule, result.checked, result.failures, options.tolerance,
                                worst_line, failures.empty() ? "" : "\nfailing:" + failures);
    return result;
}

const std::vector<std::string> &grad_schedules() {
    static const std::vector<std::string> schedules = {"default", "simple"};
    return schedules;
}

}  // namespace strata::reference
