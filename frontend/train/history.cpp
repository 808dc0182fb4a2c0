#include "frontend/train/history.h"

#include "runtime/atomic_file.h"
#include "runtime/svg_plot.h"

#include <cmath>
#include <set>

namespace strata {

namespace {

std::string json_string(const std::string &text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            out += fmt::format("\\u{:04x}", static_cast<int>(c));
            continue;
        }
        out += c;
    }
    return out + "\"";
}

std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }

}  // namespace

void write_history_json(const std::string &path, const std::vector<EpochStats> &history) {
    std::string out = "[";
    for (size_t e = 0; e < history.size(); ++e) {
        const EpochStats &s = history[e];
        out += fmt::format("{}\n  {{\"epoch\": {}, \"lr\": {}, \"seconds\": {}, \"examples_per_second\": {}", e ? "," : "",
                           s.epoch + 1, json_number(s.lr), json_number(s.seconds), json_number(s.examples_per_second));
        for (const auto &[key, value] : s.metrics) out += fmt::format(", {}: {}", json_string(key), json_number(value));
        out += "}";
    }
    out += history.empty() ? "]\n" : "\n]\n";
    write_file_atomically(path, out);
}

void write_history_svg(const std::string &path, const std::vector<EpochStats> &history, const std::string &title) {
    if (history.empty()) fail("write_history_svg: {}: the history has no epochs to plot", path);
    std::set<std::string> keys;
    for (const EpochStats &s : history)
        for (const auto &[key, value] : s.metrics)
            if (key.find('/') == std::string::npos) keys.insert(key);
    const char *colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
    std::vector<double> x;
    for (const EpochStats &s : history) x.push_back(static_cast<double>(s.epoch + 1));
    std::vector<PlotSeries> series;
    for (const std::string &key : keys) {
        PlotSeries p;
        p.name = key;
        p.color = colors[series.size() % 6];
        for (const EpochStats &s : history) {
            auto it = s.metrics.find(key);
            p.values.push_back(it == s.metrics.end() ? NAN : it->second);
        }
        series.push_back(std::move(p));
    }
    write_svg_plot(path, title, "epoch", x, series);
}

}  // namespace strata
