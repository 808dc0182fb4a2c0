#pragma once
/// \file
/// Ahead-of-time compilation: a program becomes a static library and a plain
/// C header that need neither Strata, Halide nor LLVM to link or run.

#include "ir/program.h"
#include "runtime/tensor.h"

#include <map>
#include <string>

namespace strata::codegen {

struct EmitOptions {
    /// A Halide target: "host", "x86-64-linux-avx2", "arm-64-linux", "host-cuda", ...
    std::string target = "host";
    /// The C name prefix: NAME.a, NAME.h, NAME_predict(...). A C identifier.
    std::string name = "model";
    /// The folder to write into (created when missing).
    std::string out_dir;
};

struct EmittedLibrary {
    std::string library;  ///< DIR/NAME.a
    std::string header;   ///< DIR/NAME.h
    std::string readme;   ///< DIR/README.txt
    std::string target;   ///< the resolved target
};

/// Compiles `program` into DIR/NAME.a + DIR/NAME.h (+ HalideRuntime.h, which
/// NAME.h includes, and README.txt). Every parameter is embedded from
/// `weights`; the program's inputs become the arguments of
/// `int NAME_predict(const T *input..., T *output...)`, in program order.
/// On any error nothing is left in DIR.
EmittedLibrary emit_library(const ir::Program &program, const std::map<std::string, Tensor> &weights,
                            const EmitOptions &options);

}  // namespace strata::codegen
