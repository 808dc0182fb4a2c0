#pragma once
// `strata export CHECKPOINT --out MODEL.onnx`: a checkpoint's model as an ONNX file.

namespace CLI {
class App;
}

namespace strata::tools {

/// Adds the `export` subcommand to `app`; it runs when parsed (errors are strata::Error).
void add_export_command(CLI::App &app);

}  // namespace strata::tools
