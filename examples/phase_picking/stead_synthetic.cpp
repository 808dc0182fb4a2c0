#include "stead_synthetic.h"
#include "synthetic_wavelet.h"

#include <strata/strata.h>

#include <fmt/core.h>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

namespace picking {

namespace {

namespace fs = std::filesystem;

/// One trace: [samples, 3] (E, N, Z) and its metadata.
struct SyntheticTrace {
    std::string name, category;
    std::vector<float> samples;
    double p = NAN, s = NAN, snr_db = NAN;
};

double uniform(std::mt19937_64 &rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }

/// Fills `x` [length, 3] with noise: white, plus a microseism (0.15-0.3 Hz) on every channel.
/// Returns its standard deviation (10 to 1000 counts).
double add_noise(std::vector<double> &x, int64_t length, double rate, std::mt19937_64 &rng) {
    std::normal_distribution<double> gauss(0.0, 1.0);
    const double sigma = std::pow(10.0, uniform(rng, 1.0, 3.0)), micro = uniform(rng, 0.0, 2.0) * sigma,
                 micro_f = uniform(rng, 0.15, 0.3);
    for (int c = 0; c < 3; ++c) {
        const double phase = uniform(rng, 0.0, 2 * M_PI);
        for (int64_t i = 0; i < length; ++i)
            x[size_t(i * 3 + c)] += sigma * gauss(rng) + micro * std::sin(2 * M_PI * micro_f * double(i) / rate + phase);
    }
    return sigma;
}

/// Adds an earthquake with P at sample `p` and S at sample `s` to `x` [length, 3] over noise of
/// `sigma`; returns its SNR in dB. P: along the ray (mostly Z, some radial); S: across it
/// (mostly horizontal, random polarisation), larger and of lower frequency.
double add_earthquake(std::vector<double> &x, int64_t length, double rate, double p, double s, double sigma,
                      std::mt19937_64 &rng) {
    const double snr_db = uniform(rng, 5.0, 30.0);
    const double a_p = sigma * std::pow(10.0, snr_db / 20.0), a_s = a_p * uniform(rng, 1.2, 3.0);
    const double f_p = uniform(rng, 3.0, 12.0), f_s = f_p * uniform(rng, 0.4, 0.7);
    const double decay_p = uniform(rng, 0.5, 2.0), decay_s = uniform(rng, 1.0, 3.0);
    const double azimuth = uniform(rng, 0.0, 2 * M_PI), radial = uniform(rng, 0.2, 0.6),
                 s_angle = uniform(rng, 0.0, 2 * M_PI);
    const double sign_p = uniform(rng, 0, 1) < 0.5 ? -1 : 1, s_vertical = uniform(rng, 0.1, 0.4);
    const double gain_p[3] = {radial * std::sin(azimuth), radial * std::cos(azimuth), 1.0};
    const double gain_s[3] = {std::cos(s_angle), std::sin(s_angle), s_vertical};
    for (int64_t i = 0; i < length; ++i) {
        const double time = double(i) / rate;
        const double wave_p = sign_p * a_p * wavelet(time, p / rate, f_p, decay_p);
        const double wave_s = a_s * wavelet(time, s / rate, f_s, decay_s);
        for (int c = 0; c < 3; ++c) x[size_t(i * 3 + c)] += gain_p[c] * wave_p + gain_s[c] * wave_s;
    }
    return snr_db;
}

SyntheticTrace make_trace(int64_t index, bool earthquake, int64_t length, double rate, std::mt19937_64 &rng) {
    SyntheticTrace t;
    t.name = fmt::format("SY{:02}.XX_{:06}_{}", index % 97, index, earthquake ? "EV" : "NO");
    t.category = earthquake ? "earthquake_local" : "noise";
    std::vector<double> x(size_t(length) * 3);
    const double sigma = add_noise(x, length, rate, rng);
    if (earthquake) {
        t.p = std::round(uniform(rng, 0.15, 0.45) * double(length));
        const double sp_max = std::min(8.0, (double(length) * 0.85 - t.p) / rate);
        t.s = t.p + std::round(uniform(rng, 1.0, std::max(1.0, sp_max)) * rate);
        t.snr_db = add_earthquake(x, length, rate, t.p, t.s, sigma, rng);
    } else if (uniform(rng, 0, 1) < 0.2) {
        // A glitch: a sharp one-channel spike that rings briefly (not a seismic phase).
        const int c = int(uniform(rng, 0, 3));
        const double at = uniform(rng, 0.1, 0.9) * double(length) / rate, amplitude = sigma * uniform(rng, 5.0, 50.0);
        for (int64_t i = 0; i < length; ++i) x[size_t(i * 3 + c)] += amplitude * wavelet(double(i) / rate, at, 25.0, 0.05);
    }
    t.samples.assign(x.begin(), x.end());
    return t;
}

/// Throws naming `path` when an HDF5 call failed (a negative id or status).
hid_t checked(hid_t id, const std::string &path, const char *what) {
    if (id < 0) strata::fail("{}: HDF5 could not {}", path, what);
    return id;
}

void number_attribute(hid_t object, const char *name, double value, const std::string &path) {
    const hid_t space = checked(H5Screate(H5S_SCALAR), path, "make a dataspace");
    const hid_t attribute =
        checked(H5Acreate2(object, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT), path, "add an attribute");
    const herr_t status = H5Awrite(attribute, H5T_NATIVE_DOUBLE, &value);
    H5Aclose(attribute);
    H5Sclose(space);
    checked(status, path, "write an attribute");
}

/// A variable-length string attribute, as h5py writes a str.
void text_attribute(hid_t object, const char *name, const std::string &value, const std::string &path) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    const hid_t space = checked(H5Screate(H5S_SCALAR), path, "make a dataspace");
    const hid_t attribute = checked(H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT), path, "add an attribute");
    const char *text = value.c_str();
    const herr_t status = H5Awrite(attribute, type, &text);
    H5Aclose(attribute);
    H5Sclose(space);
    H5Tclose(type);
    checked(status, path, "write an attribute");
}

/// The text attribute `name` of the file's root group, "" when absent or unreadable.
std::string root_text_attribute(const std::string &path, const char *name) {
    H5E_auto2_t saved_handler;
    void *saved_data;
    H5Eget_auto2(H5E_DEFAULT, &saved_handler, &saved_data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // a missing or foreign file is not an error here
    std::string value;
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file >= 0) {
        if (H5Aexists(file, name) > 0) {
            const hid_t attribute = H5Aopen(file, name, H5P_DEFAULT);
            const hid_t type = H5Aget_type(attribute);
            char *text = nullptr;
            if (H5Tis_variable_str(type) > 0 && H5Aread(attribute, type, &text) >= 0 && text) {
                value = text;
                H5free_memory(text);
            }
            H5Tclose(type);
            H5Aclose(attribute);
        }
        H5Fclose(file);
    }
    H5Eset_auto2(H5E_DEFAULT, saved_handler, saved_data);
    return value;
}

}  // namespace

SteadFiles write_synthetic_stead(const std::string &folder, const SteadOptions &o) {
    if (o.traces < 2 || o.traces > 10'000'000) strata::fail("--traces {}: expected 2 to 10000000", o.traces);
    if (!(o.rate > 0 && o.rate <= 1e4)) strata::fail("synthetic STEAD: rate {} Hz; expected 0 to 10000", o.rate);
    const auto length = static_cast<int64_t>(std::llround(o.seconds * o.rate));
    if (!(o.seconds > 0) || length < 400 || length > 1'000'000)
        strata::fail("--trace-seconds {}: expected traces of 400 to 1000000 samples at {} Hz", o.seconds, o.rate);
    if (!(o.noise_fraction >= 0 && o.noise_fraction < 1) || !(o.dev_fraction > 0 && o.dev_fraction < 1))
        strata::fail("synthetic STEAD: noise fraction {} and dev fraction {}; expected [0, 1) and (0, 1)",
                     o.noise_fraction, o.dev_fraction);
    SteadFiles files;
    files.hdf5 = (fs::path(folder) / "stead.hdf5").string();
    files.csv = (fs::path(folder) / "stead.csv").string();
    files.noise = std::llround(double(o.traces) * o.noise_fraction);
    files.earthquakes = o.traces - files.noise;
    const std::string generator = fmt::format("strata phase_picking synthetic STEAD v1: traces={} noise={} length={} "
                                              "rate={} dev={} seed={}",
                                              o.traces, files.noise, length, o.rate, o.dev_fraction, o.seed);
    if (fs::exists(files.csv) && root_text_attribute(files.hdf5, "generator") == generator) {
        files.reused = true;
        return files;
    }
    fs::create_directories(folder);

    // Written under a temporary name and renamed: a cut run never leaves half a file behind.
    const std::string partial = files.hdf5 + ".partial";
    const hid_t file = checked(H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), partial, "create the file");
    const hid_t group = checked(H5Gcreate2(file, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), partial, "create group data");
    const hsize_t extents[2] = {hsize_t(length), 3};
    const hid_t space = checked(H5Screate_simple(2, extents, nullptr), partial, "make a dataspace");
    std::string csv = "trace_name,trace_category,p_arrival_sample,s_arrival_sample,snr_db,network_code,receiver_code,split\n";
    std::mt19937_64 rng(o.seed);
    const auto first_dev = static_cast<int64_t>(std::llround(double(o.traces) * (1.0 - o.dev_fraction)));
    for (int64_t i = 0; i < o.traces; ++i) {
        // Noise traces spread evenly through the file, so the dev split has its share.
        const bool earthquake = (i * files.noise) / o.traces == ((i + 1) * files.noise) / o.traces;
        const SyntheticTrace t = make_trace(i, earthquake, length, o.rate, rng);
        const hid_t dataset = checked(H5Dcreate2(group, t.name.c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT,
                                                 H5P_DEFAULT),
                                      partial, "create a trace");
        checked(H5Dwrite(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.samples.data()), partial,
                "write a trace");
        text_attribute(dataset, "trace_category", t.category, partial);
        number_attribute(dataset, "p_arrival_sample", t.p, partial);
        number_attribute(dataset, "s_arrival_sample", t.s, partial);
        number_attribute(dataset, "snr_db", t.snr_db, partial);
        text_attribute(dataset, "network_code", "XX", partial);
        text_attribute(dataset, "receiver_code", t.name.substr(0, 4), partial);
        H5Dclose(dataset);
        auto field = [](double v) { return std::isnan(v) ? std::string() : fmt::format("{:g}", v); };
        csv += fmt::format("{},{},{},{},{},XX,{},{}\n", t.name, t.category, field(t.p), field(t.s), field(t.snr_db),
                           t.name.substr(0, 4), i < first_dev ? "train" : "dev");
    }
    H5Sclose(space);
    H5Gclose(group);
    text_attribute(file, "generator", generator, partial);
    checked(H5Fclose(file), partial, "close the file");
    strata::write_file_atomically(files.csv, csv);
    fs::rename(partial, files.hdf5);
    return files;
}

std::vector<SyntheticArrival> write_synthetic_event_record(const std::string &path, double rate, uint64_t seed) {
    std::mt19937_64 rng(seed);
    const auto length = static_cast<int64_t>(std::llround(60.0 * rate));
    std::vector<double> x(size_t(length) * 3);
    const double sigma = add_noise(x, length, rate, rng);
    // Two events: P at 10 s (S-P 4 s) and at 36 s (S-P 6.5 s).
    const std::vector<SyntheticArrival> arrivals = {{'P', 10.0}, {'S', 14.0}, {'P', 36.0}, {'S', 42.5}};
    for (size_t e = 0; e < arrivals.size(); e += 2)
        add_earthquake(x, length, rate, arrivals[e].seconds * rate, arrivals[e + 1].seconds * rate, sigma, rng);
    std::vector<strata::Trace> traces;
    const char *components = "ENZ";
    for (int c = 0; c < 3; ++c) {
        strata::Trace t;
        t.network = "XX";
        t.station = "SYN";
        t.channel = fmt::format("HH{}", components[c]);
        t.start_epoch_seconds = kRecordStart;
        t.sampling_rate = rate;
        for (int64_t i = 0; i < length; ++i) t.samples.push_back(x[size_t(i * 3 + c)]);
        traces.push_back(std::move(t));
    }
    strata::MiniseedWriteOptions options;
    options.encoding = strata::MiniseedEncoding::float32;
    strata::write_miniseed(path, traces, options);
    return arrivals;
}

}  // namespace picking
