#include "tools/commands.h"

#include "frontend/onnx/onnx_export.h"
#include "frontend/train/checkpoint.h"
#include "tools/model_files.h"

#include <strata/cli_flags.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <memory>

namespace strata::tools {

namespace {

struct ExportCommand {
    std::string checkpoint;
    std::string out;
    int64_t batch = 0;  ///< 0 keeps the batch size of the saved IR
    int64_t opset = 17;
};

void run_export(const ExportCommand &command) {
    const Checkpoint checkpoint = read_checkpoint(command.checkpoint);
    const ir::Program program = checkpoint_program(checkpoint, command.checkpoint, command.batch);
    std::map<std::string, Tensor> weights;
    for (const auto &[name, tensor] : checkpoint.file.tensors) weights[name] = tensor;
    onnx::export_model(program, weights, command.out, {.opset = command.opset});
    fmt::print("wrote {} (ONNX opset {}, {} inputs, {} outputs; checked with onnx's full checker)\n", command.out,
               command.opset, program.inputs().size(), program.outputs().size());
}

}  // namespace

void add_export_command(CLI::App &app) {
    auto command = std::make_shared<ExportCommand>();
    CLI::App *cmd = app.add_subcommand("export", "Write a checkpoint's model (IR + weights) as an ONNX model");
    cmd->add_option("checkpoint", command->checkpoint, "Checkpoint (.safetensors) saved with the model IR")->required();
    cmd->add_option("--out", command->out, "The ONNX file to write")->required();
    cmd->add_option("--batch", command->batch, "Batch size of the exported model (default: as saved)")
        ->check(strata::cli::whole_number(1, "a batch size"));
    cmd->add_option("--opset", command->opset, "ONNX opset, 13 to 17 (default 17)")->check(CLI::Range(13, 17));
    cmd->callback([command] { run_export(*command); });
}

}  // namespace strata::tools
