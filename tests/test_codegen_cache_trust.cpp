// The compile cache loads code into the process, so it trusts only folders and
// files of the current user (a shared read-only cache: or root's) that nobody
// else can write, never follows symlinks, never blocks on a FIFO, checks a
// SHA-256 before loading, and never aborts the process (a full or unwritable
// disk is a clear error). It also cleans up after killed compiles and stays
// under its size limit.

#include "codegen/cache_files.h"
#include "codegen/compiler.h"
#include "codegen/disk_cache.h"
#include "ir/parser.h"
#include "support/temp_dir.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace strata;
using strata::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const char *kProgram = "%0 = input() {name=\"x\"} : f32[3,5]\n"
                       "%1 = relu(%0) : f32[3,5]\n"
                       "%2 = sum(%1) {dims=[1], keepdim=false} : f32[3]\n"
                       "output \"y\" = %2\n";
const char *kOtherProgram = "%0 = input() {name=\"x\"} : f32[3,5]\n"
                            "%1 = neg(%0) : f32[3,5]\n"
                            "%2 = sum(%1) {dims=[1], keepdim=false} : f32[3]\n"
                            "output \"y\" = %2\n";

/// Sets (or with nullptr unsets) an environment variable for the scope.
struct EnvScope {
    std::string name, saved;
    bool had = false;
    EnvScope(const char *n, const char *value) : name(n) {
        if (const char *old = std::getenv(n)) saved = old, had = true;
        value ? setenv(n, value, 1) : unsetenv(n);
    }
    ~EnvScope() { had ? setenv(name.c_str(), saved.c_str(), 1) : unsetenv(name.c_str()); }
};

/// Points the cache at `dir` (clearing the in-process cache, so compiles go to disk).
struct CacheScope {
    EnvScope dir, off, read_only, limit;
    explicit CacheScope(const fs::path &d)
        : dir("STRATA_CACHE_DIR", d.c_str()), off("STRATA_NO_CACHE", nullptr),
          read_only("STRATA_CACHE_READONLY", nullptr), limit("STRATA_CACHE_MAX_MB", nullptr) {
        codegen::forget_compiled_pipelines();
    }
    ~CacheScope() { codegen::forget_compiled_pipelines(); }
};

Tensor input() {
    Tensor x = Tensor::empty({3, 5}, DType::f32);
    for (int i = 0; i < 15; ++i) x.data<float>()[i] = static_cast<float>(i % 7) - 3.0f;
    return x;
}

/// Runs `exe` and checks it computes the row sums of relu(x) (or of -x when `negated`).
void check_runs(const codegen::Executable &exe, bool negated = false) {
    const Tensor x = input();
    const Tensor y = exe.run({{"x", x}}).at(0);
    for (int r = 0; r < 3; ++r) {
        float want = 0;
        for (int c = 0; c < 5; ++c) {
            const float v = x.data<float>()[r * 5 + c];
            want += negated ? -v : std::max(0.0f, v);
        }
        REQUIRE(y.data<float>()[r] == Approx(want));
    }
}

std::string compile_status(const char *program = kProgram) {
    codegen::forget_compiled_pipelines();
    const auto exe = codegen::compile(ir::parse(program));
    check_runs(exe, program == kOtherProgram);
    return exe.cache_status();
}

bool ends_with(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The key file of the pipeline's entry (the one whose object is a shared object).
fs::path pipeline_key_file(const fs::path &dir) {
    for (const auto &e : fs::directory_iterator(dir)) {
        if (!ends_with(e.path().string(), ".key")) continue;
        std::ifstream in(e.path());
        const std::string text(std::istreambuf_iterator<char>(in), {});
        if (text.find(".so\n") != std::string::npos) return e.path();
    }
    FAIL("no key file of a shared object in " << dir);
    return {};
}

std::string read_file(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

/// The object a key file names.
fs::path object_of(const fs::path &key_file) {
    const std::string text = read_file(key_file);
    const size_t at = text.find("\nobject ") + 8;
    return key_file.parent_path() / text.substr(at, text.find('\n', at) - at);
}

int run_shell(const std::string &command) {
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("SHA-256 matches the FIPS 180-2 test vectors") {
    REQUIRE(codegen::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    REQUIRE(codegen::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    REQUIRE(codegen::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("a cache folder writable by other users is refused, saying why and how to fix it") {
    TempDir dir;
    const fs::path cache = dir.path / "cache";
    fs::create_directories(cache);
    CacheScope scope(cache);
    SECTION("world-writable") {
        ::chmod(cache.c_str(), 0777);
        REQUIRE_THROWS_WITH(compile_status(),
                            Catch::Contains("refusing to load compiled code") &&
                                Catch::Contains("writable by every user") && Catch::Contains("chmod go-w") &&
                                Catch::Contains("STRATA_NO_CACHE=1"));
    }
    SECTION("group-writable") {
        ::chmod(cache.c_str(), 0770);
        REQUIRE_THROWS_WITH(compile_status(), Catch::Contains("writable by its group"));
    }
}

TEST_CASE("a cache folder or cache files of another user are never loaded") {
    if (::geteuid() != 0) {
        WARN("skipped: giving files to another user needs root");
        return;
    }
    TempDir dir;
    const fs::path cache = dir.path / "cache";
    CacheScope scope(cache);
    REQUIRE(compile_status() == "miss");
    SECTION("the folder") {
        REQUIRE(::chown(cache.c_str(), 65534, 65534) == 0);
        REQUIRE_THROWS_WITH(compile_status(), Catch::Contains("belongs to user id 65534") && Catch::Contains("chown"));
    }
    SECTION("the key file and the object") {
        const fs::path key = pipeline_key_file(cache);
        REQUIRE(::chown(key.c_str(), 65534, 65534) == 0);
        REQUIRE(::chown(object_of(key).c_str(), 65534, 65534) == 0);
        REQUIRE(compile_status() == "rebuilt");
        REQUIRE(compile_status() == "hit");
    }
}

TEST_CASE("a planted object with a forged key file is not loaded unless the user owns and alone can write it") {
    TempDir dir;
    const fs::path cache = dir.path / "cache";
    CacheScope scope(cache);
    REQUIRE(compile_status() == "miss");
    // An object whose constructor leaves a mark when it is loaded.
    const std::string marker = dir / "planted-code-ran";
    dir.write("planted.c", "#include <stdio.h>\n__attribute__((constructor)) static void run(void) {\n"
                           "  FILE *f = fopen(\"" + marker + "\", \"w\"); if (f) fclose(f);\n}\n");
    REQUIRE(run_shell("cc -shared -fPIC -o '" + (dir / "planted.so") + "' '" + (dir / "planted.c") + "'") == 0);
    const std::string planted = read_file(dir / "planted.so");

    // A perfect forgery: the planted bytes at the object's name, and its size and SHA-256 in the key file.
    const fs::path key = pipeline_key_file(cache);
    const fs::path object = object_of(key);
    std::string text = read_file(key);
    const auto replace_line = [&](const std::string &field, const std::string &value) {
        const size_t at = text.find("\n" + field + " ") + field.size() + 2;
        text.replace(at, text.find('\n', at) - at, value);
    };
    replace_line("size", std::to_string(planted.size()));
    replace_line("sha256", codegen::sha256_hex(planted));
    fs::remove(object);
    std::ofstream(object, std::ios::binary) << planted;
    std::ofstream(key, std::ios::binary) << text;
    SECTION("the planted files are group-writable") {
        ::chmod(object.c_str(), 0664);
        ::chmod(key.c_str(), 0664);
    }
    SECTION("the planted files belong to another user") {
        if (::geteuid() != 0) {
            WARN("skipped: giving files to another user needs root");
            return;
        }
        REQUIRE(::chown(object.c_str(), 65534, 65534) == 0);
        REQUIRE(::chown(key.c_str(), 65534, 65534) == 0);
    }
    REQUIRE(compile_status() == "rebuilt");
    REQUIRE_FALSE(fs::exists(marker));
}

TEST_CASE("a cached object replaced by a symlink to /dev/zero is rebuilt without reading it") {
    TempDir dir;
    const fs::path cache = dir.path / "cache";
    CacheScope scope(cache);
    REQUIRE(compile_status() == "miss");
    const fs::path object = object_of(pipeline_key_file(cache));
    fs::remove(object);
    fs::create_symlink("/dev/zero", object);
    REQUIRE(compile_status() == "rebuilt");
    for (const auto &e : fs::directory_iterator(cache)) REQUIRE_FALSE(e.is_symlink());  // removed, not followed
    REQUIRE(compile_status() == "hit");
}

TEST_CASE("a FIFO in place of a key file does not hang the lookup") {
    TempDir dir;
    const fs::path cache = dir.path / "cache";
    CacheScope scope(cache);
    REQUIRE(compile_status() == "miss");
    const fs::path key = pipeline_key_file(cache);
    fs::remove(key);
    REQUIRE(::mkfifo(key.c_str(), 0600) == 0);
    REQUIRE(compile_status() == "rebuilt");
    REQUIRE(compile_status() == "hit");
}

TEST_CASE("files the cache writes are not writable by others, whatever the umask") {
    TempDir dir;
    const fs::path cache = dir.path / "cache";
    CacheScope scope(cache);
    const mode_t saved = ::umask(0);
    const std::string status = compile_status();
    ::umask(saved);
    REQUIRE(status == "miss");
    REQUIRE((fs::status(cache).permissions() & fs::perms::all) == fs::perms::owner_all);
    for (const auto &e : fs::directory_iterator(cache)) {
        INFO(e.path());
        REQUIRE((e.status().permissions() & (fs::perms::group_write | fs::perms::others_write)) == fs::perms::none);
    }
    REQUIRE(compile_status() == "hit");
}

TEST_CASE("pipelines loaded one after another from the cache each run their own code") {
    // Every pipeline is loaded from a memory file named /proc/self/fd/N: a name reused
    // after an earlier file was closed must not give back the earlier library.
    TempDir dir;
    CacheScope scope(dir.path / "cache");
    REQUIRE(compile_status(kProgram) == "miss");
    REQUIRE(compile_status(kOtherProgram) == "miss");
    const auto first = codegen::compile(ir::parse(kProgram));
    const auto second = codegen::compile(ir::parse(kOtherProgram));
    check_runs(first, false);
    check_runs(second, true);
}

TEST_CASE("a shared read-only cache (STRATA_CACHE_READONLY) is used and never written") {
    TempDir dir;
    const fs::path shared = dir.path / "team-cache";
    const fs::path own = dir.path / "own-cache";
    {
        CacheScope prebuild(shared);  // as its administrator would
        REQUIRE(compile_status() == "miss");
    }
    const auto files_before = fs::file_size(pipeline_key_file(shared));
    CacheScope scope(own);
    EnvScope read_only("STRATA_CACHE_READONLY", shared.c_str());
    REQUIRE(compile_status() == "hit");
    REQUIRE(fs::file_size(pipeline_key_file(shared)) == files_before);
    // A program it does not hold is compiled into the user's own cache.
    REQUIRE(compile_status(kOtherProgram) == "miss");
    REQUIRE(fs::exists(pipeline_key_file(own)));
    SECTION("one that others can write is refused") {
        ::chmod(shared.c_str(), 0777);
        REQUIRE_THROWS_WITH(compile_status(), Catch::Contains("STRATA_CACHE_READONLY") &&
                                                  Catch::Contains("writable by every user"));
    }
}

TEST_CASE("temporary files of killed compiles are removed once old, fresh ones are kept") {
    TempDir dir;
    const fs::path cache = dir.path / "cache";
    fs::create_directories(cache);
    ::chmod(cache.c_str(), 0700);
    const std::string old_object = (cache / "0123456789abcdef.4242.0.tmp.so").string();
    const std::string old_linker_input = (cache / "0123456789abcdef.4242.0.tmp.so.o").string();
    const std::string fresh = (cache / "fedcba9876543210.4243.0.tmp.so").string();
    for (const std::string &f : {old_object, old_linker_input, fresh}) std::ofstream(f) << "partial";
    const struct timespec two_hours_ago[2] = {{time(nullptr) - 7200, 0}, {time(nullptr) - 7200, 0}};
    for (const std::string &f : {old_object, old_linker_input})
        REQUIRE(::utimensat(AT_FDCWD, f.c_str(), two_hours_ago, 0) == 0);
    CacheScope scope(cache);
    REQUIRE(compile_status() == "miss");
    REQUIRE_FALSE(fs::exists(old_object));
    REQUIRE_FALSE(fs::exists(old_linker_input));
    REQUIRE(fs::exists(fresh));
}

TEST_CASE("the cache stays under STRATA_CACHE_MAX_MB by evicting the least recently used files") {
    TempDir dir;
    const fs::path cache = dir.path / "cache";
    fs::create_directories(cache);
    ::chmod(cache.c_str(), 0700);
    const fs::path old_entry = cache / "00000000000000aa-0123456789abcdef.so";
    std::ofstream(old_entry, std::ios::binary) << std::string(3 << 20, 'x');
    const struct timespec a_day_ago[2] = {{time(nullptr) - 86400, 0}, {time(nullptr) - 86400, 0}};
    REQUIRE(::utimensat(AT_FDCWD, old_entry.c_str(), a_day_ago, 0) == 0);
    CacheScope scope(cache);
    SECTION("past the limit the oldest files go, the new entry stays") {
        EnvScope limit("STRATA_CACHE_MAX_MB", "2");
        REQUIRE(compile_status() == "miss");
        REQUIRE_FALSE(fs::exists(old_entry));
        REQUIRE(compile_status() == "hit");
    }
    SECTION("under the limit nothing goes") {
        REQUIRE(compile_status() == "miss");
        REQUIRE(fs::exists(old_entry));
    }
    SECTION("a limit that is not a number of megabytes is an error") {
        EnvScope limit("STRATA_CACHE_MAX_MB", "2GB");
        REQUIRE_THROWS_WITH(compile_status(), Catch::Contains("STRATA_CACHE_MAX_MB='2GB'") &&
                                                  Catch::Contains("whole number of megabytes"));
    }
}

TEST_CASE("an unwritable cache folder is an error about the folder, not about Halide") {
    TempDir dir;
    const std::string ir_file = dir.write("program.ir", kProgram);
    const fs::path cache = dir.path / "cache";
    fs::create_directories(cache);
    const std::string strata = std::string(STRATA_BINARY_DIR) + "/bin/strata";
    std::string as_user;  // root may write anywhere: run as another user whose folder is read-only
    if (::geteuid() == 0) {
        REQUIRE(::chown(cache.c_str(), 65534, 65534) == 0);
        as_user = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
    }
    ::chmod(dir.path.c_str(), 0755);
    ::chmod(ir_file.c_str(), 0644);
    ::chmod(cache.c_str(), 0555);
    const std::string out = dir / "out.txt";
    const int status = run_shell("HOME=/ STRATA_CACHE_DIR='" + cache.string() + "' " + as_user + "'" + strata +
                                 "' inspect --compile '" + ir_file + "' > '" + out + "' 2>&1");
    const std::string message = read_file(out);
    INFO(message);
    REQUIRE(status == 1);
    REQUIRE_THAT(message, Catch::Contains("cannot write in the folder " + cache.string()) &&
                              Catch::Contains("STRATA_NO_CACHE=1") && !Catch::Contains("Halide"));
}

TEST_CASE("a cache on a full disk is an error, not an abort inside LLVM, and leaves no temporary file") {
    if (::geteuid() != 0) {
        WARN("skipped: mounting a small tmpfs needs root");
        return;
    }
    TempDir dir;
    const fs::path disk = dir.path / "disk";
    fs::create_directories(disk);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // In a private mount namespace, so the tmpfs goes with the child whatever happens.
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=512k,mode=0700") != 0)
            ::_exit(77);
        int code = 3;
        try {
            CacheScope scope(disk);
            compile_status();
            code = 2;
        } catch (const Error &e) {
            const std::string message = e.what();
            bool clean = true;
            for (const auto &f : fs::directory_iterator(disk))
                clean = clean && f.path().string().find(".tmp") == std::string::npos;
            code = message.find("nearly full") != std::string::npos && clean ? 0 : 4;
        }
        ::_exit(code);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        WARN("skipped: cannot mount a tmpfs here");
        return;
    }
    REQUIRE(WEXITSTATUS(status) == 0);
}

TEST_CASE("the fingerprint in every cache key covers the IR passes and the headers codegen includes") {
    const std::string listed = codegen::codegen_fingerprinted_files();
    const fs::path root = STRATA_SOURCE_DIR;
    int checked = 0;
    for (const char *folder : {"ir", "codegen"}) {
        for (const auto &e : fs::recursive_directory_iterator(root / folder)) {
            const std::string ext = e.path().extension().string();
            if (ext != ".cpp" && ext != ".h" && ext != ".def") continue;
            const std::string name = fs::relative(e.path(), root).string();
            INFO(name);
            REQUIRE(listed.find(name + "\n") != std::string::npos);
            ++checked;
        }
    }
    for (const char *header : {"runtime/tensor.h", "runtime/buffer_pool.h", "include/strata/dtype.h"})
        REQUIRE(listed.find(std::string(header) + "\n") != std::string::npos);
    REQUIRE(checked > 50);
}
