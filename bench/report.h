#pragma once
/// \file
/// The suite's results as a table (stdout) and as JSON.

#include "bench/suite.h"

#include <nlohmann/json.hpp>

#include <string>

namespace strata::bench {

/// The table, with a header saying how every column is computed.
std::string format_table(const SuiteResult &result, const SuiteOptions &options);

nlohmann::json to_json(const SuiteResult &result, const SuiteOptions &options);

}  // namespace strata::bench
