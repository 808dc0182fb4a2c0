#pragma once
// A metric of the example's own: the histogram of pick residuals (arg-max sample minus the
// picked sample), from the outputs the trainer's evaluation already computed, drawn as SVG.
// A user metric is a subclass of strata::metrics::Metric whose sums are its whole state.

#include <strata/strata.h>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace picking {

class ResidualHistogram : public strata::metrics::Metric {
public:
    /// Bins of one sample from -reach to +reach; residuals beyond go to the end bins.
    explicit ResidualHistogram(int64_t reach) : Metric(size_t(2 * reach + 1)), reach_(reach) {}
    std::string kind() const override { return "ResidualHistogram"; }

    /// Picks per bin of the last pass (after `fit`: the last validation).
    const std::vector<double> &counts() const { return sums_; }
    int64_t reach() const { return reach_; }

protected:
    void accumulate(const strata::Tensor &output, const strata::Tensor &target) override {
        if (output.dim() != 2) strata::fail("expected scores [N, L]");
        const int64_t n = output.size(0), length = output.size(1);
        for (int64_t i = 0; i < n; ++i) {
            const double position = target.get_flat(i);
            if (!(position >= 0)) continue;  // no pick in this window
            int64_t best = 0;
            for (int64_t l = 1; l < length; ++l)
                if (output.get_flat(i * length + l) > output.get_flat(i * length + best)) best = l;
            const auto residual = static_cast<int64_t>(std::llround(double(best) - position));
            sums_[size_t(std::clamp(residual, -reach_, reach_) + reach_)] += 1;
        }
    }
    /// Nothing per epoch in the metrics JSON: PickingResidual gives the summary values.
    strata::metrics::Values values() const override { return {}; }

private:
    int64_t reach_;
};

/// P and S residual counts per bin as one SVG; bin k is centred at `first` + k * `width`
/// samples (the end bins hold the rest).
inline void write_residual_svg(const std::string &path, const std::string &title, double first, double width,
                               const std::vector<double> &p_counts, const std::vector<double> &s_counts) {
    std::vector<double> x;
    for (size_t k = 0; k < p_counts.size(); ++k) x.push_back(first + double(k) * width);
    strata::write_svg_plot(path, title, "residual (samples)", x,
                           {{"P picks", p_counts, "#1f77b4"}, {"S picks", s_counts, "#d62728"}});
}

/// The P and S histograms as one SVG (x: residual in samples; the end bins hold the rest).
inline void write_residual_svg(const std::string &path, const ResidualHistogram &p, const ResidualHistogram &s) {
    write_residual_svg(path, "pick residuals on the validation windows (arg-max sample - picked sample)",
                       -double(p.reach()), 1.0, p.counts(), s.counts());
}

}  // namespace picking
