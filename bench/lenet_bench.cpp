// LeNet-5 on Fashion-MNIST-shaped batches: Strata's compiled training step
// and inference, side by side with LibTorch when it was found at configure
// time (Debian's libtorch-dev, optional). Prints a table, or JSON with --json.
//
//   build/bin/lenet_bench [--threads 2] [--steps 200] [--json FILE]

#include <strata/strata.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#ifdef STRATA_BENCH_WITH_LIBTORCH
#include <torch/torch.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <vector>

namespace nn = strata::nn;

namespace {

/// Median and minimum seconds per call of `fn` over `reps` calls (after 3 warm-ups).
std::pair<double, double> time_calls(int reps, const std::function<void()> &fn) {
    for (int i = 0; i < 3; ++i) fn();
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        const auto start = std::chrono::steady_clock::now();
        fn();
        t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(t.begin(), t.end());
    return {t[t.size() / 2], t.front()};
}

struct Row {
    std::string workload, engine;
    double median_s, min_s, images_per_call;
};

nn::Sequential strata_lenet() {
    return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::ReLU(), nn::MaxPool2d(2),
                          nn::Conv2d(nn::Conv2dOptions(6, 16, 5)), nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(),
                          nn::Linear(400, 120), nn::ReLU(), nn::Linear(120, 84), nn::ReLU(), nn::Linear(84, 10));
}

void bench_strata(int steps, std::vector<Row> &rows) {
    strata::manual_seed(0);
    strata::Generator gen(1);
    const strata::Tensor images = strata::Tensor::randn({64, 1, 28, 28}, gen);
    strata::Tensor labels = strata::Tensor::empty({64}, strata::DType::i32);
    for (int i = 0; i < 64; ++i) labels.data<int32_t>()[i] = i % 10;
    nn::Sequential net = strata_lenet();
    strata::optim::SGD sgd(strata::optim::SGDOptions(0.05).momentum(0.9));
    strata::TrainStep step(*net, sgd, {64, 1, 28, 28}, {64}, strata::DType::i32,
                           [](const strata::SymTensor &y, const strata::SymTensor &t) { return strata::cross_entropy(y, t); });
    auto [tm, tn] = time_calls(steps, [&] { step.step(images, labels); });
    rows.push_back({"LeNet-5 training step, batch 64", "Strata", tm, tn, 64});
    for (int64_t batch : {64, 1}) {
        net->eval();
        strata::Graph g;
        g.output("logits", net->forward(g.input("x", {batch, 1, 28, 28})));
        const strata::CompiledGraph forward = g.compile();
        const strata::Tensor x = strata::Tensor::randn({batch, 1, 28, 28}, gen);
        auto [m, n] = time_calls(steps, [&] { forward.run(x); });
        rows.push_back({fmt::format("LeNet-5 inference, batch {}", batch), "Strata", m, n, static_cast<double>(batch)});
    }
}

#ifdef STRATA_BENCH_WITH_LIBTORCH
struct TorchLeNet : torch::nn::Module {
    torch::nn::Conv2d c1{torch::nn::Conv2dOptions(1, 6, 5).padding(2)}, c2{torch::nn::Conv2dOptions(6, 16, 5)};
    torch::nn::Linear f1{400, 120}, f2{120, 84}, f3{84, 10};
    TorchLeNet() {
        register_module("c1", c1);
        register_module("c2", c2);
        register_module("f1", f1);
        register_module("f2", f2);
        register_module("f3", f3);
    }
    torch::Tensor forward(torch::Tensor x) {
        x = torch::max_pool2d(torch::relu(c1(x)), 2);
        x = torch::max_pool2d(torch::relu(c2(x)), 2).flatten(1);
        return f3(torch::relu(f2(torch::relu(f1(x)))));
    }
};

void bench_libtorch(int steps, std::vector<Row> &rows) {
    torch::manual_seed(0);
    auto net = std::make_shared<TorchLeNet>();
    torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
    const torch::Tensor images = torch::randn({64, 1, 28, 28});
    const torch::Tensor labels = torch::arange(64) % 10;
    auto [tm, tn] = time_calls(steps, [&] {
        sgd.zero_grad();
        torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(images), labels);
        loss.backward();
        sgd.step();
    });
    rows.push_back({"LeNet-5 training step, batch 64", "LibTorch", tm, tn, 64});
    torch::NoGradGuard no_grad;
    net->eval();
    for (int64_t batch : {64, 1}) {
        const torch::Tensor x = torch::randn({batch, 1, 28, 28});
        auto [m, n] = time_calls(steps, [&] { net->forward(x); });
        rows.push_back({fmt::format("LeNet-5 inference, batch {}", batch), "LibTorch", m, n, static_cast<double>(batch)});
    }
}
#endif

}  // namespace

int main(int argc, char **argv) {
    int threads = 2, steps = 200;
    std::string json_path;
    CLI::App app{"LeNet-5 benchmark: Strata and (when built with it) LibTorch, side by side"};
    app.add_option("--threads", threads, "Threads for both engines")->check(CLI::PositiveNumber);
    app.add_option("--steps", steps, "Timed calls per workload")->check(CLI::PositiveNumber);
    app.add_option("--json", json_path, "Also write the results as JSON");
    CLI11_PARSE(app, argc, argv);
    setenv("HL_NUM_THREADS", std::to_string(threads).c_str(), 1);
    std::vector<Row> rows;
    bench_strata(steps, rows);
#ifdef STRATA_BENCH_WITH_LIBTORCH
    torch::set_num_threads(threads);
    bench_libtorch(steps, rows);
    const bool have_torch = true;
#else
    const bool have_torch = false;
#endif
    fmt::print("{:<34} {:<9} {:>10} {:>10} {:>12} {:>16}\n", "workload", "engine", "median ms", "min ms", "images/s",
               "Strata/LibTorch");
    nlohmann::json j = nlohmann::json::array();
    for (const Row &r : rows) {
        std::string ratio = have_torch ? "" : "not installed";
        if (have_torch && r.engine == "Strata")
            for (const Row &o : rows)
                if (o.workload == r.workload && o.engine == "LibTorch")
                    ratio = fmt::format("{:.2f}x", o.median_s / r.median_s);
        fmt::print("{:<34} {:<9} {:>10.3f} {:>10.3f} {:>12.0f} {:>16}\n", r.workload, r.engine, 1e3 * r.median_s,
                   1e3 * r.min_s, r.images_per_call / r.median_s, ratio);
        j.push_back({{"workload", r.workload}, {"engine", r.engine}, {"median_ms", 1e3 * r.median_s},
                     {"min_ms", 1e3 * r.min_s}, {"images_per_second", r.images_per_call / r.median_s}});
    }
    if (!json_path.empty()) strata::write_file_atomically(json_path, j.dump(2) + "\n");
    return 0;
}
