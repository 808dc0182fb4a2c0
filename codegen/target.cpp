#include "codegen/target.h"

#include <strata/error.h>

#include <Halide.h>

#include <cstdlib>

namespace strata::codegen {

std::string default_target() {
    const char *env = std::getenv("STRATA_TARGET");
    return env && *env ? env : "host";
}

std::string resolve_target(const std::string &name) {
    if (!Halide::Target::validate_target_string(name))
        fail("unknown target '{}': expected 'host', 'host-cuda' or a Halide target such as "
             "'x86-64-linux-avx2' or 'arm-64-linux'",
             name);
    Halide::Target target(name);
    return target.to_string();
}

bool can_run_in_process(const std::string &resolved) {
    using F = Halide::Target::Feature;
    const Halide::Target target(resolved);
    const Halide::Target host = Halide::get_host_target();
    if (target.arch != host.arch || target.os != host.os || target.bits != host.bits) return false;
    // Every instruction-set feature the target asks for must be on this CPU;
    // other features (profile, debug, no_asserts, ...) do not matter here.
    static const F isa[] = {F::SSE41,          F::AVX,         F::AVX2,        F::FMA,
                            F::FMA4,           F::F16C,        F::AVX512,      F::AVX512_KNL,
                            F::AVX512_Skylake, F::AVX512_Cannonlake, F::AVX512_SapphireRapids,
                            F::ARMDotProd,  F::ARMFp16,     F::SVE,
                            F::SVE2,           F::ARMv81a};
    for (F f : isa)
        if (target.has_feature(f) && !host.has_feature(f)) return false;
    return true;
}

}  // namespace strata::codegen
