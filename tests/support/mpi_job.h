#pragma once
// Runs tests/distributed_driver under `mpirun -np N` for the distributed tests, or marks the
// test case skipped when this build or machine cannot (no MPI, no mpirun).

#include "frontend/distributed/process_group.h"

#include <catch2/catch.hpp>

#include "tests/support/skip.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace strata::testing {

/// mpirun's path, or "" (the test case is then marked skipped; it returns) when these tests cannot run here.
inline std::string mpirun_or_skip() {
    if (!distributed::mpi_available()) {
        WARN("SKIPPED: Strata was built without MPI (install libopenmpi-dev and openmpi-bin, then configure again)");
        note_skipped();
        return "";
    }
    std::stringstream path(std::getenv("PATH") ? std::getenv("PATH") : "");
    for (std::string dir; std::getline(path, dir, ':');)
        if (!dir.empty() && std::filesystem::exists(dir + "/mpirun")) return dir + "/mpirun";
    WARN("SKIPPED: mpirun is not on PATH (install Debian's openmpi-bin)");
    note_skipped();
    return "";
}

struct Job {
    int status = -1;
    std::string output;
    double seconds = 0;
};

/// Runs the driver on `ranks` processes (1 thread each); `timeout` guards the suite against a hang.
inline Job run_job(const std::string &mpirun, int ranks, const std::string &args) {
    const std::string driver = std::string(STRATA_BINARY_DIR) + "/tests/distributed_driver";
    const std::string command = fmt::format("HL_NUM_THREADS=1 timeout 300 {} -np {} --oversubscribe --allow-run-as-root "
                                            "{} {} 2>&1",
                                            mpirun, ranks, driver, args);
    Job job;
    const auto start = std::chrono::steady_clock::now();
    FILE *pipe = popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) job.output.append(buffer, n);
    const int raw = pclose(pipe);
    job.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    job.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    INFO(command << "\n" << job.output);
    return job;
}

/// "1.5,2,3" -> {1.5, 2, 3}.
inline std::vector<double> numbers(const std::string &joined) {
    std::vector<double> out;
    std::stringstream in(joined);
    for (std::string item; std::getline(in, item, ',');) out.push_back(std::stod(item));
    return out;
}

}  // namespace strata::testing
