#include "runtime/data/hdf5_file.h"

#include "runtime/input_file.h"
#include "runtime/series_text.h"

#include <strata/error.h>

#include <cmath>
#include <cstdlib>

namespace strata::data::hdf5 {

namespace {

extern "C" herr_t collect_error(unsigned, const H5E_error2_t *error, void *messages) {
    auto &out = *static_cast<std::vector<std::string> *>(messages);
    out.push_back(fmt::format("{}: {}", error->func_name ? error->func_name : "?", error->desc ? error->desc : "?"));
    return 0;
}

extern "C" herr_t collect_link(hid_t, const char *name, const H5L_info_t *, void *names) {
    static_cast<std::vector<std::string> *>(names)->push_back(name);
    return 0;
}

/// The number of elements of an attribute's dataspace (1 for a scalar).
hssize_t element_count(hid_t attribute) {
    const Handle space(H5Aget_space(attribute), H5Sclose);
    return space.valid() ? H5Sget_simple_extent_npoints(space.get()) : -1;
}

Handle open_attribute(hid_t object, const std::string &name, const std::string &what, bool *present) {
    quiet_errors();
    const htri_t exists = H5Aexists(object, name.c_str());
    if (exists < 0) fail("{}: cannot look up the attribute '{}': {}", what, name, error_text());
    *present = exists > 0;
    if (!*present) return {};
    Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
    if (!attribute.valid()) fail("{}: cannot open the attribute '{}': {}", what, name, error_text());
    const hssize_t count = element_count(attribute.get());
    if (count != 1)
        fail("{}: the attribute '{}' holds {} values; expected one", what, name, count < 0 ? 0 : count);
    return attribute;
}

}  // namespace

void quiet_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

std::string error_text() {
    std::vector<std::string> messages;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error, &messages);
    H5Eclear2(H5E_DEFAULT);
    return messages.empty() ? "no detail from HDF5" : fmt::format("{}", fmt::join(messages, "; "));
}

Handle open_file(const std::string &path) {
    quiet_errors();
    {
        const InputFile file(path, "an HDF5 file");
        if (file.size() == 0) fail("{}: the file is empty; expected an HDF5 file", path);
    }
    const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
    if (is_hdf5 <= 0) fail("{}: not an HDF5 file (no HDF5 signature found)", path);
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) fail("{}: cannot open as HDF5: {}", path, error_text());
    return file;
}

std::optional<Handle> open_dataset(hid_t location, const std::string &name) {
    quiet_errors();
    // H5Lexists fails (< 0) when a group on the way is missing: that is "absent" too.
    if (name.empty() || H5Lexists(location, name.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return std::nullopt;
    }
    Handle dataset(H5Dopen2(location, name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!dataset.valid()) fail("'{}' is not a dataset HDF5 can open: {}", name, error_text());
    return dataset;
}

std::vector<hsize_t> dataset_extents(hid_t dataset) {
    const Handle space(H5Dget_space(dataset), H5Sclose);
    const int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
    if (rank < 0) fail("cannot read the dataspace: {}", error_text());
    std::vector<hsize_t> extents(static_cast<size_t>(rank));
    if (rank > 0) H5Sget_simple_extent_dims(space.get(), extents.data(), nullptr);
    return extents;
}

std::string type_name(hid_t type, bool *numeric) {
    const H5T_class_t type_class = H5Tget_class(type);
    const size_t bits = H5Tget_size(type) * 8;
    if (numeric) *numeric = type_class == H5T_INTEGER || type_class == H5T_FLOAT;
    switch (type_class) {
    case H5T_INTEGER: return fmt::format("{}{}", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "i", bits);
    case H5T_FLOAT: return fmt::format("f{}", bits);
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "variable-length sequence";
    default: return "a non-numeric type";
    }
}

std::optional<std::string> text_attribute(hid_t object, const std::string &name, const std::string &what) {
    bool present = false;
    const Handle attribute = open_attribute(object, name, what, &present);
    if (!present) return std::nullopt;
    const Handle type(H5Aget_type(attribute.get()), H5Tclose);
    bool numeric = false;
    const std::string kind = type_name(type.get(), &numeric);
    if (numeric) {
        double value = 0.0;
        if (H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value) < 0)
            fail("{}: cannot read the attribute '{}': {}", what, name, error_text());
        return fmt::format("{}", value);
    }
    if (H5Tget_class(type.get()) != H5T_STRING)
        fail("{}: the attribute '{}' is {}; expected a number or a string", what, name, kind);
    std::string text;
    if (H5Tis_variable_str(type.get()) > 0) {
        const Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(memory.get(), H5T_VARIABLE);
        H5Tset_cset(memory.get(), H5Tget_cset(type.get()));  // HDF5 converts no ASCII <-> UTF-8 (h5py writes UTF-8)
        char *value = nullptr;
        if (H5Aread(attribute.get(), memory.get(), &value) < 0)
            fail("{}: cannot read the attribute '{}': {}", what, name, error_text());
        text = value ? value : "";
        H5free_memory(value);
    } else {
        const size_t size = H5Tget_size(type.get());
        const Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(memory.get(), size + 1);
        H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
        std::string buffer(size + 1, '\0');
        if (H5Aread(attribute.get(), memory.get(), buffer.data()) < 0)
            fail("{}: cannot read the attribute '{}': {}", what, name, error_text());
        text = buffer.c_str();
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();  // space-padded strings
    return text;
}

std::optional<double> numeric_attribute(hid_t object, const std::string &name, const std::string &what) {
    const std::optional<std::string> text = text_attribute(object, name, what);
    if (!text) return std::nullopt;
    double value = 0.0;
    if (text->empty() || *text == "nan" || *text == "NaN") return NAN;
    if (!parse_series_number(*text, value))
        fail("{}: the attribute '{}' is '{}'; expected a number (or an empty string for none)", what, name, *text);
    return value;
}

void check_chunks(hid_t dataset, hsize_t first_row, hsize_t rows, uint64_t max_chunk_bytes, const std::string &what) {
    quiet_errors();
    const Handle create(H5Dget_create_plist(dataset), H5Pclose);
    if (!create.valid() || H5Pget_layout(create.get()) != H5D_CHUNKED) return;
    const std::vector<hsize_t> extents = dataset_extents(dataset);
    std::vector<hsize_t> chunk(extents.size(), 0);
    if (extents.empty() || H5Pget_chunk(create.get(), static_cast<int>(chunk.size()), chunk.data()) != static_cast<int>(chunk.size()))
        fail("{}: cannot read the chunk layout: {}", what, error_text());
    const Handle type(H5Dget_type(dataset), H5Tclose);
    uint64_t chunk_bytes = H5Tget_size(type.get());
    for (const hsize_t c : chunk) {
        if (c == 0 || chunk_bytes > max_chunk_bytes / c)
            fail("{}: chunks of {} elements of {} bytes exceed {} bytes", what, fmt::join(chunk, "x"),
                 H5Tget_size(type.get()), max_chunk_bytes);
        chunk_bytes *= c;
    }
    hsize_t file_size = 0;
    const Handle file(H5Iget_file_id(dataset), H5Fclose);
    if (H5Fget_filesize(file.get(), &file_size) < 0) fail("{}: cannot read the file size: {}", what, error_text());
    // Every chunk holding a selected row: chunk offsets along dim 0 from the rows, all of the others.
    std::vector<hsize_t> offset(extents.size(), 0);
    offset[0] = first_row / chunk[0] * chunk[0];
    while (offset[0] < first_row + rows && offset[0] < extents[0]) {
        hsize_t stored = 0;
        if (H5Dget_chunk_storage_size(dataset, offset.data(), &stored) >= 0 && stored > file_size)
            fail("{}: the chunk at [{}] claims {} stored bytes; the file has {}", what, fmt::join(offset, ", "), stored,
                 file_size);
        H5Eclear2(H5E_DEFAULT);
        size_t d = extents.size();  // next chunk: odometer over the dimensions, the last fastest
        while (d-- > 0) {
            offset[d] += chunk[d];
            if (d == 0 || offset[d] < extents[d]) break;
            offset[d] = 0;
        }
    }
}

std::vector<std::string> link_names(hid_t group) {
    std::vector<std::string> names;
    hsize_t index = 0;
    if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, collect_link, &names) < 0)
        fail("cannot list the group: {}", error_text());
    return names;
}

}  // namespace strata::data::hdf5
