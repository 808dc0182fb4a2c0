// The on-disk compile cache: a second compile loads the stored pipeline, a
// damaged entry is rebuilt (never loaded), keys separate schedules, and two
// processes can fill one cache at once.

#include "codegen/compiler.h"
#include "codegen/disk_cache.h"
#include "ir/parser.h"
#include "support/temp_dir.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

using namespace strata;
using strata::testing::TempDir;

namespace {

const char *kProgram = "%0 = input() {name=\"x\"} : f32[4,37]\n"
                       "%1 = relu(%0) : f32[4,37]\n"
                       "%2 = sum(%1) {dims=[1], keepdim=false} : f32[4]\n"
                       "output \"y\" = %2\n";

/// Points the cache at `dir` for the scope (and clears the in-process cache,
/// so compiles go to disk).
struct CacheDirScope {
    std::string saved;
    bool had_saved = false;
    explicit CacheDirScope(const std::string &dir) {
        if (const char *old = std::getenv("STRATA_CACHE_DIR")) saved = old, had_saved = true;
        setenv("STRATA_CACHE_DIR", dir.c_str(), 1);
        unsetenv("STRATA_NO_CACHE");
        codegen::forget_compiled_pipelines();
    }
    ~CacheDirScope() {
        if (had_saved) setenv("STRATA_CACHE_DIR", saved.c_str(), 1);
        else unsetenv("STRATA_CACHE_DIR");
        codegen::forget_compiled_pipelines();
    }
};

Tensor input() {
    Tensor x = Tensor::empty({4, 37}, DType::f32);
    float *p = x.data<float>();
    for (int i = 0; i < 4 * 37; ++i) p[i] = static_cast<float>((i * 7) % 11) - 5.0f;
    return x;
}

/// The naive reference: the row sums of relu(x).
std::vector<float> expected() {
    const Tensor x = input();
    std::vector<float> y(4, 0.0f);
    for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 37; ++c) y[r] += std::max(0.0f, x.data<float>()[r * 37 + c]);
    return y;
}

void check_runs(const codegen::Executable &exe) {
    const Tensor y = exe.run({{"x", input()}}).at(0);
    const auto want = expected();
    for (int r = 0; r < 4; ++r) REQUIRE(y.data<float>()[r] == Approx(want[r]));
}

std::vector<std::filesystem::path> files_ending(const std::filesystem::path &dir, const std::string &suffix) {
    std::vector<std::filesystem::path> out;
    for (const auto &e : std::filesystem::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
            out.push_back(e.path());
    }
    return out;
}

}  // namespace

TEST_CASE("the second compile of a program is loaded from the disk cache") {
    TempDir dir;
    CacheDirScope scope(dir.path.string());
    const ir::Program program = ir::parse(kProgram);
    const auto cold = codegen::compile(program);
    REQUIRE(cold.cache_status() == "miss");
    check_runs(cold);
    REQUIRE(files_ending(dir.path, ".key").size() == 2);  // the pipeline and the target's runtime

    codegen::forget_compiled_pipelines();
    const auto warm = codegen::compile(program);
    REQUIRE(warm.cache_status() == "hit");
    check_runs(warm);
}

TEST_CASE("the schedule and the target are part of the cache key") {
    TempDir dir;
    CacheDirScope scope(dir.path.string());
    const ir::Program program = ir::parse(kProgram);
    codegen::CompileOptions simple;
    simple.schedule = "simple";
    REQUIRE(codegen::compile(program).cache_status() == "miss");
    codegen::forget_compiled_pipelines();
    REQUIRE(codegen::compile(program, simple).cache_status() == "miss");
    codegen::forget_compiled_pipelines();
    REQUIRE(codegen::compile(program, simple).cache_status() == "hit");
}

TEST_CASE("a truncated or corrupt cache entry is rebuilt, never loaded") {
    TempDir dir;
    CacheDirScope scope(dir.path.string());
    const ir::Program program = ir::parse(kProgram);
    REQUIRE(codegen::compile(program).cache_status() == "miss");
    // Unload it first: rewriting a mapped object would crash this process, not test the cache.
    codegen::forget_compiled_pipelines();

    // A damaged copy of `path` takes its place (a new file, as a disk error or another tool would leave).
    auto damage = [](const std::filesystem::path &path, auto &&edit) {
        std::ifstream in(path, std::ios::binary);
        std::string bytes(std::istreambuf_iterator<char>(in), {});
        edit(bytes);
        const auto temp = path.string() + ".damaged";
        std::ofstream(temp, std::ios::binary) << bytes;
        std::filesystem::rename(temp, path);
    };
    SECTION("truncated shared objects") {
        for (const auto &so : files_ending(dir.path, ".so")) damage(so, [](std::string &b) { b.resize(100); });
    }
    SECTION("a flipped byte in every shared object") {
        for (const auto &so : files_ending(dir.path, ".so")) damage(so, [](std::string &b) { b[4000] ^= 0x5a; });
    }
    SECTION("garbage key files") {
        for (const auto &key : files_ending(dir.path, ".key")) std::ofstream(key) << "not a cache entry";
    }
    SECTION("key files naming a missing object") {
        for (const auto &so : files_ending(dir.path, ".so")) std::filesystem::remove(so);
    }
    codegen::forget_compiled_pipelines();
    const auto again = codegen::compile(program);
    REQUIRE(again.cache_status() == "rebuilt");
    check_runs(again);
    codegen::forget_compiled_pipelines();
    REQUIRE(codegen::compile(program).cache_status() == "hit");
}

TEST_CASE("STRATA_NO_CACHE=1 JIT-compiles and writes nothing") {
    TempDir dir;
    CacheDirScope scope(dir.path.string());
    setenv("STRATA_NO_CACHE", "1", 1);
    const auto exe = codegen::compile(ir::parse(kProgram));
    unsetenv("STRATA_NO_CACHE");
    REQUIRE(exe.cache_status() == "off");
    check_runs(exe);
    REQUIRE(dir.files().empty());
}

TEST_CASE("an unwritable cache folder is a clear error") {
    TempDir dir;
    const std::string blocker = dir.write("file", "a file where the cache folder should be");
    CacheDirScope scope(blocker + "/cache");
    REQUIRE_THROWS_WITH(codegen::compile(ir::parse(kProgram)), Catch::Contains("compile cache: cannot create the folder") &&
                                                                   Catch::Contains("STRATA_NO_CACHE=1"));
}

TEST_CASE("two processes compiling the same program share one cache safely") {
    TempDir dir;
    const std::string ir_file = dir.write("program.ir", kProgram);
    const std::string cache = (dir.path / "cache").string();
    const std::string strata = std::string(STRATA_BINARY_DIR) + "/bin/strata";
    const std::string run_one = "STRATA_CACHE_DIR='" + cache + "' '" + strata + "' inspect --compile '" + ir_file + "'";
    const std::string both = "(" + run_one + " > '" + (dir / "a.txt") + "' 2>&1 & " + run_one + " > '" +
                             (dir / "b.txt") + "' 2>&1 & wait) && " + run_one + " > '" + (dir / "c.txt") + "' 2>&1";
    REQUIRE(std::system(both.c_str()) == 0);
    auto read = [&](const std::string &name) {
        std::ifstream in(dir / name);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    for (const char *name : {"a.txt", "b.txt"}) REQUIRE_THAT(read(name), Catch::Contains("compiled for"));
    REQUIRE_THAT(read("c.txt"), Catch::Contains("(compile cache: hit)"));
    REQUIRE(files_ending(cache, ".key").size() == 2);
    // No temporary files are left behind.
    for (const auto &e : std::filesystem::directory_iterator(cache))
        REQUIRE(e.path().filename().string().find(".tmp") == std::string::npos);
}
