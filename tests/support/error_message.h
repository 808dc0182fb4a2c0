#pragma once
// The message of an expected strata::Error, for tests that check messages
// in several parts.

#include <strata/error.h>

#include <catch2/catch.hpp>

#include <string>

namespace strata::testing {

/// The message of the strata::Error that `f` throws (fails the test when none is thrown).
template <typename F> std::string error_message(F &&f) {
    try {
        f();
    } catch (const strata::Error &e) {
        return e.what();
    }
    FAIL("expected a strata::Error");
    return "";
}

}  // namespace strata::testing
