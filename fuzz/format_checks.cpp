#include "fuzz/format_checks.h"

#include "ir/parser.h"
#include "ir/printer.h"
#include "runtime/data/hdf5_dataset.h"
#include "runtime/data/segy_dataset.h"
#include "runtime/idx.h"
#include "runtime/miniseed.h"
#include "runtime/safetensors.h"
#include "runtime/series_text.h"

#include <strata/error.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sys/mman.h>
#include <unistd.h>

namespace strata::fuzz {

namespace {

/// The readers take paths: the input goes to an in-memory file (memfd, no disk traffic),
/// opened as /proc/self/fd/N. Valid until the next call.
const std::string &input_as_file(const uint8_t *data, size_t size) {
    static const int fd = memfd_create("strata-fuzz-input", MFD_CLOEXEC);
    static const std::string path = "/proc/self/fd/" + std::to_string(fd);
    if (fd < 0 || ftruncate(fd, 0) != 0) throw std::runtime_error("memfd: " + std::string(std::strerror(errno)));
    for (size_t done = 0; done < size;) {
        const ssize_t n = pwrite(fd, data + done, size - done, static_cast<off_t>(done));
        if (n <= 0) throw std::runtime_error("writing the fuzz input: " + std::string(std::strerror(errno)));
        done += static_cast<size_t>(n);
    }
    return path;
}

/// The input as a real file (in /dev/shm when it exists), for HDF5, which resolves the real path
/// of what it opens and cannot open a memfd's /proc/self/fd/N. Removed at exit.
const std::string &input_as_named_file(const uint8_t *data, size_t size) {
    struct NamedFile {
        std::string path;
        NamedFile() {
            const std::filesystem::path folder = std::filesystem::is_directory("/dev/shm")
                                                     ? std::filesystem::path("/dev/shm")
                                                     : std::filesystem::temp_directory_path();
            path = (folder / ("strata-fuzz-input-" + std::to_string(getpid()))).string();
        }
        ~NamedFile() { std::remove(path.c_str()); }
    };
    static const NamedFile file;
    std::ofstream out(file.path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char *>(data), static_cast<std::streamsize>(size));
    if (!out.flush()) throw std::runtime_error("writing the fuzz input to " + file.path);
    return file.path;
}

[[noreturn]] void finding(const std::string &what) { throw FuzzFinding(what); }

/// Every value a series reader returns is finite, as documented.
void require_finite(const std::vector<double> &values, const char *reader) {
    for (double v : values)
        if (!std::isfinite(v)) finding(std::string(reader) + " returned a non-finite value");
}

/// Reads the first examples of `dataset`: each has the names, dtypes and shapes of the first,
/// and its float tensors hold no infinity (NaN only where a reader documents it: picks).
void read_examples(const data::Dataset &dataset, const char *reader) {
    data::Example first;
    for (int64_t i = 0; i < std::min<int64_t>(dataset.size(), 16); ++i) {
        try {
            const data::Example example = dataset.get(i);
            if (first.empty()) first = example;
            for (const auto &[name, tensor] : example) {
                const auto same = first.find(name);
                if (same == first.end() || same->second.shape() != tensor.shape() ||
                    same->second.dtype() != tensor.dtype() || example.size() != first.size())
                    finding(std::string(reader) + ": example " + std::to_string(i) + " differs in names, shapes or dtypes");
                for (int64_t k = 0; k < tensor.numel(); ++k)
                    if (std::isinf(tensor.get_flat(k)) || (name != "p_arrival_sample" && name != "s_arrival_sample" &&
                                                           std::isnan(tensor.get_flat(k))))
                        finding(std::string(reader) + ": example " + std::to_string(i) + " has a non-finite '" + name + "'");
            }
        } catch (const Error &) {
        }
        (void)dataset.describe(i);
    }
}

}  // namespace

void check_ir_text(const uint8_t *data, size_t size) {
    const std::string text(reinterpret_cast<const char *>(data), size);
    std::string printed;
    try {
        printed = ir::print(ir::parse(text, "fuzz.ir"));
    } catch (const Error &) {
        return;  // rejected with a message: the expected outcome for bad text
    }
    // The documented round trip: print(parse(print(p))) == print(p).
    std::string again;
    try {
        again = ir::print(ir::parse(printed, "printed.ir"));
    } catch (const Error &e) {
        finding("printed IR does not parse back: " + std::string(e.what()) + "\n---\n" + printed);
    }
    if (again != printed) finding("IR round trip differs:\n" + printed + "---\n" + again);
}

void check_safetensors(const uint8_t *data, size_t size) {
    const std::string &path = input_as_file(data, size);
    SafetensorsHeader header;
    try {
        header = read_safetensors_header(path);
    } catch (const Error &) {
        return;
    }
    // The header passed every layout check, so only values may still fail: BOOL bytes other
    // than 0/1 (I64 is read as i64, so every value fits).
    SafetensorsFile file;
    try {
        file = read_safetensors(path);
    } catch (const Error &e) {
        if (std::strstr(e.what(), "BOOL elements are 0 or 1")) return;
        finding("header accepted but the data was refused: " + std::string(e.what()));
    }
    if (file.tensors.size() != header.entries.size()) finding("tensor count differs from the header's");
    bool converted = false;
    for (size_t i = 0; i < file.tensors.size(); ++i) {
        const SafetensorsEntry &e = header.entries[i];
        converted |= e.stored != stored_dtype_of(e.dtype);
        if (file.tensors[i].second.shape() != e.shape || file.tensors[i].second.dtype() != e.dtype ||
            file.tensors[i].second.numel() * stored_dtype_size(e.stored) != e.end - e.begin)
            finding("tensor '" + file.tensors[i].first + "' does not have its header's shape or size");
    }
    // The CRC is over the stored bytes, which only unconverted tensors still are.
    if (!converted && file.data_crc32 != safetensors_data_crc32(file.tensors)) finding("data CRC differs");
}

void check_idx(const uint8_t *data, size_t size) {
    const std::string &path = input_as_file(data, size);
    try {
        const IdxHeader header = read_idx_header(path);
        if (read_idx(path).shape() != header.shape) finding("IDX tensor shape differs from its header");
        if (header.type == IdxType::u8 && read_idx_images(path).shape() != header.shape)
            finding("IDX image shape differs from its header");
    } catch (const Error &) {
    }
}

void check_miniseed(const uint8_t *data, size_t size) {
    const std::string &path = input_as_file(data, size);
    std::vector<Trace> traces;
    try {
        traces = read_miniseed(path);
    } catch (const Error &) {
        return;
    }
    for (const Trace &trace : traces) {
        // Every trace returned is usable: samples and a positive sampling rate.
        if (trace.samples.empty() || !(trace.sampling_rate > 0))
            finding("MiniSEED trace " + trace.id() + " has no samples or no positive rate");
        // Its record runs hold exactly its records: read through them, its span gives it back.
        if (trace.record_runs.empty()) continue;
        try {
            const double start = trace.start_epoch_seconds, end = start + trace.duration_seconds();
            const std::vector<Trace> again = read_miniseed(path, trace.id(), trace.record_runs, start, end);
            if (again.size() != 1 || again[0].samples != trace.samples || again[0].start_epoch_seconds != start)
                finding("MiniSEED trace " + trace.id() + " read through its record runs differs");
        } catch (const Error &e) {
            finding("MiniSEED trace " + trace.id() + " cannot be read through its record runs: " + e.what());
        }
    }
}

void check_series_text(const uint8_t *data, size_t size) {
    if (size == 0) return;
    const uint8_t selector = data[0];
    const std::string &path = input_as_file(data + 1, size - 1);
    try {
        switch (selector % 4) {
        case 0: require_finite(read_series_text(path), "read_series_text"); break;
        case 1: require_finite(read_series_csv(path, size_t{selector / 4u % 8u}), "read_series_csv"); break;
        case 2: require_finite(read_series_csv(path, "Close"), "read_series_csv"); break;
        default: require_finite(read_series_csv(path, std::to_string(selector / 4u)), "read_series_csv"); break;
        }
    } catch (const Error &) {
    }
    double value = 0;
    if (parse_series_number(std::string(reinterpret_cast<const char *>(data), size), value) &&
        !std::isfinite(value))
        finding("parse_series_number accepted a non-finite value");
}

void check_hdf5(const uint8_t *data, size_t size) {
    const std::string &path = input_as_named_file(data, size);
    for (const char *group : {"data", "/"}) {
        try {
            read_examples(data::Hdf5TraceDataset({.path = path,
                                                   .group = group,
                                                   .label_field = "trace_category",
                                                   .label_classes = {"noise", "earthquake_local"}}),
                          "Hdf5TraceDataset");
        } catch (const Error &) {
        }
    }
    for (const bool labelled : {false, true}) {
        data::Hdf5ArrayOptions options{.path = path};
        if (labelled) options.fields.push_back({"label", "labels"});
        try {
            read_examples(data::Hdf5ArrayDataset(options), "Hdf5ArrayDataset");
        } catch (const Error &) {
        }
    }
}

void check_segy(const uint8_t *data, size_t size) {
    const std::string &path = input_as_file(data, size);
    for (const bool volume : {false, true}) {
        const data::SegyGeometry geometry = volume ? data::SegyGeometry::volume_3d : data::SegyGeometry::line_2d;
        std::vector<int64_t> extents;
        try {
            extents = data::SegyPatchDataset({.path = path, .geometry = geometry,
                                              .patch = std::vector<int64_t>(volume ? 3 : 2, 1), .random_patches = 1})
                          .extents();
        } catch (const Error &) {
            continue;
        }
        std::vector<int64_t> patch;
        for (const int64_t extent : extents) patch.push_back(std::min<int64_t>(extent, 4));
        try {
            const data::SegyPatchDataset patches({.path = path, .label_path = path, .geometry = geometry,
                                                  .patch = patch, .random_patches = 8, .seed = size});
            read_examples(patches, "SegyPatchDataset");
            Shape image{1};
            image.insert(image.end(), patch.begin(), patch.end());
            for (int64_t i = 0; i < patches.size(); ++i) {
                try {
                    const data::Example example = patches.get(i);
                    if (example.at("image").shape() != image || example.at("label").shape() != Shape(patch.begin(), patch.end()))
                        finding("SegyPatchDataset: a patch of another shape than asked");
                } catch (const Error &) {
                }
            }
        } catch (const Error &) {
        }
    }
}

}  // namespace strata::fuzz
