#include "frontend/nn/dropout.h"

#include "frontend/functional.h"
#include "runtime/random.h"

#include <strata/error.h>

namespace strata::nn {

DropoutImpl::DropoutImpl(const DropoutOptions &options_)
    : Module("Dropout"), options(options_),
      // 62 bits: non-negative, with room for the call counter.
      base_seed_(static_cast<int64_t>(default_generator().next_u64() >> 2)) {
    if (!(options.p() >= 0.0 && options.p() <= 1.0))
        fail("Dropout: probability p must be in [0, 1], got {}", options.p());
}

SymTensor DropoutImpl::forward(const SymTensor &input) {
    if (!is_training() || options.p() == 0.0) return input;
    // A fixed seed per call site and a per-run step: a fresh mask every training step.
    return dropout(input, options.p(), true, base_seed_ + calls_++, input.graph().run_counter());
}

std::string DropoutImpl::extra_repr() const { return fmt::format("p={}", options.p()); }

}  // namespace strata::nn
