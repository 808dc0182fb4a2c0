#pragma once
/// \file
/// Three-component windows cut from a folder tree of MiniSEED files (many stations,
/// channels and days), read through runtime/miniseed.h (libmseed).
///
/// A window index is built once: every file under the root is read, its traces are grouped
/// by station and instrument ("IU.COLA.00.BH" from channels BHZ, BHN, BHE), and the windows
/// (station, start time) are listed. `MiniseedDataset::open` saves the index beside the data
/// and reuses it while the files (paths, sizes, modification times) and the options are the
/// same; a changed tree is indexed again.
///
/// Components: a station's channels are used as Z, N, E when it has all three, else as
/// Z, 1, 2; a station with neither set is left out (listed in `MiniseedIndex::incomplete`).
///
/// Gaps (documented policy, `MiniseedWindowOptions::gaps`):
///  - `skip`: only windows where all three components have data for every sample are
///    indexed; windows start at the first sample of each stretch the three cover together
///    and follow each other every `stride_seconds`.
///  - `zero_fill`: windows run every `stride_seconds` from the station's first sample to its
///    last; missing samples are 0 and the example has a "mask" field [3, L] (1 where the
///    sample is data, 0 where it was missing). Windows with no data at all are left out.
/// Records of one channel that continue across files (day files) join into one stretch;
/// where two stretches of a channel overlap, the one that starts first gives the samples.
///
/// Cost: the index records where each segment's records lie in its file (runs of records of
/// one length back to back, `MiniseedRecordRun`), so `get` seeks to the records that overlap
/// the window (and the samples the resampling reaches around it) by bisecting those runs: a
/// few headers read, the window's records read and decoded, nothing else of a day file. A
/// segment without runs (an index saved before they existed, a file multiplexing many channels
/// record by record) falls back to reading every header of its file and decoding the
/// overlapping records. To train for many epochs, write the windows once to a raw file
/// (`write_raw_dataset`) and train from that.
///
/// Resampling: with `sampling_rate` 0 every channel must have the same rate (an error
/// names the file and channel otherwise); with a rate set, each channel is resampled to it
/// by band-limited (Lanczos-windowed sinc) interpolation, low-pass at the lower Nyquist
/// frequency when decimating. Weights are normalised, so a constant stays constant.
///
/// Each example: "waveform" [3, L] (dtype of the options; rows Z, N|1, E|2), "start_time"
/// f64 [] (seconds since 1970, UTC), and "mask" [3, L] with `zero_fill`. L is
/// round(window_seconds * rate).
///
///     data::MiniseedWindowOptions options;
///     options.window_seconds = 30;
///     options.sampling_rate = 100;                 // resample everything to 100 Hz
///     auto windows = data::MiniseedDataset::open("archive/", options, "archive/.strata-index.json");
///     data::write_raw_dataset("train.raw", *windows);   // optional: a fast file to train from
///
/// Every malformed input is a strata::Error naming the file, and in `get` the window too.

#include "runtime/data/dataset.h"
#include "runtime/miniseed.h"

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace strata::data {

/// What happens to windows with missing samples; see the file comment.
enum class GapPolicy { skip, zero_fill };

struct MiniseedWindowOptions {
    /// Length of a window in seconds (> 0).
    double window_seconds = 30.0;
    /// Seconds between the starts of consecutive windows; 0 means `window_seconds`.
    double stride_seconds = 0.0;
    /// Samples per second of every window; 0 keeps the files' rate (which must be common).
    double sampling_rate = 0.0;
    GapPolicy gaps = GapPolicy::skip;
    /// Of "waveform" (and "mask"): f32 or f64.
    DType dtype = DType::f32;
};

/// One continuous run of one channel inside one file.
struct MiniseedSegment {
    int32_t file = 0;        ///< into MiniseedIndex::files
    double start = 0.0;      ///< first sample, seconds since 1970 UTC
    double rate = 0.0;       ///< samples per second
    int64_t samples = 0;
    /// Where its records lie in the file (Trace::record_runs); empty: unknown, a window read
    /// scans the file's headers.
    std::vector<MiniseedRecordRun> runs{};
    /// One sample period past the last sample.
    double end() const { return start + static_cast<double>(samples) / rate; }
};

/// A station's three components of one instrument: "IU.COLA.00.BH" with "ZNE" or "Z12".
struct MiniseedStation {
    std::string id;          ///< network.station.location.band+instrument, e.g. "IU.COLA.00.BH"
    std::string components;  ///< "ZNE" or "Z12": the last letters of the three channels
    std::array<std::vector<MiniseedSegment>, 3> segments;  ///< per component, by start time
};

/// One window: which station, and the time of its first sample.
struct MiniseedWindow {
    int32_t station = 0;
    double start = 0.0;
};

/// A file of the tree as indexed, to tell when the index is stale.
struct MiniseedFileStamp {
    std::string path;  ///< relative to the root
    int64_t size = 0;
    int64_t mtime_ns = 0;
};

/// The window index of a folder tree. Built by reading every file once.
struct MiniseedIndex {
    std::string root;
    MiniseedWindowOptions options;
    std::vector<MiniseedFileStamp> files;
    std::vector<MiniseedStation> stations;
    std::vector<MiniseedWindow> windows;
    /// Channel groups without a full Z/N/E or Z/1/2 set: "XX.STA..BH (has Z, N)".
    std::vector<std::string> incomplete;
    /// Samples per window: round(window_seconds * rate).
    int64_t window_samples = 0;
    /// The rate of every window (the options' rate, or the files' common rate).
    double rate = 0.0;

    /// Reads every regular file under `root` (names starting with '.' are skipped, so an
    /// index saved in the root is not read as data) and lists the windows.
    static MiniseedIndex build(const std::string &root, const MiniseedWindowOptions &options);
    /// Writes the index as JSON, atomically.
    void save(const std::string &path) const;
    /// Reads an index saved by `save`; a malformed file is a strata::Error naming it and the
    /// item that is wrong.
    static MiniseedIndex load(const std::string &path);
    /// True when the files under `root` and `options` are still those of the index.
    bool is_current(const MiniseedWindowOptions &options) const;
};

class MiniseedDataset : public Dataset {
public:
    explicit MiniseedDataset(MiniseedIndex index);

    /// The dataset of `root`, with the index at `index_path`: loaded when it is current,
    /// otherwise built and saved there (an empty `index_path` builds without saving).
    static std::shared_ptr<MiniseedDataset> open(const std::string &root,
                                                 const MiniseedWindowOptions &options,
                                                 const std::string &index_path);

    int64_t size() const override { return static_cast<int64_t>(index_.windows.size()); }
    /// Reads the files holding window `index` and assembles it; thread-safe (no shared state).
    Example get(int64_t index) const override;
    /// "archive/: window 12, XX.AAA..BH[ZNE] from 2020-01-01T00:00:10.000000Z".
    std::string describe(int64_t index) const override;

    const MiniseedIndex &index() const { return index_; }
    /// Whether `open` loaded the saved index (false: it read the whole tree).
    bool loaded_saved_index() const { return loaded_saved_index_; }

private:
    MiniseedIndex index_;
    bool loaded_saved_index_ = false;
};

}  // namespace strata::data
