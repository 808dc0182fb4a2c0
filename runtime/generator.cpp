#include "runtime/generator.h"

#include <strata/error.h>

#include <cmath>

namespace strata {

namespace {
uint64_t splitmix64(uint64_t &x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

void Generator::manual_seed(uint64_t seed) {
    uint64_t x = seed;
    for (auto &w : state_.words) w = splitmix64(x);
    state_.has_spare = false;
    state_.spare = 0.0;
}

uint64_t Generator::next_u64() {
    auto &s = state_.words;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double Generator::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Generator::normal() {
    if (state_.has_spare) {
        state_.has_spare = false;
        return state_.spare;
    }
    // Box-Muller; 1 - uniform() lies in (0, 1], so the log is finite.
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    // pi spelled out: M_PI is POSIX, not standard C++.
    const double angle = 2.0 * 3.14159265358979323846 * u2;
    state_.spare = radius * std::sin(angle);
    state_.has_spare = true;
    return radius * std::cos(angle);
}

uint64_t Generator::below(uint64_t n) {
    if (n == 0) fail("Generator::below: n must be positive, got 0");
    // Rejection sampling keeps the result unbiased.
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = next_u64();
    while (x >= limit);
    return x % n;
}

}  // namespace strata
