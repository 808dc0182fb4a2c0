#pragma once
/// \file
/// A minimal SVG line chart (no dependencies): one or more series over a
/// shared x axis, each on its own y scale, written atomically.

#include "runtime/atomic_file.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strata {

struct PlotSeries {
    std::string name;
    std::vector<double> values;  ///< one per x position
    std::string color = "#1f77b4";
};

/// Writes `series` as stacked panels (one per series) to `path`.
void write_svg_plot(const std::string &path, const std::string &title, const std::string &x_label,
                    const std::vector<double> &x, const std::vector<PlotSeries> &series);

/// A labelled, coloured stretch [begin, end) of a series.
struct PlotSegment {
    int64_t begin, end;
    std::string label;
    std::string color;
};

/// Draws `values` as one line whose stretches are coloured by `segments`
/// (e.g. windows by predicted class), with a legend; written atomically.
void write_svg_segments(const std::string &path, const std::string &title, const std::vector<double> &values,
                        const std::vector<PlotSegment> &segments);

}  // namespace strata
