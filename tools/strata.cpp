// The `strata` command line.

#include "tools/commands.h"

#include <strata/error.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

int main(int argc, char **argv) {
    CLI::App app{"strata: inspect and compile Strata IR programs"};
    app.require_subcommand(1);

    strata::tools::InspectOptions inspect;
    CLI::App *inspect_cmd = app.add_subcommand("inspect", "Summarise an IR text file (inputs, parameters, ops)");
    inspect_cmd->add_option("file", inspect.path, "IR text file")->required();
    inspect_cmd->add_flag("--passes", inspect.run_passes, "Run the IR passes and print the result");
    inspect_cmd->add_flag("--compile", inspect.compile, "Compile for the target and report the time");
    inspect_cmd->add_option("--target", inspect.target, "Halide target (default: host or $STRATA_TARGET)");

    CLI::App *ops_cmd = app.add_subcommand("ops", "List every op with its inputs, class and attributes");

    CLI11_PARSE(app, argc, argv);
    try {
        if (inspect_cmd->parsed()) return strata::tools::inspect(inspect);
        if (ops_cmd->parsed()) return strata::tools::list_ops();
    } catch (const strata::Error &e) {
        fmt::print(stderr, "strata: error: {}\n", e.what());
        return 1;
    }
    return 0;
}
