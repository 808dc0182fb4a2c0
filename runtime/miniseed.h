#pragma once
/// \file
/// Reading seismograms from MiniSEED (SEED 2.x data records), through libmseed 2.x.
///
/// A MiniSEED file is a sequence of fixed-length records (usually 512 or 4096 bytes), each a
/// 48-byte header naming the channel (network, station, location, channel), the time of its
/// first sample and the sampling rate, then blockettes and the samples themselves: 16/32-bit
/// integers, 32/64-bit floats, or Steim-1/Steim-2 compressed differences. Consecutive records
/// of one channel join into a continuous trace; a gap or overlap longer than half a sample
/// period starts a new trace.
///
/// Files are read defensively: a missing, empty, truncated or corrupt file, bytes that are not
/// MiniSEED, or compressed data that fails libmseed's integrity check throw `strata::Error`
/// naming the file, the byte offset and the problem. libmseed's own diagnostics go into that
/// message instead of the terminal.

#include "runtime/tensor.h"

#include <string>
#include <vector>

namespace strata {

/// One continuous run of samples of one channel.
struct Trace {
    std::string network;   ///< e.g. "IU"
    std::string station;   ///< e.g. "COLA"
    std::string location;  ///< e.g. "00"; often empty
    std::string channel;   ///< e.g. "LHZ": long period, high gain, vertical
    /// Time of the first sample, ISO 8601 UTC with microseconds: "2010-02-27T06:50:00.069539Z".
    std::string start_time;
    /// The same instant as seconds since 1970-01-01T00:00:00Z (leap seconds not counted).
    double start_epoch_seconds = 0.0;
    /// Samples per second as the records give it (1.0 for a long-period "LH?" channel).
    double sampling_rate = 0.0;
    /// The samples converted to double; integer counts are exact.
    std::vector<double> samples;

    /// "IU.COLA.00.LHZ", the usual SEED way to name a channel.
    std::string id() const;
    /// Seconds from the first to one past the last sample: samples.size() / sampling_rate.
    double duration_seconds() const;
    /// The samples as a 1-d f64 tensor of shape [samples.size()].
    Tensor to_tensor() const;
};

/// Reads every trace of a MiniSEED file, ordered by channel and then by start time, with the
/// samples as f64. Records of one channel are joined while each starts where the previous one
/// ended (within half a sample period); a gap or overlap splits the channel into several
/// traces. Records of ASCII text (log channels) are skipped; zero bytes padding the file are
/// allowed. Throws `strata::Error` on a missing or empty file, a file that is not MiniSEED,
/// a record cut short by the end of the file, bytes between or after records that are not
/// MiniSEED, a record libmseed cannot decode, a Steim integrity-check failure, or a file
/// with no numeric samples at all.
std::vector<Trace> read_miniseed(const std::string &path);

}  // namespace strata
