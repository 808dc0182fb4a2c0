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
    const Halide::Target target(resolved);
    const Halide::Target host = Halide::get_host_target();
    if (target.arch != host.arch || target.os != host.os || target.bits != host.bits) return false;
    // Every CPU feature the target asks for must be present on this CPU.
    for (int f = 0; f < Halide::Target::FeatureEnd; ++f) {
        const auto feature = static_cast<Halide::Target::Feature>(f);
        if (target.has_feature(feature) && !host.has_feature(feature) && !target.has_gpu_feature() &&
            feature != Halide::Target::JIT && feature != Halide::Target::UserContext &&
            feature != Halide::Target::NoRuntime && feature != Halide::Target::NoAsserts &&
            feature != Halide::Target::NoBoundsQuery)
            return false;
    }
    return true;
}

}  // namespace strata::codegen
