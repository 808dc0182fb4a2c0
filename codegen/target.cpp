#include "codegen/target.h"

#include <strata/error.h>

#include <Halide.h>

#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace strata::codegen {

namespace {

/// Whether this CPU has AVX512-FP16 (CPUID leaf 7, EDX bit 23).
bool cpu_has_avx512_fp16() {
#if defined(__x86_64__) || defined(__i386__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    return ((edx >> 23) & 1u) != 0;
#else
    return false;
#endif
}

}  // namespace

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
    // Halide 14 calls every CPU with AVX-512 BF16 and VNNI "sapphirerapids",
    // and LLVM then emits AVX512-FP16 instructions (vmovw), which AMD Zen 4
    // lacks: SIGILL at run time (seen in the gradient of maximum). A detected
    // host keeps the feature only where the CPU really has FP16.
    if (name.rfind("host", 0) == 0 && target.has_feature(Halide::Target::AVX512_SapphireRapids) &&
        !cpu_has_avx512_fp16())
        target = target.without_feature(Halide::Target::AVX512_SapphireRapids);
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

std::string resolve_target_or_default(const std::string &name) {
    return resolve_target(name.empty() ? default_target() : name);
}

}  // namespace strata::codegen
