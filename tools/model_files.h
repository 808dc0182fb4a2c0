#pragma once
// Reading the models the `strata` subcommands take: IR text files and
// checkpoints saved with their model IR.

#include "frontend/train/checkpoint.h"
#include "ir/program.h"

#include <cstdint>
#include <string>

namespace strata::tools {

/// The model of an IR text file; a strata::Error naming it when it cannot be read, is not
/// a regular file, or holds no IR (an empty file would otherwise be a model of 0 nodes).
ir::Program read_ir_file(const std::string &path);

/// The model IR a checkpoint holds (read from `path`), rebatched to `batch`
/// when it is > 0; an error when the checkpoint was saved without its IR.
ir::Program checkpoint_program(const Checkpoint &checkpoint, const std::string &path, int64_t batch);

}  // namespace strata::tools
