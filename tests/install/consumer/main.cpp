// Builds and runs a small graph through the installed Strata package.
#include <strata/strata.h>

#include <cstdio>

// The package asks for C++20: options are written with designated initializers.
static_assert(__cplusplus >= 202002L, "find_package(Strata) should give C++20");

int main() {
    strata::Graph g;
    auto x = g.input("x", {2, 3});
    g.output("y", strata::relu(x) * 2.0);
    auto y = g.compile({.schedule = "simple"})
                 .run(strata::Tensor::from_vector<float>({-1, 1, 2, -3, 4, 0}, {2, 3}));
    const bool ok = y.at<float>({0, 1}) == 2.0f && y.at<float>({1, 1}) == 8.0f && y.at<float>({0, 0}) == 0.0f;
    // Links the distributed code, and with it MPI when Strata was built with it.
    std::printf("MPI %s\n", strata::distributed::mpi_available() ? "available" : "not built in");
    std::printf("%s\n", ok ? "consumer ok" : "consumer WRONG");
    return ok ? 0 : 1;
}
