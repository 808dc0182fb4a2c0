#pragma once
/// \file
/// What the HDF5 datasets share (internal): owned HDF5 handles, a read-only file opened with
/// its error stack turned into `strata::Error` messages, and typed reads of attributes.
/// Debian's libhdf5 is built thread-safe (one library lock), so these may be called from the
/// loader's workers at once.

#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace strata::data::hdf5 {

/// An HDF5 identifier closed with `close` at scope exit.
class Handle {
public:
    Handle() = default;
    Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
    ~Handle() { reset(); }
    Handle(Handle &&other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = H5I_INVALID_HID; }
    Handle &operator=(Handle &&other) noexcept {
        if (this != &other) {
            reset();
            id_ = other.id_, close_ = other.close_;
            other.id_ = H5I_INVALID_HID;
        }
        return *this;
    }
    Handle(const Handle &) = delete;
    Handle &operator=(const Handle &) = delete;
    hid_t get() const { return id_; }
    bool valid() const { return id_ >= 0; }
    void reset() {
        if (id_ >= 0 && close_) close_(id_);
        id_ = H5I_INVALID_HID;
    }

private:
    hid_t id_ = H5I_INVALID_HID;
    herr_t (*close_)(hid_t) = nullptr;
};

/// Silences HDF5's printing of its error stack on this thread (its messages go into ours).
void quiet_errors();
/// The messages on this thread's HDF5 error stack, innermost last, joined ("" when none).
std::string error_text();

/// Opens `path` read-only; throws naming the file when it is missing, not a regular file,
/// empty or not HDF5.
Handle open_file(const std::string &path);
/// Opens the dataset `name` under `location`; nullopt when there is no such link.
std::optional<Handle> open_dataset(hid_t location, const std::string &name);
/// The extents of a dataset's dataspace.
std::vector<hsize_t> dataset_extents(hid_t dataset);
/// "f32", "i16", "string", ... for messages; `numeric` says whether HDF5 can convert it to a number.
std::string type_name(hid_t type, bool *numeric = nullptr);

/// An attribute of `object`: nullopt when absent. Numbers come back as double; a string
/// attribute is parsed as a number ("" and "nan" are NaN); `what` names the item for errors.
std::optional<double> numeric_attribute(hid_t object, const std::string &name, const std::string &what);
/// A string attribute (fixed or variable length), or a number printed as text; nullopt when absent.
std::optional<std::string> text_attribute(hid_t object, const std::string &name, const std::string &what);

/// For a chunked dataset, checks what reading rows [first_row, first_row + rows) will make HDF5
/// allocate: a chunk larger than `max_chunk_bytes` uncompressed, or a stored chunk larger than
/// the file, is corrupt (libhdf5 would try to allocate it). Throws naming `what`.
void check_chunks(hid_t dataset, hsize_t first_row, hsize_t rows, uint64_t max_chunk_bytes, const std::string &what);

/// Names of the links in `group`, in name order.
std::vector<std::string> link_names(hid_t group);

}  // namespace strata::data::hdf5
