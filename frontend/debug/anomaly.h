#pragma once
/// \file
/// Finding where a NaN or an infinity first appears ("detect anomaly" mode).
///
/// A compiled program fuses ops, so a NaN at the output does not say which op made it.
/// `find_first_non_finite` runs the program again with every float node stored as an
/// output, in program order, and names the first input or parameter that holds a
/// non-finite value, or else the first op that produced one from finite inputs:
///
///     if (!std::isfinite(loss))
///         if (auto where = strata::find_first_non_finite(graph, {{"x", batch}, {"t", labels}}))
///             throw strata::Error(where->message);   // "%7 (log) produced -inf at element 3 ..."
///
/// It compiles a separate, unfused program, so it is slow: a debugging aid, off unless asked for.

#include "codegen/compiler.h"
#include "frontend/graph.h"
#include "ir/program.h"
#include "runtime/tensor.h"

#include <map>
#include <optional>
#include <string>

namespace strata {

/// Where the first non-finite value is.
struct NonFiniteValue {
    /// The node: an input, a parameter, or the first op to produce a non-finite value from finite inputs.
    std::string label;         ///< "%7 (log)" or "input 'x'" / "parameter '0.weight'"
    std::string op;            ///< "log", "input", "parameter", ...
    std::string type;          ///< "f32[4,3]"
    int64_t element = 0;       ///< row-major index of the first non-finite element
    double value = 0;          ///< NaN, inf or -inf
    std::string message;       ///< one sentence for an error message
};

/// Runs `program` on `sources` (every input and parameter by name) with every float node kept,
/// and returns the first source holding a non-finite value, or else the first op whose output
/// has one while all its inputs are finite; nullopt when every value is finite. Throws
/// `strata::Error` when a source is missing or of the wrong type, as `Executable::run` does.
std::optional<NonFiniteValue> find_first_non_finite(const ir::Program &program,
                                                    const std::map<std::string, Tensor> &sources,
                                                    codegen::CompileOptions options = {});

/// The same for a graph: its parameters' values are added to `inputs`.
std::optional<NonFiniteValue> find_first_non_finite(const Graph &graph, const std::map<std::string, Tensor> &inputs,
                                                    codegen::CompileOptions options = {});

}  // namespace strata
