#pragma once
// A MiniSEED record as the GPD picker reads it: the three components of one instrument
// (E, N, Z, the order of STEAD and of training; Z/1/2 as well) on one time axis.

#include <strata/strata.h>

#include <string>

namespace picking {

struct SeismicRecord {
    std::string instrument;     ///< "IU.COLA.00.LH"
    std::string components;     ///< what each row holds: "ENZ", "12Z", "--Z" (a missing one is zeros)
    double start = 0, rate = 0; ///< seconds since 1970 of sample 0, samples per second
    strata::Tensor samples;     ///< f32 [3, T]; gaps between records are zeros
};

/// Reads `path` (strata::read_miniseed) and takes the first instrument (network, station,
/// location, band and instrument code) in it; its Z channel is required. Throws naming the
/// file for channels of one instrument at different rates, a record longer than `max_samples`,
/// or no Z channel. The default limit (2^25 samples, 400 MB as three f32 rows) is about four days
/// at 100 Hz.
SeismicRecord read_seismic_record(const std::string &path, int64_t max_samples = int64_t(1) << 25);

/// "2010-02-27T06:50:00.07Z" (centiseconds).
std::string utc_time(double seconds);

}  // namespace picking
