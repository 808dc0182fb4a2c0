// Tensor printing through std::ostream and typed item<T>(): what a user of torch::Tensor writes
// (`std::cout << t`, `t.item<float>()`) works, and a value the type cannot hold is an error.
#include "runtime/tensor.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>

using strata::DType;
using strata::Tensor;
using Catch::Matchers::Contains;
using strata::testing::error_message;

TEST_CASE("std::ostream << prints a tensor as to_string does", "[runtime][tensor]") {
    const Tensor m = Tensor::from_vector<float>({1, 2, 3, 4.5f}, {2, 2});
    std::ostringstream out;
    out << m << " | " << Tensor::arange(3, DType::i32) << " | " << Tensor();
    CHECK(out.str() == "tensor([[1, 2],\n        [3, 4.5]], dtype=f32) | tensor([0, 1, 2], dtype=i32) | "
                       "tensor(undefined)");
    // A view prints its own elements, not its storage's order.
    std::ostringstream transposed;
    transposed << m.permute({1, 0});
    CHECK(transposed.str() == "tensor([[1, 3],\n        [2, 4.5]], dtype=f32)");
}

TEST_CASE("item<T> converts the one element as a C++ cast would", "[runtime][tensor]") {
    CHECK(Tensor::full({}, 2.5).item<float>() == 2.5f);
    CHECK(Tensor::full({1, 1}, 2.5, DType::f64).item<double>() == 2.5);
    CHECK(Tensor::full({}, 3.7).item<int>() == 3);
    CHECK(Tensor::full({}, -3.7).item<int64_t>() == -3);
    CHECK(Tensor::full({}, -0.5).item<uint8_t>() == 0);  // truncates to 0, which fits
    CHECK(Tensor::full({}, 7, DType::i32).item<int64_t>() == 7);
    CHECK(Tensor::full({}, 1, DType::boolean).item<bool>());
    CHECK_FALSE(Tensor::full({}, 0.0).item<bool>());
    CHECK(Tensor::full({}, 2147483647, DType::f64).item<int32_t>() == 2147483647);
    CHECK(Tensor::full({}, -2147483648.0, DType::f64).item<int32_t>() == std::numeric_limits<int32_t>::min());
    CHECK(std::isnan(Tensor::full({}, NAN).item<float>()));
}

TEST_CASE("item<T> of a value the type cannot hold names the value and the range", "[runtime][tensor][error]") {
    CHECK_THAT(error_message([] { Tensor::full({}, 2147483648.0, DType::f64).item<int32_t>(); }),
               Contains("Tensor::item<int32>: the value 2147483648 does not fit: expected a number in "
                        "[-2147483648, 2147483647]"));
    CHECK_THAT(error_message([] { Tensor::full({}, -1.0).item<uint32_t>(); }),
               Contains("Tensor::item<uint32>: the value -1 does not fit"));
    CHECK_THAT(error_message([] { Tensor::full({}, 300.0).item<uint8_t>(); }), Contains("expected a number in [0, 255]"));
    CHECK_THAT(error_message([] { Tensor::full({}, NAN).item<int64_t>(); }), Contains("the value nan does not fit"));
    CHECK_THAT(error_message([] { Tensor::full({}, 9.3e18, DType::f64).item<int64_t>(); }),
               Contains("Tensor::item<int64>"));
    CHECK_THAT(error_message([] { Tensor::full({}, INFINITY).item<int>(); }), Contains("the value inf does not fit"));
    CHECK_THAT(error_message([] { Tensor::zeros({2}).item<float>(); }),
               Contains("has 2 elements (shape [2]), expected exactly 1"));
}
