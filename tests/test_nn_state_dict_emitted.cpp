// The emitted C library and PyTorch-style state dicts meet: a state that NAME_state_save wrote
// after training steps in C loads back into the C++ model by name (its momentum buffers are the
// unexpected keys a non-strict load returns), and a state dict saved in C++ loads into the C
// library with NAME_state_load.
#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/nn/state_dict.h"
#include "frontend/train/checkpoint.h"
#include "runtime/random.h"

#include <catch2/catch.hpp>

#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace strata;
using Catch::Matchers::Contains;
using strata::testing::run_ok;
using strata::testing::TempDir;

namespace {

constexpr int64_t kBatch = 16;  // as test_emit_train: the JIT aborts on batch 4 for this step

nn::Sequential make_net(uint64_t seed) {
    manual_seed(seed);
    return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
                          nn::Flatten(), nn::Linear(64, 3));
}

/// A C99 program: `train FILE` takes two SGD steps from the library's own weights on made-up
/// data and saves the state to FILE; `load FILE` loads a state from FILE. Both then print
/// every tensor of the state.
const char *program = R"(#include "small.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
enum { IMAGE = small_BATCH * 1 * 8 * 8 };
int main(int argc, char **argv) {
    static float images[IMAGE];
    static int32_t labels[small_BATCH];
    char message[512];
    float loss;
    int i, k;
    small_state *s = NULL;
    if (argc != 3) return 2;
    for (i = 0; i < IMAGE; ++i) images[i] = (float)sin(0.37 * i);
    for (i = 0; i < small_BATCH; ++i) labels[i] = i % small_CLASSES;
    if (strcmp(argv[1], "train") == 0) {
        s = small_state_new();
        if (!s) return 3;
        for (k = 0; k < 2; ++k)
            if (small_train_step(s, images, labels, &loss) != 0) return 4;
        if (small_state_save(s, argv[2]) != 0) return 5;
    } else if (small_state_load(argv[2], &s, message, sizeof message) != 0) {
        printf("load failed: %s\n", message);
        return 6;
    }
    for (i = 0; i < small_TENSOR_COUNT; ++i) {
        if (!s->tensor[i]) continue;
        printf("tensor %s", small_tensor_names[i]);
        for (k = 0; k < small_tensor_numel[i]; ++k) printf(" %.9g", s->tensor[i][k]);
        printf("\n");
    }
    small_state_free(s);
    return 0;
}
)";

/// "tensor NAME v0 v1 ..." lines of the program's output, by name.
std::map<std::string, std::vector<double>> printed_tensors(const std::string &output) {
    std::map<std::string, std::vector<double>> out;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string keyword, name;
        if (!(words >> keyword >> name) || keyword != "tensor") continue;
        for (double v; words >> v;) out[name].push_back(v);
    }
    return out;
}

/// The parameters of `net` (f32) equal, value for value, what the C program printed: %.9g text
/// read back and rounded to f32 is the f32 printed.
void check_parameters_equal(const nn::Module &net, const std::map<std::string, std::vector<double>> &printed) {
    for (const auto &[name, t] : net.named_parameters()) {
        INFO(name);
        REQUIRE(printed.count(name) == 1);
        const std::vector<double> &values = printed.at(name);
        REQUIRE(static_cast<int64_t>(values.size()) == t.numel());
        int64_t first_wrong = -1;
        for (int64_t i = t.numel() - 1; i >= 0; --i)
            if (t.data<float>()[i] != static_cast<float>(values[static_cast<size_t>(i)])) first_wrong = i;
        INFO("first difference at " << first_wrong << ": " << (first_wrong < 0 ? 0.0 : t.get_flat(first_wrong))
                                    << " in C++, " << (first_wrong < 0 ? 0.0 : values[static_cast<size_t>(first_wrong)])
                                    << " in C");
        CHECK(first_wrong == -1);
    }
}

}  // namespace

TEST_CASE("A state saved by the emitted library loads by name into the C++ model, and back", "[emit][nn][state_dict]") {
    const std::string strata = std::string(STRATA_BINARY_DIR) + "/bin/strata";
    INFO("build the strata command line (target strata_cli) before running this test");
    REQUIRE(std::filesystem::exists(strata));
    TempDir work, lib;
    nn::Sequential net = make_net(7);
    net->eval();
    Graph g;
    g.output("probabilities", softmax(net->forward(g.input("images", {kBatch, 1, 8, 8})), 1));
    CheckpointInfo info;
    info.ir = g.to_string();
    save_checkpoint(work / "model.safetensors", *net, nullptr, info);
    run_ok(strata + " emit " + work / "model.safetensors" + " --out " + lib.path.string() +
           " --name small --train --lr 0.1 --momentum 0.9");
    std::ofstream(lib / "main.c") << program;
    run_ok("cd " + lib.path.string() + " && cc -std=c99 -O1 main.c -I . small.a -lpthread -ldl -lm -o main");

    // C trains and saves; C++ loads the weights by name into a model initialised otherwise.
    const std::string trained = lib / "trained.safetensors";
    const auto after_steps = printed_tensors(run_ok("cd " + lib.path.string() + " && ./main train " + trained));
    nn::Sequential other = make_net(99);
    const nn::IncompatibleKeys keys = nn::load_state_dict(*other, trained, {.strict = false});
    CHECK(keys.missing_keys.empty());
    std::vector<std::string> momentum;
    for (const auto &name : other->named_parameters().keys()) momentum.push_back("optim." + name + ".momentum_buffer");
    std::sort(momentum.begin(), momentum.end());
    std::vector<std::string> unexpected = keys.unexpected_keys;
    std::sort(unexpected.begin(), unexpected.end());
    CHECK(unexpected == momentum);  // the SGD state, which a module does not hold
    check_parameters_equal(*other, after_steps);
    // The weights did move: they are not the initial ones.
    CHECK(other->named_parameters()["4.bias"].get_flat(0) != net->named_parameters()["4.bias"].get_flat(0));
    // Strict, the momentum buffers are unexpected keys, as PyTorch would say.
    CHECK_THROWS_WITH(nn::load_state_dict(*other, trained),
                      Contains("Unexpected key(s) in state_dict: \"optim.0.weight.momentum_buffer\""));

    // C++ saves a state dict; the C library loads it with NAME_state_load.
    const std::string from_cpp = work / "from_cpp.safetensors";
    nn::save_state_dict(*other, from_cpp);
    const auto loaded = printed_tensors(run_ok("cd " + lib.path.string() + " && ./main load " + from_cpp));
    check_parameters_equal(*other, loaded);
}
