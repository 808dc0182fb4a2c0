#pragma once
/// \file
/// The version of the Strata library a program runs with (CMake's project version).

namespace strata {

/// "0.1.0".
const char *version();

}  // namespace strata
