#include "runtime/random.h"

namespace strata {

Generator &default_generator() {
    // A function-local static: initialised on first use, so it is ready even
    // when a module is constructed during another file's static initialisation.
    static Generator generator(default_seed);
    return generator;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace strata
