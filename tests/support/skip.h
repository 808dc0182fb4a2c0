#pragma once
// Skipping a test that cannot run here (no GPU, no mpirun, no data set) so that ctest reports
// it as skipped, not as passed with nothing checked. Catch2 v2 has no SKIP: a test case calls
// STRATA_SKIP, and the test process exits with kSkipExitCode when every test case it ran
// skipped (tests/catch_main.cpp); ctest runs one test case per process and is told that code
// is a skip (SKIP_RETURN_CODE in tests/CMakeLists.txt).

#include <catch2/catch.hpp>

namespace strata::testing {

/// The exit status of a test process whose test cases all skipped (automake's convention).
inline constexpr int kSkipExitCode = 77;

/// Test cases that skipped in this process.
inline int skipped_test_cases = 0;

/// Records that the running test case skipped (call it once, then return from the test case).
inline void note_skipped() { ++skipped_test_cases; }

}  // namespace strata::testing

/// Ends the running test case as skipped, saying why ("SKIPPED: ..." in the output).
#define STRATA_SKIP(why)                                \
    do {                                                \
        WARN("SKIPPED: " << why);                       \
        ::strata::testing::note_skipped();              \
        return;                                         \
    } while (0)
