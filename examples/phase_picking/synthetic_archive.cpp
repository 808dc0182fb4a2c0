#include "synthetic_archive.h"
#include "synthetic_wavelet.h"

#include <strata/strata.h>

#include <fmt/core.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

namespace picking {

namespace {

constexpr double kStart = 1709251200.0;  // 2024-03-01T00:00:00Z
constexpr double kFileSeconds = 600.0;   // 10 minutes per file
const char *kComponents = "ZNE";

std::string iso_time(double seconds) {
    const auto whole = static_cast<std::time_t>(std::floor(seconds));
    const auto micros = static_cast<int64_t>(std::llround((seconds - double(whole)) * 1e6));
    std::tm tm{};
    gmtime_r(&whole, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
}

struct Event {
    double p, s;       // arrival times, seconds since 1970
    double amplitude;  // counts
    double frequency;  // of the P wave, Hz
};

}  // namespace

Archive write_synthetic_archive(const std::string &folder, const ArchiveOptions &o) {
    namespace fs = std::filesystem;
    if (o.stations < 1 || o.stations > 99) strata::fail("--stations {}: expected 1 to 99", o.stations);
    if (o.minutes < 1 || o.minutes > 24 * 60) strata::fail("--minutes {}: expected 1 to 1440", o.minutes);
    Archive archive;
    archive.root = (fs::path(folder) / "archive").string();
    archive.picks = (fs::path(folder) / "picks.csv").string();
    fs::create_directories(archive.root);
    std::string csv = "network,station,phase,time\n";
    const double seconds = double(o.minutes) * 60.0;
    const auto samples_per_file = static_cast<int64_t>(std::llround(kFileSeconds * o.rate));
    for (int64_t k = 0; k < o.stations; ++k) {
        const std::string station = fmt::format("S{:02}", k + 1);
        std::mt19937_64 rng(o.seed * 1000 + uint64_t(k));
        std::uniform_real_distribution<double> gap(25.0, 70.0), sp(3.0, 10.0), freq(3.0, 8.0), log_amp(5.5, 8.0);
        std::normal_distribution<double> noise(0.0, 100.0);
        std::vector<Event> events;
        for (double t = kStart + gap(rng) * 0.5; t < kStart + seconds - 5.0; t += gap(rng)) {
            events.push_back({t, t + sp(rng), std::exp(log_amp(rng)), freq(rng)});
            csv += fmt::format("XX,{},P,{}\n", station, iso_time(events.back().p));
            if (events.back().s < kStart + seconds) csv += fmt::format("XX,{},S,{}\n", station, iso_time(events.back().s));
        }
        archive.events += int64_t(events.size());
        for (double file_start = kStart; file_start < kStart + seconds; file_start += kFileSeconds) {
            const int64_t n = std::min<int64_t>(samples_per_file, std::llround((kStart + seconds - file_start) * o.rate));
            for (int c = 0; c < 3; ++c) {
                strata::Trace trace;
                trace.network = "XX";
                trace.station = station;
                trace.channel = fmt::format("BH{}", kComponents[c]);
                trace.start_epoch_seconds = file_start;
                trace.sampling_rate = o.rate;
                trace.samples.resize(size_t(n));
                const double gain_p = c == 0 ? 1.0 : 0.35, gain_s = c == 0 ? 0.5 : 1.6;
                for (int64_t i = 0; i < n; ++i) {
                    const double t = file_start + double(i) / o.rate;
                    double v = noise(rng);
                    for (const Event &e : events) {
                        if (t < e.p || t > e.s + 40.0) continue;
                        v += e.amplitude * gain_p * wavelet(t, e.p, e.frequency, 3.0);
                        v += e.amplitude * gain_s * wavelet(t, e.s, e.frequency * 0.6, 5.0);
                    }
                    trace.samples[size_t(i)] = std::round(v);
                }
                std::tm tm{};
                const auto whole = static_cast<std::time_t>(file_start);
                gmtime_r(&whole, &tm);
                const fs::path dir = fs::path(archive.root) / fmt::format("{}", tm.tm_year + 1900) / "XX" / station /
                                     (trace.channel + ".D");
                fs::create_directories(dir);
                const std::string name = fmt::format("XX.{}..{}.D.{}.{:03}.{:02}{:02}", station, trace.channel,
                                                     tm.tm_year + 1900, tm.tm_yday + 1, tm.tm_hour, tm.tm_min);
                strata::write_miniseed((dir / name).string(), {trace});
                ++archive.files;
            }
        }
    }
    strata::write_file_atomically(archive.picks, csv);
    return archive;
}

}  // namespace picking
