#pragma once
/// \file
/// A seeded random generator (xoshiro256**) whose stream is the same on every
/// platform and compiler, so seeded runs are reproducible bit for bit.

#include <array>
#include <cstdint>

namespace strata {

class Generator {
public:
    explicit Generator(uint64_t seed = 0) { manual_seed(seed); }

    /// Resets the stream as torch.manual_seed does.
    void manual_seed(uint64_t seed);
    /// The next 64 random bits.
    uint64_t next_u64();
    /// Uniform double in [0, 1) with 53 random bits.
    double uniform();
    /// Standard normal (Box-Muller; the spare value is cached in the state).
    double normal();
    /// Standard normal by the ziggurat method (Marsaglia & Tsang 2000): about 2x faster than
    /// `normal()`, for the per-sample draws of data transforms; a different stream from it.
    double fast_normal();
    /// Uniform integer in [0, n); throws `strata::Error` when n is 0.
    uint64_t below(uint64_t n);

    /// The full state, for checkpoints.
    struct State {
        std::array<uint64_t, 4> words;
        bool has_spare;
        double spare;
    };
    State state() const { return state_; }
    void set_state(const State &state) { state_ = state; }

private:
    State state_{};
};

}  // namespace strata
