#include "bench/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace strata::bench {
namespace {

struct TensorError {
    double max_diff = 0, max_ref = 0;
};

/// Per tensor: max|got - reference| and max|reference|; a count, shape or NaN mismatch is
/// written to `problem` (and the errors are then meaningless).
std::vector<TensorError> tensor_errors(const std::vector<Tensor> &got, const std::vector<Tensor> &reference,
                                       const std::string &reference_name, std::string &problem) {
    if (got.size() != reference.size()) {
        problem = fmt::format("{} results, {} has {}", got.size(), reference_name, reference.size());
        return {};
    }
    std::vector<TensorError> errors(got.size());
    for (size_t t = 0; t < got.size(); ++t) {
        if (got[t].shape() != reference[t].shape()) {
            problem = fmt::format("result {} has shape [{}], {} [{}]", t, fmt::join(got[t].shape(), ","),
                                  reference_name, fmt::join(reference[t].shape(), ","));
            return {};
        }
        const Tensor g = got[t].to(DType::f64).contiguous(), r = reference[t].to(DType::f64).contiguous();
        const double *gp = g.data<double>(), *rp = r.data<double>();
        for (int64_t i = 0; i < g.numel(); ++i) {
            if (std::isnan(gp[i]) != std::isnan(rp[i])) {
                problem = fmt::format("result {} element {} is {} ({}: {})", t, i, gp[i], reference_name, rp[i]);
                return {};
            }
            if (std::isnan(gp[i])) continue;
            errors[t].max_diff = std::max(errors[t].max_diff, std::abs(gp[i] - rp[i]));
            errors[t].max_ref = std::max(errors[t].max_ref, std::abs(rp[i]));
        }
    }
    return errors;
}

/// max_diff / scale per tensor, with the scale floor of compare.h.
std::vector<double> relative_errors(const std::vector<TensorError> &errors) {
    double largest = 0;
    for (const TensorError &e : errors) largest = std::max(largest, e.max_ref);
    std::vector<double> relative;
    for (const TensorError &e : errors) {
        const double scale = std::max(e.max_ref, kScaleFloor * largest);
        relative.push_back(scale > 0 ? e.max_diff / scale : e.max_diff);
    }
    return relative;
}

}  // namespace

Agreement compare_results(const std::vector<Tensor> &got, const std::vector<Tensor> &reference,
                          const std::string &reference_name) {
    Agreement a;
    a.reference = reference_name;
    const std::vector<TensorError> errors = tensor_errors(got, reference, reference_name, a.problem);
    if (!a.problem.empty()) return a;
    for (const TensorError &e : errors) a.max_abs_error = std::max(a.max_abs_error, e.max_diff);
    for (double r : relative_errors(errors)) a.max_rel_error = std::max(a.max_rel_error, r);
    a.passed = a.max_rel_error <= kTolerance;
    return a;
}

Agreement compare_with_precise(const std::vector<Tensor> &got, const std::vector<Tensor> &peer,
                               const std::vector<Tensor> &precise, const std::string &peer_name) {
    Agreement a;
    a.reference = peer_name + " f64";
    const std::vector<TensorError> ours = tensor_errors(got, precise, a.reference, a.problem);
    if (!a.problem.empty()) return a;
    const std::vector<TensorError> theirs = tensor_errors(peer, precise, a.reference, a.problem);
    if (!a.problem.empty()) return a;
    const std::vector<double> ours_rel = relative_errors(ours), theirs_rel = relative_errors(theirs);
    a.passed = true;
    a.peer_rel_error = 0;
    for (size_t t = 0; t < ours.size(); ++t) {
        a.max_abs_error = std::max(a.max_abs_error, ours[t].max_diff);
        a.max_rel_error = std::max(a.max_rel_error, ours_rel[t]);
        a.peer_rel_error = std::max(a.peer_rel_error, theirs_rel[t]);
        if (ours_rel[t] > std::max(kTolerance, kPeerErrorFactor * theirs_rel[t])) a.passed = false;
    }
    return a;
}

Agreement compare_precise_twins(const std::vector<Tensor> &got, const std::vector<Tensor> &got_precise,
                                const std::vector<Tensor> &reference_f32,
                                const std::vector<Tensor> &reference_precise, const std::string &reference_name) {
    Agreement a = compare_with_precise(got, reference_f32, reference_precise, reference_name);
    a.reference = reference_name;
    if (!a.problem.empty()) return a;
    const std::vector<TensorError> twins = tensor_errors(got_precise, reference_precise, a.reference, a.problem);
    if (!a.problem.empty()) {
        a.passed = false;
        return a;
    }
    a.precise_rel_error = 0;
    for (double r : relative_errors(twins)) a.precise_rel_error = std::max(a.precise_rel_error, r);
    a.passed = a.precise_rel_error <= kPreciseTolerance;
    return a;
}

}  // namespace strata::bench
