#pragma once
// Writing small HDF5 files in tests with the HDF5 C API itself (no h5py), for the readers of
// runtime/data/hdf5_dataset.h.

#include <hdf5.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace strata::testing {

/// An HDF5 file being written; every object it makes is closed at scope exit.
class Hdf5Writer {
public:
    explicit Hdf5Writer(const std::string &path)
        : file_(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) {
        REQUIRE(file_ >= 0);
    }
    ~Hdf5Writer() {
        for (auto it = objects_.rbegin(); it != objects_.rend(); ++it) H5Oclose(*it);
        H5Fclose(file_);
    }
    Hdf5Writer(const Hdf5Writer &) = delete;
    Hdf5Writer &operator=(const Hdf5Writer &) = delete;

    hid_t file() const { return file_; }
    hid_t group(const std::string &name) { return keep(H5Gcreate2(file_, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)); }

    /// A dataset of `extents` from `values` (row-major), of the file type `file_type` written
    /// from the memory type `memory_type`; chunked and deflated when `chunk` is given.
    template <typename T>
    hid_t dataset(hid_t where, const std::string &name, const std::vector<hsize_t> &extents, const std::vector<T> &values,
                  hid_t file_type, hid_t memory_type, const std::vector<hsize_t> &chunk = {}) {
        const hid_t space = extents.empty() ? H5Screate(H5S_SCALAR)
                                            : H5Screate_simple(static_cast<int>(extents.size()), extents.data(), nullptr);
        const hid_t create = H5Pcreate(H5P_DATASET_CREATE);
        if (!chunk.empty()) {
            H5Pset_chunk(create, static_cast<int>(chunk.size()), chunk.data());
            H5Pset_deflate(create, 4);
        }
        const hid_t dataset = H5Dcreate2(where, name.c_str(), file_type, space, H5P_DEFAULT, create, H5P_DEFAULT);
        REQUIRE(dataset >= 0);
        if (!values.empty()) REQUIRE(H5Dwrite(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
        H5Pclose(create);
        H5Sclose(space);
        return keep(dataset);
    }
    hid_t floats(hid_t where, const std::string &name, const std::vector<hsize_t> &extents, const std::vector<float> &values,
                 const std::vector<hsize_t> &chunk = {}) {
        return dataset(where, name, extents, values, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, chunk);
    }

    void number_attribute(hid_t object, const std::string &name, double value) {
        const hid_t space = H5Screate(H5S_SCALAR);
        const hid_t attribute = H5Acreate2(object, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
        REQUIRE(H5Awrite(attribute, H5T_NATIVE_DOUBLE, &value) >= 0);
        H5Aclose(attribute);
        H5Sclose(space);
    }
    /// A scalar string attribute, variable-length (as h5py writes str) or fixed-length.
    void text_attribute(hid_t object, const std::string &name, const std::string &value, bool variable = true) {
        const hid_t type = H5Tcopy(H5T_C_S1);
        H5Tset_size(type, variable ? H5T_VARIABLE : value.size() + 1);
        const hid_t space = H5Screate(H5S_SCALAR);
        const hid_t attribute = H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
        const char *text = value.c_str();
        REQUIRE(H5Awrite(attribute, type, variable ? static_cast<const void *>(&text) : text) >= 0);
        H5Aclose(attribute);
        H5Sclose(space);
        H5Tclose(type);
    }

private:
    hid_t keep(hid_t id) {
        REQUIRE(id >= 0);
        objects_.push_back(id);
        return id;
    }
    hid_t file_;
    std::vector<hid_t> objects_;
};

}  // namespace strata::testing
