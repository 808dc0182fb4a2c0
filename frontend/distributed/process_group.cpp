#include "frontend/distributed/process_group.h"

#include <strata/error.h>

#ifdef STRATA_WITH_MPI
// The C API only: Open MPI's deprecated C++ bindings would need libmpi_cxx too.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <thread>
#include <unistd.h>
#endif

namespace strata::distributed {

#ifndef STRATA_WITH_MPI

bool mpi_available() { return false; }

namespace {
[[noreturn]] void no_mpi() {
    fail("distributed training: Strata was built without MPI (Open MPI was not found when it was configured); "
         "install libopenmpi-dev and openmpi-bin (`make deps`) and configure again");
}
}  // namespace

ProcessGroup &ProcessGroup::world() { no_mpi(); }
void ProcessGroup::set_timeout(double) { no_mpi(); }
void ProcessGroup::allreduce_sum(Tensor &) { no_mpi(); }
void ProcessGroup::allreduce_sum(double *, int64_t) { no_mpi(); }
int64_t ProcessGroup::allreduce_min(int64_t) { no_mpi(); }
void ProcessGroup::broadcast(Tensor &, int) { no_mpi(); }
void ProcessGroup::broadcast(std::string &, int) { no_mpi(); }
void ProcessGroup::barrier() { no_mpi(); }
void ProcessGroup::throw_agreed_failure(int64_t, const std::string &, const std::string &) { no_mpi(); }
void ProcessGroup::abort(const std::string &, int) { no_mpi(); }

#else

bool mpi_available() { return true; }

namespace {

std::string mpi_error_text(int code) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    return std::string(text, static_cast<size_t>(length));
}

void check(int code, int rank, const char *what) {
    if (code != MPI_SUCCESS) fail("MPI: {} failed on rank {}: {}", what, rank, mpi_error_text(code));
}

void finalize_at_exit() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
}

MPI_Datatype mpi_type(DType dtype, const char *what) {
    switch (dtype) {
    case DType::f32: return MPI_FLOAT;
    case DType::f64: return MPI_DOUBLE;
    case DType::i32: return MPI_INT32_T;
    case DType::i64: return MPI_INT64_T;
    default: fail("MPI {}: tensors of dtype {} are not supported (f32, f64, i32 or i64)", what, dtype_name(dtype));
    }
}

/// Ends the process when a collective has waited too long. Collectives stay
/// blocking (MPI's nonblocking ones took twice as long here); this thread
/// watches the clock instead. A rank that exits with a nonzero status makes
/// mpirun end every other rank of the job.
class Watchdog {
public:
    static Watchdog &instance() {
        static Watchdog *dog = new Watchdog();  // never destroyed: its thread runs until exit
        return *dog;
    }
    void arm(double seconds, std::string message) {
        std::lock_guard<std::mutex> lock(mutex_);
        deadline_ = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                            std::chrono::duration<double>(seconds));
        message_ = std::move(message);
        armed_ = true;
        wake_.notify_one();
    }
    void disarm() {
        std::lock_guard<std::mutex> lock(mutex_);
        armed_ = false;
    }

private:
    Watchdog() { std::thread([this] { watch(); }).detach(); }
    void watch() {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return armed_; });
            const auto deadline = deadline_;
            if (wake_.wait_until(lock, deadline, [&] { return !armed_ || deadline_ != deadline; })) continue;
            std::fprintf(stderr, "error: %s\n", message_.c_str());
            std::fflush(stderr);
            _exit(1);  // not exit(): MPI_Finalize would wait for the missing rank too
        }
    }
    std::mutex mutex_;
    std::condition_variable wake_;
    bool armed_ = false;
    std::chrono::steady_clock::time_point deadline_;
    std::string message_;
};

/// Arms the watchdog for the lifetime of one collective call.
class Deadline {
public:
    Deadline(const ProcessGroup &group, const char *what) {
        Watchdog::instance().arm(group.timeout(),
                                 fmt::format("rank {} of {}: no answer from the other ranks for {} s in MPI {} (a rank "
                                             "died, hangs or left the training loop early); ending the job",
                                             group.rank(), group.size(), group.timeout(), what));
    }
    ~Deadline() { Watchdog::instance().disarm(); }
    Deadline(const Deadline &) = delete;
    Deadline &operator=(const Deadline &) = delete;
};

}  // namespace

ProcessGroup &ProcessGroup::world() {
    static ProcessGroup *group = [] {
        int initialized = 0;
        MPI_Initialized(&initialized);
        if (!initialized) {
            int provided = 0;
            // Only the main thread calls MPI; Halide's worker threads never do.
            if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
                fail("MPI: MPI_Init failed (run the program under mpirun, or alone)");
            std::atexit(finalize_at_exit);
        }
        // Errors come back as codes (turned into strata::Error) instead of aborting the job silently.
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        auto *g = new ProcessGroup();
        MPI_Comm_rank(MPI_COMM_WORLD, &g->rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &g->size_);
        MPI_Comm local;
        check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local), g->rank_,
              "splitting the ranks by machine");
        MPI_Comm_size(local, &g->local_size_);
        MPI_Comm_free(&local);
        return g;
    }();
    return *group;
}

void ProcessGroup::set_timeout(double seconds) {
    if (!(seconds > 0)) fail("ProcessGroup::set_timeout: the timeout must be positive, got {} s", seconds);
    timeout_seconds_ = seconds;
}

void ProcessGroup::allreduce_sum(Tensor &t) {
    if (!t.is_contiguous()) fail("MPI allreduce: the tensor {} is not contiguous", shape_str(t.shape()));
    if (t.numel() > std::numeric_limits<int>::max())
        fail("MPI allreduce: {} elements is more than one call can take ({})", t.numel(),
             std::numeric_limits<int>::max());
    const MPI_Datatype type = mpi_type(t.dtype(), "allreduce");
    Deadline deadline(*this, "allreduce");
    check(MPI_Allreduce(MPI_IN_PLACE, t.raw_data(), static_cast<int>(t.numel()), type, MPI_SUM, MPI_COMM_WORLD), rank_,
          "allreduce");
}

void ProcessGroup::allreduce_sum(double *values, int64_t count) {
    Deadline deadline(*this, "allreduce");
    check(MPI_Allreduce(MPI_IN_PLACE, values, static_cast<int>(count), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD), rank_,
          "allreduce");
}

int64_t ProcessGroup::allreduce_min(int64_t value) {
    Deadline deadline(*this, "allreduce");
    check(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD), rank_, "allreduce");
    return value;
}

void ProcessGroup::broadcast(Tensor &t, int root) {
    if (!t.is_contiguous()) fail("MPI broadcast: the tensor {} is not contiguous", shape_str(t.shape()));
    if (t.nbytes() > static_cast<size_t>(std::numeric_limits<int>::max()))
        fail("MPI broadcast: {} bytes is more than one call can take", t.nbytes());
    Deadline deadline(*this, "broadcast");
    check(MPI_Bcast(t.raw_data(), static_cast<int>(t.nbytes()), MPI_BYTE, root, MPI_COMM_WORLD), rank_, "broadcast");
}

void ProcessGroup::broadcast(std::string &text, int root) {
    Deadline deadline(*this, "broadcast");
    int64_t length = static_cast<int64_t>(text.size());
    check(MPI_Bcast(&length, 1, MPI_INT64_T, root, MPI_COMM_WORLD), rank_, "broadcast");
    text.resize(static_cast<size_t>(length));
    check(MPI_Bcast(text.data(), static_cast<int>(length), MPI_CHAR, root, MPI_COMM_WORLD), rank_, "broadcast");
}

void ProcessGroup::throw_agreed_failure(int64_t failed_ranks, const std::string &error, const std::string &context) {
    const bool failed_here = !error.empty();
    const int64_t first = allreduce_min(failed_here ? rank_ : std::numeric_limits<int64_t>::max());
    std::string message = error;
    broadcast(message, static_cast<int>(first));
    throw JobError(fmt::format("{}: rank {} of {} failed{}: {}", context, first, size_,
                               failed_ranks > 1 ? fmt::format(" (and {} other ranks)", failed_ranks - 1) : "",
                               message));
}

void ProcessGroup::barrier() {
    Deadline deadline(*this, "barrier");
    check(MPI_Barrier(MPI_COMM_WORLD), rank_, "barrier");
}

void ProcessGroup::abort(const std::string &message, int exit_code) {
    std::fprintf(stderr, "error: %s\n", message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    _exit(exit_code);  // MPI_Abort does not return; this is for the compiler and for safety
}

#endif

}  // namespace strata::distributed
