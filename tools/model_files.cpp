#include "tools/model_files.h"

#include "ir/parser.h"
#include "ir/passes/rebatch.h"
#include "runtime/input_file.h"

#include <strata/error.h>


namespace strata::tools {

namespace {

ir::Program parse_model(const std::string &text, const std::string &where) {
    ir::Program program = ir::parse(text, where);
    if (program.nodes().empty())
        fail("{}: no model IR: the text holds no nodes (expected the IR text form, as Graph::to_string writes it)",
             where);
    return program;
}

}  // namespace

ir::Program read_ir_file(const std::string &path) {
    return parse_model(InputFile(path, "an IR text file").read_all(), path);
}

ir::Program checkpoint_program(const Checkpoint &checkpoint, const std::string &path, int64_t batch) {
    if (checkpoint.info.ir.empty())
        fail("{}: the checkpoint holds no model IR (save it with CheckpointInfo::ir set, as the examples do)", path);
    ir::Program program = parse_model(checkpoint.info.ir, path + " (strata.ir)");
    if (batch > 0) program = ir::rebatch(program, batch);
    return program;
}

}  // namespace strata::tools
