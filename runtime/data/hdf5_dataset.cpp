#include "runtime/data/hdf5_dataset.h"

#include "runtime/data/hdf5_file.h"
#include "runtime/data/metadata_csv.h"
#include "runtime/series_text.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace strata::data {

namespace {

/// One example's array may not exceed this (a corrupt header can claim any extent).
constexpr uint64_t kMaxItemBytes = uint64_t{1} << 30;

std::string file_name(const std::string &path) { return path.substr(path.find_last_of('/') + 1); }

void check_index(int64_t index, int64_t size, const std::string &path) {
    if (index < 0 || index >= size) fail("{}: index {} is out of range for a dataset of {} items", path, index, size);
}

/// The element count of `extents`, refusing an item larger than kMaxItemBytes.
int64_t item_elements(const std::vector<hsize_t> &extents, size_t first, const std::string &what) {
    uint64_t elements = 1;
    for (size_t d = first; d < extents.size(); ++d) {
        if (extents[d] != 0 && elements > kMaxItemBytes / extents[d])
            fail("{}: one item of extents {} is larger than {} bytes", what, fmt::join(extents, "x"), kMaxItemBytes);
        elements *= extents[d];
    }
    if (elements * sizeof(double) > kMaxItemBytes)
        fail("{}: one item of extents {} is larger than {} bytes", what, fmt::join(extents, "x"), kMaxItemBytes);
    return static_cast<int64_t>(elements);
}

void check_finite(const std::vector<float> &values, const std::string &what, bool nan_allowed = false) {
    for (size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i]) && !(nan_allowed && std::isnan(values[i])))
            fail("{}: value {} is {} (as f32); expected finite samples", what, i, values[i]);
}

/// A field's text as a number: "" (and "nan") is NaN, anything else must be a finite number.
double field_number(const std::string &text, const std::string &what, const std::string &field) {
    std::string trimmed = text;
    trimmed.erase(0, trimmed.find_first_not_of(" \t"));
    trimmed.erase(trimmed.find_last_not_of(" \t") + 1);
    if (trimmed.empty() || trimmed == "nan" || trimmed == "NaN") return NAN;
    double value = 0.0;
    if (!parse_series_number(trimmed, value))
        fail("{}: the field '{}' is '{}'; expected a number (or nothing)", what, field, text);
    return value;
}

int32_t label_index(const std::string &text, const std::vector<std::string> &classes, const std::string &what,
                    const std::string &field) {
    if (!classes.empty()) {
        const auto it = std::find(classes.begin(), classes.end(), text);
        if (it == classes.end())
            fail("{}: the label field '{}' is '{}'; expected one of: {}", what, field, text, fmt::join(classes, ", "));
        return static_cast<int32_t>(it - classes.begin());
    }
    const double value = field_number(text, what, field);
    if (!(value >= 0 && value <= std::numeric_limits<int32_t>::max() && value == std::floor(value)))
        fail("{}: the label field '{}' is '{}'; expected a class index (a whole number >= 0)", what, field, text);
    return static_cast<int32_t>(value);
}

Tensor scalar_f64(double value) { return Tensor::from_vector(std::vector<double>{value}, Shape{}); }
Tensor scalar_i32(int32_t value) { return Tensor::from_vector(std::vector<int32_t>{value}, Shape{}); }

/// Reads all of `dataset` (the expected `elements`) as f32, refusing non-numeric types.
std::vector<float> read_all_f32(hid_t dataset, int64_t elements, const std::string &what) {
    const hdf5::Handle type(H5Dget_type(dataset), H5Tclose);
    bool numeric = false;
    const std::string kind = hdf5::type_name(type.get(), &numeric);
    if (!numeric) fail("{}: the samples are {}; expected numbers (integer or float)", what, kind);
    std::vector<float> values(static_cast<size_t>(elements));
    if (H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
        fail("{}: cannot read the samples: {}", what, hdf5::error_text());
    return values;
}

}  // namespace

// ---- one dataset per trace ----

struct Hdf5TraceDataset::State {
    Hdf5TraceOptions options;
    hdf5::Handle file, group;
    std::vector<std::string> names;
    std::optional<MetadataTable> table;
    std::vector<size_t> field_columns;
    size_t label_column = 0;
    std::vector<hsize_t> extents;  // of every trace, as stored
    int64_t channels = 0, length = 0;
};

Hdf5TraceDataset::Hdf5TraceDataset(Hdf5TraceOptions options) : state_(std::make_unique<State>()) {
    State &s = *state_;
    s.options = std::move(options);
    const std::string &path = s.options.path;
    s.file = hdf5::open_file(path);
    const std::string group = s.options.group.empty() ? "/" : s.options.group;
    if (group != "/" && H5Lexists(s.file.get(), group.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        fail("{}: no group '{}'; expected the traces there (Hdf5TraceOptions::group)", path, group);
    }
    s.group = hdf5::Handle(H5Gopen2(s.file.get(), group.c_str(), H5P_DEFAULT), H5Gclose);
    if (!s.group.valid()) fail("{}: '{}' is not a group: {}", path, group, hdf5::error_text());

    if (!s.options.metadata_csv.empty()) {
        s.table = MetadataTable::read_csv(s.options.metadata_csv);
        const size_t name_column = s.table->column(s.options.name_column);
        for (int64_t row = 0; row < s.table->rows(); ++row) s.names.push_back(s.table->field(row, name_column));
        for (const std::string &field : s.options.numeric_fields) s.field_columns.push_back(s.table->column(field));
        if (!s.options.label_field.empty()) s.label_column = s.table->column(s.options.label_field);
    } else {
        try {
            s.names = hdf5::link_names(s.group.get());
        } catch (const Error &e) {
            fail("{}: group '{}': {}", path, group, e.what());
        }
    }
    if (s.names.empty())
        fail("{}: no traces ({}); expected at least one", path,
             s.table ? "the CSV " + s.options.metadata_csv + " has no rows" : "group '" + group + "' is empty");

    // The first trace fixes the shape of all.
    const std::string what = describe(0);
    std::optional<hdf5::Handle> first = hdf5::open_dataset(s.group.get(), s.names[0]);
    if (!first) fail("{}: no such dataset in group '{}'", what, group);
    s.extents = hdf5::dataset_extents(first->get());
    if (s.extents.size() != 2 || s.extents[0] == 0 || s.extents[1] == 0)
        fail("{}: extents [{}]; expected a 2-d trace ({})", what, fmt::join(s.extents, ", "),
             s.options.layout == TraceLayout::samples_by_channels ? "[samples, channels]" : "[channels, samples]");
    item_elements(s.extents, 0, what);
    const bool samples_first = s.options.layout == TraceLayout::samples_by_channels;
    s.length = static_cast<int64_t>(s.extents[samples_first ? 0 : 1]);
    s.channels = static_cast<int64_t>(s.extents[samples_first ? 1 : 0]);
}

Hdf5TraceDataset::~Hdf5TraceDataset() = default;

int64_t Hdf5TraceDataset::size() const { return static_cast<int64_t>(state_->names.size()); }

const std::string &Hdf5TraceDataset::trace_name(int64_t index) const {
    check_index(index, size(), state_->options.path);
    return state_->names[static_cast<size_t>(index)];
}

std::string Hdf5TraceDataset::describe(int64_t index) const {
    return fmt::format("{}: trace '{}'", file_name(state_->options.path), trace_name(index));
}

Example Hdf5TraceDataset::get(int64_t index) const {
    const State &s = *state_;
    const std::string what = describe(index);
    const std::string &name = s.names[static_cast<size_t>(index)];
    std::optional<hdf5::Handle> dataset;
    try {
        dataset = hdf5::open_dataset(s.group.get(), name);
    } catch (const Error &e) {
        fail("{}: {}", what, e.what());
    }
    if (!dataset) fail("{}: no such dataset in group '{}'", what, s.options.group);
    const std::vector<hsize_t> extents = hdf5::dataset_extents(dataset->get());
    if (extents != s.extents)
        fail("{}: extents [{}]; expected [{}] like the first trace", what, fmt::join(extents, ", "),
             fmt::join(s.extents, ", "));
    hdf5::check_chunks(dataset->get(), 0, extents[0], kMaxItemBytes, what);
    const std::vector<float> stored = read_all_f32(dataset->get(), s.channels * s.length, what);
    check_finite(stored, what);

    Tensor waveform = Tensor::uninitialized({s.channels, s.length}, DType::f32);
    float *out = waveform.data<float>();
    const bool samples_first = s.options.layout == TraceLayout::samples_by_channels;
    for (int64_t c = 0; c < s.channels; ++c)
        for (int64_t t = 0; t < s.length; ++t)
            out[c * s.length + t] = stored[static_cast<size_t>(samples_first ? t * s.channels + c : c * s.length + t)];

    Example example{{s.options.waveform_key, waveform}};
    const std::vector<std::string> &fields = s.options.numeric_fields;
    for (size_t f = 0; f < fields.size(); ++f) {
        double value = NAN;
        if (s.table) {
            const std::string where = fmt::format("{} ({}:{})", what, s.table->path(), s.table->line_of(index));
            value = field_number(s.table->field(index, s.field_columns[f]), where, fields[f]);
        } else {
            value = hdf5::numeric_attribute(dataset->get(), fields[f], what).value_or(NAN);
        }
        example[fields[f]] = scalar_f64(value);
    }
    if (!s.options.label_field.empty()) {
        std::string text;
        if (s.table) {
            text = s.table->field(index, s.label_column);
        } else {
            const std::optional<std::string> attribute = hdf5::text_attribute(dataset->get(), s.options.label_field, what);
            if (!attribute) fail("{}: no attribute '{}' (the label field)", what, s.options.label_field);
            text = *attribute;
        }
        example["label"] = scalar_i32(label_index(text, s.options.label_classes, what, s.options.label_field));
    }
    return example;
}

// ---- one array [N, ...] ----

struct Hdf5ArrayDataset::State {
    struct Field {
        std::string key, name;
        bool nan_allowed = false;
        hdf5::Handle dataset;
        std::vector<hsize_t> extents;
        bool floating = true;
        int64_t row_elements = 0;
    };
    Hdf5ArrayOptions options;
    hdf5::Handle file;
    std::vector<Field> fields;
    int64_t rows = 0;
};

Hdf5ArrayDataset::Hdf5ArrayDataset(Hdf5ArrayOptions options) : state_(std::make_unique<State>()) {
    State &s = *state_;
    s.options = std::move(options);
    const std::string &path = s.options.path;
    if (s.options.fields.empty()) fail("{}: no fields; expected at least one {{name, HDF5 dataset}}", path);
    s.file = hdf5::open_file(path);
    const hdf5::Handle access(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose);
    // Slots: a prime well above the number of chunks the cache can hold (HDF5's advice).
    H5Pset_chunk_cache(access.get(), 12421, s.options.chunk_cache_bytes, 0.75);
    for (const auto &[key, name] : s.options.fields) {
        const std::string what = fmt::format("{}: dataset '{}'", file_name(path), name);
        State::Field field{key, name, false, {}, {}, true, 0};
        const std::vector<std::string> &nan_allowed = s.options.nan_allowed;
        field.nan_allowed = std::find(nan_allowed.begin(), nan_allowed.end(), key) != nan_allowed.end();
        if (name.empty() || H5Lexists(s.file.get(), name.c_str(), H5P_DEFAULT) <= 0) {
            H5Eclear2(H5E_DEFAULT);
            fail("{}: not found; expected an array [N, ...] for '{}'", what, key);
        }
        field.dataset = hdf5::Handle(H5Dopen2(s.file.get(), name.c_str(), access.get()), H5Dclose);
        if (!field.dataset.valid()) fail("{}: not a dataset HDF5 can open: {}", what, hdf5::error_text());
        field.extents = hdf5::dataset_extents(field.dataset.get());
        if (field.extents.empty()) fail("{}: a scalar; expected an array [N, ...] with one row per item", what);
        const hdf5::Handle type(H5Dget_type(field.dataset.get()), H5Tclose);
        bool numeric = false;
        const std::string kind = hdf5::type_name(type.get(), &numeric);
        if (!numeric) fail("{}: its values are {}; expected numbers", what, kind);
        field.floating = H5Tget_class(type.get()) == H5T_FLOAT;
        field.row_elements = item_elements(field.extents, 1, what);
        const auto rows = static_cast<int64_t>(field.extents[0]);
        if (!s.fields.empty() && rows != s.rows)
            fail("{}: {} rows; '{}' has {}: every array needs one row per item", what, rows, s.fields[0].name, s.rows);
        s.rows = rows;
        s.fields.push_back(std::move(field));
    }
}

Hdf5ArrayDataset::~Hdf5ArrayDataset() = default;

int64_t Hdf5ArrayDataset::size() const { return state_->rows; }

std::string Hdf5ArrayDataset::describe(int64_t index) const {
    return fmt::format("{}: row {}", file_name(state_->options.path), index);
}

Example Hdf5ArrayDataset::get(int64_t index) const {
    const State &s = *state_;
    check_index(index, s.rows, s.options.path);
    Example example;
    for (const State::Field &field : s.fields) {
        const std::string what = fmt::format("{} of '{}'", describe(index), field.name);
        hdf5::check_chunks(field.dataset.get(), static_cast<hsize_t>(index), 1, kMaxItemBytes, what);
        const hdf5::Handle file_space(H5Dget_space(field.dataset.get()), H5Sclose);
        std::vector<hsize_t> start(field.extents.size(), 0), count = field.extents;
        start[0] = static_cast<hsize_t>(index), count[0] = 1;
        if (!file_space.valid() ||
            H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0)
            fail("{}: cannot select the row: {}", what, hdf5::error_text());
        const Shape shape(field.extents.begin() + 1, field.extents.end());
        const hdf5::Handle memory_space(
            shape.empty() ? H5Screate(H5S_SCALAR)
                          : H5Screate_simple(static_cast<int>(shape.size()), field.extents.data() + 1, nullptr),
            H5Sclose);
        if (field.floating) {
            std::vector<float> values(static_cast<size_t>(field.row_elements));
            if (H5Dread(field.dataset.get(), H5T_NATIVE_FLOAT, memory_space.get(), file_space.get(), H5P_DEFAULT,
                        values.data()) < 0)
                fail("{}: cannot read: {}", what, hdf5::error_text());
            check_finite(values, what, field.nan_allowed);
            example[field.key] = Tensor::from_vector(values, shape);
        } else {
            std::vector<int64_t> values(static_cast<size_t>(field.row_elements));
            if (H5Dread(field.dataset.get(), H5T_NATIVE_INT64, memory_space.get(), file_space.get(), H5P_DEFAULT,
                        values.data()) < 0)
                fail("{}: cannot read: {}", what, hdf5::error_text());
            std::vector<int32_t> narrow(values.size());
            for (size_t i = 0; i < values.size(); ++i) {
                if (values[i] < std::numeric_limits<int32_t>::min() || values[i] > std::numeric_limits<int32_t>::max())
                    fail("{}: value {} is {}; expected an integer that fits i32", what, i, values[i]);
                narrow[i] = static_cast<int32_t>(values[i]);
            }
            example[field.key] = Tensor::from_vector(narrow, shape);
        }
    }
    return example;
}

}  // namespace strata::data
