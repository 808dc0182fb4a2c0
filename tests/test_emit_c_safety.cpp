// The C library `strata emit` writes is safe with any names and arguments: the
// header compiles (cc -std=c99 -Wall -Werror, and as C++) whatever the inputs,
// outputs and parameters are called (C keywords, '@', "??/" trigraphs, names
// that collide once mangled are refused); every pointer argument is checked;
// the loader refuses what is not a regular file; NAME_state_save never writes
// through a planted temporary file, writes through a symlink at its path and
// keeps the file's mode; non-finite or negative learning rates are refused.

#include "support/run_command.h"
#include "codegen/aot.h"
#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/checkpoint.h"
#include "runtime/random.h"
#include "runtime/safetensors.h"

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>

using namespace strata;
namespace fs = std::filesystem;
using strata::testing::TempDir;
using Catch::Matchers::Contains;

/// Sanitizers on the user's program: the emitted C code must not read out of bounds, overflow or leak.
static const std::string kSanitize = " -fsanitize=address,undefined -fno-sanitize-recover=all ";

namespace {

using strata::testing::CommandResult;
using strata::testing::run_command;
using strata::testing::run_ok;

/// A linear model whose input, output and parameters have awkward names.
struct OddlyNamedNet {
    Graph g;
    Tensor input;
    OddlyNamedNet() {
        Generator gen(3);
        auto x = g.input("int", {2, 4});
        auto w = g.parameter("w@bias", Tensor::randn({3, 4}, gen));
        auto b = g.parameter("a??/b \xc3\xbc*/", Tensor::randn({3}, gen));
        g.output("??=out", linear(x, w, b));
        input = Tensor::randn({2, 4}, gen);
    }
};

/// The header must compile on its own, strictly, as C99 and as C++.
void compile_header_strictly(const fs::path &dir, const std::string &name) {
    std::ofstream(dir / "strict.c") << "#include \"" << name << ".h\"\nint main(void) { return 0; }\n";
    run_ok("cd '" + dir.string() + "' && cc -std=c99 -Wall -Werror -c strict.c -I . -o strict_c.o");
    run_ok("cd '" + dir.string() + "' && c++ -x c++ -std=c++17 -Wall -Werror -c strict.c -I . -o strict_cpp.o");
}

}  // namespace

TEST_CASE("an emitted header compiles whatever its tensors are called, and finds its own external weights") {
    OddlyNamedNet net;
    const Tensor expected = net.g.compile().run(net.input);
    TempDir dir;
    codegen::EmitOptions options;
    options.out_dir = dir.path.string();
    options.name = "odd";
    options.external_weights = true;
    codegen::emit_library(net.g.program(), net.g.parameter_values(), options);
    compile_header_strictly(dir.path, "odd");
    // The weights file keeps the original names, and the library finds them there.
    REQUIRE(read_safetensors(dir / "odd.safetensors").find("w@bias") != nullptr);
    std::ofstream in_file(dir / "input.bin", std::ios::binary);
    in_file.write(static_cast<const char *>(net.input.raw_data()), static_cast<std::streamsize>(net.input.nbytes()));
    in_file.close();
    std::ofstream(dir / "main.c") << R"(#include "odd.h"
int main(void) {
    float in[odd_int__shape[0] * odd_int__shape[1]], out[6];
    char message[512];
    odd_weights *w = NULL, *w2 = NULL;
    int i;
    FILE *f = fopen("input.bin", "rb");
    if (!f || fread(in, sizeof in, 1, f) != 1) return 2;
    fclose(f);
    if (odd_load_weights("odd.safetensors", &w, message, sizeof message) != 0) {
        printf("load failed: %s\n", message);
        return 3;
    }
    printf("null input %d\n", odd_predict(w, NULL, out));
    printf("null output %d\n", odd_predict(w, in, NULL));
    printf("null weights %d\n", odd_predict(NULL, in, out));
    printf("fifo %d: %s\n", odd_load_weights("fifo", &w2, message, sizeof message), message);
    if (odd_predict(w, in, out) != 0) return 4;
    for (i = 0; i < 6; ++i) printf("%.9g\n", out[i]);
    odd_weights_free(w);
    return 0;
}
)";
    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
    run_ok("cd '" + dir.path.string() + "' && cc -std=c99 -Wall -Werror -O1" + kSanitize +
           "main.c -I . odd.a -lpthread -ldl -lm -o main");
    // `timeout`: a loader that waits on the FIFO fails the test instead of hanging it.
    const std::string output = run_ok("cd '" + dir.path.string() + "' && timeout 60 ./main");
    CHECK_THAT(output, Contains("null input 7") && Contains("null output 7") && Contains("null weights 7"));
    CHECK_THAT(output, Contains("fifo 1: fifo: not a regular file"));
    std::istringstream values(output.substr(output.find("file\n") + 5));
    for (int64_t i = 0; i < 6; ++i) {
        double v = 0;
        values >> v;
        CHECK(v == Approx(expected.get_flat(i)).margin(1e-6));
    }
}

TEST_CASE("an embedded library's predict refuses NULL arrays instead of computing nothing") {
    Graph g;
    Generator gen(5);
    auto x = g.input("x", {2, 3});
    g.output("y", relu(x) * g.parameter("scale", Tensor::randn({2, 3}, gen)));
    TempDir dir;
    codegen::EmitOptions options;
    options.out_dir = dir.path.string();
    options.name = "tiny";
    codegen::emit_library(g.program(), g.parameter_values(), options);
    std::ofstream(dir / "main.c") << R"(#include "tiny.h"
int main(void) {
    float in[6] = {1, 2, 3, 4, 5, 6}, out[6];
    printf("%d %d %d\n", tiny_predict(NULL, out), tiny_predict(in, NULL), tiny_predict(in, out));
    return 0;
}
)";
    run_ok("cd '" + dir.path.string() + "' && cc -std=c99 -Wall -Werror main.c -I . tiny.a -lpthread -ldl -lm -o main");
    REQUIRE(run_ok("cd '" + dir.path.string() + "' && ./main") == "7 7 0\n");
}

TEST_CASE("emit refuses inputs and outputs whose C names would collide, naming both") {
    Graph g;
    auto a = g.input("a.b", {2});
    auto b = g.input("a_b", {2});
    g.output("y", a + b);
    TempDir dir;
    codegen::EmitOptions options;
    options.out_dir = dir.path.string();
    REQUIRE_THROWS_WITH(codegen::emit_library(g.program(), {}, options),
                        Contains("'a.b' and 'a_b' would both be called 'a_b' in C"));
    REQUIRE(dir.files().empty());
}

namespace {

std::string strata_binary() { return std::string(STRATA_BINARY_DIR) + "/bin/strata"; }

/// A checkpoint of a one-layer classifier on [4, 1, 2, 2] images, with an SGD optimizer.
std::string classifier_checkpoint(const TempDir &dir, const std::string &initial_lr = "") {
    manual_seed(4);
    nn::Sequential net(nn::Flatten(), nn::Linear(4, 3));
    net->eval();
    Graph g;
    g.output("probabilities", softmax(net->forward(g.input("images", {4, 1, 2, 2})), 1));
    net->train();
    optim::SGD sgd(optim::SGDOptions(0.05).momentum(0.9));
    {
        // Give the optimizer its momentum buffers, as a training run would (they mark what is trained).
        Graph state;
        std::vector<optim::ParamSlot> slots;
        const auto params = net->named_parameters();
        for (const auto &[name, value] : params.items()) {
            SymTensor node = state.parameter(name, value);
            slots.push_back({name, value, node, node});
        }
        sgd.build(state, slots);
    }
    CheckpointInfo info;
    info.ir = g.to_string();
    const std::string path = dir / "model.safetensors";
    save_checkpoint(path, *net, &sgd, info);
    if (!initial_lr.empty()) {
        SafetensorsFile file = read_safetensors(path);
        file.metadata["strata.optim.lr"] = initial_lr;
        file.metadata["strata.optim.initial_lr"] = initial_lr;
        save_safetensors(path, file.tensors, file.metadata);
    }
    return path;
}

}  // namespace

TEST_CASE("NAME_state_save never writes through a planted temporary file, follows a symlink and keeps the mode") {
    TempDir dir;
    const std::string checkpoint = classifier_checkpoint(dir);
    const fs::path lib = dir.path / "lib";
    run_ok(strata_binary() + " emit '" + checkpoint + "' --out '" + lib.string() + "' --name cls --train --lr 0.1");
    compile_header_strictly(lib, "cls");
    std::ofstream(lib / "main.c") << R"(#include "cls.h"
#include <unistd.h>
int main(void) {
    char planted[256], message[512];
    cls_state *s = cls_state_new(), *t = NULL;
    if (!s) return 2;
    /* The old temporary name and this process's first new one, both planted as symlinks. */
    snprintf(planted, sizeof planted, "saved.safetensors.tmp%ld.0", (long)getpid());
    if (symlink("victim", "saved.safetensors.tmp") != 0 || symlink("victim", planted) != 0) return 3;
    if (cls_state_save(s, "saved.safetensors") != 0) return 4;
    if (cls_state_load("saved.safetensors", &t, message, sizeof message) != 0) return 5;
    if (cls_state_save(s, "link.safetensors") != 0) return 6;
    if (cls_state_save(s, "private.safetensors") != 0) return 7;
    printf("null state %d, null path %d\n", cls_state_save(NULL, "x"), cls_state_save(s, NULL));
    cls_state_free(s);
    cls_state_free(t);
    return 0;
}
)";
    std::ofstream(lib / "victim") << "precious";
    std::ofstream(lib / "private.safetensors") << "old";
    ::chmod((lib / "private.safetensors").c_str(), 0600);
    fs::create_directories(lib / "store");
    fs::create_symlink("store/real.safetensors", lib / "link.safetensors");
    run_ok("cd '" + lib.string() + "' && cc -std=gnu99 -Wall -Werror" + kSanitize +
           "main.c -I . cls.a -lpthread -ldl -lm -o main");
    REQUIRE(run_ok("cd '" + lib.string() + "' && ./main") == "null state 7, null path 7\n");
    std::ifstream victim(lib / "victim");
    REQUIRE(std::string(std::istreambuf_iterator<char>(victim), {}) == "precious");
    REQUIRE(read_safetensors((lib / "saved.safetensors").string()).find("1.weight") != nullptr);
    REQUIRE(fs::is_symlink(lib / "link.safetensors"));
    REQUIRE(read_safetensors((lib / "store/real.safetensors").string()).find("1.weight") != nullptr);
    REQUIRE((fs::status(lib / "private.safetensors").permissions() & fs::perms::all) ==
            (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("emit --train refuses a learning rate that is not a finite number >= 0") {
    for (const char *lr : {"nan", "inf", "-0.5"}) {
        TempDir dir;
        const std::string checkpoint = classifier_checkpoint(dir, lr);
        const CommandResult r = run_command(strata_binary() + " emit '" + checkpoint + "' --out '" + (dir / "lib") +
                                            "' --name cls --train");
        INFO(lr << "\n" << r.output);
        CHECK(r.status != 0);
        CHECK_THAT(r.output, Contains("learning rate"));
        CHECK_FALSE(fs::exists(dir / "lib/cls.h"));
    }
}
