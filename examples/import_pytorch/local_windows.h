#pragma once
// The example's local data: synthetic windows of a station the detector has not seen, or a
// user's windows read (and checked) from a safetensors file.

#include <strata/strata.h>

#include <string>

namespace detector {

/// `n` windows of `channels` x `samples`, half earthquakes (label 1: a P burst, then a stronger
/// S burst, as in make_detector.py) and half noise (label 0), all in this station's noise: a
/// slow microseism swell, white noise and, in some noise windows, a glitch (a one-sided spike
/// that the detector trained on white noise takes for an arrival). Each window is scaled to a
/// peak of 1, as in training. Labels are i32 (class indices for cross_entropy).
strata::Dataset local_windows(int64_t n, int64_t channels, int64_t samples, uint64_t seed);

/// A user's windows: `path` holds "waveform" (N, channels, samples; F32, or F64 rounded to f32)
/// and "label" (N; 0 or 1; any integer dtype). Anything else is a strata::Error naming the file
/// and the tensor. Windows are used as they are (scale them as the model was trained).
strata::Dataset read_windows(const std::string &path, int64_t channels, int64_t samples);

/// One fixed window (1, channels, samples) that predict.c computes the same way: a swell and, from
/// sample 100 on, a decaying burst. The example and the emitted library must agree on it.
strata::Tensor probe_window(int64_t channels, int64_t samples);

/// Writes `first` then `second` as one file `read_windows` reads ("label" stored as I64, as
/// PyTorch's int64 class targets are).
void save_windows(const std::string &path, const strata::Dataset &first, const strata::Dataset &second);

}  // namespace detector
