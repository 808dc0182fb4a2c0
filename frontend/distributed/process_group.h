#pragma once
/// \file
/// The processes of an MPI job (`mpirun -np 4 prog`), as data-parallel
/// training sees them: a rank, a size and the few collectives it needs.
/// Only process_group.cpp includes <mpi.h>; without Open MPI at build time
/// every call here fails with a `strata::Error` saying so.
///
///     auto &group = strata::distributed::ProcessGroup::world();   // MPI_Init on first use
///     if (group.rank() == 0) fmt::print("{} ranks\n", group.size());
///     group.allreduce_sum(gradients);                            // in place, every rank
///
/// Every collective waits at most `timeout_seconds` for the other ranks: a
/// rank that died or hangs makes the others print an error and abort the
/// whole job (MPI_Abort) instead of waiting forever.

#include "runtime/tensor.h"

#include <cstdint>
#include <string>

namespace strata::distributed {

/// An error every rank of the job raised at the same point (agreed over MPI):
/// the job can end without aborting, and one rank reporting it is enough.
class JobError : public Error {
public:
    using Error::Error;
};

/// Whether this build of Strata has MPI (Open MPI was found at configure time).
bool mpi_available();

class ProcessGroup {
public:
    /// All processes of the job (MPI_COMM_WORLD). The first call initialises MPI
    /// (finalised at exit); fails when Strata was built without MPI.
    static ProcessGroup &world();

    int rank() const { return rank_; }
    int size() const { return size_; }
    /// Ranks on this machine (they share its cores).
    int local_size() const { return local_size_; }
    bool is_main() const { return rank_ == 0; }

    /// How long a collective waits for the other ranks before aborting the job (default 300 s:
    /// long enough for the slowest rank's first compile).
    void set_timeout(double seconds);
    double timeout() const { return timeout_seconds_; }

    /// Sums `t` element-wise over all ranks, in place (f32, f64 or i32; contiguous).
    void allreduce_sum(Tensor &t);
    void allreduce_sum(double *values, int64_t count);
    /// The smallest `value` over all ranks.
    int64_t allreduce_min(int64_t value);
    /// Copies rank `root`'s `t` into `t` on every rank (same dtype and shape everywhere).
    void broadcast(Tensor &t, int root = 0);
    void broadcast(std::string &text, int root = 0);
    /// Every rank calls this once the ranks have summed how many of them failed
    /// (`failed_ranks` > 0): each throws the same `JobError`, "`context`: rank R of N
    /// failed: <its message>", R being the lowest rank that failed. `error` is this
    /// rank's message, empty when it did not fail.
    [[noreturn]] void throw_agreed_failure(int64_t failed_ranks, const std::string &error, const std::string &context);
    /// Waits until every rank is here.
    void barrier();

    /// Prints `message` on stderr and ends every rank of the job (MPI_Abort).
    [[noreturn]] void abort(const std::string &message, int exit_code = 1);

private:
    ProcessGroup() = default;
    int rank_ = 0, size_ = 1, local_size_ = 1;
    double timeout_seconds_ = 300;
};

}  // namespace strata::distributed
