#pragma once
// Pick-time residuals of the GPD picker on whole validation traces: the classifier slides
// along each trace, its picks (gpd_sliding.h) are matched to the catalogued arrivals.

#include "gpd_sliding.h"

#include "runtime/data/hdf5_dataset.h"

#include <string>
#include <vector>

namespace picking {

/// One phase's picks against its arrivals. An arrival is found when a pick of its phase lies
/// within the tolerance (the nearest one gives the residual, pick - arrival, in samples); a pick
/// with no arrival of its phase within the tolerance is a false pick.
struct PhasePicks {
    int64_t arrivals = 0, found = 0, picks = 0, false_picks = 0;
    std::vector<double> residuals;

    double recall() const { return arrivals ? double(found) / double(arrivals) : 0.0; }
    double precision() const { return picks ? double(picks - false_picks) / double(picks) : 0.0; }
    double f1() const { return recall() + precision() > 0 ? 2 * recall() * precision() / (recall() + precision()) : 0.0; }
    double mean() const;   ///< of the residuals (the bias)
    double mae() const;
    double rmse() const;
};

struct PickEvaluation {
    int64_t traces = 0;
    double tolerance = 0;  ///< samples
    PhasePicks p, s;
};

struct PickEvaluationOptions {
    int64_t stride = 10;      ///< samples between windows
    double threshold = 0.5;   ///< class probability for a pick
    double tolerance = 50;    ///< samples
};

/// Slides `classifier` along traces `traces` of `file` (waveform [3, L], p_arrival_sample and
/// s_arrival_sample) and matches its picks.
PickEvaluation evaluate_picks(const GpdClassifier &classifier, const strata::data::Hdf5TraceDataset &file,
                              const std::vector<int64_t> &traces, const PickEvaluationOptions &options);

/// The evaluation as JSON (atomically): per phase arrivals, found, picks, false_picks, recall,
/// precision, f1, mean, mae, rmse (samples) and the residuals.
void write_pick_evaluation_json(const std::string &path, const PickEvaluation &evaluation);

/// Histograms of the P and S residuals, bins of `bin` samples over +-tolerance, as SVG.
void write_pick_residual_svg(const std::string &path, const PickEvaluation &evaluation, int64_t bin = 2);

}  // namespace picking
