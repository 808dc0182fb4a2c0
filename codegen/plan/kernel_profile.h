#pragma once
/// \file
/// Where a plan's time goes: with profiling on, the executor times every kernel it runs
/// and adds the time to the kernel's label (its ops and output type), so `strata bench
/// --profile` (or STRATA_PROFILE=1 and take_kernel_profile) can show which kernels to
/// schedule better. Off, it costs one relaxed atomic load per plan run.

#include <cstdint>
#include <string>
#include <vector>

namespace strata::codegen {

struct KernelTime {
    std::string label;  ///< "conv2d+batch_norm_train+relu -> f32[64,16,32,32]"
    int64_t calls = 0;
    double seconds = 0;
};

/// Turns profiling on or off for every plan in the process (on at start when $STRATA_PROFILE is set
/// to anything but "" or "0").
void set_kernel_profiling(bool on);
bool kernel_profiling();

/// Adds one timed call of the kernel `label`.
void record_kernel_time(const std::string &label, double seconds);

/// The times recorded since the last call, most time first, and forgets them.
std::vector<KernelTime> take_kernel_profile();

}  // namespace strata::codegen
