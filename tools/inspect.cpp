#include "tools/commands.h"

#include "tools/model_files.h"

#include "codegen/compiler.h"
#include "ir/parser.h"
#include "ir/passes/pipeline.h"
#include "ir/printer.h"

#include <strata/error.h>

#include <fmt/core.h>

#include <map>

namespace strata::tools {


int inspect(const InspectOptions &options) {
    ir::Program program = read_ir_file(options.path);
    std::map<std::string, int> per_class;
    int64_t parameter_elements = 0;
    for (const auto &node : program.nodes()) per_class[ir::op_class_name(node->info().op_class)]++;
    fmt::print("{}: {} nodes\n", options.path, program.nodes().size());
    for (const ir::Node *n : program.inputs())
        fmt::print("  input     {:<24} {}\n", n->attrs.get_str("name"), ir::type_str(n->type));
    for (const ir::Node *n : program.parameters()) {
        fmt::print("  parameter {:<24} {}\n", n->attrs.get_str("name"), ir::type_str(n->type));
        parameter_elements += n->type.numel();
    }
    for (const ir::Output &o : program.outputs())
        fmt::print("  output    {:<24} {}\n", o.name, ir::type_str(o.node->type));
    fmt::print("parameters: {} elements\nops by class:", parameter_elements);
    for (const auto &[cls, count] : per_class) fmt::print(" {}={}", cls, count);
    fmt::print("\n");
    if (options.run_passes) fmt::print("after passes:\n{}", ir::print(ir::run_passes(program)));
    if (options.compile) {
        codegen::CompileOptions copts;
        copts.target = options.target;
        copts.schedule = options.schedule;
        auto exe = codegen::compile(program, copts);
        fmt::print("compiled for {} in {:.3f} s (compile cache: {})\n", exe.target(), exe.compile_seconds(),
                   exe.cache_status());
    }
    return 0;
}

int list_ops() {
    for (const ir::OpInfo &info : ir::all_ops()) {
        std::string attrs;
        for (const ir::AttrSpec &a : info.attrs)
            attrs += fmt::format("{}{}:{}", attrs.empty() ? "" : ", ", a.name, ir::attr_kind_name(a.kind));
        const std::string inputs = info.min_inputs == info.max_inputs
                                       ? fmt::format("{}", info.min_inputs)
                                       : fmt::format("{}-{}", info.min_inputs, info.max_inputs);
        fmt::print("{:<22} {:<6} {:<10} {}\n", info.name, inputs, ir::op_class_name(info.op_class), attrs);
    }
    return 0;
}

}  // namespace strata::tools
