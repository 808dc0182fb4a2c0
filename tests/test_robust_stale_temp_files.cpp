// A writer killed mid-save (kill -9, power loss) leaves its temporary file NAME.tmp<pid>.<n>.
// The next AtomicFileWriter of NAME removes those whose process no longer exists, and never
// one a live process (or a writer of this process) is still writing. Dead and live pids are
// made here with fork, so which files must go is known before the writer runs.
#include "runtime/atomic_file.h"

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

#include <cerrno>
#include <csignal>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

using namespace strata;
using strata::testing::TempDir;

namespace {

/// The pid of a child that has exited and been reaped: no process has it (until pids wrap).
pid_t dead_pid() {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) ::_exit(0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    errno = 0;
    REQUIRE(::kill(pid, 0) == -1);
    REQUIRE(errno == ESRCH);
    return pid;
}

/// A child that waits until killed: a live writer's process.
struct LiveChild {
    pid_t pid = ::fork();
    LiveChild() {
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::pause();
            ::_exit(0);
        }
    }
    ~LiveChild() {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
};

std::string temp_name(const std::string &destination, pid_t pid, int n) {
    return destination + ".tmp" + std::to_string(pid) + "." + std::to_string(n);
}

}  // namespace

TEST_CASE("A new writer removes the temporary files of dead writers and keeps live processes' files",
          "[robust][atomic_file]") {
    TempDir dir;
    const pid_t dead = dead_pid();
    LiveChild live;
    const std::string dead_0 = temp_name("model.bin", dead, 0), dead_17 = temp_name("model.bin", dead, 17),
                      live_3 = temp_name("model.bin", live.pid, 3);
    // Not temp files of model.bin: another destination's, and names that only look alike.
    const std::set<std::string> unrelated = {temp_name("other.bin", dead, 0),
                                             temp_name("model.bin.old", dead, 0),
                                             "model.bin.tmp" + std::to_string(dead),
                                             "model.bin.tmp" + std::to_string(dead) + ".x",
                                             "model.bin.tmp." + std::to_string(dead),
                                             "model.bin.bak",
                                             "model.bin"};
    for (const std::string &name : unrelated) dir.write(name, "keep");
    for (const std::string &name : {dead_0, dead_17, live_3}) dir.write(name, "half a save");

    AtomicFileWriter writer(dir / "model.bin");
    // While the writer is open: the dead writer's two files are gone, its own temp file is there.
    std::set<std::string> expected = unrelated;
    expected.insert(live_3);
    expected.insert(writer.temp_path().substr(writer.temp_path().find_last_of('/') + 1));
    CHECK(dir.files() == expected);

    writer.write("new", 3);
    const std::string own_temp = writer.temp_path().substr(writer.temp_path().find_last_of('/') + 1);
    writer.commit();
    expected.erase(own_temp);
    CHECK(dir.files() == expected);
    std::ifstream in(dir / "model.bin");
    CHECK(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()) == "new");
}

TEST_CASE("A temporary file with this process's pid is removed only when none of its writers has it open",
          "[robust][atomic_file]") {
    // Left by an earlier process that had this pid (a restarted container's main process often does).
    TempDir dir;
    const std::string path = dir / "ck.safetensors";
    const std::string earlier = temp_name("ck.safetensors", ::getpid(), 999999);
    dir.write(earlier, "half a save");

    AtomicFileWriter first(path);
    const std::string first_temp = first.temp_path().substr(first.temp_path().find_last_of('/') + 1);
    CHECK(dir.files() == std::set<std::string>{first_temp});  // the earlier process's file is gone

    first.write("first", 5);
    AtomicFileWriter second(path);  // must not take the first writer's file
    const std::string second_temp = second.temp_path().substr(second.temp_path().find_last_of('/') + 1);
    CHECK(dir.files() == std::set<std::string>{first_temp, second_temp});
    first.commit();
    CHECK(dir.files() == std::set<std::string>{"ck.safetensors", second_temp});
    CHECK(first.bytes_written() == 5);
}

TEST_CASE("Stale temporary files of a folder that cannot be listed are left alone without an error",
          "[robust][atomic_file]") {
    TempDir dir;
    // No such folder: the writer's own error (naming the file) is the one reported, not the cleanup's.
    CHECK_NOTHROW(remove_stale_temp_files(dir / "missing/model.bin"));
    CHECK_THROWS_WITH(AtomicFileWriter(dir / "missing/model.bin"), Catch::Matchers::Contains("model.bin") &&
                                                                      Catch::Matchers::Contains("cannot create"));
    CHECK_NOTHROW(remove_stale_temp_files(dir.path.string() + "/"));
    CHECK(dir.files().empty());
}
