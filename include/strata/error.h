#pragma once
/// \file
/// The one error type users see, and the internal-invariant assert.
///
/// A user mistake (bad shape, bad attribute, corrupt file) throws
/// `strata::Error` with a message that names the op or file, the values
/// involved and what was expected. A broken internal invariant is a bug in
/// Strata and goes through `STRATA_ASSERT`, which says so.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>

namespace strata {

/// Thrown for every user-facing mistake.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string &message) : std::runtime_error(message) {}
};

/// Throws `strata::Error` with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args &&...args) {
    throw Error(fmt::format(format, std::forward<Args>(args)...));
}

namespace detail {
[[noreturn]] inline void assert_failed(const char *condition, const char *file, int line,
                                       const std::string &message) {
    throw std::logic_error(fmt::format("internal error (a Strata bug) at {}:{}: {} {}", file,
                                       line, condition, message));
}
}  // namespace detail

}  // namespace strata

/// Checks an internal invariant; a failure is a Strata bug, not a user error.
#define STRATA_ASSERT(cond, ...)                                                          \
    do {                                                                                  \
        if (!(cond)) ::strata::detail::assert_failed(#cond, __FILE__, __LINE__,          \
                                                     ::fmt::format("" __VA_ARGS__));      \
    } while (0)
