// strata emit's library: a static library + plain C header that links with
// only the C runtime, gives the JIT's numbers, cross-compiles, loads external
// weights (refusing bad files with an error code), and writes nothing when it
// fails.

#include "codegen/aot.h"
#include "frontend/functional.h"
#include "runtime/safetensors.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace strata;
namespace fs = std::filesystem;

namespace {

/// A small CNN with weights, inputs [2, 1, 12, 12] -> logits [2, 3].
struct SmallNet {
    Graph g;
    Tensor input;
    SmallNet() {
        Generator gen(11);
        auto x = g.input("images", {2, 1, 12, 12});
        auto w = g.parameter("conv.weight", Tensor::randn({4, 1, 3, 3}, gen, DType::f32, 0, 0.5));
        auto b = g.parameter("conv.bias", Tensor::randn({4}, gen));
        auto fw = g.parameter("fc.weight", Tensor::randn({3, 4 * 6 * 6}, gen, DType::f32, 0, 0.1));
        auto h = max_pool2d(relu(conv2d(x, w, b, {.padding = 1})), {2});
        g.output("logits", linear(flatten(h, 1), fw));
        input = Tensor::randn({2, 1, 12, 12}, gen);
    }
};

std::string run_command(const std::string &command, int expected_exit_code = 0) {
    std::string output;
    FILE *pipe = popen((command + " 2>&1").c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    while (fgets(buffer, sizeof buffer, pipe)) output += buffer;
    const int status = pclose(pipe);
    INFO(command << "\n" << output);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == expected_exit_code);
    return output;
}

fs::path fresh_dir(const std::string &name) {
    fs::path dir = fs::temp_directory_path() / ("strata-emit-test-" + name + "-" + std::to_string(getpid()));
    fs::remove_all(dir);
    return dir;
}

void write_binary(const fs::path &path, const Tensor &t) {
    std::ofstream out(path, std::ios::binary);
    out.write(static_cast<const char *>(t.raw_data()), static_cast<std::streamsize>(t.nbytes()));
}

}  // namespace

TEST_CASE("an emitted library links with only the C runtime and matches the JIT", "[emit]") {
    SmallNet net;
    const Tensor expected = net.g.compile().run(net.input);
    const fs::path dir = fresh_dir("host");
    codegen::EmitOptions options;
    options.out_dir = dir.string();
    options.name = "small";
    const auto lib = codegen::emit_library(net.g.program(), net.g.parameter_values(), options);
    REQUIRE(fs::exists(lib.library));
    REQUIRE(fs::exists(lib.header));
    REQUIRE(fs::exists(dir / "README.txt"));
    REQUIRE(fs::exists(dir / "HalideRuntime.h"));

    write_binary(dir / "input.bin", net.input);
    std::ofstream(dir / "main.c") << R"(#include "small.h"
#include <stdio.h>
int main(void) {
    float in[2 * 12 * 12], out[2 * 3];
    FILE *f = fopen("input.bin", "rb");
    if (!f || fread(in, sizeof in, 1, f) != 1) return 2;
    fclose(f);
    if (small_predict(in, out) != 0) return 3;
    for (int i = 0; i < 6; ++i) printf("%.9g\n", out[i]);
    return 0;
}
)";
    run_command("cd " + dir.string() + " && cc -std=c99 -O1 main.c -I . small.a -lpthread -ldl -lm -o main");
    const std::string printed = run_command("cd " + dir.string() + " && ./main");
    std::istringstream values(printed);
    for (int64_t i = 0; i < 6; ++i) {
        double v = 0;
        values >> v;
        CHECK(v == Approx(expected.get_flat(i)).margin(1e-6));
    }
    // Only libc, libm, libpthread and libdl symbols are needed: no Strata, Halide or LLVM.
    const std::string undefined = run_command("nm -u " + (dir / "main").string());
    CHECK(undefined.find("strata") == std::string::npos);
    CHECK(undefined.find("Halide") == std::string::npos);
    CHECK(undefined.find("llvm") == std::string::npos);
    const std::string libraries = run_command("ldd " + (dir / "main").string());
    CHECK(libraries.find("Halide") == std::string::npos);
    CHECK(libraries.find("LLVM") == std::string::npos);
    CHECK(libraries.find("strata") == std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("emit cross-compiles an AArch64 library", "[emit]") {
    SmallNet net;
    const fs::path dir = fresh_dir("arm");
    codegen::EmitOptions options;
    options.out_dir = dir.string();
    options.name = "small_arm";
    options.target = "arm-64-linux";
    const auto lib = codegen::emit_library(net.g.program(), net.g.parameter_values(), options);
    CHECK(lib.target == "arm-64-linux");
    const std::string described = run_command("cd " + dir.string() + " && ar x small_arm.a && file *.o");
    CHECK(described.find("aarch64") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("emit errors name the problem and write nothing", "[emit][errors]") {
    SmallNet net;
    const fs::path dir = fresh_dir("errors");
    codegen::EmitOptions options;
    options.out_dir = dir.string();
    options.target = "no-such-target";
    REQUIRE_THROWS_WITH(codegen::emit_library(net.g.program(), net.g.parameter_values(), options),
                        Catch::Contains("unknown target 'no-such-target'"));
    CHECK(!fs::exists(dir / "model.a"));
    options.target = "host";
    options.name = "9lives";
    REQUIRE_THROWS_WITH(codegen::emit_library(net.g.program(), net.g.parameter_values(), options),
                        Catch::Contains("must be a C identifier"));
    options.name = "model";
    REQUIRE_THROWS_WITH(codegen::emit_library(net.g.program(), {}, options),
                        Catch::Contains("no value for parameter 'conv.weight'"));
    CHECK(!fs::exists(dir / "model.a"));
    CHECK(!fs::exists(dir / "model.h"));
    fs::remove_all(dir);
}

namespace {

/// A safetensors file written byte by byte: `header` is the JSON, `data_bytes` zeros follow.
void write_raw_safetensors(const fs::path &path, const std::string &header, size_t data_bytes) {
    std::ofstream out(path, std::ios::binary);
    const uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
    out << header << std::string(data_bytes, '\0');
}

}  // namespace

TEST_CASE("external weights give the embedded library's outputs and bad files give error codes", "[emit][weights]") {
    SmallNet net;
    const Tensor expected = net.g.compile().run(net.input);
    const fs::path dir = fresh_dir("external");
    codegen::EmitOptions options;
    options.out_dir = dir.string();
    options.name = "small";
    options.external_weights = true;
    const auto lib = codegen::emit_library(net.g.program(), net.g.parameter_values(), options);
    REQUIRE(lib.weights == (dir / "small.safetensors").string());
    // The weights file is plain safetensors with the model's names.
    const SafetensorsFile saved = read_safetensors(lib.weights);
    REQUIRE(saved.tensors.size() == 3);
    CHECK(saved.find("conv.weight")->shape() == Shape{4, 1, 3, 3});

    write_binary(dir / "input.bin", net.input);
    std::ofstream(dir / "main.c") << R"(#include "small.h"
#include <stdio.h>
int main(int argc, char **argv) {
    float in[2 * 12 * 12], out[2 * 3];
    char message[512];
    small_weights *w = NULL;
    int result = small_load_weights(argv[1], &w, message, sizeof message);
    FILE *f = fopen("input.bin", "rb");
    if (result != 0) {
        printf("error %d: %s\n", result, message);
        return 10 + result;
    }
    if (!f || fread(in, sizeof in, 1, f) != 1) return 2;
    fclose(f);
    if (small_predict(w, in, out) != 0) return 3;
    for (int i = 0; i < 6; ++i) printf("%.9g\n", out[i]);
    small_weights_free(w);
    return 0;
}
)";
    run_command("cd " + dir.string() + " && cc -std=c99 -O1 main.c -I . small.a -lpthread -ldl -lm -o main");
    std::istringstream values(run_command("cd " + dir.string() + " && ./main small.safetensors"));
    for (int64_t i = 0; i < 6; ++i) {
        double v = 0;
        values >> v;
        CHECK(v == Approx(expected.get_flat(i)).margin(1e-6));
    }

    // Each bad file is refused with its error code (OPEN 1, FORMAT 2, MISMATCH 3) and a message.
    const std::string entry_fc = R"("fc.weight":{"dtype":"F32","shape":[3,144],"data_offsets":[)";
    const std::string good_rest = R"("conv.bias":{"dtype":"F32","shape":[4],"data_offsets":[144,160]},)" + entry_fc +
                                  "160,1888]}}";
    write_raw_safetensors(dir / "offsets.safetensors",
                          R"({"conv.weight":{"dtype":"F32","shape":[4,1,3,3],"data_offsets":[0,144]},)" +
                              std::string(R"("conv.bias":{"dtype":"F32","shape":[4],"data_offsets":[144,160]},)") +
                              entry_fc + "160,999999]}}",
                          1888);
    write_raw_safetensors(dir / "json.safetensors", R"({"conv.weight":{"dtype":"F32","shape":[4,1,3,3],)", 100);
    write_raw_safetensors(dir / "dtype.safetensors",
                          R"({"conv.weight":{"dtype":"F64","shape":[4,1,3,3],"data_offsets":[0,288]},)" + good_rest,
                          2032);
    std::ofstream(dir / "truncated.safetensors", std::ios::binary)
        << std::ifstream(lib.weights, std::ios::binary).rdbuf();
    fs::resize_file(dir / "truncated.safetensors", 40);
    std::ofstream(dir / "empty.safetensors").close();
    save_safetensors((dir / "shape.safetensors").string(),
                     {{"conv.weight", Tensor::zeros({4, 1, 2, 2})}, {"conv.bias", Tensor::zeros({4})},
                      {"fc.weight", Tensor::zeros({3, 144})}});
    save_safetensors((dir / "missing.safetensors").string(),
                     {{"conv.weight", Tensor::zeros({4, 1, 3, 3})}, {"conv.bias", Tensor::zeros({4})}});
    struct Case {
        std::string file;
        int code;
        std::string message;
    };
    for (const Case &c : std::vector<Case>{
             {"no-such-file.safetensors", 1, "cannot open the file"},
             {"empty.safetensors", 2, "0 bytes, too short for a safetensors file"},
             {"truncated.safetensors", 2, "does not fit in the 40-byte file"},
             {"json.safetensors", 2, "the header is not the JSON object safetensors expects"},
             {"offsets.safetensors", 2, "'fc.weight' F32[3, 144] has data_offsets [160, 999999]"},
             {"dtype.safetensors", 3, "'conv.weight' is F64[4, 1, 3, 3] in the file, the model expects F32[4, 1, 3, 3]"},
             {"shape.safetensors", 3, "'conv.weight' is F32[4, 1, 2, 2] in the file, the model expects F32[4, 1, 3, 3]"},
             {"missing.safetensors", 3, "no tensor 'fc.weight' (the model needs F32[3, 144])"},
         }) {
        const std::string printed = run_command("cd " + dir.string() + " && ./main " + c.file, 10 + c.code);
        INFO(printed);
        CHECK(printed.find(fmt::format("error {}: {}", c.code, c.file)) != std::string::npos);
        CHECK(printed.find(c.message) != std::string::npos);
    }
    fs::remove_all(dir);
}
