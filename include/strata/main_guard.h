#pragma once
/// \file
/// The one way a Strata program's `main` ends on an error: a message on stderr and a
/// non-zero exit status, whatever was thrown — never `std::terminate` and SIGABRT.
///
///     int main(int argc, char **argv) {
///         return strata::guarded_main("fashion_mnist", [&] { ...; return 0; });
///     }

#include <strata/error.h>

#include <fmt/core.h>

#include <exception>
#include <filesystem>
#include <new>
#include <system_error>

namespace strata {

/// Exit status of a program stopped by a user error (bad input, a file that cannot be used).
inline constexpr int kExitError = 1;
/// Exit status of a program stopped by anything else: out of memory, a Strata bug.
inline constexpr int kExitInternalError = 2;

/// Runs `body` (which returns the exit status) and turns every exception that escapes it into
/// "PROGRAM: error: ..." on stderr and a non-zero exit status.
template <typename Body> int guarded_main(const char *program, Body &&body) noexcept {
    try {
        try {
            return body();
        } catch (const Error &e) {
            fmt::print(stderr, "{}: error: {}\n", program, e.what());
            return kExitError;
        } catch (const std::bad_alloc &) {
            fmt::print(stderr, "{}: error: out of memory (a size in the input may be larger than this machine can "
                               "hold)\n",
                       program);
            return kExitInternalError;
        } catch (const std::filesystem::filesystem_error &e) {
            // e.what() names the operation and the paths ("filesystem error: cannot create directories: ...").
            fmt::print(stderr, "{}: error: {}\n", program, e.what());
            return kExitError;
        } catch (const std::system_error &e) {
            fmt::print(stderr, "{}: error: {}\n", program, e.what());
            return kExitError;
        } catch (const std::exception &e) {
            fmt::print(stderr, "{}: error: {}\n", program, e.what());
            return kExitInternalError;
        } catch (...) {
            fmt::print(stderr, "{}: internal error (please report it): an unknown exception\n", program);
            return kExitInternalError;
        }
    } catch (...) {
        return kExitInternalError;  // printing the message failed (stderr closed)
    }
}

}  // namespace strata
