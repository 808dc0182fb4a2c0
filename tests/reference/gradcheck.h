#pragma once
// Finite-difference gradient checks: the oracle of the test_grad_*.cpp files.
//
// A checked function is built from graph inputs; each of its outputs, of any
// shape, is folded into the scalar loss sum(out * R) with a fixed random R of
// the output's shape, so every output element's gradient matters. The
// gradients the autodiff pass builds (`grad`) are compared, element by
// element, with central differences of that loss
//     fd = (loss(v + h) - loss(v - h)) / (2 h)
// using the relative error
//     rel = |fd - an| / max(floor, |fd| + |an|)
// where the floor (1e-3) keeps gradients near zero from dividing by nothing.
// The differences fold the outputs in long double outside the graph, so the
// unchanged terms cancel exactly and the noise is the rounding of the changed
// outputs, about 1e-16 / h: checks pass with a margin of 3x or more.

#include "codegen/compiler.h"
#include "frontend/graph.h"

#include <functional>
#include <string>
#include <vector>

namespace strata::reference {

/// One source of a checked function: a graph input named `name` fed `value`.
/// Float sources with `check` set are differentiated by and perturbed; the
/// others (class targets, conditions, constants) are only fed.
struct GradSource {
    std::string name;
    Tensor value;
    bool check = true;
};

/// Builds the outputs under test from the graph inputs, given in the order
/// of the sources.
using GradFunction = std::function<std::vector<SymTensor>(Graph &, const std::vector<SymTensor> &)>;

struct GradCheckOptions {
    codegen::CompileOptions compile;
    /// The central-difference step h.
    double step = 1e-6;
    /// The largest relative error accepted.
    double tolerance = 1e-6;
    /// The floor of the relative error's denominator.
    double floor = 1e-3;
    /// Seeds the random R tensors that fold the outputs into a scalar.
    uint64_t seed = 1234;
};

struct GradCheckResult {
    bool ok = false;
    /// The largest relative error over all checked elements.
    double worst = 0;
    int64_t checked = 0, failures = 0;
    /// The worst element and the first failing ones.
    std::string report;
};

/// Compiles f's loss and its gradients with `options.compile` and compares
/// every element of every checked source's gradient with central differences.
GradCheckResult gradcheck(const std::vector<GradSource> &sources, const GradFunction &f,
                          const GradCheckOptions &options = {});

/// The schedules every gradient check runs under ("default" and "simple").
const std::vector<std::string> &grad_schedules();

}  // namespace strata::reference
