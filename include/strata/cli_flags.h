#pragma once
/// \file
/// CLI11 validators for the flags of Strata's programs, with messages in the flag's own terms
/// ("--batch: 0 is not a batch size: expected a whole number >= 1"), checked while the command
/// line is parsed — before any data is read or code compiled. Needs CLI11 (Debian's libcli11-dev).
///
///     app.add_option("--batch", batch, "Examples per batch")->check(strata::cli::whole_number(1, "a batch size"));

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>

namespace strata::cli {

/// The most worker threads a flag accepts (far above any machine's cores; more only costs memory).
inline constexpr int64_t kMaxThreads = 1024;

/// A whole number in [low, high]; `what` names it in the message ("a batch size").
inline CLI::Validator whole_number(int64_t low, const std::string &what,
                                   int64_t high = std::numeric_limits<int64_t>::max()) {
    const std::string range = high == std::numeric_limits<int64_t>::max()
                                  ? fmt::format(">= {}", low)
                                  : fmt::format("from {} to {}", low, high);
    return CLI::Validator(
        [=](std::string &text) -> std::string {
            int64_t value = 0;
            const char *end = text.data() + text.size();
            const auto r = std::from_chars(text.data() + (text.size() > 1 && text[0] == '+'), end, value);
            if (r.ec == std::errc::result_out_of_range)
                return fmt::format("{} is out of range for {}: expected a whole number {}", text, what, range);
            if (r.ec != std::errc() || r.ptr != end)
                return fmt::format("'{}' is not {}: expected a whole number {}", text, what, range);
            if (value < low || value > high)
                return fmt::format("{} is not {}: expected a whole number {}", text, what, range);
            return "";
        },
        "INT " + range);
}

/// A finite number > 0 (`strictly`) or >= 0; `what` names it ("the learning rate").
inline CLI::Validator finite_number(bool strictly_positive, const std::string &what) {
    const std::string range = strictly_positive ? "> 0" : ">= 0";
    return CLI::Validator(
        [=](std::string &text) -> std::string {
            double value = 0;
            const char *end = text.data() + text.size();
            const auto r = std::from_chars(text.data() + (text.size() > 1 && text[0] == '+'), end, value);
            if (r.ec != std::errc() || r.ptr != end || !std::isfinite(value))
                return fmt::format("'{}' is not {}: expected a finite number {}", text, what, range);
            if (strictly_positive ? !(value > 0) : !(value >= 0))
                return fmt::format("{} is not {}: expected a finite number {}", text, what, range);
            return "";
        },
        "NUMBER " + range);
}

/// A number in [low, high]; unlike CLI::Range it refuses NaN (which compares false with both
/// bounds, so CLI::Range lets it through); `what` names it ("a probability").
inline CLI::Validator number_in(double low, double high, const std::string &what) {
    const std::string range = fmt::format("from {} to {}", low, high);
    return CLI::Validator(
        [=](std::string &text) -> std::string {
            double value = 0;
            const char *end = text.data() + text.size();
            const auto r = std::from_chars(text.data() + (text.size() > 1 && text[0] == '+'), end, value);
            if (r.ec != std::errc() || r.ptr != end || !(value >= low && value <= high))
                return fmt::format("'{}' is not {}: expected a number {}", text, what, range);
            return "";
        },
        "NUMBER " + range);
}

/// A count of worker threads: 1 to kMaxThreads, or also 0 ("all cores") when `zero_is_default`.
inline CLI::Validator thread_count(bool zero_is_default) {
    return whole_number(zero_is_default ? 0 : 1, zero_is_default ? "a thread count (0: all cores)" : "a thread count",
                        kMaxThreads);
}

}  // namespace strata::cli
