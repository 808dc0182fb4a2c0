#pragma once
// MiniSEED windows with their P and S picks: the dataset the picker trains on, and the
// transform that turns the picks into the two heads' targets.

#include <strata/strata.h>
#include "runtime/data/metadata_csv.h"
#include "runtime/data/miniseed_dataset.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace picking {

/// Arrival times (seconds since 1970) by station ("XX.S01") and phase ('P' or 'S'), sorted.
using PickTable = std::map<std::string, std::map<char, std::vector<double>>>;

/// Reads a picks CSV with columns network, station, phase (P or S; "Pg", "Sn"... count by their
/// first letter) and time (ISO 8601 UTC, "2024-03-01T00:01:02.5Z", or seconds since 1970).
/// Other columns are ignored. A bad row is a strata::Error naming the file, line and field.
PickTable read_picks(const std::string &path);

/// The windows of `windows` (a MiniseedDataset) at the stations `stations` (all when empty),
/// each with "p_sample" and "s_sample": f32 [1], the first P / S arrival inside the window in
/// samples from its start, NaN when there is none.
class LabelledWindows : public strata::data::Dataset {
public:
    LabelledWindows(std::shared_ptr<const strata::data::MiniseedDataset> windows, PickTable picks,
                    const std::vector<std::string> &stations = {});
    int64_t size() const override { return static_cast<int64_t>(selected_.size()); }
    strata::data::Example get(int64_t index) const override;
    std::string describe(int64_t index) const override;
    /// Windows with a P pick inside.
    int64_t windows_with_p() const { return with_p_; }

private:
    std::shared_ptr<const strata::data::MiniseedDataset> windows_;
    PickTable picks_;
    std::vector<int64_t> selected_;
    int64_t with_p_ = 0;
};

/// The targets of the two heads, from "p_sample" and "s_sample" (after any crop): "is_event" f32
/// [] (1 when the P arrival lies inside the window's `length` samples), "p_onset" and "s_onset"
/// i32 [] (the rounded arrival sample, -100 = none, which cross_entropy and PickingResidual
/// skip). Drops the fields the model does not use ("start_time", the float picks).
class PickTargets : public strata::data::Transform {
public:
    explicit PickTargets(int64_t length) : length_(length) {}
    void apply(strata::data::Example &example, strata::Generator &rng) const override;
    std::string describe() const override { return "pick_targets"; }

private:
    int64_t length_;
};

}  // namespace picking
