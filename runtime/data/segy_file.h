#pragma once
/// \file
/// A SEG-Y file opened through libsegyio (internal to segy_dataset.cpp): its headers checked,
/// its geometry read (a line, or a regular post-stack inline x crossline volume whose every
/// trace header is verified), and windows of traces read as f32. Reads are serialised per
/// file (segyio keeps one file position).

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct segy_file_handle;

namespace strata::data {

class SegyFile {
public:
    /// Opens `path` as a 2-D line (`volume` false) or a 3-D volume with inline and crossline
    /// numbers at the trace-header bytes `inline_field` and `crossline_field`.
    SegyFile(const std::string &path, bool volume, int inline_field, int crossline_field);
    ~SegyFile();
    SegyFile(const SegyFile &) = delete;
    SegyFile &operator=(const SegyFile &) = delete;

    const std::string &path() const { return path_; }
    int64_t traces() const { return traces_; }
    int64_t samples() const { return samples_; }
    /// Volumes: the inline and crossline numbers, in file order of each.
    const std::vector<int> &inlines() const { return inlines_; }
    const std::vector<int> &crosslines() const { return crosslines_; }
    /// The trace at inline position `i`, crossline position `x` (0-based positions).
    int64_t trace_at(int64_t i, int64_t x) const;

    /// Samples [start, stop) of trace `trace`, as f32, into `out`.
    void read(int64_t trace, int64_t start, int64_t stop, float *out) const;

private:
    std::string path_;
    /// Closed however construction ends (a constructor that throws runs no destructor).
    std::unique_ptr<segy_file_handle, int (*)(segy_file_handle *)> file_{nullptr, nullptr};
    int format_ = 0;
    long trace0_ = 0;
    int trace_bytes_ = 0;
    int64_t traces_ = 0, samples_ = 0;
    bool inline_sorted_ = true;
    std::vector<int> inlines_, crosslines_;
    mutable std::mutex mutex_;
    mutable std::vector<char> buffer_;  // guarded by mutex_

    void read_geometry(int inline_field, int crossline_field);
};

}  // namespace strata::data
