// Stage lines: Halide's own scheduling primitives on the stages of the
// lowered pipeline (codegen/schedule.h). The default schedule and an
// autoscheduler's result read back as stage lines load back to the same
// schedule and the same numbers; a hand-edited file with compute_at, reorder,
// unroll and split works; gradients agree; mistakes are errors naming the
// line and the directive.

#include "codegen/compiler.h"
#include "codegen/stage_directives.h"
#include "frontend/functional.h"
#include "frontend/graph.h"
#include "runtime/generator.h"
#include "support/temp_dir.h"
#include "tests/reference/reference.h"

#include <catch2/catch.hpp>

#include <fstream>

using namespace strata;
using Catch::Contains;

namespace {

/// conv -> relu -> max pool -> sum over spatial dims: a conv, a pool and a plain reduction.
struct ConvPoolNet {
    Graph g;
    ConvPoolNet() {
        Generator gen(5);
        SymTensor x = g.input("x", {2, 3, 10, 10});
        SymTensor w = g.parameter("w", Tensor::randn({4, 3, 3, 3}, gen, DType::f32, 0.0, 0.3));
        g.output("y", max_pool2d(relu(conv2d(x, w)), {2, 2}));
    }
    std::map<std::string, Tensor> sources() const {
        Generator gen(9);
        auto s = g.parameter_values();
        s["x"] = Tensor::randn({2, 3, 10, 10}, gen, DType::f32);
        return s;
    }
};

codegen::CompileOptions with_schedule(const std::string &schedule) {
    codegen::CompileOptions o;
    o.schedule = schedule;
    return o;
}

std::vector<Tensor> run(const ir::Program &p, const std::map<std::string, Tensor> &sources,
                        const codegen::CompileOptions &o) {
    return codegen::compile(p, o).run(sources);
}

/// The stage lines of a dump (without its comment header, which names the schedule it came from).
std::string lines_of(const std::string &dump) {
    std::string out, line;
    std::istringstream in(dump);
    while (std::getline(in, line))
        if (!line.empty() && line[0] != '#') out += line + "\n";
    return out;
}

/// The first stage line of a dump whose stage is `func` + `suffix` ("" or ".update(0)").
std::string stage_line(const std::string &dump, const std::string &func_part) {
    std::istringstream in(dump);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("stage ", 0) == 0 && line.find(func_part) != std::string::npos) return line;
    return "";
}

}  // namespace

TEST_CASE("stage lines: parse, print and builder, with errors naming the line and directive") {
    const auto s = codegen::parse_schedule("algorithm plain\n"
                                           "stage n2_conv2d compute_root() split(d3, xo, xi, 8, GuardWithIf) vectorize(xi)\n"
                                           "stage n2_conv2d_acc.update(0)   reorder(d3, r$x, d2)  unroll( d2 , 2)  # note\n");
    REQUIRE(s.has_stages());
    REQUIRE_FALSE(s.has_rules());
    REQUIRE(s.to_text() == "algorithm plain\n"
                           "stage n2_conv2d compute_root() split(d3, xo, xi, 8, GuardWithIf) vectorize(xi)\n"
                           "stage n2_conv2d_acc.update(0) reorder(d3, r$x, d2) unroll(d2, 2)\n");
    REQUIRE(codegen::parse_schedule(s.to_text()).to_text() == s.to_text());
    REQUIRE(s.stage_rules()[1].func() == "n2_conv2d_acc");
    REQUIRE(s.stage_rules()[1].update_index() == 0);

    codegen::Schedule built;
    built.for_stage("n2_conv2d").compute_root().split("d3", "xo", "xi", 8).vectorize("xi").parallel("d0");
    built.for_stage("n2_conv2d_acc").compute_at("n2_conv2d", "xo");
    built.add_stage_line("n2_conv2d_acc.update(0) reorder(d3, d2) unroll(d2)");
    REQUIRE(built.to_text() == "stage n2_conv2d compute_root() split(d3, xo, xi, 8) vectorize(xi) parallel(d0)\n"
                               "stage n2_conv2d_acc compute_at(n2_conv2d, xo)\n"
                               "stage n2_conv2d_acc.update(0) reorder(d3, d2) unroll(d2)\n");

    auto parse = [](const std::string &text) { return codegen::parse_schedule(text, "f"); };
    REQUIRE_THROWS_WITH(parse("stage f split(x, xo, xi, 0)\n"),
                        Contains("f:1 (stage f): split(x, xo, xi, 0): the factor '0' must be a positive"));
    REQUIRE_THROWS_WITH(parse("\nstage f vectorize(x, -4)\n"), Contains("f:2 (stage f): vectorize(x, -4): the factor"));
    REQUIRE_THROWS_WITH(parse("stage f parallel(x, 0)\n"), Contains("parallel(x, 0): the task size '0' must be a positive"));
    REQUIRE_THROWS_WITH(parse("stage f vectorise(x)\n"), Contains("f:1 (stage f): vectorise(x): is not a stage directive"));
    REQUIRE_THROWS_WITH(parse("stage f split(x, xo, xi)\n"), Contains("split(x, xo, xi): takes (var, outer, inner, factor"));
    REQUIRE_THROWS_WITH(parse("stage f split(x, xo, xi, 4, Sideways)\n"), Contains("'Sideways' is not a tail strategy"));
    REQUIRE_THROWS_WITH(parse("stage f reorder(x.xo, y)\n"), Contains("'x.xo' is not a loop variable name"));
    REQUIRE_THROWS_WITH(parse("stage f.update(0) compute_root()\n"),
                        Contains("f:1 (stage f.update(0)): compute_root(): schedules the whole Func"));
    REQUIRE_THROWS_WITH(parse("stage f.updat(0) compute_root()\n"), Contains("must be a Func name or Func.update(K)"));
    REQUIRE_THROWS_WITH(parse("stage f\n"), Contains("f:1 (stage f): no directives"));
    REQUIRE_THROWS_WITH(parse("stage f compute_with(g)\n"),
                        Contains("f:1 (stage f): compute_with(g): takes (Func, var[, stage index])"));
    REQUIRE_THROWS_WITH(parse("stage f vectorize x\n"), Contains("is not a directive"));
    REQUIRE_THROWS_WITH(parse("algorithm fancy\n"), Contains("f:1: schedule: algorithm 'fancy' must be plain, default or simple"));
    REQUIRE_THROWS_WITH(built.for_stage("g").split("x", "xo", "xi", -2), Contains("for_stage(\"g\") (stage g): split"));
}

TEST_CASE("the default schedule as stage lines loads back to the same schedule and the same numbers") {
    ConvPoolNet net;
    const auto sources = net.sources();
    const ir::Program &p = net.g.program();
    const std::string dumped = codegen::stage_schedule_in_effect(p);
    INFO(dumped);
    REQUIRE_THAT(dumped, Contains("algorithm default") && Contains("compute_root()") && Contains(".update(0)"));

    testing::TempDir dir;
    const std::string file = dir.write("default.stages", dumped);
    const std::string again = codegen::stage_schedule_in_effect(p, with_schedule(file));
    REQUIRE(lines_of(again) == lines_of(dumped));
    // schedule_in_effect of a stage schedule is the same stage lines.
    REQUIRE(lines_of(codegen::schedule_in_effect(p, with_schedule(file))) == lines_of(dumped));

    const auto want = run(p, sources, {});
    const auto got = run(p, sources, with_schedule(file));
    REQUIRE(reference::mismatch(got.at(0), want.at(0), 0.0).empty());
}

TEST_CASE("a max pool and its gradient: the argmax shares the forward's loops (compute_with) and reads back") {
    // The default computes the gradient's argmax in the forward pool's loops,
    // vector by vector; as stage lines that is compute_with, which loads back.
    // Big enough for parallel tasks; a plain 2x2 pool and a padded 3x3 one.
    Graph g;
    Generator gen(17);
    SymTensor x = g.input("x", {4, 16, 32, 64});
    SymTensor y = max_pool2d(x, {2, 2});
    MaxPoolOptions padded;
    padded.stride = {2};
    padded.padding = {1};
    SymTensor y3 = max_pool2d(x, {3, 3}, padded);
    g.output("y", y);
    g.output("y3", y3);
    g.output("dx", g.gradients(sum(y * y) + sum(y3 * y3), {x})[0]);
    const ir::Program &p = g.program();
    std::map<std::string, Tensor> sources = {{"x", Tensor::randn({4, 16, 32, 64}, gen, DType::f32)}};

    const std::string dumped = codegen::stage_schedule_in_effect(p);
    INFO(dumped);
    const std::string argmax = stage_line(dumped, "_max_pool2d_grad_argmax ");
    REQUIRE_THAT(argmax, Contains("compute_with(n") && Contains("_max_pool2d, d3, 0)") && Contains("parallel("));
    testing::TempDir dir;
    const std::string file = dir.write("pool.stages", dumped);
    REQUIRE(lines_of(codegen::stage_schedule_in_effect(p, with_schedule(file))) == lines_of(dumped));
    const auto want = run(p, sources, with_schedule("simple"));
    const auto got = run(p, sources, with_schedule(file));
    for (size_t i = 0; i < want.size(); ++i) CHECK(reference::mismatch(got[i], want[i], 0.0).empty());

    // Without it (edited away) each argmax gets its own loops: the same numbers.
    std::string unfused = dumped;
    for (size_t at; (at = unfused.find(" compute_with(")) != std::string::npos;)
        unfused.erase(at, unfused.find(')', at) + 1 - at);
    REQUIRE(unfused.find("compute_with") == std::string::npos);
    const auto separate = run(p, sources, with_schedule(dir.write("unfused.stages", unfused)));
    for (size_t i = 0; i < want.size(); ++i) CHECK(reference::mismatch(separate[i], want[i], 0.0).empty());

    // Written by hand without the stage index: the forward's last (here, only) stage.
    std::string short_form = dumped;
    const size_t index_at = short_form.find("d3, 0)", short_form.find(argmax));
    short_form.replace(index_at, 6, "d3)");
    REQUIRE(lines_of(codegen::stage_schedule_in_effect(p, with_schedule(dir.write("short.stages", short_form)))) ==
            lines_of(dumped));
}

TEST_CASE("an autoscheduler's result saved as stage lines loads back without the autoscheduler") {
    ConvPoolNet net;
    const auto sources = net.sources();
    const ir::Program &p = net.g.program();
    const std::string dumped = codegen::schedule_in_effect(p, with_schedule("mullapudi2016"));
    INFO(dumped);
    REQUIRE_THAT(dumped, Contains("autoscheduler wrote this schedule") && Contains("algorithm plain") &&
                             Contains("\nstage ") && Contains("# The Halide C++ it wrote:"));

    testing::TempDir dir;
    const std::string file = dir.write("mullapudi.schedule", dumped);
    const std::string loaded = codegen::stage_schedule_in_effect(p, with_schedule(file));
    REQUIRE(lines_of(loaded) == lines_of(dumped));

    const auto want = run(p, sources, {});
    const std::string mismatch = reference::mismatch(run(p, sources, with_schedule(file)).at(0), want.at(0), 1e-5);
    INFO(mismatch);
    CHECK(mismatch.empty());
}

TEST_CASE("a hand-written stage schedule with compute_at, reorder, unroll and split agrees with the default") {
    ConvPoolNet net;
    const auto sources = net.sources();
    const ir::Program &p = net.g.program();
    // Start from the plain (unscheduled) pipeline: what Halide's autoschedulers see.
    const std::string plain = codegen::schedule_in_effect(p, with_schedule("mullapudi2016"));
    const std::string conv_line = stage_line(plain, "_conv2d_acc ");
    const std::string pool_line = stage_line(plain, "_max_pool2d_acc ");
    REQUIRE(!conv_line.empty());
    REQUIRE(!pool_line.empty());
    const std::string conv = conv_line.substr(6, conv_line.find(' ', 6) - 6);  // nN_conv2d_acc
    const std::string pool = pool_line.substr(6, pool_line.find(' ', 6) - 6);  // nM_max_pool2d_acc
    // IR order d0..d3 is N, C, H, W; Halide's innermost is d3.
    const std::string text = "algorithm plain\n"
                             "stage " + pool + " compute_root() split(d3, xo, xi, 2) reorder(xi, d2, xo, d1, d0) parallel(d0)\n"
                             "stage " + conv + " compute_at(" + pool + ", xo) split(d3, wo, wi, 4, GuardWithIf) vectorize(wi)\n"
                             "stage " + conv + ".update(0) split(d3, wo, wi, 4, GuardWithIf) reorder(wi, d1, r$x, r$y, r$z, wo, d2, d0) "
                             "vectorize(wi) unroll(d1)\n"
                             // compute_at(F, v) is at F's last stage, here its update: split it alike.
                             "stage " + pool + ".update(0) split(d3, xo, xi, 2) reorder(r$x, r$y, xi, d2, xo, d1, d0) unroll(r$x)\n";
    INFO(text);
    testing::TempDir dir;
    const std::string file = dir.write("hand.schedule", text);
    const std::string effective = codegen::stage_schedule_in_effect(p, with_schedule(file));
    INFO(effective);
    REQUIRE_THAT(effective, Contains("compute_at(" + pool + ", xo)") && Contains("unroll(d1)"));
    const auto want = run(p, sources, {});
    const std::string mismatch = reference::mismatch(run(p, sources, with_schedule(file)).at(0), want.at(0), 1e-5);
    INFO(mismatch);
    CHECK(mismatch.empty());

    // The same schedule built in C++.
    codegen::CompileOptions in_cpp;
    in_cpp.rules.set_stage_algorithm("plain");
    const codegen::Schedule parsed = codegen::parse_schedule(text);
    for (const auto &rule : parsed.stage_rules()) in_cpp.rules.add_stage(rule);
    REQUIRE(lines_of(codegen::stage_schedule_in_effect(p, in_cpp)) == lines_of(effective));
}

TEST_CASE("gradients under a stage schedule agree with the default schedule") {
    Graph g;
    Generator gen(13);
    SymTensor x = g.input("x", {2, 2, 7, 7});
    SymTensor w = g.parameter("w", Tensor::randn({3, 2, 3, 3}, gen, DType::f32, 0.0, 0.5));
    SymTensor loss = sum(max_pool2d(relu(conv2d(x, w)), {2, 2}));
    const auto grads = g.gradients(loss, {x, w});
    g.output("loss", loss);
    g.output("dx", grads[0]);
    g.output("dw", grads[1]);
    auto sources = g.parameter_values();
    sources["x"] = Tensor::randn({2, 2, 7, 7}, gen, DType::f32);
    const ir::Program &p = g.program();

    // An autoscheduler's stage lines (plain algorithm), loaded from a file.
    const std::string dumped = codegen::schedule_in_effect(p, with_schedule("mullapudi2016"));
    REQUIRE_THAT(dumped, Contains("\nstage "));
    testing::TempDir dir;
    const std::string file = dir.write("grad.schedule", dumped);
    const auto want = run(p, sources, {});
    const auto got = run(p, sources, with_schedule(file));
    for (size_t i = 0; i < want.size(); ++i) {
        const std::string mismatch = reference::mismatch(got[i], want[i], 1e-4);
        INFO("output " << i << ": " << mismatch);
        CHECK(mismatch.empty());
    }
}

TEST_CASE("stage schedules that do not fit are errors naming the stage and the directive") {
    ConvPoolNet net;
    const ir::Program &p = net.g.program();
    const std::string plain = codegen::schedule_in_effect(p, with_schedule("mullapudi2016"));
    const std::string conv_line = stage_line(plain, "_conv2d_acc ");
    REQUIRE(!conv_line.empty());
    const std::string conv = conv_line.substr(6, conv_line.find(' ', 6) - 6);
    testing::TempDir dir;
    auto effect = [&](const std::string &text) {
        return codegen::schedule_in_effect(p, with_schedule(dir.write("bad.schedule", text)));
    };
    const std::string file = dir / "bad.schedule";
    REQUIRE_THROWS_WITH(effect("stage n99_nothing compute_root()\n"),
                        Contains(file + ":1 (stage n99_nothing): there is no Func 'n99_nothing'"));
    REQUIRE_THROWS_WITH(effect("stage " + conv + " split(q, qo, qi, 4)\n"),
                        Contains(file + ":1 (stage " + conv + "): split(q, qo, qi, 4): " + conv + " has no loop 'q'") &&
                            Contains("its loops: d3, d2, d1, d0"));
    REQUIRE_THROWS_WITH(effect("stage " + conv + ".update(3) unroll(d1)\n"), Contains("has 1 update definition"));
    REQUIRE_THROWS_WITH(effect("stage " + conv + ".update(0) reorder(r$q, d1)\n"),
                        Contains("reorder(r$q, d1): " + conv + ".update(0) has no loop 'r$q'"));
    REQUIRE_THROWS_WITH(effect("stage " + conv + " compute_root() gpu_blocks(d0)\n"),
                        Contains("gpu_blocks(d0): GPU directives need a GPU target"));
    REQUIRE_THROWS_WITH(effect("stage " + conv + " compute_inline()\n"),
                        Contains("compute_inline(): " + conv + " has update definitions and cannot be inlined"));
    REQUIRE_THROWS_WITH(effect("stage " + conv + " compute_at(" + conv + "_nope, x)\n"),
                        Contains("compute_at(" + conv + "_nope, x): there is no Func"));
    REQUIRE_THROWS_WITH(effect("stage " + conv + " compute_root()\nstage " + conv + " compute_at(" + conv + ", zz)\n"),
                        Contains(":2 (stage " + conv + "): compute_at(" + conv + ", zz): " + conv + " has no loop 'zz'"));
    REQUIRE_THROWS_WITH(effect("stage " + conv + " split(d3, d2, xi, 2)\n"),
                        Contains("split(d3, d2, xi, 2): Halide rejected it:"));
    REQUIRE_THROWS_WITH(effect("stage " + conv + " reorder_storage(d9, d0)\n"),
                        Contains("reorder_storage(d9, d0): " + conv + " has no dimension 'd9'"));
    REQUIRE_THROWS_WITH(effect("op conv2d tile=4x2\nstage " + conv + " compute_root()\n"),
                        Contains("cannot be mixed with op, class or node rules"));
    // A schedule Halide accepts line by line but cannot compile is still a strata::Error.
    REQUIRE_THROWS_AS(codegen::compile(p, with_schedule(dir.write("cycle.schedule",
                                                                   "stage " + conv + " compute_at(" + conv + ", d0)\n"))),
                      Error);
}

TEST_CASE("strata schedule dump --stages writes a file that strata schedule check accepts") {
    testing::TempDir dir;
    const std::string strata = std::string(STRATA_BINARY_DIR) + "/bin/strata";
    const std::string model = std::string(STRATA_SOURCE_DIR) + "/examples/spot_the_seismogram/spot_model.safetensors";
    const std::string file = dir / "spot.stages";
    REQUIRE(std::system((strata + " schedule dump '" + model + "' --stages --out '" + file + "' > /dev/null").c_str()) == 0);
    const auto schedule = codegen::load_schedule(file);
    REQUIRE(schedule.stage_rules().size() >= 8);
    REQUIRE(schedule.stage_algorithm() == "default");
    const std::string out = dir / "check.txt";
    REQUIRE(std::system((strata + " schedule check '" + model + "' --schedule '" + file + "' > '" + out + "'").c_str()) == 0);
    std::ifstream in(out);
    REQUIRE_THAT(std::string(std::istreambuf_iterator<char>(in), {}), Contains("agrees with the default schedule"));
}

TEST_CASE("stage-line factors are bounded by what Halide and the target take") {
    auto parse = [](const std::string &text) { return codegen::parse_schedule(text, "f"); };
    // Halide's lanes are 16-bit: 65536 lanes crashed it (SIGFPE), 4096 compiled for 76 s.
    REQUIRE_THROWS_WITH(parse("stage n2_conv2d compute_root() vectorize(d3, 65536)\n"),
                        Contains("f:1 (stage n2_conv2d): vectorize(d3, 65536): the factor '65536' must be a positive "
                                 "whole number (at most 64)"));
    REQUIRE_THROWS_WITH(parse("stage f vectorize(d3, 4096)\n"), Contains("(at most 64)"));
    REQUIRE_THROWS_WITH(parse("stage f unroll(d3, 65)\n"), Contains("unroll(d3, 65): the factor '65' must be a positive whole number (at most 64)"));
    REQUIRE_THROWS_WITH(parse("stage f gpu_tile(x, bx, tx, 2048)\n"), Contains("(at most 1024)"));
    REQUIRE_THROWS_WITH(parse("stage f split(x, xo, xi, 4294967296)\n"), Contains("(at most 2147483647)"));
    REQUIRE_THROWS_WITH(parse("stage f bound(x, 0, 4294967296)\n"), Contains("the extent '4294967296'"));
    REQUIRE_THROWS_WITH(parse("stage f compute_at(g, x, 4294967296)\n"), Contains("the stage index '4294967296'"));
    REQUIRE_NOTHROW(parse("stage f split(x, xo, xi, 65536) vectorize(x, 64) unroll(xo, 64)\n"));

    // Loops whose extent the lines fix are checked when applied, naming the line.
    ConvPoolNet net;
    const ir::Program &p = net.g.program();
    const std::string plain = codegen::schedule_in_effect(p, with_schedule("mullapudi2016"));
    const std::string conv_line = stage_line(plain, "_conv2d_acc ");
    const std::string pool_line = stage_line(plain, "_max_pool2d ");
    const std::string pool_acc_line = stage_line(plain, "_max_pool2d_acc ");
    REQUIRE(!conv_line.empty());
    REQUIRE(!pool_line.empty());
    REQUIRE(!pool_acc_line.empty());
    const std::string conv = conv_line.substr(6, conv_line.find(' ', 6) - 6);
    const std::string pool = pool_line.substr(6, pool_line.find(' ', 6) - 6);  // the output, [2, 4, 4, 4]
    const std::string pool_acc = pool_acc_line.substr(6, pool_acc_line.find(' ', 6) - 6);
    testing::TempDir dir;
    auto effect = [&](const std::string &text) {
        return codegen::schedule_in_effect(p, with_schedule(dir.write("bounds.schedule", "algorithm plain\n" + text)));
    };
    const std::string file = dir / "bounds.schedule";
    // The reported crash: a split by 65536 whose inner loop is unrolled whole (SIGSEGV in Halide).
    REQUIRE_THROWS_WITH(effect("stage " + conv + " compute_root() split(d3, xo, xi, 65536) unroll(xi)\n"),
                        Contains(file + ":2 (stage " + conv + "): unroll(xi): loop 'xi' has extent 65536, which would "
                                                             "make 65536 unrolled copies (at most 64)"));
    REQUIRE_THROWS_WITH(effect("stage " + conv + " compute_root() split(d3, xo, xi, 128) vectorize(xi)\n"),
                        Contains("vectorize(xi): loop 'xi' has extent 128, which would make 128 vector lanes"));
    // An output's extents are known: a split may not pass them.
    REQUIRE_THROWS_WITH(effect("stage " + pool + " split(d3, xo, xi, 8)\n"),
                        Contains("split(d3, xo, xi, 8): the factor 8 is more than the extent 4 of loop 'd3'"));
    // vectorize with a factor splits too (this compiled into a pipeline that always failed its bounds check).
    REQUIRE_THROWS_WITH(effect("stage " + pool + " vectorize(d3, 8)\n"),
                        Contains("vectorize(d3, 8): the factor 8 is more than the extent 4 of loop 'd3'"));
    // Within the bounds, the same lines compile and agree with the default schedule.
    const std::string good = "stage " + conv + " compute_root() split(d3, xo, xi, 8) vectorize(xi) unroll(d2, 2)\n"
                             "stage " + pool_acc + " compute_root()\n"
                             "stage " + pool + " split(d3, xo, xi, 4) vectorize(xi)\n";
    const auto sources = net.sources();
    const auto want = run(p, sources, {});
    const std::string mismatch =
        reference::mismatch(run(p, sources, with_schedule(dir.write("good.schedule", "algorithm plain\n" + good))).at(0),
                            want.at(0), 1e-5);
    INFO(mismatch);
    CHECK(mismatch.empty());
}

TEST_CASE("a directive given twice on one stage line is an error naming the line") {
    auto parse = [](const std::string &text) { return codegen::parse_schedule(text, "f"); };
    REQUIRE_THROWS_WITH(parse("stage g split(x, xo, xi, 8) vectorize(xi) vectorize(xi)\n"),
                        Contains("f:1 (stage g): vectorize(xi): given twice on one line"));
    REQUIRE_THROWS_WITH(parse("stage g compute_root() compute_at(h, x)\n"),
                        Contains("f:1 (stage g): compute_at(h, x): the line already has compute_root()"));
    REQUIRE_THROWS_WITH(parse("stage g store_in(Stack) store_in(Heap)\n"),
                        Contains("store_in(Heap): the line already has store_in(Stack); give store_in once per line"));
    REQUIRE_THROWS_WITH(codegen::Schedule().for_stage("g").compute_root().compute_inline(),
                        Contains("compute_inline(): the line already has compute_root()"));
    // Different loops, or two lines: not a repeat.
    REQUIRE_NOTHROW(parse("stage g vectorize(x) parallel(y) vectorize(z)\nstage g compute_root()\nstage g compute_root()\n"));
}

TEST_CASE("every directive in the registry parses, prints back, and refuses wrong arguments naming its form") {
    using codegen::ArgKind;
    auto sample = [](ArgKind kind) -> std::string {
        switch (kind) {
        case ArgKind::loop: return "x";
        case ArgKind::func: return "h";
        case ArgKind::tail: return "GuardWithIf";
        case ArgKind::memory: return "Stack";
        case ArgKind::stage_index: case ArgKind::whole: return "0";
        default: return "2";
        }
    };
    // The schedule fuzzer's dictionary offers every directive to its mutations.
    std::ifstream dict_file(std::string(STRATA_SOURCE_DIR) + "/fuzz/fuzz_schedule.dict");
    const std::string dict(std::istreambuf_iterator<char>(dict_file), {});
    REQUIRE(!dict.empty());
    for (const codegen::StageDirectiveTraits &t : codegen::stage_directive_table()) {
        INFO("directive " << t.name);
        REQUIRE(codegen::find_stage_directive(t.name) == &t);
        REQUIRE_THAT(codegen::stage_directive_names(), Contains(t.name));
        REQUIRE_THAT(dict, Contains("\"" + t.name + "(\""));
        for (const auto &form : t.forms) {
            std::vector<std::string> args;
            for (const codegen::ArgSpec &a : form) args.push_back(sample(a.kind));
            const std::string line = "stage g " + codegen::StageDirective{t.name, args}.to_string() + "\n";
            INFO(line);
            REQUIRE(codegen::parse_schedule(line).to_text() == line);
            // A Func-level directive only on the Func's own line.
            if (t.func_level)
                REQUIRE_THROWS_WITH(codegen::parse_schedule("stage g.update(0) " + line.substr(8)),
                                    Contains("schedules the whole Func"));
            // One argument too many (forms that repeat take up to 64).
            if (!form.empty() && form.back().repeats) continue;
            args.push_back("x");
            REQUIRE_THROWS_WITH(codegen::parse_schedule("stage g " + codegen::StageDirective{t.name, args}.to_string()),
                                Contains(std::string("takes ") + t.form_text));
            args.pop_back();
            // Every bounded number one past its bound.
            for (size_t i = 0; i < form.size(); ++i) {
                const ArgKind k = form[i].kind;
                if (k == ArgKind::loop || k == ArgKind::func || k == ArgKind::tail || k == ArgKind::memory ||
                    k == ArgKind::whole || k == ArgKind::stage_index)
                    continue;
                std::vector<std::string> over = args;
                over[i] = std::to_string(codegen::arg_bound(k) + 1);
                REQUIRE_THROWS_WITH(codegen::parse_schedule("stage g " + codegen::StageDirective{t.name, over}.to_string()),
                                    Contains("(at most " + std::to_string(codegen::arg_bound(k)) + ")"));
            }
        }
    }
}

TEST_CASE("GPU stage directives on a CUDA target: gpu_tile reads back as its splits and GPU loops, threads bounded") {
    ConvPoolNet net;
    const ir::Program &p = net.g.program();
    const std::string plain = codegen::schedule_in_effect(p, with_schedule("mullapudi2016"));
    const std::string conv_line = stage_line(plain, "_conv2d_acc ");
    REQUIRE(!conv_line.empty());
    const std::string conv = conv_line.substr(6, conv_line.find(' ', 6) - 6);
    testing::TempDir dir;
    // Lowering for a CUDA target needs no GPU: the schedule is applied and read back, not compiled.
    auto effect = [&](const std::string &text) {
        codegen::CompileOptions o = with_schedule(dir.write("gpu.schedule", "algorithm plain\n" + text));
        o.target = "host-cuda";
        return codegen::schedule_in_effect(p, o);
    };
    const std::string dumped = effect("stage " + conv + " compute_root() gpu_tile(d3, d2, bx, by, tx, ty, 4, 4)\n");
    INFO(dumped);
    REQUIRE_THAT(dumped, Contains("stage " + conv + " compute_root() split(d3, bx, tx, 4, ShiftInwards) "
                                  "split(d2, by, ty, 4, ShiftInwards) reorder(tx, ty, bx, by, d1, d0) "
                                  "gpu_threads(tx) gpu_threads(ty) gpu_blocks(bx) gpu_blocks(by)"));
    REQUIRE(lines_of(effect(lines_of(dumped).substr(lines_of(dumped).find('\n') + 1))) == lines_of(dumped));
    REQUIRE_THROWS_WITH(effect("stage " + conv + " compute_root() gpu_tile(d3, d2, bx, by, tx, ty, 64, 32)\n"),
                        Contains("64 x 32 threads per block are more than CUDA's 1024"));
    REQUIRE_THROWS_WITH(effect("stage " + conv + " compute_root() split(d3, xo, xi, 2048) gpu_threads(xi)\n"),
                        Contains("gpu_threads(xi): loop 'xi' has extent 2048, which would make 2048 GPU threads"));
}
