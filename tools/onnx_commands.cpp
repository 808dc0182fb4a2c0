#include "tools/onnx_commands.h"

#include "codegen/compiler.h"
#include "frontend/onnx/onnx_conformance.h"
#include "frontend/onnx/onnx_import.h"
#include "frontend/train/checkpoint.h"
#include "ir/passes/rebatch.h"
#include "tools/model_files.h"
#include "tools/tensor_files.h"

#include <strata/error.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <array>
#include <filesystem>
#include <map>
#include <memory>

namespace strata::tools {

namespace {

/// "NAME=VALUE" split at the first '='; `what` names the option in the error.
std::pair<std::string, std::string> name_value(const std::string &arg, const char *what) {
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
        fail("{} '{}': expected NAME=VALUE", what, arg);
    return {arg.substr(0, eq), arg.substr(eq + 1)};
}

Shape parse_dims(const std::string &text, const std::string &arg) {
    Shape shape;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = text.find(',', start);
        const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (part.empty() || part.size() > 15 || part.find_first_not_of("0123456789") != std::string::npos)
            fail("--shape '{}': '{}' is not an extent (a whole number)", arg, part);
        shape.push_back(std::stoll(part));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return shape;
}

struct ImportCommand {
    std::string model, out;
    int64_t batch = 1;
    std::vector<std::string> shapes;
};

void run_import(const ImportCommand &c) {
    onnx::ImportOptions options;
    options.batch = c.batch;
    for (const std::string &s : c.shapes) {
        const auto [name, dims] = name_value(s, "--shape");
        options.input_shapes[name] = parse_dims(dims, s);
    }
    onnx::import_to_checkpoint(c.model, c.out, options);
    const Checkpoint ck = read_checkpoint(c.out);
    const ir::Program program = checkpoint_program(ck, c.out, 0);
    fmt::print("imported {} -> {}: {} inputs, {} outputs, {} tensors, {} IR nodes\n", c.model, c.out,
               program.inputs().size(), program.outputs().size(), ck.file.tensors.size(), program.nodes().size());
}

struct RunCommand {
    std::string checkpoint;
    std::vector<std::string> inputs, outputs;
};

void run_run(const RunCommand &c) {
    const Checkpoint ck = read_checkpoint(c.checkpoint);
    ir::Program program = checkpoint_program(ck, c.checkpoint, 0);
    std::map<std::string, Tensor> sources;
    for (const auto &[name, tensor] : ck.file.tensors) sources[name] = tensor;
    std::map<std::string, Tensor> given;
    for (const std::string &arg : c.inputs) {
        const auto [name, file] = name_value(arg, "--input");
        if (!program.find_source(name) || program.find_source(name)->op != ir::Op::input)
            fail("--input {}: the model has no input '{}'", arg, name);
        given[name] = read_tensor_file(file, name);
    }
    int64_t batch = 0;
    for (const ir::Node *in : program.inputs()) {
        const std::string &name = in->attrs.get_str("name");
        auto it = given.find(name);
        if (it == given.end()) fail("{}: input '{}' ({}) was not given (--input {}=FILE)", c.checkpoint, name, shape_str(in->shape()), name);
        if (it->second.dim() != static_cast<int64_t>(in->shape().size()) || it->second.dtype() != in->dtype())
            fail("--input {}: {} {} given, the model takes {} {}", name, dtype_name(it->second.dtype()),
                 shape_str(it->second.shape()), dtype_name(in->dtype()), shape_str(in->shape()));
        if (in->shape().size() > 0 && it->second.size(0) != in->shape()[0]) batch = it->second.size(0);
    }
    if (batch > 0) program = ir::rebatch(program, batch);
    for (auto &[name, t] : given) sources[name] = t;
    const codegen::Executable exe = codegen::compile(program);
    const std::vector<Tensor> results = exe.run(sources);
    const std::vector<std::string> &names = exe.output_names();
    std::map<std::string, std::string> files;
    for (const std::string &arg : c.outputs) {
        if (arg.find('=') == std::string::npos) {
            if (names.size() != 1) fail("--output {}: the model has {} outputs; name one (--output NAME=FILE)", arg, names.size());
            files[names[0]] = arg;
        } else {
            const auto [name, file] = name_value(arg, "--output");
            if (std::find(names.begin(), names.end(), name) == names.end()) fail("--output {}: the model has no output '{}'", arg, name);
            files[name] = file;
        }
    }
    for (size_t i = 0; i < names.size(); ++i) {
        auto f = files.find(names[i]);
        if (f != files.end()) {
            write_tensor_file(f->second, results[i], names[i]);
            fmt::print("{}: {} {} -> {}\n", names[i], dtype_name(results[i].dtype()), shape_str(results[i].shape()), f->second);
        } else {
            fmt::print("{} = {}\n", names[i], results[i].to_string());
        }
    }
}

struct OnnxTestCommand {
    std::vector<std::string> dirs;
    bool verbose = false;
    bool require_supported = false;
};

void run_onnx_test(const OnnxTestCommand &c) {
    // Counts per folder of cases: a case folder given directly counts under its parent.
    std::vector<std::string> folders;
    std::map<std::string, std::array<int, 3>> counts;
    int failures = 0;
    for (const std::string &dir : c.dirs) {
        for (const std::string &case_dir : onnx::conformance_cases(dir)) {
            const std::string folder = std::filesystem::path(case_dir).parent_path().string();
            if (!counts.count(folder)) folders.push_back(folder), counts[folder] = {0, 0, 0};
            const onnx::CaseResult r = onnx::run_conformance_case(case_dir);
            ++counts[folder][static_cast<int>(r.status)];
            const bool bad = r.status == onnx::CaseStatus::fail ||
                             (r.status == onnx::CaseStatus::unsupported && c.require_supported);
            failures += bad;
            if (r.status == onnx::CaseStatus::unsupported && !c.verbose && !bad) continue;
            const bool quiet = r.status == onnx::CaseStatus::pass && !c.verbose;
            fmt::print("{:<11} {} ({:.1f} s){}{}\n", onnx::status_name(r.status), r.name, r.seconds, quiet ? "" : ": ",
                       quiet ? "" : r.message);
            std::fflush(stdout);
        }
    }
    for (const std::string &folder : folders) {
        const auto &n = counts[folder];
        fmt::print("{}: {} pass, {} fail, {} unsupported ({} cases)\n", folder, n[0], n[1], n[2], n[0] + n[1] + n[2]);
    }
    if (failures > 0) {
        fmt::print("{} case(s) failed{}\n", failures, c.require_supported ? " or were unsupported" : "");
        throw CLI::RuntimeError(1);
    }
}

}  // namespace

void add_import_command(CLI::App &app) {
    auto c = std::make_shared<ImportCommand>();
    CLI::App *cmd = app.add_subcommand("import", "Import an ONNX model as a Strata checkpoint (IR + weights)");
    cmd->add_option("model", c->model, "ONNX model (.onnx)")->required();
    cmd->add_option("--out", c->out, "Checkpoint to write (.safetensors)")->required();
    cmd->add_option("--batch", c->batch, "Extent of a symbolic batch dim in the saved IR (default 1; runs at any)");
    cmd->add_option("--shape", c->shapes, "NAME=D0,D1,...: an input's shape (where a dim other than the batch is symbolic)");
    cmd->callback([c] { run_import(*c); });
}

void add_run_command(CLI::App &app) {
    auto c = std::make_shared<RunCommand>();
    CLI::App *cmd = app.add_subcommand("run", "Run a checkpoint's model on tensors from files (.npy, ONNX .pb or .safetensors)");
    cmd->add_option("checkpoint", c->checkpoint, "Checkpoint saved with its IR (strata import, save_checkpoint)")->required();
    cmd->add_option("--input", c->inputs, "NAME=FILE.npy|FILE.pb|FILE.safetensors (its tensor NAME, or its only one), for every input")->required();
    cmd->add_option("--output", c->outputs, "[NAME=]FILE.npy|FILE.pb|FILE.safetensors (default: print the outputs)");
    cmd->callback([c] { run_run(*c); });
}

void add_onnx_test_command(CLI::App &app) {
    auto c = std::make_shared<OnnxTestCommand>();
    CLI::App *cmd = app.add_subcommand("onnx-test", "Run ONNX backend test cases (e.g. /usr/share/libonnx-testdata/data/node)");
    cmd->add_option("dirs", c->dirs, "Folders of cases, or case folders")->required();
    cmd->add_flag("--verbose", c->verbose, "Also list unsupported cases and the largest error of passing ones");
    cmd->add_flag("--require-supported", c->require_supported, "Count unsupported cases as failures (the CTest entry)");
    cmd->callback([c] { run_onnx_test(*c); });
}

}  // namespace strata::tools
