#pragma once
/// \file
/// Transforms that move the time window of a waveform: a random crop to a fixed length and a
/// random shift. The picks named in the options move with the samples: a pick at sample p is
/// at p - offset after a crop starting at `offset`, and at p + s after a shift by s. A pick
/// that falls outside the new window keeps that position (negative, or >= the new length), so
/// the example records where it went; NaN (no pick) stays NaN. With `keep_pick`, the window is
/// drawn only among those that keep that pick inside, at least `margin` samples from either end.

#include "runtime/data/dataset.h"

#include <string>
#include <vector>

namespace strata::data {

struct RandomCropOptions {
    int64_t length = 0;                ///< samples kept (>= 1, at most the waveform's length)
    std::string key = "waveform";      ///< [C, L] or [L] float tensor
    std::vector<std::string> picks{};  ///< one-element float tensors that move with the window
    std::string keep_pick{};           ///< a pick (one of `picks`) the window must contain, if present
    int64_t margin = 0;                ///< samples between the kept pick and either end of the window
};

/// A window of `length` consecutive samples, its start drawn uniformly among the allowed ones
/// (one draw of rng.below). Throws when the waveform is shorter than `length` or the kept pick
/// cannot lie inside any window with the margin.
class RandomCrop : public Transform {
public:
    explicit RandomCrop(RandomCropOptions options);
    void apply(Example &example, Generator &rng) const override;
    std::string describe() const override;

private:
    RandomCropOptions options_;
};

struct RandomShiftOptions {
    int64_t max_shift = 0;             ///< the shift s is uniform in [-max_shift, max_shift]
    std::string key = "waveform";
    std::vector<std::string> picks{};
    std::string keep_pick{};
    int64_t margin = 0;
    bool circular = false;             ///< samples leaving one end come in at the other (else zeros)
};

/// Moves the samples s positions later (earlier when s < 0): out[t] = in[t - s], with zeros
/// (or the wrapped-around samples when `circular`) where t - s is outside the trace. With
/// `circular`, a pick moves by s modulo the length (and `keep_pick` is refused: nothing leaves).
class RandomShift : public Transform {
public:
    explicit RandomShift(RandomShiftOptions options);
    void apply(Example &example, Generator &rng) const override;
    std::string describe() const override;

private:
    RandomShiftOptions options_;
};

}  // namespace strata::data
