#include "tools/model_files.h"

#include "ir/parser.h"
#include "ir/passes/rebatch.h"

#include <strata/error.h>

#include <fstream>
#include <sstream>

namespace strata::tools {

std::string read_text_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("{}: cannot open the file", path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

ir::Program checkpoint_program(const Checkpoint &checkpoint, const std::string &path, int64_t batch) {
    if (checkpoint.info.ir.empty())
        fail("{}: the checkpoint holds no model IR (save it with CheckpointInfo::ir set, as the examples do)", path);
    ir::Program program = ir::parse(checkpoint.info.ir, path + " (strata.ir)");
    if (batch > 0) program = ir::rebatch(program, batch);
    return program;
}

}  // namespace strata::tools
