#pragma once
// A forked child process whose text report comes back through a pipe: for tests where a crash,
// a full disk or a kill -9 must not take the test runner with it.

#include <catch2/catch.hpp>

#include <exception>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace strata::testing {

struct Child {
    pid_t pid = -1;
    int from_child = -1;

    /// Runs `body(write_fd)` in a child process that then exits with status 0 (3 on an exception,
    /// whose message it sends).
    template <typename Body> static Child start(Body body) {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        Child c;
        c.pid = ::fork();
        REQUIRE(c.pid >= 0);
        if (c.pid == 0) {
            ::close(fds[0]);
            try {
                body(fds[1]);
            } catch (const std::exception &e) {
                send(fds[1], std::string("unexpected exception: ") + e.what() + "\n");
                ::_exit(3);
            }
            ::_exit(0);
        }
        ::close(fds[1]);
        c.from_child = fds[0];
        return c;
    }
    static void send(int fd, const std::string &text) {
        for (size_t done = 0; done < text.size();) {
            const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
            if (n <= 0) return;
            done += static_cast<size_t>(n);
        }
    }
    /// Everything the child wrote, once it has exited; its wait status in `status`.
    std::string finish(int *status) {
        std::string text;
        char buffer[4096];
        for (ssize_t n; (n = ::read(from_child, buffer, sizeof buffer)) > 0;) text.append(buffer, n);
        ::close(from_child);
        ::waitpid(pid, status, 0);
        return text;
    }
};

}  // namespace strata::testing
