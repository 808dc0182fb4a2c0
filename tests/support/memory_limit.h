#pragma once
// Runs a piece of a test in a child process whose address space is capped, to check that a
// reader bounds its memory by the data (and turns running out of it into a strata::Error).

#include <strata/error.h>

#include <fstream>
#include <new>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace strata::testing {

#if defined(__SANITIZE_ADDRESS__)
#define STRATA_TESTING_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STRATA_TESTING_ASAN 1
#endif
#endif

/// Whether a cap on the address space tells anything about the code under test. Under
/// AddressSanitizer it does not: its allocator keeps freed blocks in quarantine, and its
/// operator new ends the process on out-of-memory instead of throwing std::bad_alloc.
#ifdef STRATA_TESTING_ASAN
inline constexpr bool memory_caps_are_meaningful = false;
#else
inline constexpr bool memory_caps_are_meaningful = true;
#endif

/// How the capped child ended.
enum class CappedOutcome { returned, strata_error, bad_alloc, other_exception, crashed };

/// The process's address space now, in bytes (from /proc/self/statm).
inline size_t address_space_bytes() {
    std::ifstream statm("/proc/self/statm");
    size_t pages = 0;
    statm >> pages;
    return pages * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

/// Runs `f` in a forked child allowed `extra_bytes` of address space beyond the parent's.
/// `message` receives the strata::Error's text, when that is how it ended.
template <typename F> CappedOutcome run_with_memory_cap(size_t extra_bytes, F &&f, std::string *message = nullptr) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return CappedOutcome::crashed;
    const size_t limit = address_space_bytes() + extra_bytes;
    const pid_t pid = fork();
    if (pid == 0) {
        close(pipe_fds[0]);
        const rlimit cap{limit, limit};
        setrlimit(RLIMIT_AS, &cap);
        int code = 0;
        try {
            f();
        } catch (const strata::Error &e) {
            const std::string text = e.what();
            (void)!write(pipe_fds[1], text.data(), text.size());
            code = 1;
        } catch (const std::bad_alloc &) {
            code = 2;
        } catch (...) {
            code = 3;
        }
        _exit(code);
    }
    close(pipe_fds[1]);
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<size_t>(n));
    close(pipe_fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (message) *message = text;
    if (!WIFEXITED(status)) return CappedOutcome::crashed;
    switch (WEXITSTATUS(status)) {
    case 0: return CappedOutcome::returned;
    case 1: return CappedOutcome::strata_error;
    case 2: return CappedOutcome::bad_alloc;
    default: return CappedOutcome::other_exception;
    }
}

}  // namespace strata::testing
