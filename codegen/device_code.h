#pragma once
/// \file
/// The GPU code a program compiles to: the PTX of a CUDA target and the names
/// of its kernels, to check code generation on machines without a GPU. No
/// Halide in this header.

#include "codegen/compiler.h"

#include <string>
#include <vector>

namespace strata::codegen {

struct DeviceCode {
    std::string target;                ///< the resolved Halide target
    std::string ptx;                   ///< every kernel of the pipeline, as PTX text
    std::vector<std::string> kernels;  ///< the kernels' entry names, in PTX order
};

/// Lowers `program` with its schedule for `options.target` (a CUDA target,
/// e.g. "host-cuda-cuda_capability_70") and compiles it, which also makes
/// Halide check the GPU schedule. Throws strata::Error for a target without
/// CUDA or when Halide rejects the schedule.
DeviceCode cuda_device_code(const ir::Program &program, const CompileOptions &options);

/// The PTX text embedded in host assembly that Halide wrote for a CUDA target
/// ("" when there is none).
std::string ptx_from_host_assembly(const std::string &assembly);

/// The `.entry` names of a PTX text.
std::vector<std::string> ptx_kernel_names(const std::string &ptx);

}  // namespace strata::codegen
