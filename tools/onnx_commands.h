#pragma once
// `strata import`, `strata run` and `strata onnx-test`: each adds its subcommand to the app,
// with a callback that runs it (one registration line each in strata.cpp).

namespace CLI {
class App;
}

namespace strata::tools {

/// `strata import MODEL.onnx --out X.safetensors [--batch N] [--shape NAME=D0,D1,...]`.
void add_import_command(CLI::App &app);
/// `strata run CHECKPOINT --input NAME=FILE.pb|.npy ... [--output [NAME=]FILE.npy|.pb ...]`.
void add_run_command(CLI::App &app);
/// `strata onnx-test DIR... [--verbose]`: ONNX's backend test data, pass/fail/unsupported per case.
void add_onnx_test_command(CLI::App &app);

}  // namespace strata::tools
