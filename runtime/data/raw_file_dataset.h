#pragma once
/// \file
/// A file-backed dataset of fixed-size records, read one example at a time with pread: memory
/// stays bounded by what the loader holds, whatever the file's size. Use it to train on a set
/// larger than memory, or to convert a slow format once (HDF5, MiniSEED) into a fast one.
///
/// The file ("STRATAR1"): 8 magic bytes, a u64 little-endian header length, a JSON header
/// {"examples": N, "fields": [{"name", "dtype", "shape"}, ...]} padded with spaces so the
/// records start at a multiple of 64 bytes, then N records: each field's bytes (native
/// little-endian, fields in name order) followed by a u32 CRC-32 of those bytes.
///
///     data::RawFileWriter out("train.raw", layout, n);
///     for (...) out.append(example);
///     out.commit();                                   // atomic: a crash leaves no half file
///     auto train = std::make_shared<data::RawFileDataset>("train.raw");

#include "runtime/atomic_file.h"
#include "runtime/data/example_layout.h"

#include <memory>
#include <string>

namespace strata {
class InputFile;
}

namespace strata::data {

class RawFileDataset : public Dataset {
public:
    /// Opens and checks the header and the file's size against it (a truncated or padded
    /// file is a strata::Error naming the file and the sizes). Records are checked when read.
    explicit RawFileDataset(const std::string &path);
    ~RawFileDataset() override;

    int64_t size() const override { return examples_; }
    /// Reads record `index`; a short read or a CRC mismatch is a strata::Error naming the
    /// file and the example. Thread-safe (pread; no shared buffer).
    Example get(int64_t index) const override;
    std::string describe(int64_t index) const override;

    const ExampleLayout &layout() const { return layout_; }
    const std::string &path() const { return path_; }
    /// Bytes of one record (fields and checksum).
    int64_t record_bytes() const { return record_bytes_; }

private:
    std::string path_;
    std::unique_ptr<InputFile> file_;
    ExampleLayout layout_;
    int64_t examples_ = 0;
    int64_t record_bytes_ = 0;
    int64_t data_offset_ = 0;
};

/// Writes a raw dataset file record by record (bounded memory), atomically.
class RawFileWriter {
public:
    /// `examples` is how many `append` calls `commit` expects.
    RawFileWriter(const std::string &path, const ExampleLayout &layout, int64_t examples);
    /// Appends one example, checked against the layout (a mismatch names it by its number).
    void append(const Example &example);
    /// Renames the finished file into place; fewer examples than announced is an error.
    void commit();

private:
    AtomicFileWriter out_;
    ExampleLayout layout_;
    int64_t examples_ = 0;
    int64_t written_ = 0;
};

/// Copies every example of `source` into a raw dataset file at `path`.
void write_raw_dataset(const std::string &path, const Dataset &source);

}  // namespace strata::data
