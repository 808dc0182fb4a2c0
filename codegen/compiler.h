#pragma once
/// \file
/// Compiling an IR program into a callable `Executable` (JIT, in process).
/// This header does not include Halide.

#include "ir/program.h"
#include "runtime/tensor.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace strata::codegen {

struct CompileOptions {
    /// "" means `default_target()` ($STRATA_TARGET or the host CPU).
    std::string target;
    /// Run the IR passes (DCE, folding, CSE) before lowering.
    bool optimize = true;
    /// "default": the tuned per-class schedules. "simple": every op stored
    /// whole, in plain loop order, no vectors or threads — a second,
    /// structurally different schedule that tests check the default against.
    std::string schedule = "default";
};

/// A compiled program. Copies share the compiled code; running is thread-safe.
class Executable {
public:
    Executable() = default;

    /// Runs the program. `sources` must name every input and parameter of the
    /// program with a tensor of exactly its dtype and shape; extra names are an
    /// error. Returns the outputs in program order.
    std::vector<Tensor> run(const std::map<std::string, Tensor> &sources) const;

    /// As `run`, writing into caller-owned output tensors (contiguous, of the
    /// output dtypes and shapes), in program order.
    void run_into(const std::map<std::string, Tensor> &sources, std::vector<Tensor> &outputs) const;

    const std::vector<std::string> &output_names() const;
    /// The program that was compiled (after the IR passes).
    const ir::Program &program() const;
    /// The resolved Halide target string.
    const std::string &target() const;
    /// Seconds the first compile of this program took (a cache hit reports that same first compile).
    double compile_seconds() const;
    bool valid() const { return impl_ != nullptr; }

    struct Impl;

private:
    explicit Executable(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
    friend Executable compile(const ir::Program &, const CompileOptions &);
};

/// Compiles a program. Programs with the same text and target share one
/// compiled pipeline within the process.
Executable compile(const ir::Program &program, const CompileOptions &options = {});

}  // namespace strata::codegen
