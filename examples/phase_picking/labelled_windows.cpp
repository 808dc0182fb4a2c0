#include "labelled_windows.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <set>

namespace picking {

namespace {

/// "2024-03-01T00:01:02.5Z" (the 'Z' optional, 'T' or ' '), or seconds since 1970; NaN if neither.
double parse_time(const std::string &text) {
    char *end = nullptr;
    const double seconds = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size() && std::isfinite(seconds)) return seconds;
    int year, month, day, hour, minute, consumed = 0;
    double second;
    char sep;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%lf%n", &year, &month, &day, &sep, &hour, &minute, &second,
                    &consumed) != 7 ||
        (sep != 'T' && sep != ' '))
        return NAN;
    const std::string rest = text.substr(size_t(consumed));
    if (!rest.empty() && rest != "Z") return NAN;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || !(second >= 0 && second < 61))
        return NAN;
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    return double(timegm(&tm)) + second;
}

}  // namespace

PickTable read_picks(const std::string &path) {
    const auto table = strata::data::MetadataTable::read_csv(path);
    const size_t network = table.column("network"), station = table.column("station"), phase = table.column("phase"),
                 time = table.column("time");
    PickTable picks;
    for (int64_t r = 0; r < table.rows(); ++r) {
        const std::string &p = table.field(r, phase), &t = table.field(r, time);
        if (p.empty() || (p[0] != 'P' && p[0] != 'S'))
            strata::fail("{}: line {}: phase '{}'; expected P or S (or a name starting with one: Pg, Sn)", path,
                         table.line_of(r), p);
        const double at = parse_time(t);
        if (!std::isfinite(at) || std::fabs(at) > 1e11)
            strata::fail("{}: line {}: time '{}'; expected ISO 8601 UTC (2024-03-01T00:01:02.5Z) or seconds since 1970",
                         path, table.line_of(r), t);
        if (table.field(r, network).empty() || table.field(r, station).empty())
            strata::fail("{}: line {}: empty network or station", path, table.line_of(r));
        picks[table.field(r, network) + "." + table.field(r, station)][p[0]].push_back(at);
    }
    for (auto &[station_id, phases] : picks)
        for (auto &[letter, times] : phases) std::sort(times.begin(), times.end());
    return picks;
}

/// "XX.S01" from a MiniseedStation id "XX.S01..BH".
static std::string network_station(const std::string &id) {
    const size_t dot = id.find('.');
    return id.substr(0, id.find('.', dot + 1));
}

LabelledWindows::LabelledWindows(std::shared_ptr<const strata::data::MiniseedDataset> windows, PickTable picks,
                                 const std::vector<std::string> &stations)
    : windows_(std::move(windows)), picks_(std::move(picks)) {
    const auto &index = windows_->index();
    const std::set<std::string> wanted(stations.begin(), stations.end());
    std::set<std::string> seen;
    const double length = double(index.window_samples) / index.rate;
    for (int64_t i = 0; i < windows_->size(); ++i) {
        const auto &w = index.windows[size_t(i)];
        const std::string id = network_station(index.stations[size_t(w.station)].id);
        seen.insert(id);
        if (!wanted.empty() && !wanted.count(id)) continue;
        selected_.push_back(i);
        const auto &p = picks_[id]['P'];
        const auto first = std::lower_bound(p.begin(), p.end(), w.start);
        with_p_ += first != p.end() && *first < w.start + length;
    }
    for (const std::string &s : wanted)
        if (!seen.count(s)) strata::fail("{}: no windows of station {}", index.root, s);
    if (selected_.empty()) strata::fail("{}: no windows at the stations asked for", index.root);
}

strata::data::Example LabelledWindows::get(int64_t index) const {
    const int64_t window = selected_.at(size_t(index));
    strata::data::Example example = windows_->get(window);
    const auto &w = windows_->index().windows[size_t(window)];
    const double rate = windows_->index().rate, length = double(windows_->index().window_samples) / rate;
    const auto found = picks_.find(network_station(windows_->index().stations[size_t(w.station)].id));
    for (const char phase : {'P', 'S'}) {
        double sample = NAN;
        if (found != picks_.end() && found->second.count(phase)) {
            const auto &times = found->second.at(phase);
            const auto first = std::lower_bound(times.begin(), times.end(), w.start);
            if (first != times.end() && *first < w.start + length) sample = (*first - w.start) * rate;
        }
        example[phase == 'P' ? "p_sample" : "s_sample"] = strata::Tensor::full({1}, sample);
    }
    return example;
}

std::string LabelledWindows::describe(int64_t index) const {
    return index >= 0 && index < size() ? windows_->describe(selected_[size_t(index)])
                                        : fmt::format("window {} of {}", index, size());
}

void PickTargets::apply(strata::data::Example &example, strata::Generator &) const {
    auto onset = [&](const char *key) {
        const double at = example.at(key).get_flat(0);
        return std::isfinite(at) && std::round(at) >= 0 && std::round(at) < double(length_) ? std::lround(at) : -100L;
    };
    const long p = onset("p_sample"), s = onset("s_sample");
    example["is_event"] = strata::Tensor::full({}, p >= 0 ? 1.0 : 0.0);
    example["p_onset"] = strata::Tensor::full({}, double(p), strata::DType::i32);
    example["s_onset"] = strata::Tensor::full({}, double(s), strata::DType::i32);
    for (const char *unused : {"p_sample", "s_sample", "start_time"}) example.erase(unused);
}

}  // namespace picking
