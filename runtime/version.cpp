#include "runtime/version.h"

#ifndef STRATA_VERSION
#error "STRATA_VERSION is set by runtime/CMakeLists.txt from the project version"
#endif

namespace strata {

const char *version() { return STRATA_VERSION; }

}  // namespace strata
