#pragma once
// A STEAD-like HDF5 file of synthetic three-component traces for the GPD picker: the layout of
// STEAD's merge.hdf5 + merge.csv (Mousavi et al. 2019), so pointing the example at the real
// archive changes nothing but the paths.
//
//   FILE.hdf5  group "data", one dataset per trace named by its trace_name, [samples, 3]
//              float32, channels E, N, Z; attributes trace_category ("earthquake_local" or
//              "noise"), p_arrival_sample, s_arrival_sample (NaN for noise), snr_db,
//              network_code, receiver_code
//   FILE.csv   the same fields, one row per trace, plus split ("train" or "dev", SeisBench's)

#include <cstdint>
#include <string>
#include <vector>

namespace picking {

struct SteadOptions {
    int64_t traces = 3000;       ///< earthquake and noise traces together
    double noise_fraction = 1.0 / 3.0;
    double seconds = 20.0;       ///< per trace (STEAD's are 60 s)
    double rate = 100.0;         ///< samples per second
    double dev_fraction = 0.1;   ///< the last traces, marked split = dev
    uint64_t seed = 0;
};

/// What `write_synthetic_stead` wrote (or found already written with the same options).
struct SteadFiles {
    std::string hdf5, csv;
    int64_t earthquakes = 0, noise = 0;
    bool reused = false;
};

/// Writes `folder`/stead.hdf5 and `folder`/stead.csv (each atomically), unless both are there
/// from the same options. An earthquake trace: P at 15-45% of the trace (strongest on Z, 3-12
/// Hz, SNR 5-30 dB), S 1-8 s later (1.2-3x larger, lower frequency, mostly horizontal, random
/// polarisation), on Gaussian noise with a microseism; a noise trace: noise alone, a fifth of
/// them with a glitch (a one-channel spike). Deterministic for a seed.
SteadFiles write_synthetic_stead(const std::string &folder, const SteadOptions &options);

/// An arrival of the synthetic event record: 'P' or 'S', seconds after its first sample.
struct SyntheticArrival {
    char phase;
    double seconds;
};
/// The first sample of the synthetic event record: 2024-03-01T00:00:00Z.
constexpr double kRecordStart = 1709251200.0;

/// Writes a 60-second three-component MiniSEED record (XX.SYN..HHE/HHN/HHZ at `rate`, float32)
/// with two earthquakes of the same kind as the HDF5 file's on its noise, for trying `pick` on
/// a record whose arrivals are known; returns them.
std::vector<SyntheticArrival> write_synthetic_event_record(const std::string &path, double rate, uint64_t seed);

}  // namespace picking
