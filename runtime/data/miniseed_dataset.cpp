#include "runtime/data/miniseed_dataset.h"

#include "runtime/atomic_file.h"
#include "runtime/input_file.h"
#include "runtime/miniseed.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sys/stat.h>
#include <type_traits>

namespace strata::data {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr const char *kIndexFormat = "strata-miniseed-index-1";
/// Lobes of the Lanczos window on each side (in samples of the lower rate).
constexpr double kLanczosLobes = 8.0;
/// More windows than this is a mistake in the options (a stride of a microsecond...).
constexpr int64_t kMaxWindows = int64_t(1) << 31;
constexpr int64_t kMaxWindowSamples = int64_t(1) << 31;

/// A time a seismogram can have (seconds since 1970: years 1653 to 5138), so that a corrupt
/// index cannot send the arithmetic on times out of range.
bool plausible_time(double seconds) { return std::fabs(seconds) < 1e11; }

std::string iso_time(double seconds) {
    const auto micros = static_cast<int64_t>(std::llround(seconds * 1e6));
    int64_t whole = micros / 1000000, frac = micros % 1000000;
    if (frac < 0) frac += 1000000, whole -= 1;
    const auto t = static_cast<std::time_t>(whole);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

bool same_rate(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(a, b); }

double stride_of(const MiniseedWindowOptions &o) { return o.stride_seconds > 0 ? o.stride_seconds : o.window_seconds; }

void check_options(const MiniseedWindowOptions &o) {
    if (!(o.window_seconds > 0) || !std::isfinite(o.window_seconds))
        fail("MiniseedWindowOptions: window_seconds is {}; expected a positive number of seconds", o.window_seconds);
    if (!(o.stride_seconds >= 0) || !std::isfinite(o.stride_seconds))
        fail("MiniseedWindowOptions: stride_seconds is {}; expected 0 (one window length) or a positive number "
             "of seconds",
             o.stride_seconds);
    if (!(o.sampling_rate >= 0) || !std::isfinite(o.sampling_rate))
        fail("MiniseedWindowOptions: sampling_rate is {}; expected 0 (the files' rate) or a positive rate in Hz",
             o.sampling_rate);
    if (o.dtype != DType::f32 && o.dtype != DType::f64)
        fail("MiniseedWindowOptions: dtype is {}; expected f32 or f64", dtype_name(o.dtype));
}

bool same_options(const MiniseedWindowOptions &a, const MiniseedWindowOptions &b) {
    return a.window_seconds == b.window_seconds && a.stride_seconds == b.stride_seconds &&
           a.sampling_rate == b.sampling_rate && a.gaps == b.gaps && a.dtype == b.dtype;
}

std::string normal_root(const std::string &root) { return fs::absolute(root).lexically_normal().string(); }

/// Every regular file under `root` not hidden (no path component starting with '.'), by path.
std::vector<MiniseedFileStamp> scan_files(const std::string &root) {
    std::error_code ec;
    if (!fs::is_directory(root, ec))
        fail("{}: not a folder; expected a folder tree of MiniSEED files", root);
    std::vector<MiniseedFileStamp> files;
    fs::recursive_directory_iterator it(root, ec), end;
    if (ec) fail("{}: cannot list the folder: {}", root, ec.message());
    for (; it != end; it.increment(ec)) {
        if (ec) fail("{}: cannot list the folder: {}", root, ec.message());
        const fs::path &p = it->path();
        if (p.filename().string().rfind('.', 0) == 0) {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        if (!it->is_regular_file(ec)) continue;
        struct stat st;
        if (::stat(p.c_str(), &st) != 0) fail("{}: cannot read its size", p.string());
        const int64_t mtime = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
        files.push_back({fs::relative(p, root).string(), int64_t(st.st_size), mtime});
    }
    std::sort(files.begin(), files.end(), [](const auto &a, const auto &b) { return a.path < b.path; });
    return files;
}

/// A closed time interval [first, last] of sample times.
struct Span {
    double first, last;
};

/// The stretches of one component where samples follow each other (within half a sample),
/// as [first sample, last sample].
std::vector<Span> stretches(const std::vector<MiniseedSegment> &segments) {
    std::vector<Span> out;
    double rate = 0.0;
    for (const MiniseedSegment &s : segments) {
        const double first = s.start, last = s.end() - 1.0 / s.rate;
        if (!out.empty() && same_rate(rate, s.rate) && first <= out.back().last + 1.5 / s.rate)
            out.back().last = std::max(out.back().last, last);
        else out.push_back({first, last});
        rate = s.rate;
    }
    return out;
}

std::vector<Span> intersect(const std::vector<Span> &a, const std::vector<Span> &b) {
    std::vector<Span> out;
    for (size_t i = 0, j = 0; i < a.size() && j < b.size();) {
        const double first = std::max(a[i].first, b[j].first), last = std::min(a[i].last, b[j].last);
        if (first <= last) out.push_back({first, last});
        (a[i].last < b[j].last ? i : j)++;
    }
    return out;
}

std::vector<Span> unite(std::vector<Span> spans, double tolerance) {
    std::sort(spans.begin(), spans.end(), [](const Span &x, const Span &y) { return x.first < y.first; });
    std::vector<Span> out;
    for (const Span &s : spans) {
        if (!out.empty() && s.first <= out.back().last + tolerance) out.back().last = std::max(out.back().last, s.last);
        else out.push_back(s);
    }
    return out;
}

/// Appends the windows of one station to `out`; see the gap policy in the header.
void list_windows(const MiniseedIndex &index, int32_t station, std::vector<MiniseedWindow> &out) {
    const MiniseedStation &s = index.stations[size_t(station)];
    const double stride = stride_of(index.options), period = 1.0 / index.rate;
    const double length = double(index.window_samples - 1) * period;  // first to last sample
    const double tolerance = 0.01 * period;
    std::array<std::vector<Span>, 3> spans;
    for (int c = 0; c < 3; ++c) spans[size_t(c)] = stretches(s.segments[size_t(c)]);
    auto push = [&](double start) {
        if (int64_t(out.size()) >= kMaxWindows)
            fail("{}: more than {} windows; use a longer stride_seconds (now {} s)", index.root, kMaxWindows, stride);
        out.push_back({station, start});
    };
    if (index.options.gaps == GapPolicy::skip) {
        for (const Span &span : intersect(intersect(spans[0], spans[1]), spans[2])) {
            const double room = span.last - span.first - length;
            if (room < -tolerance) continue;
            const auto count = static_cast<int64_t>(std::floor((room + tolerance) / stride)) + 1;
            if (count > kMaxWindows) fail("{}: more than {} windows; use a longer stride_seconds", index.root, kMaxWindows);
            for (int64_t k = 0; k < count; ++k) push(span.first + double(k) * stride);
        }
        return;
    }
    std::vector<Span> all = spans[0];
    all.insert(all.end(), spans[1].begin(), spans[1].end());
    all.insert(all.end(), spans[2].begin(), spans[2].end());
    all = unite(all, tolerance);
    if (all.empty()) return;
    const double origin = all.front().first;
    int64_t next = 0;  // the first window number not yet listed
    for (const Span &span : all) {
        // Windows [w, w + length] that meet the span.
        const auto first = static_cast<int64_t>(std::ceil((span.first - length - origin - tolerance) / stride));
        const auto last = static_cast<int64_t>(std::floor((span.last - origin + tolerance) / stride));
        if (double(last) - double(std::max(first, next)) > double(kMaxWindows))
            fail("{}: more than {} windows; use a longer stride_seconds", index.root, kMaxWindows);
        for (int64_t k = std::max(first, next); k <= last; ++k) push(origin + double(k) * stride);
        next = std::max(next, last + 1);
    }
}

/// One channel's samples as read, where they continue each other.
struct Run {
    double start = 0.0, rate = 0.0;
    std::vector<double> samples;
};

/// Joins traces of one channel (sorted by start) that continue each other across files.
std::vector<Run> join_traces(std::vector<const Trace *> traces) {
    std::sort(traces.begin(), traces.end(),
              [](const Trace *a, const Trace *b) { return a->start_epoch_seconds < b->start_epoch_seconds; });
    std::vector<Run> runs;
    for (const Trace *t : traces) {
        if (!runs.empty()) {
            Run &r = runs.back();
            const double end = r.start + double(r.samples.size()) / r.rate;
            if (same_rate(r.rate, t->sampling_rate) && std::fabs(t->start_epoch_seconds - end) <= 0.5 / r.rate) {
                r.samples.insert(r.samples.end(), t->samples.begin(), t->samples.end());
                continue;
            }
        }
        runs.push_back({t->start_epoch_seconds, t->sampling_rate, t->samples});
    }
    return runs;
}

double sinc(double x) {
    if (std::fabs(x) < 1e-12) return 1.0;
    const double px = M_PI * x;
    return std::sin(px) / px;
}

/// The value of `run` at time `t` by Lanczos-windowed sinc interpolation, low-passed at
/// `cutoff` (a fraction of the run's Nyquist frequency, <= 1). Weights are normalised.
double interpolate(const Run &run, double t, double cutoff) {
    const double u = (t - run.start) * run.rate;
    const double half = kLanczosLobes / cutoff;
    const auto n = static_cast<int64_t>(run.samples.size());
    const int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(u - half)));
    const int64_t hi = std::min<int64_t>(n - 1, static_cast<int64_t>(std::floor(u + half)));
    double sum = 0.0, weights = 0.0;
    for (int64_t k = lo; k <= hi; ++k) {
        const double d = u - double(k);
        const double w = sinc(cutoff * d) * sinc(d / half);
        sum += w * run.samples[size_t(k)];
        weights += w;
    }
    return weights != 0.0 ? sum / weights : 0.0;
}

Json options_json(const MiniseedWindowOptions &o) {
    return {{"window_seconds", o.window_seconds},
            {"stride_seconds", o.stride_seconds},
            {"sampling_rate", o.sampling_rate},
            {"gaps", o.gaps == GapPolicy::skip ? "skip" : "zero_fill"},
            {"dtype", dtype_name(o.dtype)}};
}

/// Reads `key` of object `j` as T, or fails naming the index file and `what`.
template <typename T> T field(const Json &j, const char *key, const std::string &path, const std::string &what) {
    if (!j.is_object() || !j.contains(key))
        fail("{}: corrupt MiniSEED index: {} has no \"{}\"", path, what, key);
    const Json &value = j.at(key);
    const bool is_string = std::is_same<T, std::string>::value, is_integer = std::is_integral<T>::value;
    if (is_string ? !value.is_string() : is_integer ? !value.is_number_integer() : !value.is_number())
        fail("{}: corrupt MiniSEED index: \"{}\" of {} is {}; expected {}", path, key, what, value.dump().substr(0, 60),
             is_string ? "a string" : is_integer ? "an integer" : "a number");
    return value.get<T>();
}

const Json &array_field(const Json &j, const char *key, const std::string &path, const std::string &what) {
    if (!j.is_object() || !j.contains(key) || !j.at(key).is_array())
        fail("{}: corrupt MiniSEED index: {} has no array \"{}\"", path, what, key);
    return j.at(key);
}

/// A segment's record runs from a saved index: each [offset, record length, records] must lie
/// inside its file as the index stamped it (the stamp is checked before the index is used).
std::vector<MiniseedRecordRun> record_runs(const Json &list, const MiniseedFileStamp &file, const std::string &path,
                                           const std::string &what) {
    std::vector<MiniseedRecordRun> runs;
    for (const Json &r : list) {
        const bool shaped = r.is_array() && r.size() == 3 && r[0].is_number_unsigned() && r[1].is_number_integer() &&
                            r[2].is_number_integer();
        MiniseedRecordRun run;
        if (shaped) run = {r[0].get<uint64_t>(), int32_t(std::clamp<int64_t>(r[1].get<int64_t>(), 0, 1 << 30)),
                           r[2].get<int64_t>()};
        const auto size = static_cast<uint64_t>(std::max<int64_t>(file.size, 0));
        if (!shaped || run.record_length < 128 || run.record_length > (1 << 20) || run.records < 1 ||
            run.offset > size || uint64_t(run.records) > (size - run.offset) / uint64_t(run.record_length))
            fail("{}: corrupt MiniSEED index: {} has the record run {}; expected [offset, record length 128 to 2^20, "
                 "records >= 1] inside the {} bytes of {}",
                 path, what, r.dump().substr(0, 80), file.size, file.path);
        runs.push_back(run);
    }
    return runs;
}

}  // namespace

MiniseedIndex MiniseedIndex::build(const std::string &root, const MiniseedWindowOptions &options) {
    check_options(options);
    MiniseedIndex index;
    index.root = normal_root(root);
    index.options = options;
    index.files = scan_files(index.root);
    if (index.files.empty()) fail("{}: no files in the folder; expected MiniSEED files", index.root);

    // Channel group ("XX.STA..BH") -> component letter -> segments; and where a rate was first seen.
    std::map<std::string, std::map<char, std::vector<MiniseedSegment>>> groups;
    std::string rate_origin;
    double common_rate = 0.0;
    for (size_t f = 0; f < index.files.size(); ++f) {
        const std::string path = (fs::path(index.root) / index.files[f].path).string();
        for (const Trace &t : read_miniseed(path)) {
            if (t.channel.size() != 3)
                fail("{}: trace {}: the channel code '{}' has {} characters; expected 3 (band, instrument, "
                     "component)",
                     path, t.id(), t.channel, t.channel.size());
            if (options.sampling_rate == 0.0) {
                if (rate_origin.empty()) {
                    rate_origin = fmt::format("{} in {}", t.id(), path);
                    common_rate = t.sampling_rate;
                } else if (!same_rate(common_rate, t.sampling_rate))
                    fail("{}: trace {} is sampled at {} Hz, but {} is at {} Hz; windows need one rate: set "
                         "MiniseedWindowOptions::sampling_rate to resample",
                         path, t.id(), t.sampling_rate, rate_origin, common_rate);
            }
            const std::string id = t.id();
            groups[id.substr(0, id.size() - 1)][t.channel[2]].push_back(
                {int32_t(f), t.start_epoch_seconds, t.sampling_rate, int64_t(t.samples.size()), t.record_runs});
        }
    }
    index.rate = options.sampling_rate > 0 ? options.sampling_rate : common_rate;
    const double samples = std::round(options.window_seconds * index.rate);
    if (!(samples >= 1) || samples > double(kMaxWindowSamples))
        fail("{}: a window of {} s at {} Hz is {} samples; expected 1 to 2^31", index.root, options.window_seconds,
             index.rate, samples);
    index.window_samples = static_cast<int64_t>(samples);

    for (auto &[group, components] : groups) {
        std::string letters;
        for (const auto &entry : components) letters += entry.first;
        auto has = [&](const char *set) {
            return std::all_of(set, set + 3, [&](char c) { return components.count(c) != 0; });
        };
        const char *set = has("ZNE") ? "ZNE" : has("Z12") ? "Z12" : nullptr;
        if (!set) {
            index.incomplete.push_back(fmt::format("{} (has {})", group, letters));
            continue;
        }
        MiniseedStation station;
        station.id = group;
        station.components = set;
        for (int c = 0; c < 3; ++c) {
            auto &segments = components[set[c]];
            std::stable_sort(segments.begin(), segments.end(),
                             [](const auto &a, const auto &b) { return a.start < b.start; });
            station.segments[size_t(c)] = std::move(segments);
        }
        index.stations.push_back(std::move(station));
    }
    if (index.stations.empty())
        fail("{}: no station has three components (channels ending Z, N, E or Z, 1, 2); found {}", index.root,
             index.incomplete.empty() ? std::string("none") : fmt::format("{}", fmt::join(index.incomplete, ", ")));
    for (size_t s = 0; s < index.stations.size(); ++s) list_windows(index, int32_t(s), index.windows);
    return index;
}

bool MiniseedIndex::is_current(const MiniseedWindowOptions &o) const {
    if (!same_options(options, o)) return false;
    const std::vector<MiniseedFileStamp> now = scan_files(root);
    return std::equal(files.begin(), files.end(), now.begin(), now.end(), [](const auto &a, const auto &b) {
        return a.path == b.path && a.size == b.size && a.mtime_ns == b.mtime_ns;
    });
}

void MiniseedIndex::save(const std::string &path) const {
    Json j;
    j["format"] = kIndexFormat;
    j["root"] = root;
    j["options"] = options_json(options);
    j["rate"] = rate;
    j["window_samples"] = window_samples;
    j["files"] = Json::array();
    for (const auto &f : files) j["files"].push_back({{"path", f.path}, {"size", f.size}, {"mtime_ns", f.mtime_ns}});
    j["stations"] = Json::array();
    for (const auto &s : stations) {
        Json segments = Json::array();
        for (const auto &component : s.segments) {
            Json list = Json::array();
            for (const auto &g : component) {
                Json runs = Json::array();
                for (const auto &r : g.runs) runs.push_back({r.offset, r.record_length, r.records});
                list.push_back({g.file, g.start, g.rate, g.samples, std::move(runs)});
            }
            segments.push_back(std::move(list));
        }
        j["stations"].push_back({{"id", s.id}, {"components", s.components}, {"segments", std::move(segments)}});
    }
    j["windows"] = Json::array();
    for (const auto &w : windows) j["windows"].push_back({w.station, w.start});
    j["incomplete"] = incomplete;
    const std::string text = j.dump();
    AtomicFileWriter out(path);
    out.write(text.data(), text.size());
    out.commit();
}

MiniseedIndex MiniseedIndex::load(const std::string &path) {
    // Only a regular file: a FIFO planted as the index would block the loader forever.
    const std::string text = InputFile(path, "a MiniSEED index").read_all();
    Json j;
    try {
        j = Json::parse(text);
    } catch (const Json::exception &e) {
        fail("{}: corrupt MiniSEED index: not JSON ({})", path, e.what());
    }
    if (!j.is_object() || !j.contains("format") || j["format"] != kIndexFormat)
        fail("{}: not a MiniSEED index: expected \"format\": \"{}\"", path, kIndexFormat);
    MiniseedIndex index;
    index.root = field<std::string>(j, "root", path, "the index");
    const Json &o = j.contains("options") ? j["options"] : Json();
    index.options.window_seconds = field<double>(o, "window_seconds", path, "options");
    index.options.stride_seconds = field<double>(o, "stride_seconds", path, "options");
    index.options.sampling_rate = field<double>(o, "sampling_rate", path, "options");
    const std::string gaps = field<std::string>(o, "gaps", path, "options");
    if (gaps != "skip" && gaps != "zero_fill")
        fail("{}: corrupt MiniSEED index: gaps is '{}'; expected skip or zero_fill", path, gaps);
    index.options.gaps = gaps == "skip" ? GapPolicy::skip : GapPolicy::zero_fill;
    if (!parse_dtype(field<std::string>(o, "dtype", path, "options"), &index.options.dtype))
        fail("{}: corrupt MiniSEED index: options.dtype is not a dtype name", path);
    try {
        check_options(index.options);
    } catch (const Error &e) {
        fail("{}: corrupt MiniSEED index: {}", path, e.what());
    }
    index.rate = field<double>(j, "rate", path, "the index");
    index.window_samples = field<int64_t>(j, "window_samples", path, "the index");
    if (!(index.rate > 0) || !std::isfinite(index.rate) || index.window_samples < 1 ||
        index.window_samples > kMaxWindowSamples ||
        double(index.window_samples) != std::round(index.options.window_seconds * index.rate))
        fail("{}: corrupt MiniSEED index: rate {} Hz and window_samples {} do not match a {} s window", path,
             index.rate, index.window_samples, index.options.window_seconds);
    const Json &files = array_field(j, "files", path, "the index");
    for (size_t f = 0; f < files.size(); ++f) {
        const std::string what = fmt::format("files[{}]", f);
        index.files.push_back({field<std::string>(files[f], "path", path, what),
                               field<int64_t>(files[f], "size", path, what),
                               field<int64_t>(files[f], "mtime_ns", path, what)});
    }
    const Json &stations = array_field(j, "stations", path, "the index");
    for (size_t s = 0; s < stations.size(); ++s) {
        const std::string what = fmt::format("stations[{}]", s);
        MiniseedStation station;
        station.id = field<std::string>(stations[s], "id", path, what);
        station.components = field<std::string>(stations[s], "components", path, what);
        if (station.components != "ZNE" && station.components != "Z12")
            fail("{}: corrupt MiniSEED index: {} has components '{}'; expected ZNE or Z12", path, what,
                 station.components);
        const Json &segments = array_field(stations[s], "segments", path, what);
        if (segments.size() != 3) fail("{}: corrupt MiniSEED index: {} has {} segment lists; expected 3", path, what, segments.size());
        for (size_t c = 0; c < 3; ++c) {
            if (!segments[c].is_array()) fail("{}: corrupt MiniSEED index: {}.segments[{}] is not a list", path, what, c);
            for (const Json &g : segments[c]) {
                // [file, start, rate, samples, runs]; indexes saved before record runs have no runs.
                if (!g.is_array() || (g.size() != 4 && g.size() != 5) || !g[0].is_number_integer() ||
                    !g[1].is_number() || !g[2].is_number() || !g[3].is_number_integer() ||
                    (g.size() == 5 && !g[4].is_array()))
                    fail("{}: corrupt MiniSEED index: {}.segments[{}] holds {}; expected [file, start, rate, samples, "
                         "runs]",
                         path, what, c, g.dump().substr(0, 80));
                const auto file = g[0].get<int64_t>();
                MiniseedSegment seg{int32_t(0), g[1].get<double>(), g[2].get<double>(), g[3].get<int64_t>()};
                if (file < 0 || file >= int64_t(index.files.size()) || !(seg.rate > 0) || !std::isfinite(seg.rate) ||
                    !plausible_time(seg.start) || seg.samples < 1)
                    fail("{}: corrupt MiniSEED index: {}.segments[{}] holds {}; expected a file number below {}, "
                         "a finite start, a positive rate and samples",
                         path, what, c, g.dump().substr(0, 80), index.files.size());
                seg.file = int32_t(file);
                if (g.size() == 5) seg.runs = record_runs(g[4], index.files[size_t(file)], path, what);
                station.segments[c].push_back(seg);
            }
        }
        index.stations.push_back(std::move(station));
    }
    const Json &windows = array_field(j, "windows", path, "the index");
    for (size_t w = 0; w < windows.size(); ++w) {
        const Json &x = windows[w];
        if (!x.is_array() || x.size() != 2 || !x[0].is_number_integer() || !x[1].is_number() ||
            x[0].get<int64_t>() < 0 || x[0].get<int64_t>() >= int64_t(index.stations.size()) ||
            !plausible_time(x[1].get<double>()))
            fail("{}: corrupt MiniSEED index: windows[{}] is {}; expected [station below {}, a start time]", path, w,
                 x.dump().substr(0, 80), index.stations.size());
        index.windows.push_back({x[0].get<int32_t>(), x[1].get<double>()});
    }
    if (j.contains("incomplete") && j["incomplete"].is_array())
        for (const Json &x : j["incomplete"])
            if (x.is_string()) index.incomplete.push_back(x.get<std::string>());
    return index;
}

MiniseedDataset::MiniseedDataset(MiniseedIndex index) : index_(std::move(index)) {
    if (index_.windows.empty())
        fail("{}: no {}-second window has data{}", index_.root, index_.options.window_seconds,
             index_.options.gaps == GapPolicy::skip ? " on all three components without a gap" : "");
}

std::shared_ptr<MiniseedDataset> MiniseedDataset::open(const std::string &root, const MiniseedWindowOptions &options,
                                                       const std::string &index_path) {
    if (!index_path.empty() && fs::exists(index_path)) {
        MiniseedIndex saved = MiniseedIndex::load(index_path);
        if (saved.root == normal_root(root) && saved.is_current(options)) {
            auto dataset = std::make_shared<MiniseedDataset>(std::move(saved));
            dataset->loaded_saved_index_ = true;
            return dataset;
        }
    }
    MiniseedIndex index = MiniseedIndex::build(root, options);
    if (!index_path.empty()) index.save(index_path);
    return std::make_shared<MiniseedDataset>(std::move(index));
}

std::string MiniseedDataset::describe(int64_t index) const {
    if (index < 0 || index >= size()) return fmt::format("{}: window {} (of {})", index_.root, index, size());
    const MiniseedWindow &w = index_.windows[size_t(index)];
    const MiniseedStation &s = index_.stations[size_t(w.station)];
    return fmt::format("{}: window {}, {}[{}] from {}", index_.root, index, s.id, s.components, iso_time(w.start));
}

Example MiniseedDataset::get(int64_t index) const {
    if (index < 0 || index >= size())
        fail("{}: window {} is out of range; the dataset has {} windows", index_.root, index, size());
    try {
        const MiniseedWindow &w = index_.windows[size_t(index)];
        const MiniseedStation &s = index_.stations[size_t(w.station)];
        const int64_t L = index_.window_samples;
        const double rate = index_.rate, end = w.start + double(L) / rate;
        const bool resample = index_.options.sampling_rate > 0;

        // The files holding data near the window, and the time span each must give: the window
        // and, around it, the samples the interpolation reaches (two samples without resampling);
        // with the record runs of each channel's segments there, when every segment has them.
        struct FileRead {
            std::pair<double, double> span;
            std::map<std::string, std::vector<MiniseedRecordRun>> runs;  // by channel id
            bool by_runs = true;
        };
        std::map<int32_t, FileRead> files;
        for (size_t c = 0; c < 3; ++c)
            for (const MiniseedSegment &g : s.segments[c]) {
                const double margin = (resample ? kLanczosLobes * std::max(1.0, g.rate / rate) + 2 : 2) / g.rate;
                if (g.start > end + margin || g.end() < w.start - margin) continue;
                FileRead &read = files.emplace(g.file, FileRead{{w.start - margin, end + margin}, {}, true}).first->second;
                read.span.first = std::min(read.span.first, w.start - margin);
                read.span.second = std::max(read.span.second, end + margin);
                read.by_runs = read.by_runs && !g.runs.empty();
                auto &runs = read.runs[s.id + s.components[c]];
                runs.insert(runs.end(), g.runs.begin(), g.runs.end());
            }
        // Only the records overlapping that span are decoded (runtime/miniseed.h); with runs,
        // only they are read.
        std::vector<Trace> traces;
        for (const auto &[f, read] : files) {
            const std::string path = (fs::path(index_.root) / index_.files[size_t(f)].path).string();
            std::vector<std::vector<Trace>> parts;
            if (read.by_runs)
                for (const auto &[channel, runs] : read.runs)
                    parts.push_back(read_miniseed(path, channel, runs, read.span.first, read.span.second));
            else
                parts.push_back(read_miniseed(path, read.span.first, read.span.second));
            for (auto &part : parts) std::move(part.begin(), part.end(), std::back_inserter(traces));
        }

        std::vector<double> waveform(size_t(3 * L), 0.0), mask(size_t(3 * L), 0.0);
        for (int c = 0; c < 3; ++c) {
            const std::string channel = s.id + s.components[size_t(c)];
            std::vector<const Trace *> mine;
            for (const Trace &t : traces)
                if (t.id() == channel) mine.push_back(&t);
            const std::vector<Run> runs = join_traces(mine);
            for (int64_t j = 0; j < L; ++j) {
                const double t = w.start + double(j) / rate;
                for (const Run &r : runs) {
                    const double u = (t - r.start) * r.rate;
                    if (u < -0.5 || u > double(r.samples.size()) - 0.5) continue;
                    const size_t at = size_t(c * L + j);
                    if (resample) waveform[at] = interpolate(r, t, std::min(1.0, rate / r.rate));
                    else waveform[at] = r.samples[size_t(std::clamp<int64_t>(std::llround(u), 0, int64_t(r.samples.size()) - 1))];
                    mask[at] = 1.0;
                    break;
                }
                if (mask[size_t(c * L + j)] == 0.0 && index_.options.gaps == GapPolicy::skip)
                    fail("{} has no sample at {}: the files changed since the index was built; build it again",
                         channel, iso_time(t));
            }
        }
        const DType dtype = index_.options.dtype;
        Example example;
        example["waveform"] = Tensor::from_vector(waveform, Shape{3, L}).to(dtype);
        example["start_time"] = Tensor::full(Shape{}, w.start, DType::f64);
        if (index_.options.gaps == GapPolicy::zero_fill) example["mask"] = Tensor::from_vector(mask, Shape{3, L}).to(dtype);
        return example;
    } catch (const Error &e) {
        fail("{}: {}", describe(index), e.what());
    }
}

}  // namespace strata::data
