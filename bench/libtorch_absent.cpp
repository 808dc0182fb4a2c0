// Built instead of libtorch_peer.cpp when CMake did not find LibTorch.

#include "bench/libtorch_peer.h"

#include <strata/error.h>

namespace strata::bench {

std::string libtorch_version() { return ""; }

void set_libtorch_threads(int) {}

EngineCase make_libtorch_case(const Workload &workload, const WorkloadData &) {
    fail("LibTorch is not installed (apt-get install libtorch-dev, then reconfigure): cannot run '{}'",
         workload.name);
}

}  // namespace strata::bench
