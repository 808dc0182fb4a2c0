#pragma once
/// \file
/// Patches of a SEG-Y file (libsegyio) for training on seismic images: a 2-D line (traces in
/// file order) or a 3-D post-stack volume (inline/crossline geometry from the trace headers,
/// sorted either way), cut into patches on a grid or at random places, with labels (fault or
/// facies masks) from a second file of the same geometry.
///
/// An example is {"image": f32 [1, patch...], "label": i32 [patch...]} (the label only with a
/// label file): [1, traces, samples] for a line, [1, inlines, crosslines, samples] for a volume,
/// so a 2-D network takes inline slices of a volume with a patch of {1, crosslines, samples}
/// reshaped, or a line directly. Samples in IBM or IEEE float, or 1, 2 or 4-byte integers, are
/// converted to f32; a label must be a whole number.
///
/// Every problem is a `strata::Error` naming the file: not SEG-Y (no valid sample format or
/// sample count in the binary header), a size that is not a whole number of traces, an
/// irregular or pre-stack geometry, a label file of another geometry, a sample that is not
/// finite, a label that is not a whole number (naming inline, crossline and sample).

#include "runtime/data/dataset.h"

#include <memory>
#include <string>
#include <vector>

namespace strata::data {

enum class SegyGeometry {
    line_2d,    ///< traces in file order: patches {traces, samples}
    volume_3d,  ///< inline x crossline from the headers: patches {inlines, crosslines, samples}
};

struct SegyPatchOptions {
    std::string path;
    std::string label_path{};  ///< labels of the same geometry (class per sample); empty: none
    SegyGeometry geometry = SegyGeometry::volume_3d;
    int inline_field = 189;    ///< trace-header byte of the inline number (SEG-Y rev1)
    int crossline_field = 193; ///< trace-header byte of the crossline number
    std::vector<int64_t> patch{};   ///< extent per dimension (2 for a line, 3 for a volume)
    /// Grid: the step between patch corners per dimension (empty: the patch, i.e. tiles). The
    /// last corner of each dimension is moved to the end so the grid covers the whole file.
    std::vector<int64_t> stride{};
    /// > 0: that many patches at corners drawn uniformly with `seed` (fixed at construction,
    /// so get(i) always returns the same patch; the loader shuffles their order).
    int64_t random_patches = 0;
    uint64_t seed = 0;
    std::string image_key = "image";
    std::string label_key = "label";
};

class SegyPatchDataset : public Dataset {
public:
    /// Opens the file(s), reads the geometry and lays out the patches.
    explicit SegyPatchDataset(SegyPatchOptions options);
    ~SegyPatchDataset() override;

    int64_t size() const override;
    Example get(int64_t index) const override;
    /// "volume.sgy: patch 3 at inlines 101..108, crosslines 20..27, samples 0..63".
    std::string describe(int64_t index) const override;
    /// The file's extents: {traces, samples} or {inlines, crosslines, samples}.
    std::vector<int64_t> extents() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace strata::data
