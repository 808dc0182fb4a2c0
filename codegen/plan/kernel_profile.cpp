#include "codegen/plan/kernel_profile.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>

namespace strata::codegen {
namespace {

bool profiling_requested_by_environment() {
    const char *env = std::getenv("STRATA_PROFILE");
    return env && *env && std::string(env) != "0";
}

std::atomic<bool> profiling{profiling_requested_by_environment()};
std::mutex times_mutex;
std::map<std::string, KernelTime> times;  // by label

}  // namespace

void set_kernel_profiling(bool on) { profiling.store(on, std::memory_order_relaxed); }
bool kernel_profiling() { return profiling.load(std::memory_order_relaxed); }

void record_kernel_time(const std::string &label, double seconds) {
    const std::lock_guard<std::mutex> lock(times_mutex);
    KernelTime &t = times[label];
    t.label = label;
    t.calls += 1;
    t.seconds += seconds;
}

std::vector<KernelTime> take_kernel_profile() {
    std::vector<KernelTime> out;
    {
        const std::lock_guard<std::mutex> lock(times_mutex);
        for (auto &[label, t] : times) out.push_back(std::move(t));
        times.clear();
    }
    std::sort(out.begin(), out.end(), [](const KernelTime &a, const KernelTime &b) { return a.seconds > b.seconds; });
    return out;
}

}  // namespace strata::codegen
