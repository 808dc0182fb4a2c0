#pragma once
/// \file
/// The process-wide default random generator, like torch.default_generator.
///
/// Module constructors draw their initial weights from it, so
///
///     strata::manual_seed(0);
///     nn::Linear a(4, 3);
///     strata::manual_seed(0);
///     nn::Linear b(4, 3);   // b's weights equal a's, bit for bit
///
/// It is not thread-safe: seed it and build models from one thread (as with
/// torch.manual_seed), or pass an explicit `Generator` to the init functions.

#include "runtime/generator.h"

#include <cstdint>

namespace strata {

/// PyTorch's default seed (torch.initial_seed() of a fresh process).
inline constexpr uint64_t default_seed = 67280421310721ull;

/// The generator used when none is given (seeded with `default_seed` at start-up).
Generator &default_generator();

/// Reseeds the default generator, like torch.manual_seed.
void manual_seed(uint64_t seed);

}  // namespace strata
