// `strata emit --train`: the training step compiled into a C library takes
// the same steps as the in-process TrainStep (fresh momentum, momentum resumed
// from a checkpoint, weights and momentum read from DIR/NAME.safetensors), its
// state saves and loads exactly, a bad label is an error code, and bad options
// write nothing. `--train-schedule` compiles the step with the schedule
// `strata schedule dump --train` writes (or a hand-edited one) and refuses one
// that does not fit the training program.

#include "support/run_command.h"
#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/checkpoint.h"
#include "frontend/train/data_loader.h"
#include "frontend/train/train_step.h"
#include "runtime/random.h"

#include <catch2/catch.hpp>

#include "tests/support/synthetic_images.h"
#include "tests/support/temp_dir.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace strata;
namespace fs = std::filesystem;
using strata::testing::TempDir;
using Catch::Matchers::Contains;

namespace {

// Batch 4 would be smaller, but the JIT aborts on it inside LLVM ("Invalid size request
// on a scalable vector") while compiling this net's training step.
constexpr int64_t kBatch = 16;
constexpr int64_t kBatches = 3;  // the synthetic set has 48 images

using strata::testing::CommandResult;
using strata::testing::run_command;
using strata::testing::run_ok;

std::string strata_binary() {
    const std::string path = std::string(STRATA_BINARY_DIR) + "/bin/strata";
    INFO("build the strata command line (target strata_cli) before running this test");
    REQUIRE(fs::exists(path));
    return path;
}

nn::Sequential make_net() {
    manual_seed(7);
    return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
                          nn::Flatten(), nn::Linear(64, 3));
}

/// The model's inference IR as the examples save it: softmax over the logits.
std::string inference_ir(nn::Sequential &net) {
    net->eval();
    Graph g;
    g.output("probabilities", softmax(net->forward(g.input("images", {kBatch, 1, 8, 8})), 1));
    net->train();
    return g.to_string();
}

/// What a checkpoint records besides the tensors: the model's IR and the step.
CheckpointInfo with_ir(const std::string &ir, int64_t step = 0) {
    CheckpointInfo info;
    info.ir = ir;
    info.step = step;
    return info;
}

/// Batch `i` of the synthetic images, in order.
std::pair<Tensor, Tensor> batch(int64_t i) {
    static const Dataset data = strata::testing::synthetic_images();
    const Batch b = DataLoader(data, {kBatch, false, 0, true}).batch(i);
    return {b.inputs, b.targets};
}

void write_binary(const std::string &path, const std::vector<Tensor> &tensors) {
    std::ofstream out(path, std::ios::binary);
    for (const Tensor &t : tensors) out.write(static_cast<const char *>(t.raw_data()), static_cast<std::streamsize>(t.nbytes()));
}

/// A C99 program that takes `steps` steps from the emitted state on batches
/// from batches.bin, printing each loss and then every state tensor; it also
/// checks a bad label is refused and that a saved and reloaded state steps
/// exactly as the original.
const char *train_program = R"(#include "small.h"
#include <stdio.h>
#include <stdlib.h>
enum { IMAGE = small_BATCH * 1 * 8 * 8, BATCHES = 3 };
int main(int argc, char **argv) {
    int steps = atoi(argv[1]), i, k;
    static float images[BATCHES * IMAGE];
    static int32_t labels[BATCHES * small_BATCH], bad[small_BATCH];
    float loss, loss_a, loss_b;
    char message[512];
    small_state *s = NULL, *t = NULL;
    FILE *f = fopen("batches.bin", "rb");
#ifdef small_WEIGHTS_EXTERNAL
    if (small_state_load("small.safetensors", &s, message, sizeof message) != 0) {
        printf("load failed: %s\n", message);
        return 7;
    }
#else
    s = small_state_new();
#endif
    if (!s || !f || fread(images, sizeof images, 1, f) != 1 || fread(labels, sizeof labels, 1, f) != 1) return 2;
    fclose(f);
    s->lr = 0.1f;
    for (k = 0; k < steps; ++k) {
        const int b = argc > 2 ? k + 1 : k; /* "skip": start at batch 1 */
        if (small_train_step(s, images + b * IMAGE, labels + b * small_BATCH, &loss) != 0) return 3;
        printf("loss %.9g\n", loss);
    }
    for (i = 0; i < small_TENSOR_COUNT; ++i) {
        printf("tensor %s", small_tensor_names[i]);
        for (k = 0; k < small_tensor_numel[i]; ++k) printf(" %.9g", s->tensor[i][k]);
        printf("\n");
    }
    for (i = 0; i < small_BATCH; ++i) bad[i] = labels[i];
    bad[2] = small_CLASSES;
    printf("bad label: %d\n", small_train_step(s, images, bad, &loss));
    if (small_state_save(s, "saved.safetensors") != 0) return 4;
    if (small_state_load("saved.safetensors", &t, message, sizeof message) != 0) {
        printf("load failed: %s\n", message);
        return 5;
    }
    t->lr = s->lr;
    if (small_train_step(s, images, labels, &loss_a) != 0 || small_train_step(t, images, labels, &loss_b) != 0) return 6;
    for (i = 0; i < small_TENSOR_COUNT; ++i)
        for (k = 0; k < small_tensor_numel[i]; ++k)
            if (s->tensor[i][k] != t->tensor[i][k]) loss_b = -1;
    printf("reloaded state steps %s\n", loss_a == loss_b ? "identically" : "differently");
    small_state_free(s);
    small_state_free(t);
    return 0;
}
)";

struct EmittedRun {
    std::vector<double> losses;
    std::map<std::string, std::vector<double>> tensors;
    std::string output;
};

/// Emits `checkpoint` with --train (and `options`) into `dir`, builds the C program and runs
/// `steps` steps (starting at batch 1 when `skip_first`).
EmittedRun emit_and_train(const TempDir &dir, const std::string &checkpoint, int steps, bool skip_first,
                          const std::string &options = "") {
    run_ok(strata_binary() + " emit " + checkpoint + " --out " + dir.path.string() +
           " --name small --train --lr 0.1 --momentum 0.9 " + options);
    std::ofstream(dir / "main.c") << train_program;
    run_ok("cd " + dir.path.string() + " && cc -std=c99 -O1 main.c -I . small.a -lpthread -ldl -lm -o main");
    EmittedRun run;
    run.output =
        run_ok("cd " + dir.path.string() + " && ./main " + std::to_string(steps) + (skip_first ? " skip" : ""));
    std::istringstream lines(run.output);
    std::string word;
    while (lines >> word) {
        if (word == "loss") {
            double v = 0;
            lines >> v;
            run.losses.push_back(v);
        } else if (word == "tensor") {
            std::string name, rest;
            lines >> name;
            std::getline(lines, rest);
            std::istringstream values(rest);
            double v = 0;
            while (values >> v) run.tensors[name].push_back(v);
        }
    }
    return run;
}

/// Every value of `expected` (by the C API's tensor names) matches the emitted state.
void check_state(const EmittedRun &run, const std::map<std::string, Tensor> &expected) {
    REQUIRE(run.tensors.size() == expected.size());
    for (const auto &[name, tensor] : expected) {
        INFO("tensor " << name);
        REQUIRE(run.tensors.count(name) == 1);
        const std::vector<double> &got = run.tensors.at(name);
        REQUIRE(static_cast<int64_t>(got.size()) == tensor.numel());
        for (int64_t i = 0; i < tensor.numel(); ++i) CHECK(got[static_cast<size_t>(i)] == Approx(tensor.get_flat(i)).margin(1e-5));
    }
}

/// The model's parameters and SGD momentum buffers under the names the C API gives them.
std::map<std::string, Tensor> state_of(nn::Sequential &net, const optim::SGD &sgd) {
    std::map<std::string, Tensor> out;
    const auto parameters = net->named_parameters();
    for (const auto &[name, value] : parameters.items()) {
        out[name] = value.clone();
        out["optim." + name + ".momentum_buffer"] = sgd.state().at(name + ".momentum_buffer").clone();
    }
    return out;
}

std::string read_text(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    INFO(path);
    REQUIRE(in);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

/// The lines of `text` that contain `part`.
std::vector<std::string> lines_with(const std::string &text, const std::string &part) {
    std::vector<std::string> out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        if (line.find(part) != std::string::npos) out.push_back(line);
    return out;
}

/// The Func of the first stage line whose Func name ends with `suffix` ("_relu": "n4_relu").
std::string stage_func(const std::string &stages, const std::string &suffix) {
    std::istringstream lines(stages);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string keyword, func;
        words >> keyword >> func;
        if (keyword == "stage" && func.size() > suffix.size() &&
            func.compare(func.size() - suffix.size(), suffix.size(), suffix) == 0)
            return func;
    }
    FAIL("no stage line for a Func named *" << suffix << " in\n" << stages);
    return "";
}

/// The stage line of `func` in a stage schedule ("" when it has none).
std::string stage_line(const std::string &stages, const std::string &func) {
    for (const std::string &line : lines_with(stages, "stage " + func + " "))
        if (line.rfind("stage " + func + " ", 0) == 0) return line;
    return "";
}

/// A checksum of the training step's object in the library in `dir`: Halide compiles the
/// same schedule to the same bytes, so it changes when the step's schedule does.
std::string train_object_checksum(const TempDir &dir) {
    return run_ok("cd " + dir.path.string() + " && ar p small.a small_train_pipeline.o | cksum");
}

/// Both runs took the same steps: every loss and state value within `margin` (no relative slack).
void check_same_steps(const EmittedRun &got, const EmittedRun &want, double margin) {
    REQUIRE(got.losses.size() == want.losses.size());
    for (size_t i = 0; i < want.losses.size(); ++i)
        CHECK(got.losses[i] == Approx(want.losses[i]).epsilon(0).margin(margin));
    REQUIRE(got.tensors.size() == want.tensors.size());
    for (const auto &[name, values] : want.tensors) {
        INFO("tensor " << name);
        REQUIRE(got.tensors.count(name) == 1);
        const std::vector<double> &g = got.tensors.at(name);
        REQUIRE(g.size() == values.size());
        for (size_t i = 0; i < values.size(); ++i) CHECK(g[i] == Approx(values[i]).epsilon(0).margin(margin));
    }
    CHECK(got.output.find("reloaded state steps identically") != std::string::npos);
}

}  // namespace

TEST_CASE("the emitted training step takes the same steps as the in-process TrainStep", "[emit][train]") {
    TempDir work, fresh_lib, resumed_lib, external_lib;
    nn::Sequential net = make_net();
    const std::string ir = inference_ir(net);
    // A checkpoint with no optimizer state: the emitted momentum starts at the first step.
    save_checkpoint(work / "fresh.safetensors", *net, nullptr, with_ir(ir));

    optim::SGD sgd(optim::SGDOptions(0.1).momentum(0.9));
    TrainStep step(*net, sgd, {kBatch, 1, 8, 8}, {kBatch}, DType::i32,
                   [](const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); });
    const auto [x0, t0] = batch(0);
    const auto [x1, t1] = batch(1);
    const double loss0 = step.step(x0, t0).loss;
    // A checkpoint after one step: the emitted state resumes its momentum buffers.
    save_checkpoint(work / "resumed.safetensors", *net, &sgd, with_ir(ir, 1));
    const double loss1 = step.step(x1, t1).loss;
    const std::map<std::string, Tensor> after_two = state_of(net, sgd);

    // Every batch's images, then every batch's labels, for the C program.
    std::vector<Tensor> batches;
    for (int64_t i = 0; i < kBatches; ++i) batches.push_back(batch(i).first);
    for (int64_t i = 0; i < kBatches; ++i) batches.push_back(batch(i).second);
    write_binary(fresh_lib / "batches.bin", batches);
    write_binary(resumed_lib / "batches.bin", batches);
    write_binary(external_lib / "batches.bin", batches);

    SECTION("from fresh weights: the first-step momentum rule, then momentum") {
        const EmittedRun run = emit_and_train(fresh_lib, work / "fresh.safetensors", 2, false);
        REQUIRE(run.losses.size() == 2);
        CHECK(run.losses[0] == Approx(loss0).margin(1e-5));
        CHECK(run.losses[1] == Approx(loss1).margin(1e-5));
        check_state(run, after_two);
        CHECK(run.output.find("bad label: 5") != std::string::npos);
        CHECK(run.output.find("reloaded state steps identically") != std::string::npos);
    }
    SECTION("from a checkpoint with momentum buffers: resumed as saved") {
        const EmittedRun run = emit_and_train(resumed_lib, work / "resumed.safetensors", 1, true);
        REQUIRE(run.losses.size() == 1);
        CHECK(run.losses[0] == Approx(loss1).margin(1e-5));
        check_state(run, after_two);
        // Only the C runtime is needed: no Strata, Halide or LLVM.
        const std::string undefined = run_ok("nm -u " + (resumed_lib / "main"));
        CHECK(undefined.find("strata") == std::string::npos);
        CHECK(undefined.find("Halide") == std::string::npos);
        CHECK(undefined.find("llvm") == std::string::npos);
        const std::string libraries = run_ok("ldd " + (resumed_lib / "main"));
        CHECK(libraries.find("Halide") == std::string::npos);
        CHECK(libraries.find("LLVM") == std::string::npos);
        CHECK(libraries.find("strata") == std::string::npos);
    }
    SECTION("with --weights external: the state loads the weights and momentum written beside the library") {
        const EmittedRun run = emit_and_train(external_lib, work / "resumed.safetensors", 1, true, "--weights external");
        REQUIRE(run.losses.size() == 1);
        CHECK(run.losses[0] == Approx(loss1).margin(1e-5));
        check_state(run, after_two);
    }
}

TEST_CASE("emit --train errors name the problem and write nothing", "[emit][train][errors]") {
    TempDir work, out;
    nn::Sequential net = make_net();
    save_checkpoint(work / "model.safetensors", *net, nullptr, with_ir(inference_ir(net)));
    // A model whose output is not [N, classes] (logits or their softmax): not a classifier the step knows how to train.
    Graph g;
    net->eval();
    g.output("logits", reshape(net->forward(g.input("images", {kBatch, 1, 8, 8})), {kBatch, 3, 1}));
    save_checkpoint(work / "logits.safetensors", *net, nullptr, with_ir(g.to_string()));

    const std::string emit = strata_binary() + " emit ";
    const std::string to = " --out " + out.path.string();
    struct Case {
        std::string arguments, message;
    };
    for (const Case &c : std::vector<Case>{
             {work / "model.safetensors" + to + " --train --weights inside", "'inside' is not 'embedded' or 'external'"},
             {work / "model.safetensors" + to + " --train --target no-such-target", "unknown target 'no-such-target'"},
             {work / "missing.safetensors" + to + " --train", "missing.safetensors"},
             {work / "model.safetensors" + to + " --train --momentum -1", "--momentum: -1 is not a momentum"},
             {work / "model.safetensors" + to + " --lr 0.1", "add --train"},
             {work / "logits.safetensors" + to + " --train", "softmax(logits, 1) or log_softmax(logits, 1)"},
         }) {
        const CommandResult r = run_command(emit + c.arguments);
        INFO(c.arguments << "\n" << r.output);
        CHECK(r.status != 0);
        CHECK(r.output.find(c.message) != std::string::npos);
        CHECK(out.files().empty());
    }
}

TEST_CASE("emit --train-schedule: the dumped training-step schedule and hand-edited ones take the default's steps",
          "[emit][train][schedule]") {
    TempDir work, default_lib, dumped_lib, rules_lib, stages_lib;
    nn::Sequential net = make_net();
    const std::string checkpoint = work / "model.safetensors";
    save_checkpoint(checkpoint, *net, nullptr, with_ir(inference_ir(net)));
    std::vector<Tensor> batches;
    for (int64_t i = 0; i < kBatches; ++i) batches.push_back(batch(i).first);
    for (int64_t i = 0; i < kBatches; ++i) batches.push_back(batch(i).second);
    for (const TempDir *dir : {&default_lib, &dumped_lib, &rules_lib, &stages_lib})
        write_binary(*dir / "batches.bin", batches);
    // The schedule of the step `emit --train --momentum 0.9` compiles (emit_and_train's options).
    const std::string dump = strata_binary() + " schedule dump " + checkpoint + " --train --momentum 0.9";

    // One default run, then each schedule in turn (not SECTIONs: each would emit the default again).
    const EmittedRun want = emit_and_train(default_lib, checkpoint, 2, false);
    REQUIRE(want.losses.size() == 2);
    CHECK_THAT(read_text(default_lib / "small.h"), Contains("training step default"));
    const std::string default_object = train_object_checksum(default_lib);

    {  // the default schedule, dumped as stage lines and loaded back
        const std::string file = work / "train.stages";
        run_ok(dump + " --stages --out " + file);
        const std::string stages = read_text(file);
        REQUIRE_THAT(stages, Contains("algorithm default") && Contains("_conv2d_grad_weight") &&
                                 Contains("_max_pool2d_grad"));
        const EmittedRun got = emit_and_train(dumped_lib, checkpoint, 2, false, "--train-schedule " + file);
        check_same_steps(got, want, 1e-6);
        CHECK_THAT(read_text(dumped_lib / "small.h"), Contains("training step file train.stages (stage lines)"));
    }
    {  // rules on two gradient ops
        const std::string file =
            work.write("train.rules", "op max_pool2d_grad vectorize=4\nop conv2d_grad_weight vectorize=4 parallel=off\n");
        // The rules are in effect on those nodes of the step, as the dump shows.
        const std::string before = run_ok(dump), after = run_ok(dump + " --schedule " + file);
        for (const char *op : {"# max_pool2d_grad ", "# conv2d_grad_weight "}) {
            INFO(op << "\ndefault:\n" << before << "\nwith the rules:\n" << after);
            const std::vector<std::string> old_lines = lines_with(before, op), new_lines = lines_with(after, op);
            REQUIRE(new_lines.size() == 1);
            REQUIRE(old_lines.size() == 1);
            CHECK_THAT(new_lines[0], Contains(" vectorize=4 "));
            CHECK(new_lines[0] != old_lines[0]);
        }
        CHECK_THAT(lines_with(after, "# conv2d_grad_weight ")[0], Contains("parallel=off"));
        CHECK_THAT(run_ok(strata_binary() + " schedule check " + checkpoint + " --train --schedule " + file),
                   Contains("agrees with the default schedule") && Contains("update:0.weight") && Contains("loss"));
        const EmittedRun got = emit_and_train(rules_lib, checkpoint, 2, false, "--train-schedule " + file);
        check_same_steps(got, want, 1e-6);
        CHECK(train_object_checksum(rules_lib) != default_object);
        CHECK_THAT(read_text(rules_lib / "small.h"), Contains("training step file train.rules (rules on the default)"));
    }
    {  // a stage line rewritten by hand
        const std::string stages = run_ok(dump + " --stages");
        // The ReLU mask of the backward pass: a 4-d pointwise stage no other stage is computed
        // at (the forward relu carries the conv's epilogue, so its loops are not free to change).
        const std::string mask = stage_func(stages, "_where");
        const std::string old_line = stage_line(stages, mask);
        REQUIRE(!old_line.empty());
        const std::string new_line = "stage " + mask +
                                     " compute_root() split(d3, d3, xi, 4, ShiftInwards) reorder(xi, d3, d2, d1, d0) "
                                     "vectorize(xi) parallel(d0)";
        std::string edited = stages;
        edited.replace(edited.find(old_line), old_line.size(), new_line);
        const std::string file = work.write("edited.stages", edited);
        // Read back from Halide's schedule of the lowered step: the new split and loop order.
        const std::string read_back = stage_line(run_ok(dump + " --stages --schedule " + file), mask);
        INFO("default: " << old_line << "\nedited: " << new_line << "\nread back: " << read_back);
        CHECK_THAT(read_back, Contains(", 4, ShiftInwards)") && Contains("parallel(d0)"));
        CHECK(read_back != old_line);
        const EmittedRun got = emit_and_train(stages_lib, checkpoint, 2, false, "--train-schedule " + file);
        check_same_steps(got, want, 1e-6);
        CHECK(train_object_checksum(stages_lib) != default_object);
    }
}

TEST_CASE("emit --train-schedule refuses a schedule that does not fit the training step, naming the node or stage",
          "[emit][train][schedule][errors]") {
    TempDir work, out;
    nn::Sequential net = make_net();
    const std::string checkpoint = work / "model.safetensors";
    save_checkpoint(checkpoint, *net, nullptr, with_ir(inference_ir(net)));
    const std::string strata = strata_binary();
    const std::string dump = strata + " schedule dump " + checkpoint + " --train";
    // The step's relu node (by id) and Func (by stage name), as the dumps name them.
    const std::vector<std::string> relu_lines = lines_with(run_ok(dump), "# relu ");
    REQUIRE(relu_lines.size() == 1);
    const std::string relu_node = relu_lines[0].substr(5, relu_lines[0].find(' ', 5) - 5);
    REQUIRE(relu_node.rfind('%', 0) == 0);
    const std::string relu_func = stage_func(run_ok(dump + " --stages"), "_relu");

    struct Case {
        std::string schedule, message;
    };
    for (const Case &c : std::vector<Case>{
             {"node %9999 compute=root\n", "node %9999 does not exist"},
             {"node " + relu_node + " tile=16x2\n", "schedule for " + relu_node + " (relu): directive 'tile' does not apply"},
             {"algorithm default\nstage n9999_missing compute_root()\n", "there is no Func 'n9999_missing'"},
             {"algorithm default\nstage " + relu_func + " compute_root() vectorize(no_such_loop)\n",
              relu_func + " has no loop 'no_such_loop'"},
         }) {
        const std::string file = work.write("bad.schedule", c.schedule);
        const CommandResult r = run_command(strata + " emit " + checkpoint + " --out " + out.path.string() +
                                            " --train --train-schedule " + file);
        INFO(c.schedule << "\n" << r.output);
        CHECK(r.status != 0);
        CHECK_THAT(r.output, Contains("strata: error: emit: the training step under schedule '" + file + "'") &&
                                 Contains(c.message) && Contains("strata schedule dump CHECKPOINT --train"));
        CHECK(out.files().empty());
    }
    for (const Case &c : std::vector<Case>{
             {" emit " + checkpoint + " --out " + out.path.string() + " --train-schedule simple", "add --train"},
             {" emit " + checkpoint + " --out " + out.path.string() + " --train --train-schedule " + work / "none",
              "emit --train-schedule: unknown schedule"},
             {" schedule dump " + work.write("model.ir", inference_ir(net)) + " --train", "is not a checkpoint"},
             {" schedule dump " + checkpoint + " --momentum 0", "add --train"},
         }) {
        const CommandResult r = run_command(strata + c.schedule);
        INFO(c.schedule << "\n" << r.output);
        CHECK(r.status != 0);
        CHECK_THAT(r.output, Contains(c.message));
        CHECK(out.files().empty());
    }
}
