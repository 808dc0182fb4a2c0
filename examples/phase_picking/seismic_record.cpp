#include "seismic_record.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace picking {

namespace {

/// The row of a channel's component letter in [E, N, Z] (1 is north-like, 2 east-like); -1 if none.
int component_row(char letter) {
    switch (letter) {
        case 'E': case '2': return 0;
        case 'N': case '1': return 1;
        case 'Z': return 2;
        default: return -1;
    }
}

std::string instrument_of(const strata::Trace &t) {
    return fmt::format("{}.{}.{}.{}", t.network, t.station, t.location, t.channel.substr(0, 2));
}

}  // namespace

std::string utc_time(double seconds) {
    const double whole = std::floor(seconds);
    const auto centis = static_cast<int>(std::floor((seconds - whole) * 100));
    const auto t = static_cast<std::time_t>(whole);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, centis);
}

SeismicRecord read_seismic_record(const std::string &path, int64_t max_samples) {
    const std::vector<strata::Trace> traces = strata::read_miniseed(path);
    SeismicRecord record;
    record.instrument = instrument_of(traces.at(0));  // read_miniseed gives at least one trace
    std::vector<const strata::Trace *> mine;
    double end = -INFINITY;
    record.start = INFINITY;
    for (const strata::Trace &t : traces) {
        if (instrument_of(t) != record.instrument || t.channel.size() != 3 || component_row(t.channel[2]) < 0) continue;
        if (!mine.empty() && std::fabs(t.sampling_rate - record.rate) > 1e-9 * record.rate)
            strata::fail("{}: {} is at {} Hz, {} at {} Hz; expected one rate for the instrument's channels", path, t.id(),
                         t.sampling_rate, mine[0]->id(), record.rate);
        record.rate = t.sampling_rate;
        record.start = std::min(record.start, t.start_epoch_seconds);
        end = std::max(end, t.start_epoch_seconds + t.duration_seconds());
        mine.push_back(&t);
    }
    record.components = "---";
    for (const strata::Trace *t : mine) record.components[size_t(component_row(t->channel[2]))] = t->channel[2];
    if (record.components[2] != 'Z') strata::fail("{}: no Z channel of {}; the picker needs at least Z", path, record.instrument);
    const double samples = std::round((end - record.start) * record.rate);
    if (!(samples >= 1 && samples <= double(max_samples)))
        strata::fail("{}: {} spans {} samples; expected 1 to {}", path, record.instrument, samples, max_samples);
    const auto length = static_cast<int64_t>(samples);
    record.samples = strata::Tensor::zeros({3, length});
    float *out = record.samples.data<float>();
    for (const strata::Trace *t : mine) {
        const int row = component_row(t->channel[2]);
        const auto first = static_cast<int64_t>(std::llround((t->start_epoch_seconds - record.start) * record.rate));
        for (size_t i = 0; i < t->samples.size(); ++i) {
            const int64_t at = first + int64_t(i);
            if (at >= 0 && at < length) out[row * length + at] = static_cast<float>(t->samples[i]);
        }
    }
    return record;
}

}  // namespace picking
