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

/// f's outputs folded into one scalar: the sum over outputs of sum(out * R).
/// The R tensors are graph inputs named "gradcheck_r<i>", filled into `fold`.
SymTensor build_loss(Graph &g, const std::vector<GradSource> &sources, const GradFunction &f, Generator &gen,
                     std::map<std::string, Tensor> &fold, std::vector<SymTensor> &inputs) {
    inputs.clear();
    for (const GradSource &s : sources) inputs.push_back(g.input(s.name, s.value.shape(), s.value.dtype()));
    const std::vector<SymTensor> outputs = f(g, inputs);
    if (outputs.empty()) fail("gradcheck: the checked function returned no outputs");
    SymTensor loss;
    for (size_t i = 0; i < outputs.size(); ++i) {
        const SymTensor &out = outputs[i];
        const std::string name = fmt::format("gradcheck_r{}", i);
        fold[name] = Tensor::randn(out.shape(), gen, out.dtype());
        SymTensor term = sum(out * g.input(name, out.shape(), out.dtype()));
        loss = loss.defined() ? loss + term : term;
    }
    return loss;
}

}  // namespace

GradCheckResult gradcheck(const std::vector<GradSource> &sources, const GradFunction &f,
                          const GradCheckOptions &options) {
    // Copies, so perturbing never touches the caller's tensors.
    std::map<std::string, Tensor> feed;
    for (const GradSource &s : sources) feed[s.name] = s.value.clone();

    // The analytic gradients: loss and grad(loss, checked sources) in one graph.
    Generator gen(options.seed);
    Graph with_grads;
    std::vector<SymTensor> inputs;
    const SymTensor loss = build_loss(with_grads, sources, f, gen, feed, inputs);
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

    // The loss alone, for the finite differences (cheaper to run 2x per element).
    Generator same_gen(options.seed);
    Graph loss_only;
    std::map<std::string, Tensor> unused_fold;
    loss_only.output("loss", build_loss(loss_only, sources, f, same_gen, unused_fold, inputs));
    const CompiledGraph evaluate = loss_only.compile(options.compile);
    auto loss_at = [&]() { return evaluate.run(feed).at("loss").item(); };

    GradCheckResult result;
    std::string failures;
    std::string worst_line = "no elements checked";
    for (size_t c = 0; c < checked.size(); ++c) {
        const GradSource &source = sources[checked[c]];
        Tensor value = feed.at(source.name);
        const Tensor &an_grad = analytic.at("grad" + std::to_string(c));
        for (int64_t k = 0; k < value.numel(); ++k) {
            const double v = value.get_flat(k), h = options.step;
            value.set_flat(k, v + h);
            const double plus = loss_at();
            value.set_flat(k, v - h);
            const double minus = loss_at();
            value.set_flat(k, v);
            const double fd = (plus - minus) / (2 * h), an = an_grad.get_flat(k);
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
