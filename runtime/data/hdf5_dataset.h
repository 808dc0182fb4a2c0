#pragma once
/// \file
/// Datasets read from HDF5 files (libhdf5), in the two layouts seismic archives use:
///
/// - `Hdf5TraceDataset`: one HDF5 dataset per trace in a group, as STEAD stores its 1.2 million
///   waveforms ("data/<trace_name>", [6000, 3] float32), with the metadata (P and S arrival
///   samples, the trace category) either in each dataset's attributes or in a CSV file with a
///   row per trace.
/// - `Hdf5ArrayDataset`: one large array [N, C, L] (and, beside it, arrays of labels or picks
///   with the same N), read one row at a time through HDF5's chunk cache, so memory does not
///   depend on N.
///
/// Waveforms come out as f32 [C, L]; a numeric field as an f64 scalar (NaN when the item has
/// none); a label as an i32 scalar. Every malformed item is a `strata::Error` naming the file
/// and the trace (or row): a missing trace, a shape other than the first trace's, a type that
/// is not numeric, a sample that is not finite, an attribute that is not a number, a label
/// outside the classes.

#include "runtime/data/dataset.h"

#include <memory>
#include <string>
#include <vector>

namespace strata::data {

/// How a trace's samples are laid out in its HDF5 dataset.
enum class TraceLayout {
    samples_by_channels,  ///< [L, C], as STEAD
    channels_by_samples,  ///< [C, L]
};

struct Hdf5TraceOptions {
    std::string path;                  ///< the HDF5 file
    std::string group = "data";        ///< where the traces are ("" or "/" for the root)
    TraceLayout layout = TraceLayout::samples_by_channels;
    /// A CSV with a row per trace (STEAD's). Empty: the traces are every dataset of `group` in
    /// name order, and the fields are read from their attributes.
    std::string metadata_csv{};
    std::string name_column = "trace_name";  ///< the CSV column naming each trace's dataset
    /// Numeric fields, each an f64 scalar of the same name in the example (NaN where empty).
    std::vector<std::string> numeric_fields = {"p_arrival_sample", "s_arrival_sample"};
    /// A field read as a class: "label" (i32) is its index in `label_classes`, or its integer
    /// value when `label_classes` is empty. Empty: no label.
    std::string label_field{};
    std::vector<std::string> label_classes{};
    std::string waveform_key = "waveform";
};

class Hdf5TraceDataset : public Dataset {
public:
    /// Opens the file (and reads the CSV), lists the traces and reads the first one to learn
    /// the shape every trace must have. Throws on a missing or non-HDF5 file, a missing group
    /// or column, no traces, or a first trace that is not a readable 2-d numeric dataset.
    explicit Hdf5TraceDataset(Hdf5TraceOptions options);
    ~Hdf5TraceDataset() override;

    int64_t size() const override;
    Example get(int64_t index) const override;
    /// "stead.h5: trace 'B023.NC_20160101_EV'".
    std::string describe(int64_t index) const override;
    /// The name of trace `index`.
    const std::string &trace_name(int64_t index) const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

struct Hdf5ArrayOptions {
    std::string path;
    /// The arrays to read, as {example name, HDF5 dataset path}; all share their first extent N.
    /// Floating-point arrays come out as f32, integer ones as i32 (range-checked).
    std::vector<std::pair<std::string, std::string>> fields = {{"waveform", "waveforms"}};
    /// Fields (example names) where NaN means "none" (picks of noise traces). Elsewhere a value
    /// that is not finite is an error.
    std::vector<std::string> nan_allowed{};
    /// HDF5's chunk cache per array, in bytes (its default, 1 MiB, is smaller than one chunk of
    /// a typical [N, 3, 6000] file).
    size_t chunk_cache_bytes = 32u << 20;
};

class Hdf5ArrayDataset : public Dataset {
public:
    /// Opens the arrays and checks that they exist, are numeric and share N.
    explicit Hdf5ArrayDataset(Hdf5ArrayOptions options);
    ~Hdf5ArrayDataset() override;

    int64_t size() const override;
    Example get(int64_t index) const override;
    /// "waves.h5: row 17".
    std::string describe(int64_t index) const override;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace strata::data
