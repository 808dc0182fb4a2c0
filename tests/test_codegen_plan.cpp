// A training step compiled as a plan of kernels: the memory plan, the
// partition, and the plan's numbers against one whole pipeline's on ResNet,
// PhaseNet and GPD shaped models (small sizes), with freed arena bytes poisoned.
#include "codegen/plan/kernel_profile.h"
#include "codegen/plan/memory_plan.h"
#include "codegen/plan/partition.h"
#include "frontend/models/models.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/train_step.h"
#include "ir/printer.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <unistd.h>

using namespace strata;

namespace {

/// Freed arena bytes become NaN while these tests run, so a buffer read after
/// another took its place shows up in the numbers.
struct PoisonFreedBuffers {
    PoisonFreedBuffers() { setenv("STRATA_PLAN_POISON", "1", 1); }
    ~PoisonFreedBuffers() { unsetenv("STRATA_PLAN_POISON"); }
};

Tensor class_targets(const Shape &shape, int64_t classes, uint32_t seed) {
    std::mt19937 rng(seed);
    Tensor t = Tensor::empty(shape, DType::i32);
    for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, static_cast<double>(rng() % static_cast<uint32_t>(classes)));
    return t;
}

struct StepRun {
    std::vector<double> losses;
    std::vector<Tensor> parameters;
    size_t kernels = 0;
};

/// Two training steps of a freshly initialised model under `partition`.
template <typename MakeModel, typename MakeOptimizer>
StepRun train_two_steps(MakeModel make_model, MakeOptimizer make_optimizer, const Shape &input_shape,
                        const Shape &target_shape, int64_t classes, codegen::Partition partition) {
    manual_seed(0);
    auto model = make_model();
    auto optimizer = make_optimizer();
    TrainStepOptions options;
    options.compile.partition = partition;
    TrainStep step(*model, *optimizer, input_shape, target_shape, DType::i32,
                   [](const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); }, options);
    Generator gen(7);
    StepRun run;
    run.kernels = step.compiled().executable().kernel_count();
    for (uint32_t i = 0; i < 2; ++i) {
        const Tensor x = Tensor::randn(input_shape, gen);
        run.losses.push_back(step.step(x, class_targets(target_shape, classes, i)).loss);
    }
    for (const Tensor &p : model->parameters()) run.parameters.push_back(p.clone());
    for (const Tensor &b : model->buffers()) run.parameters.push_back(b.clone());
    return run;
}

/// SGD, not Adam: Adam scales a gradient that is rounding noise (a conv bias
/// before batch norm has a zero gradient) up to a full step, so two correct
/// engines could disagree by a learning rate.
std::unique_ptr<optim::Optimizer> sgd_momentum() {
    return std::make_unique<optim::SGD>(optim::SGDOptions(0.05).momentum(0.9));
}

void check_same_training(const StepRun &plan, const StepRun &whole) {
    CHECK(plan.kernels > 1);
    CHECK(whole.kernels == 1);
    REQUIRE(plan.losses.size() == whole.losses.size());
    for (size_t i = 0; i < plan.losses.size(); ++i) CHECK(plan.losses[i] == Approx(whole.losses[i]).epsilon(1e-5));
    REQUIRE(plan.parameters.size() == whole.parameters.size());
    for (size_t p = 0; p < plan.parameters.size(); ++p) {
        const Tensor &a = plan.parameters[p], &b = whole.parameters[p];
        REQUIRE(a.shape() == b.shape());
        double worst = 0, scale = 1e-6;
        for (int64_t i = 0; i < a.numel(); ++i) {
            worst = std::max(worst, std::abs(a.get_flat(i) - b.get_flat(i)));
            scale = std::max(scale, std::abs(b.get_flat(i)));
        }
        INFO("parameter or buffer " << p << " " << shape_str(a.shape()));
        CHECK(std::isfinite(worst));
        CHECK(worst <= 1e-4 * scale);
    }
}

}  // namespace

TEST_CASE("memory plan: buffers live at the same step never share a byte, and the arena reuses freed ones") {
    std::mt19937 rng(3);
    for (int trial = 0; trial < 50; ++trial) {
        std::vector<codegen::BufferLifetime> buffers;
        for (int i = 0; i < 40; ++i) {
            const int first = static_cast<int>(rng() % 30);
            buffers.push_back({1 + rng() % 5000, first, first + static_cast<int>(rng() % 6)});
        }
        const codegen::MemoryPlan plan = codegen::plan_memory(buffers);
        REQUIRE(codegen::memory_plan_is_sound(buffers, plan));
    }
    // A chain where each buffer dies as the next is made: two slots suffice.
    std::vector<codegen::BufferLifetime> chain;
    for (int i = 0; i < 10; ++i) chain.push_back({1000, i, i + 1});
    const codegen::MemoryPlan plan = codegen::plan_memory(chain);
    CHECK(codegen::memory_plan_is_sound(chain, plan));
    CHECK(plan.arena_bytes <= 2 * 1024);
    // The checker itself catches an overlap.
    codegen::MemoryPlan broken = plan;
    broken.offsets[1] = broken.offsets[0];
    CHECK_FALSE(codegen::memory_plan_is_sound(chain, broken));
}

TEST_CASE("partition: kernels end where values are stored, and identical blocks print the same kernel") {
    Graph g;
    auto x = g.input("x", {2, 4, 8, 8});
    Generator gen(1);
    auto block = [&](const SymTensor &in, const std::string &name) {
        auto w = g.parameter(name, Tensor::randn({4, 4, 3, 3}, gen));
        ConvOptions same;
        same.padding = Ints{1, 1};
        return relu(conv2d(in, w, {}, same));
    };
    auto y = block(block(x, "w1"), "w2");
    g.output("y", y);
    g.output("total", sum(y));
    const ir::Program &program = g.program();
    const auto groups = codegen::partition_into_kernels(program);
    // conv+relu, conv+relu, sum: each conv's input is stored (convs reread it),
    // and y is read twice (an output, and the sum).
    REQUIRE(groups.size() == 3);
    const std::string first = ir::print(codegen::kernel_program(groups[0]));
    const std::string second = ir::print(codegen::kernel_program(groups[1]));
    CHECK(first == second);
    CHECK(first.find("in0") != std::string::npos);
    CHECK(first.find("w1") == std::string::npos);
    // Every value a kernel reads comes from an earlier kernel or a source.
    for (size_t i = 0; i < groups.size(); ++i)
        for (const ir::Node *in : groups[i].inputs) {
            const bool source = in->op == ir::Op::input || in->op == ir::Op::parameter;
            bool earlier = false;
            for (size_t j = 0; j < i; ++j)
                for (const ir::Node *out : groups[j].outputs) earlier |= out == in;
            CHECK((source || earlier));
        }
}

TEST_CASE("plan of kernels: a ResNet training step gives the whole pipeline's losses and weights") {
    PoisonFreedBuffers poison;
    // Two stages, one block each: a residual add, a strided block with its shortcut
    // conv and batch norm. (The single pipeline it is checked against takes minutes
    // to compile for all three stages.)
    auto model = [] { return models::ResNet(models::ResNetOptions{3, 4, 1, 5, 2}).ptr(); };
    const StepRun plan = train_two_steps(model, sgd_momentum, {4, 3, 8, 8}, {4}, 5, codegen::Partition::kernels);
    const StepRun whole = train_two_steps(model, sgd_momentum, {4, 3, 8, 8}, {4}, 5, codegen::Partition::whole_program);
    check_same_training(plan, whole);
}

TEST_CASE("plan of kernels: a PhaseNet-style U-Net step (conv_transpose, slice, concat) matches") {
    PoisonFreedBuffers poison;
    models::PhaseNetOptions o;
    o.channels = {4, 6};
    auto model = [&] { return models::PhaseNet(o).ptr(); };
    const StepRun plan = train_two_steps(model, sgd_momentum, {2, 3, 101}, {2, 101}, 3, codegen::Partition::kernels);
    const StepRun whole =
        train_two_steps(model, sgd_momentum, {2, 3, 101}, {2, 101}, 3, codegen::Partition::whole_program);
    check_same_training(plan, whole);
}

TEST_CASE("plan of kernels: a GPD-style picker step (pools, dense layers, batch norm) matches") {
    PoisonFreedBuffers poison;
    models::GPDOptions o;
    o.length = 32;
    o.channels = {4, 8};
    o.kernels = {5, 3};
    o.dense = {};
    auto model = [&] { return models::GPD(o).ptr(); };
    const StepRun plan = train_two_steps(model, sgd_momentum, {4, 3, 32}, {4}, 3, codegen::Partition::kernels);
    const StepRun whole = train_two_steps(model, sgd_momentum, {4, 3, 32}, {4}, 3, codegen::Partition::whole_program);
    check_same_training(plan, whole);
}

TEST_CASE("plan of kernels: without the worker program the kernels compile in process, and reload from the cache") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / fmt::format("strata-plan-cache-{}", ::getpid());
    fs::remove_all(dir);
    const char *previous = std::getenv("STRATA_CACHE_DIR");
    const std::string previous_dir = previous ? previous : "";
    setenv("STRATA_CACHE_DIR", dir.c_str(), 1);
    setenv("STRATA_KERNEL_COMPILER", "/nonexistent/strata-kernel-compiler", 1);
    codegen::forget_compiled_pipelines();
    Graph g;
    auto x = g.input("x", {2, 3, 16});
    Generator gen(2);
    auto w1 = g.parameter("w1", Tensor::randn({5, 3, 3}, gen));
    auto w2 = g.parameter("w2", Tensor::randn({4, 5, 3}, gen));
    g.output("y", conv1d(relu(conv1d(x, w1)), w2));
    codegen::CompileOptions options;
    options.partition = codegen::Partition::kernels;
    const Tensor input = Tensor::randn({2, 3, 16}, gen);
    auto first = g.compile(options);
    CHECK(first.executable().kernel_count() == 2);
    CHECK(first.executable().cache_status() == "miss");
    const Tensor a = first.run(input);
    codegen::forget_compiled_pipelines();
    unsetenv("STRATA_KERNEL_COMPILER");
    auto second = g.compile(options);
    CHECK(second.executable().cache_status() == "hit");
    const Tensor b = second.run(input);
    codegen::CompileOptions whole = options;
    whole.partition = codegen::Partition::whole_program;
    const Tensor c = g.compile(whole).run(input);
    for (int64_t i = 0; i < a.numel(); ++i) {
        CHECK(a.get_flat(i) == b.get_flat(i));
        CHECK(a.get_flat(i) == Approx(c.get_flat(i)).epsilon(1e-5).margin(1e-5));
    }
    if (previous_dir.empty()) unsetenv("STRATA_CACHE_DIR");
    else setenv("STRATA_CACHE_DIR", previous_dir.c_str(), 1);
    fs::remove_all(dir);
}

TEST_CASE("partition: an elementwise value read by one elementwise kernel of its shape becomes its extra output") {
    // SGD momentum's update: v' = 0.9 v + g, p' = p - 0.1 v'; both are outputs.
    Graph g;
    Generator gen(3);
    auto p = g.parameter("p", Tensor::randn({8}, gen));
    auto v = g.parameter("v", Tensor::randn({8}, gen));
    auto grad = g.input("g", {8});
    auto v2 = v * 0.9 + grad;
    g.output("v_new", v2);
    g.output("p_new", p - v2 * 0.1);
    g.output("norm", sum(v2 * v2));  // a reduction: its own kernel, reading v'
    const auto groups = codegen::partition_into_kernels(g.program());
    // v' is read by the reduction too, so it cannot fold into p's kernel.
    REQUIRE(groups.size() == 3);
    Graph h;
    const Tensor p0 = Tensor::randn({8}, gen), v0 = Tensor::randn({8}, gen), g0 = Tensor::randn({8}, gen);
    auto hv2 = h.parameter("v", v0) * 0.9 + h.input("g", {8});
    h.output("v_new", hv2);
    h.output("p_new", h.parameter("p", p0) - hv2 * 0.1);
    const auto merged = codegen::partition_into_kernels(h.program());
    REQUIRE(merged.size() == 1);
    CHECK(merged[0].outputs.size() == 2);
    codegen::CompileOptions options;
    options.partition = codegen::Partition::kernels;
    auto outputs = h.compile(options).run({{"g", g0}});
    for (int64_t i = 0; i < 8; ++i) {
        const double want_v = 0.9 * v0.get_flat(i) + g0.get_flat(i);
        CHECK(outputs.at("v_new").get_flat(i) == Approx(want_v).epsilon(1e-6));
        CHECK(outputs.at("p_new").get_flat(i) == Approx(p0.get_flat(i) - 0.1 * want_v).epsilon(1e-6).margin(1e-6));
    }
}

TEST_CASE("schedule dump: the partition is part of the schedule in effect") {
    Graph g;
    Generator gen(4);
    auto x = g.input("x", {2, 3, 16});
    auto w1 = g.parameter("w1", Tensor::randn({5, 3, 3}, gen));
    auto w2 = g.parameter("w2", Tensor::randn({4, 5, 3}, gen));
    g.output("y", conv1d(relu(conv1d(x, w1)), w2));
    codegen::CompileOptions options;
    options.partition = codegen::Partition::kernels;
    const std::string plan = codegen::schedule_in_effect(g.program(), options);
    CHECK(plan.find("# partition: a plan of 2 kernels") != std::string::npos);
    CHECK(plan.find("#   kernel 1:") != std::string::npos);
    options.partition = codegen::Partition::whole_program;
    CHECK(codegen::schedule_in_effect(g.program(), options).find("# partition: one pipeline") != std::string::npos);
}

TEST_CASE("kernel profile: each kernel of a plan run is timed under its ops and type, and only while profiling is on") {
    Graph g;
    Generator gen(5);
    auto x = g.input("x", {6});
    auto y = x * 2.0 + 1.0;
    g.output("y", y);
    g.output("total", sum(y * y));  // a reduction: a second kernel
    codegen::CompileOptions options;
    options.partition = codegen::Partition::kernels;
    auto compiled = g.compile(options);
    const Tensor x0 = Tensor::randn({6}, gen);
    codegen::take_kernel_profile();  // whatever earlier tests left

    compiled.run({{"x", x0}});
    CHECK(codegen::take_kernel_profile().empty());

    codegen::set_kernel_profiling(true);
    for (int i = 0; i < 3; ++i) compiled.run({{"x", x0}});
    codegen::set_kernel_profiling(false);
    const std::vector<codegen::KernelTime> profile = codegen::take_kernel_profile();
    REQUIRE(profile.size() == 2);
    for (const codegen::KernelTime &k : profile) {
        CHECK(k.calls == 3);
        CHECK(k.seconds > 0);
    }
    CHECK(profile[0].seconds >= profile[1].seconds);
    const bool has_reduction = profile[0].label.find("sum") != std::string::npos ||
                               profile[1].label.find("sum") != std::string::npos;
    CHECK(has_reduction);
    CHECK((profile[0].label.find("-> f32[") != std::string::npos));
    CHECK(codegen::take_kernel_profile().empty());
}
