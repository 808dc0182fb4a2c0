// Schedules apart from the algorithm: rules in C++ and in schedule files,
// `schedule_in_effect` (what `strata schedule dump` prints) loading back to
// the same schedule, every custom schedule and autoscheduler checked against
// the default schedule (values and gradients), and clear errors for
// schedules that do not fit.

#include "codegen/compiler.h"
#include "frontend/functional.h"
#include "frontend/graph.h"
#include "runtime/generator.h"
#include "support/temp_dir.h"
#include "tests/reference/gradcheck.h"
#include "tests/reference/reference.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

using namespace strata;
using Catch::Contains;

namespace {

/// A small CNN (conv, relu, pool, linear): every scheduled op class.
struct SmallNet {
    Graph g;
    SmallNet() {
        Generator gen(7);
        SymTensor x = g.input("x", {2, 3, 12, 12});
        SymTensor w = g.parameter("w", Tensor::randn({8, 3, 3, 3}, gen, DType::f32, 0.0, 0.3));
        SymTensor b = g.parameter("b", Tensor::randn({8}, gen, DType::f32, 0.0, 0.1));
        SymTensor fc = g.parameter("fc", Tensor::randn({5, 8 * 5 * 5}, gen, DType::f32, 0.0, 0.1));
        SymTensor h = max_pool2d(relu(conv2d(x, w, b)), {2, 2});
        g.output("y", linear(flatten(h, 1), fc));
    }
    std::map<std::string, Tensor> sources() const {
        Generator gen(11);
        auto s = g.parameter_values();
        s["x"] = Tensor::randn({2, 3, 12, 12}, gen, DType::f32);
        return s;
    }
};

Tensor run(const ir::Program &p, const std::map<std::string, Tensor> &sources, const codegen::CompileOptions &o) {
    return codegen::compile(p, o).run(sources).at(0);
}

/// The node id (as "%N") of the first node of an op in the optimised program.
std::string node_of(const ir::Program &program, const std::string &op) {
    const std::string dump = codegen::schedule_in_effect(program);
    const size_t at = dump.find("# " + op + " ");
    REQUIRE(at != std::string::npos);
    const size_t line = dump.rfind("node %", at);
    return dump.substr(line + 5, dump.find(' ', line + 5) - (line + 5));
}

}  // namespace

TEST_CASE("schedule files: text round trip and parse errors naming the line and directive") {
    const auto s = codegen::parse_schedule("# tuned by hand\n"
                                           "op conv2d tile=32x4 vectorize=16 parallel=on task=2\n"
                                           "class pointwise compute=inline\n"
                                           "node %12 compute=root vectorize=8  # trailing comment\n");
    REQUIRE(s.to_text() == "class pointwise compute=inline\n"
                           "op conv2d vectorize=16 tile=32x4 parallel=on task=2\n"
                           "node %12 compute=root vectorize=8\n");
    REQUIRE(codegen::parse_schedule(s.to_text()).to_text() == s.to_text());
    REQUIRE(s.resolve("pointwise", "relu", "%12").to_string() == "compute=root vectorize=8");

    REQUIRE_THROWS_WITH(codegen::parse_schedule("op conv2d tile=0x4\n", "f"),
                        Contains("f:1 (op conv2d): tile=0 must be a positive whole number"));
    REQUIRE_THROWS_WITH(codegen::parse_schedule("\nop conv2d vectorise=8\n", "f"),
                        Contains("f:2 (op conv2d): unknown directive 'vectorise'"));
    REQUIRE_THROWS_WITH(codegen::parse_schedule("op convolution tile=8x8\n", "f"), Contains("f:1: schedule: unknown op 'convolution'"));
    REQUIRE_THROWS_WITH(codegen::parse_schedule("node 12 compute=root\n", "f"), Contains("'12' is not a node id"));
    REQUIRE_THROWS_WITH(codegen::parse_schedule("op relu\n", "f"), Contains("f:1 (op relu): no directives"));
    REQUIRE_THROWS_WITH(codegen::parse_schedule("op relu parallel=yes\n", "f"), Contains("must be 'on' or 'off'"));
    REQUIRE_THROWS_WITH(codegen::parse_schedule("op relu task=-3\n", "f"), Contains("task=-3 must be a positive"));
    REQUIRE_THROWS_WITH(codegen::parse_schedule("ops relu task=3\n", "f"), Contains("starts with 'op', 'class' or 'node'"));
    // A directive twice on one line used to be accepted, the last one winning.
    REQUIRE_THROWS_WITH(codegen::parse_schedule("op conv2d vectorize=8 tile=8x2 vectorize=16\n", "f"),
                        Contains("f:1 (op conv2d): 'vectorize' is given twice on one line"));
    REQUIRE_THROWS_WITH(codegen::parse_schedule("\nclass pool compute=root compute=inline\n", "f"),
                        Contains("f:2 (class pool): 'compute' is given twice on one line"));
    REQUIRE_NOTHROW(codegen::parse_schedule("op conv2d vectorize=8\nop conv2d vectorize=16\n", "f"));
}

TEST_CASE("a dumped schedule loads back to the same schedule and the same results") {
    SmallNet net;
    const auto sources = net.sources();
    const std::string dumped = codegen::schedule_in_effect(net.g.program());
    REQUIRE_THAT(dumped, Contains("# conv2d f32[2,8,10,10]") && Contains("tile="));

    testing::TempDir dir;
    const std::string file = dir.write("net.schedule", dumped);
    codegen::CompileOptions from_file;
    from_file.schedule = file;
    const std::string reloaded = codegen::schedule_in_effect(net.g.program(), from_file);
    // Same schedule line for line (the header names the schedule it came from).
    REQUIRE(reloaded.substr(reloaded.find('\n')) == dumped.substr(dumped.find('\n')));
    const Tensor want = run(net.g.program(), sources, {});
    REQUIRE(reference::mismatch(run(net.g.program(), sources, from_file), want, 0.0).empty());
}

TEST_CASE("custom schedules agree with the default schedule, values and gradients") {
    SmallNet net;
    const auto sources = net.sources();
    const Tensor want = run(net.g.program(), sources, {});
    const std::string conv = node_of(net.g.program(), "conv2d");

    codegen::CompileOptions custom;
    custom.rules.for_op("conv2d").tile(8, 2).vectorize(4).parallel(false);
    custom.rules.for_op("matmul").parallel(true).task(1);
    custom.rules.for_class("pointwise").compute_root().vectorize(4);
    custom.rules.for_node(conv).tile(10, 8).vectorize(1);
    const std::string effective = codegen::schedule_in_effect(net.g.program(), custom);
    INFO(effective);
    REQUIRE_THAT(effective, Contains("node " + conv + " vectorize=1 tile=10x8 parallel=off"));
    // Stated tolerance: f32 sums in another order (27 to 200 terms per output).
    const std::string mismatch = reference::mismatch(run(net.g.program(), sources, custom), want, 1e-5);
    INFO(mismatch);
    CHECK(mismatch.empty());

    // Gradients stay correct under the custom schedule (f64 finite differences).
    Generator gen(3);
    std::vector<reference::GradSource> grad_sources = {{"x", Tensor::randn({1, 2, 7, 7}, gen, DType::f64)},
                                                       {"w", Tensor::randn({4, 2, 3, 3}, gen, DType::f64, 0.0, 0.5)}};
    reference::GradCheckOptions options;
    options.compile.rules.for_class("conv").tile(4, 2).vectorize(4).parallel(true).task(1);
    options.compile.rules.for_class("reduction").vectorize(4).parallel(true);
    options.compile.rules.for_class("pointwise").compute_root();
    const auto result = reference::gradcheck(
        grad_sources,
        [](Graph &, const std::vector<SymTensor> &in) -> std::vector<SymTensor> {
            return {max_pool2d(relu(conv2d(in[0], in[1])), {2, 2})};
        },
        options);
    INFO(result.report);
    CHECK(result.ok);
}

TEST_CASE("schedules that do not fit are errors naming the node and the directive") {
    SmallNet net;
    const ir::Program &p = net.g.program();
    const std::string conv = node_of(p, "conv2d");
    const std::string relu_node = node_of(p, "relu");
    auto with = [](auto &&edit) {
        codegen::CompileOptions o;
        edit(o.rules);
        return o;
    };
    REQUIRE_THROWS_WITH(codegen::compile(p, with([](auto &r) { r.for_node("%999").compute_root(); })),
                        Contains("node %999 does not exist"));
    REQUIRE_THROWS_WITH(codegen::compile(p, with([&](auto &r) { r.for_node(relu_node).tile(8, 2); })),
                        Contains("directive 'tile' does not apply") && Contains("relu"));
    // The 10x10 conv's rows of 10 are not whole vector tiles: it tiles its
    // rows laid end to end with their 2 padding columns, 10 x 12 = 120 positions.
    REQUIRE_THROWS_WITH(codegen::compile(p, with([&](auto &r) { r.for_node(conv).tile(128, 2); })),
                        Contains("tile=128x2 is larger than the output's 120x8") && Contains("conv2d"));
    REQUIRE_THROWS_WITH(codegen::compile(p, with([&](auto &r) { r.for_node(conv).tile(6, 2).vectorize(4); })),
                        Contains("X must be a multiple of the 4 vector lanes"));
    REQUIRE_THROWS_WITH(codegen::compile(p, with([&](auto &r) { r.for_node(conv).gpu(128); })),
                        Contains("gpu_threads needs a GPU target"));
    // In an op or class rule too (it used to be accepted silently), even for an op the program lacks.
    REQUIRE_THROWS_WITH(codegen::compile(p, with([&](auto &r) { r.for_op("conv2d").gpu(128); })),
                        Contains("schedule for op conv2d: gpu_threads needs a GPU target"));
    REQUIRE_THROWS_WITH(codegen::compile(p, with([&](auto &r) { r.for_class("pointwise").gpu(64); })),
                        Contains("schedule for class pointwise: gpu_threads needs a GPU target"));
    REQUIRE_THROWS_WITH(codegen::schedule_in_effect(p, with([&](auto &r) { r.for_op("conv_transpose1d").gpu(64); })),
                        Contains("schedule for op conv_transpose1d: gpu_threads needs a GPU target"));
    REQUIRE_THROWS_WITH(codegen::compile(p, with([&](auto &r) { r.for_op("conv").vectorize(256); })),
                        Contains("vectorize=256 is wider than the innermost extent 120"));
    codegen::CompileOptions simple_plus_rules = with([](auto &r) { r.for_op("conv2d").parallel(false); });
    simple_plus_rules.schedule = "simple";
    REQUIRE_THROWS_WITH(codegen::compile(p, simple_plus_rules), Contains("on top of the default schedule"));
    codegen::CompileOptions missing;
    missing.schedule = "/no/such/schedule.txt";
    REQUIRE_THROWS_WITH(codegen::compile(p, missing), Contains("unknown schedule '/no/such/schedule.txt'"));
}

TEST_CASE("Halide's autoschedulers schedule the whole program and agree with the default") {
    SmallNet net;
    const auto sources = net.sources();
    const Tensor want = run(net.g.program(), sources, {});
    for (const char *name : {"mullapudi2016", "li2018", "adams2019"}) {
        INFO(name);
        codegen::CompileOptions o;
        o.schedule = name;
        const std::string mismatch = reference::mismatch(run(net.g.program(), sources, o), want, 1e-5);
        INFO(mismatch);
        CHECK(mismatch.empty());
        REQUIRE_THAT(codegen::schedule_in_effect(net.g.program(), o), Contains("autoscheduler wrote this schedule"));
    }
}

TEST_CASE("strata schedule dump writes a file that strata schedule check accepts") {
    testing::TempDir dir;
    const std::string strata = std::string(STRATA_BINARY_DIR) + "/bin/strata";
    const std::string model = std::string(STRATA_SOURCE_DIR) + "/examples/spot_the_seismogram/spot_model.safetensors";
    const std::string file = dir / "spot.schedule";
    REQUIRE(std::system((strata + " schedule dump '" + model + "' --out '" + file + "' > /dev/null").c_str()) == 0);
    const auto schedule = codegen::load_schedule(file);
    REQUIRE(schedule.node_rules().size() >= 8);
    const std::string out = dir / "check.txt";
    REQUIRE(std::system((strata + " schedule check '" + model + "' --schedule '" + file + "' > '" + out + "'").c_str()) == 0);
    std::ifstream in(out);
    const std::string text(std::istreambuf_iterator<char>(in), {});
    REQUIRE_THAT(text, Contains("agrees with the default schedule"));
    // A schedule that does not fit the model: exit status 1 and the node named, nothing run.
    const std::string bad = dir.write("bad.schedule", "node %3 compute=inline\n");
    REQUIRE(std::system((strata + " schedule check '" + model + "' --schedule '" + bad + "' 2> '" + out + "'").c_str()) != 0);
    std::ifstream err(out);
    REQUIRE_THAT(std::string(std::istreambuf_iterator<char>(err), {}),
                 Contains("schedule for %3 (conv1d): directive 'compute' does not apply"));
}

TEST_CASE("strata emit --schedule compiles the model with a schedule file, and refuses one that does not fit") {
    testing::TempDir dir;
    const std::string strata = std::string(STRATA_BINARY_DIR) + "/bin/strata";
    const std::string model = std::string(STRATA_SOURCE_DIR) + "/examples/spot_the_seismogram/spot_model.safetensors";
    const std::string good = dir.write("good.schedule", "op conv1d tile=16x4 vectorize=8\nclass pointwise compute=root\n");
    REQUIRE(std::system((strata + " emit '" + model + "' --out '" + (dir / "lib") + "' --name spot --schedule '" + good +
                         "' > /dev/null").c_str()) == 0);
    REQUIRE(std::filesystem::exists(dir.path / "lib" / "spot.a"));
    const std::string bad = dir.write("bad.schedule", "node %3 tile=999x1\n");
    const std::string err = dir / "err.txt";
    REQUIRE(std::system((strata + " emit '" + model + "' --out '" + (dir / "nothing") + "' --schedule '" + bad +
                         "' 2> '" + err + "'").c_str()) != 0);
    REQUIRE_FALSE(std::filesystem::exists(dir.path / "nothing"));
    std::ifstream in(err);
    REQUIRE_THAT(std::string(std::istreambuf_iterator<char>(in), {}), Contains("tile=999x1 is larger than the output"));
}
