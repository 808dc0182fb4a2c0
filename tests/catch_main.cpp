// The one Catch2 main shared by every test executable. It exits with kSkipExitCode when every
// test case it ran skipped (tests/support/skip.h), so ctest counts those as skipped.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "tests/support/skip.h"

namespace {

int test_cases_run = 0;

/// Counts the test cases that start.
struct TestCaseCounter : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    void testCaseStarting(Catch::TestCaseInfo const &info) override {
        ++test_cases_run;
        TestEventListenerBase::testCaseStarting(info);
    }
};

}  // namespace

CATCH_REGISTER_LISTENER(TestCaseCounter)

int main(int argc, char *argv[]) {
    const int failures = Catch::Session().run(argc, argv);
    if (failures == 0 && test_cases_run > 0 && strata::testing::skipped_test_cases == test_cases_run)
        return strata::testing::kSkipExitCode;
    return failures;
}
