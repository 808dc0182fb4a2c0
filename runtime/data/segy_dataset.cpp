#include "runtime/data/segy_dataset.h"

#include "runtime/data/segy_file.h"

#include <cmath>
#include <limits>

namespace strata::data {

struct SegyPatchDataset::State {
    SegyPatchOptions options;
    std::unique_ptr<SegyFile> image, label;
    std::vector<int64_t> extents;               // {traces, samples} or {inlines, crosslines, samples}
    std::vector<std::vector<int64_t>> corners;  // one per patch
};

namespace {

std::string file_name(const std::string &path) { return path.substr(path.find_last_of('/') + 1); }

/// The corners along one dimension: 0, stride, 2 stride, ... and the last one at extent - patch.
std::vector<int64_t> grid_starts(int64_t extent, int64_t patch, int64_t stride) {
    std::vector<int64_t> starts;
    for (int64_t start = 0; start + patch <= extent; start += stride) starts.push_back(start);
    if (starts.back() + patch < extent) starts.push_back(extent - patch);
    return starts;
}

}  // namespace

SegyPatchDataset::SegyPatchDataset(SegyPatchOptions options) : state_(std::make_unique<State>()) {
    State &s = *state_;
    s.options = std::move(options);
    const SegyPatchOptions &o = s.options;
    const bool volume = o.geometry == SegyGeometry::volume_3d;
    const size_t rank = volume ? 3 : 2;
    const char *dims = volume ? "{inlines, crosslines, samples}" : "{traces, samples}";
    if (o.patch.size() != rank)
        fail("{}: patch has {} extents; expected {} for a {}", o.path, o.patch.size(), dims,
             volume ? "3-D volume" : "2-D line");
    if (!o.stride.empty() && o.stride.size() != rank)
        fail("{}: stride has {} extents; expected {} {}", o.path, o.stride.size(), rank, dims);
    if (o.random_patches < 0) fail("{}: random_patches is {}; expected >= 0", o.path, o.random_patches);

    s.image = std::make_unique<SegyFile>(o.path, volume, o.inline_field, o.crossline_field);
    s.extents = volume ? std::vector<int64_t>{static_cast<int64_t>(s.image->inlines().size()),
                                              static_cast<int64_t>(s.image->crosslines().size()), s.image->samples()}
                       : std::vector<int64_t>{s.image->traces(), s.image->samples()};
    if (!o.label_path.empty()) {
        s.label = std::make_unique<SegyFile>(o.label_path, volume, o.inline_field, o.crossline_field);
        const bool same = s.label->samples() == s.image->samples() && s.label->traces() == s.image->traces() &&
                          s.label->inlines() == s.image->inlines() && s.label->crosslines() == s.image->crosslines();
        if (!same)
            fail("{}: the labels' geometry ({} traces of {} samples, {} inlines x {} crosslines) differs from {}'s ({} "
                 "traces of {} samples, {} x {})",
                 o.label_path, s.label->traces(), s.label->samples(), s.label->inlines().size(),
                 s.label->crosslines().size(), file_name(o.path), s.image->traces(), s.image->samples(),
                 s.image->inlines().size(), s.image->crosslines().size());
    }
    for (size_t d = 0; d < rank; ++d) {
        if (o.patch[d] < 1 || o.patch[d] > s.extents[d])
            fail("{}: patch {} does not fit in the file's extents {} {}", o.path, fmt::join(o.patch, "x"),
                 fmt::join(s.extents, "x"), dims);
        if (!o.stride.empty() && o.stride[d] < 1)
            fail("{}: stride {} has a step below 1", o.path, fmt::join(o.stride, "x"));
    }

    if (o.random_patches > 0) {
        Generator rng(o.seed);
        for (int64_t n = 0; n < o.random_patches; ++n) {
            std::vector<int64_t> corner(rank);
            for (size_t d = 0; d < rank; ++d)
                corner[d] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(s.extents[d] - o.patch[d] + 1)));
            s.corners.push_back(std::move(corner));
        }
        return;
    }
    std::vector<std::vector<int64_t>> starts(rank);
    int64_t count = 1;
    for (size_t d = 0; d < rank; ++d) {
        starts[d] = grid_starts(s.extents[d], o.patch[d], o.stride.empty() ? o.patch[d] : o.stride[d]);
        count *= static_cast<int64_t>(starts[d].size());  // at most the file's sample count: no overflow
    }
    for (int64_t n = 0; n < count; ++n) {
        std::vector<int64_t> corner(rank);
        int64_t rest = n;
        for (size_t d = rank; d-- > 0;) {
            const auto size = static_cast<int64_t>(starts[d].size());
            corner[d] = starts[d][static_cast<size_t>(rest % size)];
            rest /= size;
        }
        s.corners.push_back(std::move(corner));
    }
}

SegyPatchDataset::~SegyPatchDataset() = default;

int64_t SegyPatchDataset::size() const { return static_cast<int64_t>(state_->corners.size()); }

std::vector<int64_t> SegyPatchDataset::extents() const { return state_->extents; }

std::string SegyPatchDataset::describe(int64_t index) const {
    const State &s = *state_;
    if (index < 0 || index >= size()) return fmt::format("{}: patch {} (out of range)", file_name(s.options.path), index);
    const std::vector<int64_t> &c = s.corners[static_cast<size_t>(index)];
    const std::vector<int64_t> &p = s.options.patch;
    if (c.size() == 2)
        return fmt::format("{}: patch {} at traces {}..{}, samples {}..{}", file_name(s.options.path), index, c[0],
                           c[0] + p[0] - 1, c[1], c[1] + p[1] - 1);
    return fmt::format("{}: patch {} at inlines {}..{}, crosslines {}..{}, samples {}..{}", file_name(s.options.path),
                       index, s.image->inlines()[c[0]], s.image->inlines()[c[0] + p[0] - 1],
                       s.image->crosslines()[c[1]], s.image->crosslines()[c[1] + p[1] - 1], c[2], c[2] + p[2] - 1);
}

Example SegyPatchDataset::get(int64_t index) const {
    const State &s = *state_;
    if (index < 0 || index >= size())
        fail("{}: index {} is out of range for {} patches", s.options.path, index, size());
    const std::vector<int64_t> &corner = s.corners[static_cast<size_t>(index)];
    const std::vector<int64_t> &patch = s.options.patch;
    const bool volume = patch.size() == 3;
    const int64_t lines = volume ? patch[0] : 1, traces = volume ? patch[1] : patch[0], samples = patch.back();
    const int64_t start = corner.back();

    Shape image_shape{1};
    image_shape.insert(image_shape.end(), patch.begin(), patch.end());
    Tensor image = Tensor::uninitialized(image_shape, DType::f32);
    Tensor label = s.label ? Tensor::uninitialized(Shape(patch.begin(), patch.end()), DType::i32) : Tensor();
    std::vector<float> row(static_cast<size_t>(samples));
    for (int64_t i = 0; i < lines; ++i)
        for (int64_t x = 0; x < traces; ++x) {
            const int64_t trace = volume ? s.image->trace_at(corner[0] + i, corner[1] + x) : corner[0] + x;
            const int64_t offset = (i * traces + x) * samples;
            const auto where = [&](int64_t k) {
                return volume ? fmt::format("inline {}, crossline {}, sample {}", s.image->inlines()[corner[0] + i],
                                            s.image->crosslines()[corner[1] + x], start + k)
                              : fmt::format("trace {}, sample {}", trace, start + k);
            };
            float *out = image.data<float>() + offset;
            s.image->read(trace, start, start + samples, out);
            for (int64_t k = 0; k < samples; ++k)
                if (!std::isfinite(out[k]))
                    fail("{}: {} is {}; expected finite samples ({})", s.options.path, where(k), out[k], describe(index));
            if (!s.label) continue;
            // The label file may be sorted the other way: its own trace at the same place.
            const int64_t label_trace = volume ? s.label->trace_at(corner[0] + i, corner[1] + x) : trace;
            s.label->read(label_trace, start, start + samples, row.data());
            int32_t *labels = label.data<int32_t>() + offset;
            for (int64_t k = 0; k < samples; ++k) {
                const float v = row[static_cast<size_t>(k)];
                if (!(std::floor(v) == v && std::abs(v) <= static_cast<float>(1 << 24)))
                    fail("{}: the label at {} is {}; expected a whole number (a class)", s.options.label_path, where(k),
                         v);
                labels[k] = static_cast<int32_t>(v);
            }
        }
    Example example{{s.options.image_key, image}};
    if (s.label) example[s.options.label_key] = label;
    return example;
}

}  // namespace strata::data
