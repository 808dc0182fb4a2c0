// Files Strata writes (checkpoints, safetensors, plots, JSON) go through AtomicFileWriter:
// a symlink at the destination is written through, not replaced by a regular file; a replaced
// file keeps its mode; a new file gets the user's umask.

#include "runtime/atomic_file.h"
#include "runtime/safetensors.h"
#include "support/temp_dir.h"

#include <strata/error.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <sys/stat.h>

using namespace strata;
using strata::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

mode_t mode_of(const std::string &path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

/// Sets the umask for the scope.
struct UmaskScope {
    mode_t saved;
    explicit UmaskScope(mode_t mask) : saved(::umask(mask)) {}
    ~UmaskScope() { ::umask(saved); }
};

}  // namespace

TEST_CASE("writing to a symlink writes its target and keeps the link") {
    TempDir dir;
    fs::create_directories(dir.path / "store");
    const std::string target = dir.write("store/model.safetensors", "old");
    const std::string link = dir / "link.safetensors";
    fs::create_symlink("store/model.safetensors", link);
    SECTION("write_file_atomically") { write_file_atomically(link, "new contents"); }
    SECTION("save_safetensors, as --checkpoint does") {
        save_safetensors(link, {{"w", Tensor::empty({2}, DType::f32)}});
    }
    REQUIRE(fs::is_symlink(link));
    REQUIRE(read_file(link) != "old");
    REQUIRE(read_file(target) == read_file(link));
    REQUIRE(dir.files() == std::set<std::string>{"link.safetensors", "store"});  // no temporary file left
}

TEST_CASE("a chain of symlinks, and one whose target does not exist yet, are written through") {
    TempDir dir;
    const std::string target = dir / "final.txt";
    fs::create_symlink(target, dir / "middle");
    fs::create_symlink("middle", dir / "first");
    write_file_atomically(dir / "first", "through two links");
    REQUIRE(fs::is_symlink(dir / "first"));
    REQUIRE(fs::is_symlink(dir / "middle"));
    REQUIRE(read_file(target) == "through two links");
}

TEST_CASE("a symlink loop is an error naming the file") {
    TempDir dir;
    fs::create_symlink("b", dir / "a");
    fs::create_symlink("a", dir / "b");
    REQUIRE_THROWS_WITH(write_file_atomically(dir / "a", "x"),
                        Catch::Contains(dir / "a") && Catch::Contains(std::strerror(ELOOP)));
}

TEST_CASE("a replaced file keeps its mode") {
    TempDir dir;
    const std::string path = dir.write("private.safetensors", "old");
    for (const mode_t mode : {0600, 0640, 0664}) {
        REQUIRE(::chmod(path.c_str(), mode) == 0);
        UmaskScope umask(022);
        write_file_atomically(path, "new");
        REQUIRE(mode_of(path) == mode);
        REQUIRE(read_file(path) == "new");
    }
}

TEST_CASE("a new file gets the user's umask") {
    TempDir dir;
    for (const auto &[mask, mode] : std::vector<std::pair<mode_t, mode_t>>{{022, 0644}, {077, 0600}, {002, 0664}}) {
        const std::string path = dir / ("new-" + std::to_string(mask));
        UmaskScope umask(mask);
        write_file_atomically(path, "new");
        REQUIRE(mode_of(path) == mode);
    }
}
