#pragma once
/// \file
/// The f32 FMA peak of this machine, measured (not looked up): independent
/// vector FMAs in registers, with the widest instruction set the CPU has
/// (chosen at run time), on one thread and on N threads at once. The
/// benchmark table reports each workload as a percentage of it.

#include <string>

namespace strata::bench {

struct FmaPeak {
    std::string isa;                ///< "avx512f", "avx2+fma", "fma" or "generic" (mul + add)
    int lanes = 0;                  ///< f32 lanes per vector instruction
    double gflops_one_thread = 0;   ///< f32 GFLOP/s, an FMA counted as 2 FLOPs
    double gflops_all_threads = 0;  ///< the same with `threads` threads running together
    int threads = 1;
};

/// Runs the probe (about 0.4 s per thread count); the best of 20 trials,
/// since other processes on a shared machine only ever make it slower.
FmaPeak measure_fma_peak(int threads);

}  // namespace strata::bench
