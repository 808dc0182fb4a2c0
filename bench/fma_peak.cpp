// Each kernel keeps 12 independent accumulator chains: enough to cover the
// FMA latency (4 cycles) on two FMA pipes, few enough to stay in the 16
// vector registers of AVX2. The chains converge (x -> 0.999x + 1e-4), so
// nothing overflows, and the result is returned so nothing is optimised away.

#include "bench/fma_peak.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace strata::bench {
namespace {

constexpr int kChains = 12;

#if defined(__x86_64__)
__attribute__((target("avx512f"))) float fma_chains_avx512(int64_t iterations) {
    __m512 acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(0.01f * static_cast<float>(c));
    const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-4f);
    for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
        for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
    }
    alignas(64) float lanes[16];
    __m512 total = acc[0];
    for (int c = 1; c < kChains; ++c) total = _mm512_add_ps(total, acc[c]);
    _mm512_store_ps(lanes, total);
    float sum = 0;
    for (float v : lanes) sum += v;
    return sum;
}

__attribute__((target("avx2,fma"))) float fma_chains_avx2(int64_t iterations) {
    __m256 acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(0.01f * static_cast<float>(c));
    const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-4f);
    for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
        for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
    }
    alignas(32) float lanes[8];
    __m256 total = acc[0];
    for (int c = 1; c < kChains; ++c) total = _mm256_add_ps(total, acc[c]);
    _mm256_store_ps(lanes, total);
    float sum = 0;
    for (float v : lanes) sum += v;
    return sum;
}

__attribute__((target("fma"))) float fma_chains_fma128(int64_t iterations) {
    __m128 acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = _mm_set1_ps(0.01f * static_cast<float>(c));
    const __m128 a = _mm_set1_ps(0.999f), b = _mm_set1_ps(1e-4f);
    for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
        for (int c = 0; c < kChains; ++c) acc[c] = _mm_fmadd_ps(acc[c], a, b);
    }
    alignas(16) float lanes[4];
    __m128 total = acc[0];
    for (int c = 1; c < kChains; ++c) total = _mm_add_ps(total, acc[c]);
    _mm_store_ps(lanes, total);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}
#endif

// Any CPU: 4-lane GCC vectors, a multiply and an add (2 FLOPs, like one FMA).
float fma_chains_generic(int64_t iterations) {
    typedef float v4 __attribute__((vector_size(16)));
    v4 acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = v4{} + 0.01f * static_cast<float>(c);
    const v4 a = v4{} + 0.999f, b = v4{} + 1e-4f;
    for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
        for (int c = 0; c < kChains; ++c) acc[c] = acc[c] * a + b;
    }
    v4 total = acc[0];
    for (int c = 1; c < kChains; ++c) total += acc[c];
    return total[0] + total[1] + total[2] + total[3];
}

struct Kernel {
    const char *isa;
    int lanes;
    float (*run)(int64_t);
};

Kernel widest_kernel() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return {"avx512f", 16, fma_chains_avx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {"avx2+fma", 8, fma_chains_avx2};
    if (__builtin_cpu_supports("fma")) return {"fma", 4, fma_chains_fma128};
#endif
    return {"generic", 4, fma_chains_generic};
}

std::atomic<float> sink{0};  // keeps the kernels' results alive

/// Seconds for `threads` threads each running `iterations`, started together.
double run_together(const Kernel &kernel, int threads, int64_t iterations) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            ready.fetch_add(1);
            while (!go.load()) std::this_thread::yield();
            sink.store(sink.load(std::memory_order_relaxed) + kernel.run(iterations), std::memory_order_relaxed);
        });
    while (ready.load() < threads) std::this_thread::yield();
    const auto start = std::chrono::steady_clock::now();
    go.store(true);
    for (std::thread &t : pool) t.join();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double best_gflops(const Kernel &kernel, int threads, int64_t iterations) {
    double best = 0;
    for (int trial = 0; trial < 20; ++trial) {
        const double seconds = run_together(kernel, threads, iterations);
        const double flops = 2.0 * kChains * kernel.lanes * static_cast<double>(iterations) * threads;
        best = std::max(best, flops / seconds * 1e-9);
    }
    return best;
}

}  // namespace

FmaPeak measure_fma_peak(int threads) {
    const Kernel kernel = widest_kernel();
    // Calibrate: about 20 ms per trial on one thread; short trials catch the quiet moments of a shared machine.
    int64_t iterations = 1 << 16;
    for (;;) {
        const double seconds = run_together(kernel, 1, iterations);
        if (seconds > 0.02 || iterations > (int64_t(1) << 34)) {
            iterations = static_cast<int64_t>(static_cast<double>(iterations) * 0.02 / std::max(seconds, 1e-6));
            break;
        }
        iterations *= 4;
    }
    FmaPeak peak;
    peak.isa = kernel.isa;
    peak.lanes = kernel.lanes;
    peak.threads = threads;
    peak.gflops_one_thread = best_gflops(kernel, 1, iterations);
    peak.gflops_all_threads = threads == 1 ? peak.gflops_one_thread : best_gflops(kernel, threads, iterations);
    return peak;
}

}  // namespace strata::bench
