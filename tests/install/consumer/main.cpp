// Builds and runs a small graph through the installed Strata package.
#include <strata/strata.h>

#include <cstdio>

int main() {
    strata::Graph g;
    auto x = g.input("x", {2, 3});
    g.output("y", strata::relu(x) * 2.0);
    auto y = g.compile().run(strata::Tensor::from_vector<float>({-1, 1, 2, -3, 4, 0}, {2, 3}));
    const bool ok = y.at<float>({0, 1}) == 2.0f && y.at<float>({1, 1}) == 8.0f && y.at<float>({0, 0}) == 0.0f;
    std::printf("%s\n", ok ? "consumer ok" : "consumer WRONG");
    return ok ? 0 : 1;
}
