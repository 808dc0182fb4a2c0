// CUDA code generation without a GPU. For a program per op class, forward and
// gradient: the GPU schedules run on the CPU (schedule "gpu": blocks become
// parallel loops, threads plain loops) give the default CPU schedule's
// numbers; the same programs compile for CUDA (Halide checks the GPU
// schedule), their PTX holds a kernel for every op, and they link into a
// loadable shared object. Runs on a GPU happen only where one exists; the
// others say they skipped.

#include "codegen/aot.h"
#include "codegen/compiler.h"
#include "codegen/device_code.h"
#include "frontend/functional.h"
#include "frontend/graph.h"
#include "runtime/generator.h"
#include "support/skip.h"
#include "support/temp_dir.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <regex>

using namespace strata;
using Catch::Contains;

namespace {

/// A program and values for its sources.
struct Case {
    std::string name;
    std::unique_ptr<Graph> graph = std::make_unique<Graph>();
    std::map<std::string, Tensor> sources{};
    /// Ops whose lowering must show up as a kernel (their Func names end so).
    std::vector<std::string> ops{};
};

Tensor randn(const Shape &shape, Generator &gen, double stddev = 1.0) {
    return Tensor::randn(shape, gen, DType::f32, 0.0, stddev);
}

/// conv2d (padded, biased) -> relu -> max_pool2d -> linear -> cross_entropy,
/// with the gradients of every parameter and of the input: conv, pool,
/// matmul, pointwise, loss and their gradient ops.
Case cnn_case() {
    Case c{"cnn"};
    Generator gen(801);
    Graph &g = *c.graph;
    SymTensor x = g.input("x", {2, 3, 10, 10});
    SymTensor labels = g.input("labels", {2}, DType::i32);
    SymTensor w = g.parameter("w", randn({8, 3, 3, 3}, gen, 0.3));
    SymTensor b = g.parameter("b", randn({8}, gen, 0.1));
    SymTensor fc = g.parameter("fc", randn({5, 8 * 5 * 5}, gen, 0.1));
    ConvOptions padded;
    padded.padding = 1;
    SymTensor h = max_pool2d(relu(conv2d(x, w, b, padded)), {2, 2});
    SymTensor logits = linear(flatten(h, 1), fc);
    SymTensor loss = cross_entropy(logits, labels);
    g.output("logits", logits);
    g.output("loss", loss);
    const auto grads = g.gradients(loss, {w, b, fc, x});
    const char *names[] = {"dw", "db", "dfc", "dx"};
    for (size_t i = 0; i < grads.size(); ++i) g.output(names[i], grads[i]);
    c.sources = g.parameter_values();
    c.sources["x"] = randn({2, 3, 10, 10}, gen);
    Tensor l = Tensor::empty({2}, DType::i32);
    l.set_flat(0, 3);
    l.set_flat(1, 1);
    c.sources["labels"] = l;
    c.ops = {"conv2d", "max_pool2d", "linear", "cross_entropy", "conv2d_grad_weight", "max_pool2d_grad",
             "cross_entropy_grad"};
    return c;
}

/// Reductions short and long (two-stage on the GPU), softmax, argmax, batch
/// norm in training, a strided 1-d conv with a long kernel, avg pooling and
/// matmul, with the gradient of a scalar made of them.
Case reductions_case() {
    Case c{"reductions"};
    Generator gen(802);
    Graph &g = *c.graph;
    SymTensor x = g.input("x", {3, 37});
    SymTensor big = g.input("big", {2, 4, 16, 16});
    SymTensor s = g.input("s", {2, 2, 64});
    SymTensor k = g.parameter("k", randn({3, 2, 9}, gen, 0.3));
    SymTensor a = g.parameter("a", randn({5, 7}, gen));
    SymTensor m = g.parameter("m", randn({7, 9}, gen));
    SymTensor gamma = g.parameter("gamma", randn({4}, gen, 0.1));
    SymTensor beta = g.parameter("beta", randn({4}, gen, 0.1));
    SymTensor rm = g.parameter("rm", Tensor::zeros({4}, DType::f32));
    SymTensor rv = g.parameter("rv", Tensor::ones({4}, DType::f32));
    ConvOptions strided;
    strided.stride = {2};
    SymTensor conv = conv1d(s, k, {}, strided);
    SymTensor pooled = avg_pool1d(conv, {3});
    SymTensor normed = batch_norm(big, rm, rv, gamma, beta, true).output;
    SymTensor product = matmul(a, m);
    g.output("softmax", softmax(x, 1));
    g.output("log_softmax", log_softmax(x, 0));
    g.output("row_max", max(x, {1}));
    g.output("argmax", argmax(x, 1));
    g.output("total", sum(big));
    g.output("channel_mean", mean(big, {0, 2, 3}));
    g.output("pooled", pooled);
    g.output("product", product);
    SymTensor loss = add(add(sum(mul(normed, normed)), sum(pooled)), add(mean(product), sum(softmax(x, 1))));
    const auto grads = g.gradients(loss, {x, big, s, k, a, m, gamma});
    const char *names[] = {"dx", "dbig", "ds", "dk", "da", "dm", "dgamma"};
    for (size_t i = 0; i < grads.size(); ++i) g.output(names[i], grads[i]);
    c.sources = g.parameter_values();
    c.sources["x"] = randn({3, 37}, gen);
    c.sources["big"] = randn({2, 4, 16, 16}, gen);
    c.sources["s"] = randn({2, 2, 64}, gen);
    c.ops = {"softmax", "argmax", "sum", "mean", "conv1d", "avg_pool1d", "matmul", "batch_norm_stats", "batch_norm_train",
             "conv1d_grad_weight", "avg_pool1d_grad", "batch_norm_grad_sums", "batch_norm_train_grad"};
    return c;
}

std::vector<Case> &cases() {
    static std::vector<Case> all = [] {
        std::vector<Case> v;
        v.push_back(cnn_case());
        v.push_back(reductions_case());
        return v;
    }();
    return all;
}

/// The largest |a - b| relative to the largest |b| (at least 1).
double relative_difference(const Tensor &a, const Tensor &b) {
    double diff = 0, scale = 1;
    for (int64_t i = 0; i < a.numel(); ++i) {
        diff = std::max(diff, std::fabs(a.get_flat(i) - b.get_flat(i)));
        scale = std::max(scale, std::fabs(b.get_flat(i)));
    }
    return diff / scale;
}

void check_same_outputs(const std::vector<Tensor> &got, const std::vector<Tensor> &want,
                        const std::vector<std::string> &names) {
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        INFO("output " << names[i]);
        REQUIRE(got[i].shape() == want[i].shape());
        // Sums in another order: f32 rounding only.
        CHECK(relative_difference(got[i], want[i]) < 1e-4);
    }
}

codegen::CompileOptions with(const std::string &target, const std::string &schedule = "default") {
    codegen::CompileOptions o;
    o.target = target;
    o.schedule = schedule;
    return o;
}

/// Why this machine cannot run CUDA code, or "" when it can.
std::string why_no_gpu() {
    if (!std::filesystem::exists("/dev/nvidia0")) return "no /dev/nvidia0";
    void *cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!cuda) return "libcuda.so.1 cannot be loaded";
    dlclose(cuda);
    return "";
}

/// The PTX of one kernel: from its entry to the next (or the end).
std::string kernel_body(const std::string &ptx, const std::string &kernel) {
    const size_t at = ptx.find(".entry " + kernel + "(");
    if (at == std::string::npos) return "";
    return ptx.substr(at, ptx.find(".entry ", at + 1) - at);
}

/// The kernels computing the first stage of an op's output Func: Halide names
/// them _kernel_n<id>_<op>[__<k>]_s0_... (the __<k> when a program is lowered
/// twice in one process).
std::vector<std::string> output_kernels(const codegen::DeviceCode &code, const std::string &op) {
    const std::regex name("_kernel_n[0-9]+_" + op + "(__[0-9]+)?_s0_.*");
    std::vector<std::string> found;
    for (const std::string &k : code.kernels)
        if (std::regex_match(k, name)) found.push_back(k);
    return found;
}

/// How many kernels' names contain every one of `parts`.
size_t count_kernels(const codegen::DeviceCode &code, const std::vector<std::string> &parts) {
    return static_cast<size_t>(std::count_if(code.kernels.begin(), code.kernels.end(), [&](const std::string &k) {
        return std::all_of(parts.begin(), parts.end(), [&](const std::string &p) { return k.find(p) != std::string::npos; });
    }));
}

/// The kernels of each case for a CUDA target, compiled once.
const codegen::DeviceCode &device_code(size_t i) {
    static std::map<size_t, codegen::DeviceCode> code;
    auto it = code.find(i);
    if (it == code.end())
        it = code.emplace(i, codegen::cuda_device_code(cases()[i].graph->program(),
                                                       with("host-cuda-cuda_capability_70"))).first;
    return it->second;
}

}  // namespace

TEST_CASE("gpu schedules run on the CPU give the default schedule's numbers, forward and gradients") {
    for (Case &c : cases()) {
        INFO("program " << c.name);
        const auto gpu = codegen::compile(c.graph->program(), with("", "gpu"));
        const auto cpu = codegen::compile(c.graph->program(), with(""));
        check_same_outputs(gpu.run(c.sources), cpu.run(c.sources), cpu.output_names());
    }
}

TEST_CASE("CUDA: every op's kernel is in the PTX, for the requested compute capability") {
    for (size_t i = 0; i < cases().size(); ++i) {
        const Case &c = cases()[i];
        INFO("program " << c.name);
        const codegen::DeviceCode &code = device_code(i);
        REQUIRE_THAT(code.ptx, Contains(".target sm_70"));
        REQUIRE(!code.kernels.empty());
        for (const std::string &op : c.ops) {
            INFO("op " << op);
            const std::string suffix = "_" + op + "_";
            const bool found = std::any_of(code.kernels.begin(), code.kernels.end(), [&](const std::string &k) {
                return k.find(suffix) != std::string::npos;
            });
            CHECK(found);
        }
        // Each kernel's body is in the PTX (an entry without code would not link on the device).
        for (const std::string &k : code.kernels) CHECK(code.ptx.find(".entry " + k + "(") != std::string::npos);
        // conv and matmul stage their broadcast operand in shared memory; a
        // pointwise kernel needs none.
        const auto staged = output_kernels(code, c.name == "cnn" ? "conv2d" : "matmul");
        CHECK(!staged.empty());
        for (const std::string &k : staged) {
            INFO("kernel " << k);
            CHECK_THAT(kernel_body(code.ptx, k), Contains("st.shared") && Contains("bar.sync"));
        }
        if (c.name == "cnn") {
            const auto relu = output_kernels(code, "relu");
            REQUIRE(relu.size() == 1);
            CHECK(kernel_body(code.ptx, relu[0]).find(".shared") == std::string::npos);
        } else {
            // Long float reductions run as a cascade: each level of block sums is its own kernel.
            CHECK(count_kernels(code, {"_batch_norm_stats_sum", "_blocks"}) >= 2);
            CHECK(count_kernels(code, {"_sum_acc_blocks"}) >= 2);
        }
        WARN("PTX for " << c.name << ": " << code.kernels.size() << " kernels, " << code.ptx.size() << " bytes");
    }
}

TEST_CASE("ptx_from_host_assembly: unescapes the embedded string and finds entries") {
    const std::string assembly = "\t.asciz\t\"//\\n// Generated by LLVM NVPTX Back-End\\n\\t.visible .entry "
                                 "k_a(\\n.entry k_b(\\\"q\\\\\\101\\n\"\n\t.asciz\t\"other\"\n";
    const std::string ptx = codegen::ptx_from_host_assembly(assembly);
    REQUIRE(ptx == "//\n// Generated by LLVM NVPTX Back-End\n\t.visible .entry k_a(\n.entry k_b(\"q\\A\n");
    REQUIRE(codegen::ptx_kernel_names(ptx) == std::vector<std::string>{"k_a", "k_b"});
    REQUIRE(codegen::ptx_from_host_assembly("\t.asciz\t\"x86 only\"\n").empty());
}

TEST_CASE("CUDA: programs compile to a loaded shared object, and a run needs a GPU or says why not") {
    Case &c = cases()[0];
    const auto exe = codegen::compile(c.graph->program(), with("host-cuda"));
    REQUIRE(exe.target().find("cuda") != std::string::npos);
    const std::string missing = why_no_gpu();
    if (!missing.empty()) {
        // The CUDA runtime reports no driver or device: an error, not a crash.
        REQUIRE_THROWS_WITH(exe.run(c.sources), Contains("run failed") && Contains("NVIDIA GPU"));
        WARN("SKIPPED: running on the GPU (no NVIDIA GPU: " << missing << ")");
        return;
    }
    const auto cpu = codegen::compile(c.graph->program(), with(""));
    check_same_outputs(exe.run(c.sources), cpu.run(c.sources), cpu.output_names());
}

TEST_CASE("CUDA: every program's GPU results match the CPU's, forward and gradients (needs a GPU)") {
    const std::string missing = why_no_gpu();
    if (!missing.empty())
        STRATA_SKIP("no NVIDIA GPU (" << missing << "); the GPU schedules were checked on the CPU instead");
    for (Case &c : cases()) {
        INFO("program " << c.name);
        const auto cpu = codegen::compile(c.graph->program(), with(""));
        for (const char *schedule : {"default", "simple"}) {
            INFO("schedule " << schedule);
            const auto gpu = codegen::compile(c.graph->program(), with("host-cuda", schedule));
            // Twice: device allocations from the first run are freed, not reused stale.
            for (int run = 0; run < 2; ++run)
                check_same_outputs(gpu.run(c.sources), cpu.run(c.sources), cpu.output_names());
        }
    }
}

TEST_CASE("CUDA schedules: gpu_threads rules are honoured and checked") {
    Graph g;
    Generator gen(803);
    SymTensor x = g.input("x", {4, 16, 32, 32});
    SymTensor w = g.parameter("w", randn({32, 16, 3, 3}, gen));
    ConvOptions padded;
    padded.padding = 1;
    g.output("y", mul(relu(conv2d(x, w, {}, padded)), g.constant(2.0)));
    codegen::CompileOptions o = with("host-cuda");
    const std::string defaults = codegen::schedule_in_effect(g.program(), o);
    INFO(defaults);
    CHECK_THAT(defaults, Contains("tile=32x4 gpu_threads=256  # conv2d") && Contains("gpu_threads=256  # mul"));
    o.rules.for_op("conv2d").gpu(64);
    o.rules.for_class("pointwise").gpu(128).compute_root();
    const std::string ruled = codegen::schedule_in_effect(g.program(), o);
    INFO(ruled);
    CHECK_THAT(ruled, Contains("tile=32x4 gpu_threads=64  # conv2d") &&
                          Contains("compute=root gpu_threads=128  # relu"));
    // At this size the conv stages chunks of 2 input channels of weights; Halide accepts it.
    const codegen::DeviceCode code = codegen::cuda_device_code(g.program(), o);
    const auto conv = output_kernels(code, "conv2d");
    REQUIRE(conv.size() == 1);
    CHECK_THAT(kernel_body(code.ptx, conv[0]), Contains("ld.shared") && Contains("bar.sync"));
    o.rules.for_op("conv2d").gpu(2048);
    REQUIRE_THROWS_WITH(codegen::schedule_in_effect(g.program(), o), Contains("gpu_threads=2048 is more than CUDA's 1024"));
}

TEST_CASE("CUDA: targets without the compile cache, or device code for a CPU target, are clear errors") {
    const ir::Program &p = cases()[0].graph->program();
    REQUIRE_THROWS_WITH(codegen::cuda_device_code(p, with("host")), Contains("has no CUDA feature"));
    const char *old = std::getenv("STRATA_NO_CACHE");
    const std::string saved = old ? old : "";
    setenv("STRATA_NO_CACHE", "1", 1);
    CHECK_THROWS_WITH(codegen::compile(p, with("host-cuda")), Contains("STRATA_NO_CACHE=1 turns off"));
    if (old) setenv("STRATA_NO_CACHE", saved.c_str(), 1);
    else unsetenv("STRATA_NO_CACHE");
}

TEST_CASE("strata emit --target host-cuda: a static library holding the PTX that links into a C program") {
    Graph g;
    Generator gen(804);
    SymTensor x = g.input("x", {1, 2, 8, 8});
    SymTensor w = g.parameter("w", randn({4, 2, 3, 3}, gen, 0.3));
    g.output("y", max_pool2d(relu(conv2d(x, w)), {2, 2}));
    testing::TempDir dir;
    codegen::EmitOptions o;
    o.target = "host-cuda";
    o.name = "gpu_model";
    o.out_dir = dir.path.string();
    const codegen::EmittedLibrary lib = codegen::emit_library(g.program(), g.parameter_values(), o);
    std::ifstream in(lib.library, std::ios::binary);
    const std::string archive((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK_THAT(archive, Contains("Generated by LLVM NVPTX Back-End") && Contains(".entry _kernel_n"));
    // A C program calling the library links with libc, libdl and pthreads only.
    // Halide's default error handler aborts: the program installs one that prints.
    const std::string program = dir.write("main.c", "#include \"gpu_model.h\"\n#include <stdio.h>\n"
                                                    "static void report(void *u, const char *m) {\n"
                                                    "    (void)u;\n    printf(\"halide: %s\\n\", m);\n}\n"
                                                    "int main(void) {\n"
                                                    "    halide_set_error_handler(report);\n"
                                                    "    float x[128] = {0}, y[36];\n"
                                                    "    int status = gpu_model_predict(x, y);\n"
                                                    "    printf(\"status %d\\n\", status);\n"
                                                    "    return 0;\n}\n");
    const std::string exe = dir / "main";
    const std::string link = "cc -o " + exe + " " + program + " -I" + dir.path.string() + " " + lib.library +
                             " -ldl -lpthread -lm 2>&1";
    REQUIRE(std::system(link.c_str()) == 0);
    const std::string missing = why_no_gpu();
    FILE *pipe = popen((exe + " 2>&1").c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string output;
    char buffer[512];
    while (fgets(buffer, sizeof buffer, pipe)) output += buffer;
    pclose(pipe);
    INFO(output);
    if (!missing.empty()) {
        // No driver: the library reports an error status instead of crashing.
        CHECK_THAT(output, Contains("halide: ") && Contains("CUDA") && Contains("status ") && !Contains("status 0"));
        WARN("SKIPPED: running the emitted library on the GPU (no NVIDIA GPU: " << missing << ")");
    } else {
        CHECK_THAT(output, Contains("status 0"));
    }
}
