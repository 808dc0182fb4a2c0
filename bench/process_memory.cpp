#include "bench/process_memory.h"

#include <fstream>
#include <sstream>

namespace strata::bench {

double process_status_mib(const std::string &field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind(field + ":", 0) != 0) continue;
        std::istringstream values(line.substr(field.size() + 1));
        double kib = -1;
        values >> kib;
        return kib < 0 ? -1 : kib / 1024.0;
    }
    return -1;
}

void restart_peak_rss() {
    std::ofstream("/proc/self/clear_refs") << "5";  // Linux: resets VmHWM to VmRSS
}

}  // namespace strata::bench
