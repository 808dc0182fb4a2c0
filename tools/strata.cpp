// The `strata` command line.

#include "tools/commands.h"
#include "tools/onnx_commands.h"

#include <strata/cli_flags.h>
#include <strata/cli_version.h>
#include <strata/error.h>
#include <strata/main_guard.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

namespace {

int run(int argc, char **argv) {
    CLI::App app{"strata: inspect, compile and emit Strata models"};
    app.require_subcommand(1);
    strata::cli::add_version_flag(app, "strata");
    strata::tools::add_export_command(app);

    strata::tools::InspectOptions inspect;
    CLI::App *inspect_cmd = app.add_subcommand("inspect", "Summarise an IR text file (inputs, parameters, ops)");
    inspect_cmd->add_option("file", inspect.path, "IR text file")->required();
    inspect_cmd->add_flag("--passes", inspect.run_passes, "Run the IR passes and print the result");
    inspect_cmd->add_flag("--compile", inspect.compile, "Compile for the target and report the time");
    inspect_cmd->add_option("--target", inspect.target, "Halide target (default: host or $STRATA_TARGET)");
    inspect_cmd->add_option("--schedule", inspect.schedule, "--compile with this schedule (as strata schedule dump takes)");

    strata::tools::EmitCommand emit;
    CLI::App *emit_cmd = app.add_subcommand("emit", "Compile a checkpoint into NAME.a + NAME.h (plain C, weights inside)");
    emit_cmd->add_option("checkpoint", emit.checkpoint, "Checkpoint (.safetensors) saved with the model IR")->required();
    emit_cmd->add_option("--out", emit.out_dir, "Output folder")->required();
    emit_cmd->add_option("--target", emit.target,
                         "host, x86-64-linux-avx2, x86-64-linux-avx512, arm-64-linux, host-cuda or any Halide target");
    emit_cmd->add_option("--batch", emit.batch, "Batch size of the compiled model (default: as saved)")
        ->check(strata::cli::whole_number(1, "a batch size"));
    emit_cmd->add_option("--name", emit.name, "C name prefix (NAME.a, NAME.h, NAME_predict)");
    emit_cmd->add_flag("--train", emit.train, "Also emit an SGD training step (NAME_state_new, NAME_train_step, ...)");
    emit_cmd->add_option("--lr", emit.lr, "--train: learning rate (default: the checkpoint's initial one, else 0.01)")
        ->check(strata::cli::finite_number(true, "a learning rate"));
    emit_cmd->add_option("--momentum", emit.momentum, "--train: SGD momentum (default 0.9; 0 for plain SGD)")
        ->check(strata::cli::finite_number(false, "a momentum"));
    emit_cmd->add_option("--weights", emit.weights,
                         "embedded (in NAME.a, the default) or external (DIR/NAME.safetensors, loaded at run time)");
    emit_cmd->add_option("--schedule", emit.schedule,
                         "The model's schedule: default, simple, an autoscheduler, or a file from `strata schedule dump`");
    emit_cmd->add_option("--train-schedule", emit.train_schedule,
                         "--train: the training step's schedule: default, simple, an autoscheduler, or a file from "
                         "`strata schedule dump CHECKPOINT --train` (same --batch and --momentum)");

    strata::tools::BenchCommand bench;
    CLI::App *bench_cmd = app.add_subcommand("bench", "Time workloads under a schedule, beside LibTorch when built with it");
    bench_cmd->add_option("workloads", bench.workloads, "Workloads to run (default: all; see --list)");
    bench_cmd->add_option("--schedule", bench.schedule,
                          "default, simple, or any schedule the compiler accepts (passed through unchanged)");
    bench_cmd->add_option("--threads", bench.threads, "Threads for Strata and LibTorch")
        ->check(strata::cli::thread_count(false));
    bench_cmd->add_option("--reps", bench.reps, "Timed calls per workload (default: about a second's worth)")
        ->check(strata::cli::whole_number(1, "a number of calls"));
    bench_cmd->add_flag("--check", bench.check,
                        "Compare results with the default schedule (with 'simple' when timing the default) and LibTorch");
    bench_cmd->add_option("--json", bench.json_path, "Also write the results as JSON");
    bench_cmd->add_flag("--profile", bench.profile, "Time each of Strata's kernels and list where a step's time goes");
    bench_cmd->add_flag("--list", bench.list, "List the workloads and exit");
    bench_cmd->add_flag("--compile-report", bench.compile_report,
                        "Cold compile time, peak RSS and one-layer recompile time of each model's training step");
    bench_cmd->add_option("--compile-one", bench.compile_one)->group("");  // the report's child process
    bench_cmd->add_flag("--memory-report", bench.memory_report,
                        "Peak resident memory of each model's training step (or the workloads named), Strata beside LibTorch, "
                        "each in a fresh process");
    bench_cmd->add_option("--memory-one", bench.memory_one)->group("");  // the memory report's child process
    bench_cmd->add_option("--memory-engine", bench.memory_engine)->group("");

    strata::tools::ScheduleCommand schedule;
    CLI::App *schedule_cmd = app.add_subcommand("schedule", "Show or check the schedule of a model");
    schedule_cmd->require_subcommand(1);
    CLI::App *dump_cmd = schedule_cmd->add_subcommand("dump", "Print the schedule in effect for every node (a schedule file)");
    CLI::App *check_cmd = schedule_cmd->add_subcommand("check", "Run a schedule and the default on the same inputs; compare");
    for (CLI::App *cmd : {dump_cmd, check_cmd}) {
        cmd->add_option("model", schedule.model, "IR text file or .safetensors checkpoint")->required();
        cmd->add_option("--schedule", schedule.schedule,
                        "default, simple, mullapudi2016, li2018, adams2019 or a schedule file");
        cmd->add_option("--target", schedule.target, "Halide target (default: host or $STRATA_TARGET)");
        cmd->add_option("--batch", schedule.batch, "Batch size (default: as saved)")
            ->check(strata::cli::whole_number(1, "a batch size"));
        cmd->add_flag("--train", schedule.train,
                      "The training step `strata emit --train` compiles for this checkpoint, not the model "
                      "(its --train-schedule)");
        cmd->add_option("--momentum", schedule.momentum,
                        "--train: the SGD momentum of the training step, as given to emit (default 0.9)")
            ->check(strata::cli::finite_number(false, "a momentum"));
    }
    dump_cmd->add_option("--out", schedule.out, "Write the schedule file here");
    dump_cmd->add_flag("--stages", schedule.stages,
                       "Write it as stage lines (Halide primitives on each stage), e.g. to edit the default by hand");

    CLI::App *ops_cmd = app.add_subcommand("ops", "List every op with its inputs, class and attributes");

    strata::tools::add_import_command(app);
    strata::tools::add_run_command(app);
    strata::tools::add_onnx_test_command(app);

    CLI11_PARSE(app, argc, argv);
    if (inspect_cmd->parsed()) return strata::tools::inspect(inspect);
    if (ops_cmd->parsed()) return strata::tools::list_ops();
    if (emit_cmd->parsed()) return strata::tools::emit(emit);
    if (bench_cmd->parsed()) return strata::tools::bench(bench);
    if (dump_cmd->parsed()) return strata::tools::schedule_dump(schedule);
    if (check_cmd->parsed()) return strata::tools::schedule_check(schedule);
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    return strata::guarded_main("strata", [&] { return run(argc, argv); });
}
