#pragma once
// The arrival of a seismic phase in the example's synthetic data: a decaying sinusoid that
// ramps up over half a period (shared by the MiniSEED archive and the STEAD-like HDF5 file).

#include <algorithm>
#include <cmath>

namespace picking {

/// The phase starting at `onset` (s) with `frequency` (Hz) and decay time `decay` (s), at time `t`.
inline double wavelet(double t, double onset, double frequency, double decay) {
    if (t < onset) return 0.0;
    const double dt = t - onset;
    return std::exp(-dt / decay) * std::sin(2 * M_PI * frequency * dt) * std::min(1.0, dt * frequency * 2);
}

}  // namespace picking
