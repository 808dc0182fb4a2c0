#pragma once
// The GPD picker's examples (Ross et al. 2018): 4-second three-component windows of a
// STEAD-like HDF5 file, centred on a P arrival, on an S arrival, or on noise. The traces are
// read with strata::data::Hdf5TraceDataset; the windows are cut by a transform in the loader's
// workers, so every epoch sees them at other offsets.

#include <strata/strata.h>
#include "runtime/data/hdf5_dataset.h"
#include "runtime/data/metadata_csv.h"

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace picking {

/// GPD's classes, in its order.
enum GpdClass : int32_t { kP = 0, kS = 1, kNoise = 2 };
inline const std::vector<std::string> kGpdClassNames = {"P", "S", "noise"};

/// One example: a trace of the file and what its window is centred on. A noise example of an
/// earthquake trace is centred away from both arrivals (the P coda, the gap before S).
struct GpdItem {
    int64_t trace = 0;
    GpdClass label = kNoise;
};

/// The examples of a STEAD-like CSV, split as its `split` column says ("train", and "dev" or
/// "test" for validation; without the column every tenth trace validates). Each earthquake
/// trace gives a P and an S example, every second one also a noise example; each noise trace a
/// noise example, so the classes are about balanced when a third of the traces are noise.
struct GpdPlan {
    std::vector<GpdItem> train, validation;
    std::vector<int64_t> validation_earthquakes;  ///< traces, for the pick-time residuals
};
GpdPlan plan_gpd_examples(const strata::data::MetadataTable &table);

/// The examples of `items`: "waveform" f32 [3, L] (the whole trace), "label" i32 [],
/// "p_arrival_sample" and "s_arrival_sample" f64 [] (NaN for noise traces).
class GpdExamples : public strata::data::Dataset {
public:
    GpdExamples(std::shared_ptr<const strata::data::Hdf5TraceDataset> traces, std::vector<GpdItem> items);
    int64_t size() const override { return static_cast<int64_t>(items_.size()); }
    strata::data::Example get(int64_t index) const override;
    std::string describe(int64_t index) const override;

private:
    std::shared_ptr<const strata::data::Hdf5TraceDataset> traces_;
    std::vector<GpdItem> items_;
};

struct GpdCropOptions {
    int64_t length = 400;  ///< the window (4 s at 100 Hz)
    int64_t jitter = 20;   ///< a P or S window's centre is within this many samples of the arrival
    int64_t gap = 100;     ///< a noise window's centre is further than this from both arrivals
};

/// Cuts the window of an example of GpdExamples: its centre drawn uniformly (one rng.below) among
/// the samples allowed by its label; drops the arrival fields, leaving "waveform" [3, length] and
/// "label". Throws naming the pick when no window of the trace can be centred as asked.
class GpdCrop : public strata::data::Transform {
public:
    explicit GpdCrop(GpdCropOptions options = {});
    void apply(strata::data::Example &example, strata::Generator &rng) const override;
    std::string describe() const override;

private:
    GpdCropOptions options_;
};

/// Applies `transform` to a fraction `probability` of the examples (one rng.uniform, then the
/// transform's own draws), like torchvision's RandomApply.
class RandomApply : public strata::data::Transform {
public:
    RandomApply(double probability, strata::data::TransformPtr transform);
    void apply(strata::data::Example &example, strata::Generator &rng) const override;
    std::string describe() const override;

private:
    double probability_;
    strata::data::TransformPtr transform_;
};

}  // namespace picking
