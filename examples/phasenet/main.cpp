// A PhaseNet-style picker (Zhu & Beroza 2019): a 1-D U-Net that labels every
// sample of a 3-component trace as noise, P or S. Trained on synthetic
// 30-second traces (100 Hz) with a P and an S arrival in noise, then judged by
// where the P and S probabilities peak against the true arrivals.
//
//   build/bin/phasenet [--steps 150] [--batch 16] [--lr 0.002] [--threads N]
//
// Uses TrainStep directly (per-sample targets [N, L]): the loop a user writes
// when Trainer's one-label-per-example data does not fit.

#include <strata/cli_version.h>
#include <strata/strata.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>

namespace {

constexpr int64_t kLength = 3001;
constexpr int64_t kHalfWidth = 20;  ///< samples either side of an arrival labelled as it (0.2 s)

struct Batch {
    strata::Tensor traces;  // [N, 3, L]
    strata::Tensor labels;  // [N, L] i32: 0 noise, 1 P, 2 S
    std::vector<int64_t> p, s;
};

/// Traces with a P arrival (mostly vertical) and a later, larger S arrival (mostly horizontal).
Batch synthetic_batch(int64_t n, std::mt19937 &rng) {
    Batch b;
    b.traces = strata::Tensor::empty({n, 3, kLength});
    b.labels = strata::Tensor::empty({n, kLength}, strata::DType::i32);
    std::normal_distribution<float> noise(0.0f, 0.15f);
    std::uniform_int_distribution<int64_t> p_at(300, 1800), gap(150, 900);
    std::uniform_real_distribution<double> freq(3.0, 8.0);
    float *x = b.traces.data<float>();
    int32_t *y = b.labels.data<int32_t>();
    for (int64_t i = 0; i < n; ++i) {
        const int64_t p = p_at(rng), s = std::min<int64_t>(p + gap(rng), kLength - 200);
        b.p.push_back(p);
        b.s.push_back(s);
        const double fp = freq(rng), fs = fp * 0.6;
        for (int64_t c = 0; c < 3; ++c)
            for (int64_t t = 0; t < kLength; ++t) {
                double v = noise(rng);
                const double gain_p = c == 0 ? 1.0 : 0.35, gain_s = c == 0 ? 0.5 : 1.6;
                if (t >= p) v += gain_p * std::exp(-(t - p) / 120.0) * std::sin(2 * M_PI * fp * (t - p) / 100.0);
                if (t >= s) v += gain_s * std::exp(-(t - s) / 200.0) * std::sin(2 * M_PI * fs * (t - s) / 100.0);
                x[(i * 3 + c) * kLength + t] = static_cast<float>(v);
            }
        for (int64_t t = 0; t < kLength; ++t)
            y[i * kLength + t] = std::abs(t - p) <= kHalfWidth ? 1 : std::abs(t - s) <= kHalfWidth ? 2 : 0;
    }
    return b;
}

}  // namespace

int main(int argc, char **argv) {
    CLI::App app{"A PhaseNet-style 1-D U-Net picking P and S arrivals on synthetic 3-component traces"};
    strata::cli::add_version_flag(app, "phasenet");
    int64_t steps = 150, batch = 16;
    double lr = 0.002;
    int threads = 0;
    app.add_option("--steps", steps)->check(CLI::Range(int64_t{1}, int64_t{1000000}));
    app.add_option("--batch", batch)->check(CLI::Range(int64_t{1}, int64_t{1024}));
    app.add_option("--lr", lr)->check(CLI::Range(1e-6, 1.0));
    app.add_option("--threads", threads)->check(CLI::Range(1, 1024));
    CLI11_PARSE(app, argc, argv);
    try {
        if (threads > 0) setenv("HL_NUM_THREADS", std::to_string(threads).c_str(), 1);
        strata::manual_seed(0);
        strata::models::PhaseNet net;
        strata::optim::Adam adam{strata::optim::AdamOptions(lr)};
        const auto loss = [](const strata::SymTensor &y, const strata::SymTensor &t) { return strata::cross_entropy(y, t); };
        strata::TrainStep step(*net, adam, {batch, 3, kLength}, {batch, kLength}, strata::DType::i32, loss);
        fmt::print("PhaseNet: {} parameters; training step compiled in {:.1f} s ({} kernels)\n", net->parameter_count(),
                   step.compiled().executable().compile_seconds(), step.compiled().executable().kernel_count());
        std::mt19937 rng(1);
        strata::ProgressBar bar("training", steps, batch);
        for (int64_t i = 0; i < steps; ++i) {
            const Batch b = synthetic_batch(batch, rng);
            bar.update(i + 1, {{"loss", step.step(b.traces, b.labels).loss}});
        }
        bar.finish();

        // Picks on fresh traces: where each phase's probability peaks.
        net->eval();
        strata::Graph g;
        g.output("probabilities", strata::softmax(net->forward(g.input("traces", {batch, 3, kLength})), 1));
        const auto picker = g.compile();
        const Batch test = synthetic_batch(batch, rng);
        const strata::Tensor prob = picker.run(test.traces);
        int64_t p_hits = 0, s_hits = 0;
        for (int64_t i = 0; i < batch; ++i) {
            int64_t best[3] = {0, 0, 0};
            for (int64_t c = 1; c < 3; ++c)
                for (int64_t t = 0; t < kLength; ++t)
                    if (prob.get_flat((i * 3 + c) * kLength + t) > prob.get_flat((i * 3 + c) * kLength + best[c])) best[c] = t;
            p_hits += std::abs(best[1] - test.p[static_cast<size_t>(i)]) <= kHalfWidth;
            s_hits += std::abs(best[2] - test.s[static_cast<size_t>(i)]) <= kHalfWidth;
        }
        fmt::print("picks within {} samples (0.2 s) of the true arrival: P {}/{}, S {}/{}\n", kHalfWidth, p_hits, batch,
                   s_hits, batch);
    } catch (const std::exception &e) {
        fmt::print(stderr, "phasenet: {}\n", e.what());
        return 1;
    }
}
