#pragma once
/// \file
/// LibTorch (Debian's libtorch-dev, optional) running the same workloads on
/// the same data, as the peer Strata is compared with. Built only when CMake
/// found Torch; otherwise `libtorch_version()` is empty and the table says
/// "not installed".

#include "bench/engine_case.h"
#include "bench/workloads.h"

#include <string>

namespace strata::bench {

/// "1.13.0" when built with LibTorch; "" when it was not installed at configure time.
std::string libtorch_version();

/// torch::set_num_threads.
void set_libtorch_threads(int threads);

/// The workload as LibTorch runs it (eager ops; autograd for the gradients;
/// torch::optim::SGD for training), on copies of `data`. LibTorch errors
/// come back as strata::Error.
EngineCase make_libtorch_case(const Workload &workload, const WorkloadData &data);

}  // namespace strata::bench
