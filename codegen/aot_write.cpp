// Writing an emitted library: its pipelines compiled into one static library,
// the C header, README.txt and the weights, built in a private folder and
// moved into place only when all of it is there.

#include "codegen/aot_library.h"

#include "runtime/safetensors.h"

#include <strata/error.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace strata::codegen::aot {

namespace fs = std::filesystem;

namespace {

/// DIR/README.txt: the files and how to use and link them.
std::string readme_text(const std::string &name, const std::string &target, bool external, bool train) {
    std::string text = fmt::format("{0}: a Strata model compiled for {1}.\n\nFiles: {0}.a (code{2}), {0}.h (plain C API), "
                                   "HalideRuntime.h (types used by {0}.h){3}.\n\nUse:\n    #include \"{0}.h\"\n",
                                   name, target, external ? "" : " and weights",
                                   external ? ", " + name + ".safetensors (the weights)" : "");
    if (external)
        text += fmt::format("    char message[512];\n    {0}_weights *w;\n"
                            "    if ({0}_load_weights(\"{0}.safetensors\", &w, message, sizeof message) != 0) ... (message says why)\n"
                            "    {0}_predict(w, input, output); /* 0 on success */\n    {0}_weights_free(w);\n",
                            name);
    else
        text += fmt::format("    {0}_predict(input, output); /* 0 on success */\n", name);
    if (train) {
        text += fmt::format("\nFine-tuning (SGD):\n    {0}_state *s", name);
        text += external ? fmt::format(";\n    {0}_state_load(\"{0}.safetensors\", &s, message, sizeof message);\n", name)
                         : fmt::format(" = {0}_state_new();\n", name);
        text += fmt::format("    {0}_train_step(s, batch, labels, &loss); /* 0 on success */\n"
                            "    {0}_state_predict(s, input, output);\n"
                            "    {0}_state_save(s, \"tuned.safetensors\");\n    {0}_state_free(s);\n",
                            name);
    }
    text += fmt::format("\nLink with the C runtime only:\n    cc main.c -I DIR DIR/{0}.a -lpthread -ldl -lm\n", name);
    return text;
}

/// One object per pipeline without the runtime, plus one copy of the runtime, as WORK/NAME.a.
void compile_static_library(std::vector<PipelineObject> &objects, const Halide::Target &target,
                            const std::string &target_string, const fs::path &work, const std::string &name) {
    std::vector<std::string> object_files;
    std::string compiling = "the runtime";
    try {
        const Halide::Target object_target = target.with_feature(Halide::Target::NoRuntime);
        for (PipelineObject &o : objects) {
            compiling = o.function;
            const std::string file = (work / (o.function + ".o")).string();
            o.pipeline.compile_to_object(file, o.args, o.function, object_target);
            object_files.push_back(file);
        }
        compiling = "the runtime";
        const std::string runtime = (work / (name + "_runtime.o")).string();
        Halide::compile_standalone_runtime(runtime, target);
        object_files.push_back(runtime);
        Halide::create_static_library(object_files, target, (work / (name + ".a")).string());
    } catch (const Halide::Error &e) {
        fail("emit: Halide could not compile {} for target {}: {}", compiling, target_string, e.what());
    }
}

}  // namespace

EmittedLibrary write_library(LibraryPlan &plan, const Halide::Target &target, const EmitOptions &options,
                             const EmitTrainStep *train) {
    const fs::path out(options.out_dir);
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) fail("emit: cannot create the folder {}: {}", out.string(), ec.message());
    const fs::path work = out / fmt::format(".strata-emit-{}-{}", options.name, getpid());
    fs::remove_all(work, ec);
    fs::create_directories(work, ec);
    if (ec) fail("emit: cannot write into the folder {}: {}", out.string(), ec.message());
    struct Cleanup {
        fs::path p;
        ~Cleanup() {
            std::error_code e;
            fs::remove_all(p, e);
        }
    } cleanup{work};

    compile_static_library(plan.objects, target, plan.api.target, work, options.name);
    {
        std::ofstream h(work / (options.name + ".h"));
        h << c_header(plan.api);
        std::ofstream readme(work / "README.txt");
        readme << readme_text(options.name, plan.api.target, options.external_weights, train != nullptr);
        if (!h || !readme) fail("emit: could not write into {}", work.string());
    }
    if (options.external_weights) {
        // Saved momentum buffers go along; fresh ones start at zero in the library.
        const StateTensors &state = plan.state;
        NamedTensors tensors;
        const size_t count = train && !train->momentum_ready ? state.parameter_count : state.tensors.size();
        for (size_t i = 0; i < count; ++i)
            tensors.push_back({state.tensors[i].name, plan.start.at(state.tensors[i].name)});
        save_safetensors((work / (options.name + ".safetensors")).string(), tensors, {{"format", "pt"}});
    }
    const fs::path runtime_header(STRATA_HALIDE_RUNTIME_HEADER);
    fs::copy_file(runtime_header, work / "HalideRuntime.h", fs::copy_options::overwrite_existing, ec);
    if (ec) fail("emit: cannot copy {}: {}", runtime_header.string(), ec.message());

    std::vector<std::string> files = {options.name + ".a", options.name + ".h", "HalideRuntime.h", "README.txt"};
    if (options.external_weights) files.push_back(options.name + ".safetensors");
    for (const std::string &file : files) {
        fs::rename(work / file, out / file, ec);
        if (ec) fail("emit: cannot move {} into {}: {}", file, out.string(), ec.message());
    }
    EmittedLibrary result;
    result.target = plan.api.target;
    result.library = (out / (options.name + ".a")).string();
    result.header = (out / (options.name + ".h")).string();
    result.readme = (out / "README.txt").string();
    if (options.external_weights) result.weights = (out / (options.name + ".safetensors")).string();
    return result;
}

}  // namespace strata::codegen::aot
