#include "runtime/svg_plot.h"

#include <strata/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace strata {

void write_svg_plot(const std::string &path, const std::string &title, const std::string &x_label,
                    const std::vector<double> &x, const std::vector<PlotSeries> &series) {
    if (x.empty()) fail("write_svg_plot: nothing to plot (no x values)");
    constexpr double width = 640, panel = 200, left = 70, right = 20, top = 40, gap = 50;
    const double height = top + static_cast<double>(series.size()) * (panel + gap);
    std::string svg = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        "<text x=\"{2}\" y=\"22\" font-size=\"16\">{3}</text>\n",
        width, height, left, title);
    const double x_min = *std::min_element(x.begin(), x.end()), x_max = *std::max_element(x.begin(), x.end());
    const double x_span = x_max > x_min ? x_max - x_min : 1.0;
    for (size_t s = 0; s < series.size(); ++s) {
        const PlotSeries &ps = series[s];
        if (ps.values.size() != x.size())
            fail("write_svg_plot: series '{}' has {} values for {} x positions", ps.name, ps.values.size(), x.size());
        double lo = INFINITY, hi = -INFINITY;
        for (double v : ps.values)
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
        if (!std::isfinite(lo)) lo = 0, hi = 1;
        if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
        const double y0 = top + static_cast<double>(s) * (panel + gap) + 10;
        auto px = [&](double v) { return left + (v - x_min) / x_span * (width - left - right); };
        auto py = [&](double v) { return y0 + panel - (v - lo) / (hi - lo) * panel; };
        svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>\n", left,
                           y0, width - left - right, panel);
        svg += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>\n", left + 6, y0 + 14, ps.color, ps.name);
        svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.4g}</text>\n", left - 6, y0 + 10, hi);
        svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.4g}</text>\n", left - 6, y0 + panel, lo);
        svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", (left + width - right) / 2,
                           y0 + panel + 30, x_label);
        std::string points;
        for (size_t i = 0; i < x.size(); ++i) {
            if (!std::isfinite(ps.values[i])) continue;
            points += fmt::format("{:.1f},{:.1f} ", px(x[i]), py(ps.values[i]));
            svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", px(x[i]), py(ps.values[i]),
                               ps.color);
        }
        svg += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", points,
                           ps.color);
        for (size_t i = 0; i < x.size(); ++i)
            svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:g}</text>\n", px(x[i]),
                               y0 + panel + 15, x[i]);
    }
    svg += "</svg>\n";
    write_file_atomically(path, svg);
}

}  // namespace strata

namespace strata {

void write_svg_segments(const std::string &path, const std::string &title, const std::vector<double> &values,
                        const std::vector<PlotSegment> &segments) {
    if (values.empty()) fail("write_svg_segments: nothing to plot (no values)");
    constexpr double width = 900, height = 320, left = 60, right = 20, top = 60, bottom = 30;
    double lo = INFINITY, hi = -INFINITY;
    for (double v : values)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    if (!std::isfinite(lo)) lo = 0, hi = 1;
    if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
    const double n = static_cast<double>(values.size());
    auto px = [&](double i) { return left + i / std::max(n - 1, 1.0) * (width - left - right); };
    auto py = [&](double v) { return top + (hi - v) / (hi - lo) * (height - top - bottom); };
    auto polyline = [&](int64_t begin, int64_t end, const std::string &color) {
        std::string points;
        for (int64_t i = begin; i < end && i < static_cast<int64_t>(values.size()); ++i)
            if (std::isfinite(values[static_cast<size_t>(i)]))
                points += fmt::format("{:.1f},{:.1f} ", px(static_cast<double>(i)), py(values[static_cast<size_t>(i)]));
        return fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1\"/>\n", points, color);
    };
    std::string svg = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        "<text x=\"{2}\" y=\"22\" font-size=\"16\">{3}</text>\n",
        width, height, left, title);
    svg += polyline(0, static_cast<int64_t>(values.size()), "#cccccc");  // samples outside every segment
    std::vector<std::pair<std::string, std::string>> legend;
    for (const PlotSegment &s : segments) {
        svg += polyline(s.begin, s.end, s.color);
        if (std::find(legend.begin(), legend.end(), std::make_pair(s.label, s.color)) == legend.end())
            legend.push_back({s.label, s.color});
    }
    for (size_t i = 0; i < legend.size(); ++i)
        svg += fmt::format("<text x=\"{}\" y=\"44\" fill=\"{}\">&#9632; {}</text>\n", left + 130.0 * static_cast<double>(i),
                           legend[i].second, legend[i].first);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">sample</text>\n", (left + width - right) / 2,
                       height - 8);
    svg += "</svg>\n";
    write_file_atomically(path, svg);
}

}  // namespace strata
