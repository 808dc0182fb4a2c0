#pragma once
/// \file
/// The resident memory of this process (Linux /proc), for the benchmarks that report it.

#include <string>

namespace strata::bench {

/// A field of /proc/self/status in MiB ("VmRSS" now, "VmHWM" the peak), or -1 when unknown.
double process_status_mib(const std::string &field);

/// Restarts the peak (VmHWM) from the present resident set, so what was allocated and freed
/// before does not count.
void restart_peak_rss();

}  // namespace strata::bench
