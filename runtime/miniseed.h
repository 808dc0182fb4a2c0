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

#include <cstdint>
#include <string>
#include <vector>

namespace strata {

/// Records of one trace lying back to back in its file: `records` records of `record_length`
/// bytes from byte `offset`, each starting where the one before ended in time. A window read
/// finds its records in a run by bisection (reading a few headers at computed offsets) instead
/// of reading every header of the file.
struct MiniseedRecordRun {
    uint64_t offset = 0;
    int32_t record_length = 0;
    int64_t records = 0;
};

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
    /// Where its records lie in the file, in time order (filled by the whole-file
    /// `read_miniseed`; empty when they are scattered over more than 256 runs, and from the
    /// window reads). For `read_miniseed(path, channel_id, runs, begin, end)`.
    std::vector<MiniseedRecordRun> record_runs;

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

/// The traces of the records of `path` whose samples overlap the time window [begin, end)
/// (seconds since 1970, UTC): every record header is read and checked as above, but only those
/// records are decoded, so a window of a day file costs a few records, not the day. The traces
/// hold those records' samples whole (they may start before `begin` and end after `end`); a
/// window no record overlaps gives no traces. Throws as `read_miniseed(path)` for a malformed
/// file, and for a window that is not finite with begin < end.
std::vector<Trace> read_miniseed(const std::string &path, double begin, double end);

/// The traces of channel `channel_id` ("XX.STA..BHZ") whose records overlap [begin, end),
/// read from the record runs `runs` of `path` (Trace::record_runs of an earlier whole-file
/// read): each run is bisected on its records' start times, then only the records that
/// overlap are read and decoded; no other byte of the file is read. Every record read is
/// checked as `read_miniseed` checks it, and a run that does not fit in the file, a record at a
/// run's offset that is not one of `channel_id` of that length (the file changed since the
/// runs were taken), or records going back in time are a strata::Error naming the file and
/// the byte.
std::vector<Trace> read_miniseed(const std::string &path, const std::string &channel_id,
                                 const std::vector<MiniseedRecordRun> &runs, double begin, double end);

/// How `write_miniseed` stores samples.
enum class MiniseedEncoding {
    steim2,   ///< compressed integer differences (what archives use); samples must be whole int32 values
    int32,    ///< uncompressed 32-bit integers; samples must be whole int32 values
    float32,  ///< uncompressed IEEE floats (rounded to float)
    float64,  ///< uncompressed IEEE doubles (exact)
};

struct MiniseedWriteOptions {
    MiniseedEncoding encoding = MiniseedEncoding::steim2;
    /// Bytes per record: a power of two from 256 to 8192 (512 and 4096 are the usual ones).
    int record_length = 512;
};

/// Writes `traces` to `path` as MiniSEED data records (libmseed's packer, big-endian, quality
/// 'D'), atomically, one trace after the other; `Trace::start_epoch_seconds` gives each trace's
/// start (`start_time` is not read). Throws `strata::Error` naming the trace for a network,
/// station, location or channel code longer than SEED allows (2, 5, 2, 3 characters), a rate
/// that is not positive, no samples, a sample that is not finite, or (integer encodings) a
/// sample that is not a whole number in int32's range.
void write_miniseed(const std::string &path, const std::vector<Trace> &traces, const MiniseedWriteOptions &options = {});

}  // namespace strata
