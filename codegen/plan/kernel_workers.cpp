#include "codegen/plan/kernel_workers.h"

#include "codegen/disk_cache.h"
#include "codegen/lower/context.h"
#include "codegen/target.h"
#include "ir/parser.h"
#include "ir/printer.h"

#include <strata/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace strata::codegen {

namespace fs = std::filesystem;

namespace {

constexpr const char *kJobsMagic = "strata-kernel-jobs 1";

/// The worker program: $STRATA_KERNEL_COMPILER, else the one built beside
/// Strata or installed with it.
std::string worker_program() {
    if (const char *env = std::getenv("STRATA_KERNEL_COMPILER"); env && *env) return access(env, X_OK) == 0 ? env : "";
    for (const char *path : {STRATA_KERNEL_COMPILER_BUILD_PATH, STRATA_KERNEL_COMPILER_INSTALL_PATH})
        if (access(path, X_OK) == 0) return path;
    return "";
}

int worker_count(size_t jobs) {
    int n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (const char *env = std::getenv("STRATA_COMPILE_JOBS")) {
        const int asked = std::atoi(env);
        if (asked > 0) n = std::min(asked, 256);
    }
    return std::min(n, static_cast<int>(jobs));
}

size_t count_done(const fs::path &dir, size_t kernels) {
    size_t done = 0;
    for (size_t i = 0; i < kernels; ++i)
        if (fs::exists(dir / fmt::format("done{}", i))) ++done;
    return done;
}

struct TempDir {
    fs::path path;
    ~TempDir() {
        std::error_code ignored;
        if (!path.empty()) fs::remove_all(path, ignored);
    }
};

}  // namespace

std::string write_kernel_jobs(const KernelJobs &jobs) {
    std::string text = fmt::format("{}\ntarget {}\nschedule {}\nthreads {}\nrules {}\n{}kernels {}\n", kJobsMagic,
                                   jobs.target, jobs.schedule, jobs.threads, jobs.rules.size(), jobs.rules,
                                   jobs.kernels.size());
    for (const std::string &k : jobs.kernels) text += fmt::format("kernel {}\n{}", k.size(), k);
    return text;
}

KernelJobs read_kernel_jobs(const std::string &text) {
    std::istringstream in(text);
    KernelJobs jobs;
    std::string line, word;
    auto expect = [&](const char *what) {
        if (!(in >> word) || word != what) fail("kernel job file: expected '{}'", what);
    };
    auto block = [&]() {
        size_t size = 0;
        if (!(in >> size) || in.get() != '\n' || size > text.size()) fail("kernel job file: bad block size");
        std::string bytes(size, '\0');
        in.read(bytes.data(), static_cast<std::streamsize>(size));
        if (static_cast<size_t>(in.gcount()) != size) fail("kernel job file: truncated");
        return bytes;
    };
    if (!std::getline(in, line) || line != kJobsMagic) fail("kernel job file: not a job file");
    expect("target");
    in >> jobs.target;
    expect("schedule");
    in >> jobs.schedule;
    expect("threads");
    in >> jobs.threads;
    expect("rules");
    jobs.rules = block();
    expect("kernels");
    size_t count = 0;
    in >> count;
    for (size_t i = 0; i < count; ++i) {
        expect("kernel");
        jobs.kernels.push_back(block());
    }
    return jobs;
}

bool compile_in_workers(const std::vector<const ir::Program *> &kernels, const CompileOptions &options,
                        const std::function<void(size_t)> &progress) {
    const std::string program = worker_program();
    if (program.empty() || !compile_cache_dir() || kernels.empty()) return false;
    if (options.schedule != "default" && options.schedule != "simple") return false;  // a file the workers would reread

    KernelJobs jobs;
    jobs.target = resolve_target_or_default(options.target);
    jobs.schedule = options.schedule;
    jobs.rules = options.rules.to_text();
    jobs.threads = thread_count();
    // Largest first, so the last kernels to finish are small ones.
    std::vector<const ir::Program *> order = kernels;
    std::stable_sort(order.begin(), order.end(),
                     [](const ir::Program *a, const ir::Program *b) { return a->nodes().size() > b->nodes().size(); });
    for (const ir::Program *k : order) jobs.kernels.push_back(ir::print(*k));

    TempDir dir;
    char pattern[] = "/tmp/strata-kernels-XXXXXX";
    if (const char *made = mkdtemp(pattern)) dir.path = made;
    else return false;
    {
        std::ofstream out(dir.path / "jobs", std::ios::binary);
        out << write_kernel_jobs(jobs);
        if (!out) return false;
    }

    std::vector<pid_t> workers;
    const std::string dir_arg = dir.path.string();
    for (int w = 0; w < worker_count(jobs.kernels.size()); ++w) {
        std::vector<char *> argv = {const_cast<char *>(program.c_str()), const_cast<char *>(dir_arg.c_str()), nullptr};
        pid_t pid = 0;
        if (posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), environ) == 0) workers.push_back(pid);
    }
    if (workers.empty()) return false;
    size_t reported = 0;
    while (!workers.empty()) {
        for (auto it = workers.begin(); it != workers.end();) {
            int status = 0;
            const pid_t r = waitpid(*it, &status, WNOHANG);
            if (r == *it || (r < 0 && errno != EINTR)) it = workers.erase(it);
            else ++it;
        }
        const size_t done = count_done(dir.path, jobs.kernels.size());
        if (done != reported) progress(reported = done);
        if (!workers.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

int run_kernel_worker(const std::string &dir_arg) {
    const fs::path dir(dir_arg);
    std::ifstream in(dir / "jobs", std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const KernelJobs jobs = read_kernel_jobs(text.str());
    setenv("HL_NUM_THREADS", std::to_string(jobs.threads).c_str(), 1);
    CompileOptions options;
    options.target = jobs.target;
    options.schedule = jobs.schedule;
    options.rules = parse_schedule(jobs.rules, "<kernel jobs>");
    options.optimize = false;
    options.partition = Partition::whole_program;
    int status = 0;
    for (size_t i = 0; i < jobs.kernels.size(); ++i) {
        const fs::path claim = dir / fmt::format("claim{}", i);
        const int fd = open(claim.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
        if (fd < 0) continue;  // another worker has it
        close(fd);
        try {
            compile(ir::parse(jobs.kernels[i], "<kernel>"), options);
        } catch (const std::exception &e) {
            // The calling process compiles this kernel again and reports the error itself.
            status = 1;
        }
        std::ofstream(dir / fmt::format("done{}", i)) << "";
    }
    return status;
}

}  // namespace strata::codegen
