#include "pick_evaluation.h"
#include "residual_histogram.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace picking {

namespace {

double mean_of(const std::vector<double> &values, double (*f)(double)) {
    double sum = 0;
    for (double v : values) sum += f(v);
    return values.empty() ? NAN : sum / double(values.size());
}

/// Matches the picks of `phase` to its arrival `arrival` (NaN: none) and counts into `out`.
void match(const std::vector<Pick> &picks, GpdClass phase, double arrival, double tolerance, PhasePicks &out) {
    double nearest = INFINITY;
    for (const Pick &pick : picks) {
        if (pick.phase != phase) continue;
        ++out.picks;
        const double residual = double(pick.sample) - arrival;
        if (!(std::fabs(residual) <= tolerance)) ++out.false_picks;
        if (std::fabs(residual) < std::fabs(nearest)) nearest = residual;
    }
    if (std::isnan(arrival)) return;
    ++out.arrivals;
    if (std::fabs(nearest) <= tolerance) {
        ++out.found;
        out.residuals.push_back(nearest);
    }
}

nlohmann::json phase_json(const PhasePicks &p) {
    auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
    return {{"arrivals", p.arrivals}, {"found", p.found},         {"picks", p.picks},
            {"false_picks", p.false_picks}, {"recall", p.recall()}, {"precision", p.precision()},
            {"f1", p.f1()},              {"mean", number(p.mean())}, {"mae", number(p.mae())},
            {"rmse", number(p.rmse())},  {"residuals", p.residuals}};
}

}  // namespace

double PhasePicks::mean() const { return mean_of(residuals, [](double v) { return v; }); }
double PhasePicks::mae() const { return mean_of(residuals, [](double v) { return std::fabs(v); }); }
double PhasePicks::rmse() const { return std::sqrt(mean_of(residuals, [](double v) { return v * v; })); }

PickEvaluation evaluate_picks(const GpdClassifier &classifier, const strata::data::Hdf5TraceDataset &file,
                              const std::vector<int64_t> &traces, const PickEvaluationOptions &options) {
    PickEvaluation evaluation;
    evaluation.tolerance = options.tolerance;
    for (const int64_t trace : traces) {
        const strata::data::Example example = file.get(trace);
        const auto probabilities = classifier.classify(example.at("waveform"), options.stride);
        const std::vector<Pick> picks = find_picks(probabilities, options.stride, classifier.window(), options.threshold);
        match(picks, kP, example.at("p_arrival_sample").get_flat(0), options.tolerance, evaluation.p);
        match(picks, kS, example.at("s_arrival_sample").get_flat(0), options.tolerance, evaluation.s);
        ++evaluation.traces;
    }
    return evaluation;
}

void write_pick_evaluation_json(const std::string &path, const PickEvaluation &e) {
    const nlohmann::json json = {
        {"traces", e.traces}, {"tolerance_samples", e.tolerance}, {"P", phase_json(e.p)}, {"S", phase_json(e.s)}};
    strata::write_file_atomically(path, json.dump(1) + "\n");
}

void write_pick_residual_svg(const std::string &path, const PickEvaluation &e, int64_t bin) {
    const auto reach = static_cast<int64_t>(std::ceil(e.tolerance / double(bin)));
    auto counts = [&](const PhasePicks &phase) {
        std::vector<double> c(size_t(2 * reach + 1));
        for (double r : phase.residuals)
            c[size_t(std::clamp<int64_t>(std::llround(r / double(bin)), -reach, reach) + reach)] += 1;
        return c;
    };
    write_residual_svg(path,
                       fmt::format("GPD pick residuals on {} validation traces (pick - catalogued arrival, {} within "
                                   "{:g} samples)",
                                   e.traces, e.p.found + e.s.found, e.tolerance),
                       -double(reach * bin), double(bin), counts(e.p), counts(e.s));
}

}  // namespace picking
