// Fashion-MNIST: the real Debian test split when installed, and the errors for missing data.
#include "runtime/fashion_mnist.h"

#include <catch2/catch.hpp>

#include "tests/support/skip.h"
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using strata::DType;
using strata::FashionMnist;
using strata::Shape;
using strata::Split;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

/// The directory the loader would use, or "" (after a visible warning) when it is absent.
std::string installed_dir_or_skip() {
    const std::string dir = strata::default_fashion_mnist_dir();
    if (fs::is_directory(dir)) return dir;
    WARN("SKIPPED: Fashion-MNIST is not installed at " << dir
                                                     << " (apt install dataset-fashion-mnist, or set "
                                                        "STRATA_FASHION_MNIST_DIR)");
    strata::testing::note_skipped();
    return "";
}

/// Writes an unpacked IDX file of unsigned bytes, all `value`.
void write_idx_u8(const fs::path &path, const std::vector<uint32_t> &dims, uint8_t value) {
    std::vector<uint8_t> bytes = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
    size_t n = 1;
    for (uint32_t d : dims) {
        for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(d >> shift));
        n *= d;
    }
    bytes.insert(bytes.end(), n, value);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
}

/// The message of the strata::Error that loading the test split from `dir` throws.
std::string load_error(const fs::path &dir) {
    try {
        strata::load_fashion_mnist(Split::test, dir.string());
    } catch (const strata::Error &e) {
        return e.what();
    }
    FAIL("expected a strata::Error loading " << dir);
    return "";
}

}  // namespace

TEST_CASE("the class names are the 10 Fashion-MNIST classes", "[runtime][fashion_mnist]") {
    REQUIRE(strata::fashion_mnist_classes.size() == 10);
    CHECK(std::string(strata::fashion_mnist_classes[0]) == "T-shirt/top");
    CHECK(std::string(strata::fashion_mnist_classes[9]) == "Ankle boot");
    CHECK(std::string(strata::split_name(Split::train)) == "train");
    CHECK(std::string(strata::split_name(Split::test)) == "test");
}

TEST_CASE("the default directory honours STRATA_FASHION_MNIST_DIR", "[runtime][fashion_mnist]") {
    const char *old = std::getenv("STRATA_FASHION_MNIST_DIR");
    const std::string saved = old ? old : "";
    setenv("STRATA_FASHION_MNIST_DIR", "/some/where", 1);
    CHECK(strata::default_fashion_mnist_dir() == "/some/where");
    unsetenv("STRATA_FASHION_MNIST_DIR");
    CHECK(strata::default_fashion_mnist_dir() == "/usr/share/datasets/fashion-mnist");
    if (old) setenv("STRATA_FASHION_MNIST_DIR", saved.c_str(), 1);
}

TEST_CASE("the Debian test split loads with the right shapes and labels", "[runtime][fashion_mnist]") {
    const std::string dir = installed_dir_or_skip();
    if (dir.empty()) return;

    const FashionMnist test = strata::load_fashion_mnist(Split::test, dir);
    REQUIRE(test.images.dtype() == DType::f32);
    REQUIRE(test.images.shape() == Shape{10000, 1, 28, 28});
    REQUIRE(test.labels.dtype() == DType::i32);
    REQUIRE(test.labels.shape() == Shape{10000});

    // The first t10k item is an ankle boot; its pixels sum to 33456 / 255.
    const int32_t *labels = test.labels.data<int32_t>();
    CHECK(labels[0] == 9);
    CHECK(std::string(strata::fashion_mnist_classes[labels[0]]) == "Ankle boot");
    CHECK(labels[1] == 2);
    const float *pixels = test.images.data<float>();
    double first_sum = 0;
    for (int i = 0; i < 28 * 28; ++i) first_sum += pixels[i];
    CHECK(first_sum == Approx(33456.0 / 255.0).epsilon(1e-6));

    // Pixels in [0, 1]; the test split is balanced, 1000 per class.
    float lo = 1, hi = 0;
    for (int64_t i = 0; i < test.images.numel(); ++i) {
        lo = std::min(lo, pixels[i]);
        hi = std::max(hi, pixels[i]);
    }
    CHECK(lo == 0.0f);
    CHECK(hi == 1.0f);
    int counts[10] = {};
    for (int64_t i = 0; i < 10000; ++i) ++counts[labels[i]];
    for (int c : counts) CHECK(c == 1000);
}

TEST_CASE("a missing directory says how to get the data", "[runtime][fashion_mnist][error]") {
    const std::string dir = "/nonexistent/strata-fashion-mnist";
    try {
        strata::load_fashion_mnist(Split::train, dir);
        FAIL("expected a strata::Error");
    } catch (const strata::Error &e) {
        CHECK_THAT(e.what(), Contains(dir) && Contains("does not exist") &&
                                 Contains("dataset-fashion-mnist") && Contains("STRATA_FASHION_MNIST_DIR"));
    }
}

TEST_CASE("missing or inconsistent files are rejected", "[runtime][fashion_mnist][error]") {
    const fs::path dir =
        fs::temp_directory_path() / ("strata_test_fashion_mnist_" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    CHECK_THAT(load_error(dir), Contains("t10k-images-idx3-ubyte is missing from " + dir.string()) &&
                                    Contains("dataset-fashion-mnist"));

    // Unpacked files (no .gz) are accepted too; a small consistent pair loads.
    write_idx_u8(dir / "t10k-images-idx3-ubyte", {3, 28, 28}, 255);
    write_idx_u8(dir / "t10k-labels-idx1-ubyte", {3}, 4);
    const FashionMnist small = strata::load_fashion_mnist(Split::test, dir.string());
    CHECK(small.images.shape() == Shape{3, 1, 28, 28});
    CHECK(small.images.get_flat(0) == 1.0);
    CHECK(small.labels.get_flat(2) == 4);

    write_idx_u8(dir / "t10k-labels-idx1-ubyte", {2}, 4);
    CHECK_THAT(load_error(dir), Contains("holds 3 images but") && Contains("holds 2 labels"));

    write_idx_u8(dir / "t10k-labels-idx1-ubyte", {3}, 10);
    CHECK_THAT(load_error(dir), Contains("label 10 at index 0 is outside 0..9"));

    write_idx_u8(dir / "t10k-images-idx3-ubyte", {3, 32, 32}, 0);
    CHECK_THAT(load_error(dir), Contains("expected images of shape [N, 28, 28], the file holds [3, 32, 32]"));
    fs::remove_all(dir);
}
