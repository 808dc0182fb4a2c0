#include "tools/commands.h"

#include "codegen/aot.h"
#include "frontend/train/checkpoint.h"
#include "ir/parser.h"
#include "ir/passes/rebatch.h"

#include <strata/error.h>

#include <fmt/core.h>

namespace strata::tools {

int emit(const EmitCommand &options) {
    const Checkpoint checkpoint = read_checkpoint(options.checkpoint);
    if (checkpoint.info.ir.empty())
        fail("{}: the checkpoint holds no model IR (save it with CheckpointInfo::ir set, as the examples do)",
             options.checkpoint);
    if (options.train) fail("emit --train: the training-step library is not implemented yet");
    if (!options.schedule.empty())
        fail("emit --schedule: schedule files are not supported yet (the default schedules are used)");
    ir::Program program = ir::parse(checkpoint.info.ir, options.checkpoint + " (strata.ir)");
    if (options.batch > 0) program = ir::rebatch(program, options.batch);

    std::map<std::string, Tensor> weights;
    for (const auto &[name, tensor] : checkpoint.file.tensors) weights[name] = tensor;
    codegen::EmitOptions emit_options;
    emit_options.target = options.target;
    emit_options.name = options.name;
    emit_options.out_dir = options.out_dir;
    const codegen::EmittedLibrary lib = codegen::emit_library(program, weights, emit_options);
    fmt::print("wrote {} and {} for {}\n", lib.library, lib.header, lib.target);
    return 0;
}

}  // namespace strata::tools
