// strata::Tensor: factories, element access, views, copies, printing and user errors.
#include "runtime/tensor.h"
#include "runtime/buffer_pool.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"

#include <cstdint>
#include <string>
#include <vector>

using strata::DType;
using strata::Generator;
using strata::Shape;
using strata::Tensor;
using Catch::Matchers::Contains;

namespace {

using strata::testing::error_message;

std::vector<double> values(const Tensor &t) {
    std::vector<double> out;
    for (int64_t i = 0; i < t.numel(); ++i) out.push_back(t.get_flat(i));
    return out;
}

}  // namespace

TEST_CASE("zeros, ones and full fill every element", "[runtime][tensor]") {
    const Tensor z = Tensor::zeros({2, 3});
    CHECK(z.dtype() == DType::f32);
    CHECK(z.shape() == Shape{2, 3});
    CHECK(z.strides() == Shape{3, 1});
    CHECK(values(z) == std::vector<double>(6, 0.0));
    CHECK(values(Tensor::ones({4}, DType::i32)) == std::vector<double>(4, 1.0));
    CHECK(values(Tensor::full({2, 2}, 2.5, DType::f64)) == std::vector<double>(4, 2.5));
    CHECK(values(Tensor::full({3}, 7, DType::boolean)) == std::vector<double>(3, 1.0));
    const Tensor scalar = Tensor::full({}, 4.0);
    CHECK(scalar.dim() == 0);
    CHECK(scalar.numel() == 1);
    CHECK(scalar.item() == 4.0);
    CHECK(Tensor::zeros({0, 5}).numel() == 0);
}

TEST_CASE("arange counts like torch.arange", "[runtime][tensor]") {
    CHECK(values(Tensor::arange(5)) == std::vector<double>{0, 1, 2, 3, 4});
    CHECK(values(Tensor::arange(1.0, 2.0, 0.25, DType::f64)) == std::vector<double>{1, 1.25, 1.5, 1.75});
    CHECK(values(Tensor::arange(5.0, 0.0, -2.0, DType::i32)) == std::vector<double>{5, 3, 1});
    CHECK(Tensor::arange(3.0, 1.0, 1.0).numel() == 0);
    CHECK_THAT(error_message([] { Tensor::arange(0.0, 1.0, 0.0); }),
               Contains("step must be finite and non-zero"));
}

TEST_CASE("rand and randn are reproducible from a seed", "[runtime][tensor]") {
    Generator a(42), b(42), c(43);
    const Tensor ra = Tensor::rand({100}, a), rb = Tensor::rand({100}, b), rc = Tensor::rand({100}, c);
    CHECK(values(ra) == values(rb));
    CHECK(values(ra) != values(rc));
    for (double v : values(Tensor::rand({1000}, a, DType::f32, -2.0, 3.0))) {
        CHECK(v >= -2.0);
        CHECK(v < 3.0);
    }
    Generator d(7), e(7);
    const Tensor na = Tensor::randn({3, 5}, d, DType::f64, 1.0, 2.0);
    const Tensor nb = Tensor::randn({3, 5}, e, DType::f64, 1.0, 2.0);
    CHECK(na.dtype() == DType::f64);
    CHECK(values(na) == values(nb));
}

TEST_CASE("from_vector copies values row-major", "[runtime][tensor]") {
    const Tensor t = Tensor::from_vector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3});
    CHECK(t.dtype() == DType::i32);
    CHECK(t.at<int32_t>({1, 0}) == 4);
    CHECK(Tensor::from_vector(std::vector<double>{1.5, 2.5}).shape() == Shape{2});
    CHECK_THAT(error_message([] { Tensor::from_vector<float>({1, 2, 3}, {2, 2}); }),
               Contains("3 values do not fill shape [2, 2] (4 elements)"));
}

TEST_CASE("at, get_flat and set_flat read and write elements", "[runtime][tensor]") {
    Tensor t = Tensor::arange(6).reshape({2, 3});
    CHECK(t.at<float>({1, 2}) == 5.0f);
    t.at<float>({0, 1}) = 10.0f;
    CHECK(t.get_flat(1) == 10.0);
    t.set_flat(4, -3.0);
    CHECK(t.at<float>({1, 1}) == -3.0f);
    // get_flat / set_flat convert to and from double for every dtype.
    Tensor b = Tensor::zeros({2}, DType::boolean);
    b.set_flat(1, 0.5);
    CHECK(values(b) == std::vector<double>{0, 1});
}

TEST_CASE("reshape infers one -1 extent and shares storage", "[runtime][tensor]") {
    const Tensor t = Tensor::arange(12);
    const Tensor r = t.reshape({3, -1});
    CHECK(r.shape() == Shape{3, 4});
    CHECK(r.raw_data() == t.raw_data());
    CHECK(t.reshape({-1, 2, 2}).shape() == Shape{3, 2, 2});
}

TEST_CASE("permute gives a strided view of the same storage", "[runtime][tensor]") {
    Tensor t = Tensor::arange(6).reshape({2, 3});
    Tensor p = t.permute({1, 0});
    CHECK(p.shape() == Shape{3, 2});
    CHECK(p.strides() == Shape{1, 3});
    CHECK_FALSE(p.is_contiguous());
    CHECK(p.raw_data() == t.raw_data());
    CHECK(values(p) == std::vector<double>{0, 3, 1, 4, 2, 5});
    t.at<float>({0, 2}) = 9.0f;  // visible through the view
    CHECK(p.at<float>({2, 0}) == 9.0f);
    const Tensor c = p.contiguous();
    CHECK(c.is_contiguous());
    CHECK(values(c) == values(p));
    // reshape of a non-contiguous view copies first, keeping the logical order.
    CHECK(values(p.reshape({6})) == values(p));
    CHECK(t.permute({-1, 0}).shape() == Shape{3, 2});
    CHECK_THAT(error_message([&] { t.permute({0, 0}); }), Contains("is not a permutation of 2 dims"));
}

TEST_CASE("copies share storage, clone does not", "[runtime][tensor]") {
    Tensor a = Tensor::zeros({3});
    Tensor shared = a;
    Tensor cloned = a.clone();
    a.set_flat(0, 5.0);
    CHECK(shared.get_flat(0) == 5.0);
    CHECK(cloned.get_flat(0) == 0.0);
    CHECK(cloned.raw_data() != a.raw_data());
    CHECK_FALSE(Tensor().defined());
    CHECK_FALSE(Tensor().clone().defined());
}

TEST_CASE("to converts dtype and copy_from copies values", "[runtime][tensor]") {
    const Tensor f = Tensor::from_vector<float>({1.75f, -2.5f, 0.0f});
    const Tensor i = f.to(DType::i32);
    CHECK(i.dtype() == DType::i32);
    CHECK(values(i) == std::vector<double>{1, -2, 0});  // truncation toward zero, like C++
    CHECK(values(f.to(DType::boolean)) == std::vector<double>{1, 1, 0});
    CHECK(values(f.to(DType::f64)) == std::vector<double>{1.75, -2.5, 0.0});

    Tensor dst = Tensor::zeros({3}, DType::f64);
    dst.copy_from(f);
    CHECK(values(dst) == std::vector<double>{1.75, -2.5, 0.0});
    CHECK_THAT(error_message([&] { dst.copy_from(Tensor::zeros({4})); }),
               Contains("source shape [4] differs from destination shape [3]"));

    // Copying a transposed view of itself must not read already-overwritten values.
    Tensor sq = Tensor::arange(4).reshape({2, 2});
    sq.copy_from(sq.permute({1, 0}));
    CHECK(values(sq) == std::vector<double>{0, 2, 1, 3});
}

TEST_CASE("to_string and fmt print like PyTorch", "[runtime][tensor]") {
    const Tensor m = Tensor::from_vector<float>({1, 2, 3, 4.5f}, {2, 2});
    CHECK(m.to_string() == "tensor([[1, 2],\n        [3, 4.5]], dtype=f32)");
    CHECK(fmt::format("{}", m) == m.to_string());
    CHECK(Tensor::arange(10, DType::i32).to_string() == "tensor([0, 1, 2, ..., 7, 8, 9], dtype=i32)");
    CHECK(Tensor::full({}, 3.5).to_string() == "tensor(3.5, dtype=f32)");
    CHECK(Tensor::from_vector<bool>({true, false}).to_string() == "tensor([true, false], dtype=bool)");
    CHECK(Tensor().to_string() == "tensor(undefined)");
}

TEST_CASE("storage is 64-byte aligned", "[runtime][tensor]") {
    for (int64_t n : {1, 3, 17, 1000}) {
        for (DType t : {DType::f32, DType::f64, DType::i32, DType::boolean}) {
            const Tensor x = Tensor::empty({n}, t);
            CHECK(reinterpret_cast<uintptr_t>(x.raw_data()) % 64 == 0);
        }
    }
}

TEST_CASE("wrong dtype access names both dtypes", "[runtime][tensor][error]") {
    Tensor t = Tensor::zeros({2}, DType::f32);
    CHECK_THAT(error_message([&] { t.data<double>(); }),
               Contains("tensor has dtype f32 but was accessed as f64"));
    CHECK_THAT(error_message([&] { t.at<int32_t>({0}); }), Contains("accessed as i32"));
    CHECK_THAT(error_message([] { Tensor().data<float>(); }), Contains("undefined"));
}

TEST_CASE("out-of-range indices name the index and the shape", "[runtime][tensor][error]") {
    Tensor t = Tensor::zeros({2, 3});
    CHECK_THAT(error_message([&] { t.at<float>({1, 3}); }),
               Contains("index 3 is out of range for dimension 1 of shape [2, 3]"));
    CHECK_THAT(error_message([&] { t.at<float>({1}); }),
               Contains("1 indices given for a 2-d tensor of shape [2, 3]"));
    CHECK_THAT(error_message([&] { t.get_flat(6); }),
               Contains("flat index 6 is out of range for shape [2, 3]"));
    CHECK_THAT(error_message([&] { t.set_flat(-1, 0.0); }), Contains("flat index -1 is out of range"));
    CHECK_THAT(error_message([&] { t.size(2); }), Contains("dimension 2 is out of range for a 2-d tensor"));
    CHECK(t.size(-1) == 3);
    CHECK_THAT(error_message([&] { t.item(); }),
               Contains("has 6 elements (shape [2, 3]), expected exactly 1"));
}

TEST_CASE("bad reshapes say what did not fit", "[runtime][tensor][error]") {
    const Tensor t = Tensor::zeros({2, 3});
    CHECK_THAT(error_message([&] { t.reshape({4, 2}); }),
               Contains("cannot reshape [2, 3] (6 elements) into [4, 2] (8 elements)"));
    CHECK_THAT(error_message([&] { t.reshape({4, -1}); }), Contains("cannot reshape [2, 3] into [4, -1]"));
    CHECK_THAT(error_message([&] { t.reshape({-1, -1}); }), Contains("only one extent may be -1"));
    CHECK_THAT(error_message([&] { t.reshape({-2, -3}); }), Contains("invalid extent -2"));
    CHECK_THAT(error_message([] { Tensor::zeros({2, -1}); }), Contains("extents must be >= 0"));
}

TEST_CASE("the buffer pool hands a freed large block out again and keeps small ones out", "[runtime][tensor]") {
    using strata::pool_allocate, strata::pool_cached_bytes, strata::pool_release;
    const size_t before = pool_cached_bytes();
    void *big = pool_allocate(3 << 20);
    REQUIRE(big != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(big) % 128 == 0);
    pool_release(big);
    CHECK(pool_cached_bytes() > before);
    void *again = pool_allocate(3 << 20);
    CHECK(again == big);  // the same block, already paged in
    CHECK(pool_cached_bytes() == before);
    void *small = pool_allocate(1000);
    pool_release(small);
    CHECK(pool_cached_bytes() == before);  // small blocks go straight back to malloc
    pool_release(again);
    // Tensors draw on the pool: a freed tensor's storage serves the next of its size, zeroed.
    const void *storage = nullptr;
    {
        Tensor t = Tensor::full({512, 1024}, 7.0);
        storage = t.data<float>();
    }
    const Tensor u = Tensor::zeros({512, 1024});
    CHECK(static_cast<const void *>(u.data<float>()) == storage);
    CHECK(u.data<float>()[12345] == 0.0f);
}
