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

/// The ziggurat of the standard normal density f(x) = exp(-x^2/2): 128 layers of equal area
/// kArea. Layer i (1..127) spans heights f(edge[i]) .. f(edge[i+1]) and x in [0, edge[i]];
/// layer 0 is the base strip of width edge[0] = kArea / f(kTail) together with the tail
/// beyond kTail = edge[1]. edge[128] = 0 (the top).
constexpr int kLayers = 128;
constexpr double kTail = 3.442619855899;
constexpr double kArea = 9.91256303526217e-3;

struct Ziggurat {
    double edge[kLayers + 1];
    double height[kLayers + 1];  ///< f(edge[i])
};

double density(double x) { return std::exp(-0.5 * x * x); }

const Ziggurat &ziggurat() {
    static const Ziggurat z = [] {
        Ziggurat t{};
        t.edge[0] = kArea / density(kTail);
        t.edge[1] = kTail;
        for (int i = 1; i < kLayers - 1; ++i) t.edge[i + 1] = std::sqrt(-2.0 * std::log(kArea / t.edge[i] + density(t.edge[i])));
        t.edge[kLayers] = 0.0;
        for (int i = 0; i <= kLayers; ++i) t.height[i] = density(t.edge[i]);
        return t;
    }();
    return z;
}
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

double Generator::fast_normal() {
    const Ziggurat &z = ziggurat();
    for (;;) {
        // One draw gives the layer (bits 0-6), the sign (bit 7) and the position (bits 11-63).
        const uint64_t bits = next_u64();
        const int layer = static_cast<int>(bits & (kLayers - 1));
        const double sign = (bits >> 7) & 1 ? -1.0 : 1.0;
        const double x = static_cast<double>(bits >> 11) * 0x1.0p-53 * z.edge[layer];
        if (x < z.edge[layer + 1]) return sign * x;  // inside the part of the layer under the curve
        if (layer == 0) {
            // The tail beyond kTail (Marsaglia 1964): exponential proposals, accepted under the density.
            double a, b;
            do {
                a = -std::log(1.0 - uniform()) / kTail;
                b = -std::log(1.0 - uniform());
            } while (b + b < a * a);
            return sign * (kTail + a);
        }
        // The wedge between the layer's rectangle and the curve.
        const double y = z.height[layer] + uniform() * (z.height[layer + 1] - z.height[layer]);
        if (y < density(x)) return sign * x;
    }
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
