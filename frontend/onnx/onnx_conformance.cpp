#include "frontend/onnx/onnx_conformance.h"

#include "frontend/onnx/onnx_converter.h"
#include "frontend/onnx/onnx_import.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

namespace strata::onnx {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> numbered_files(const fs::path &dir, const std::string &prefix) {
    std::vector<std::string> out;
    for (int i = 0;; ++i) {
        const fs::path p = dir / fmt::format("{}_{}.pb", prefix, i);
        if (!fs::exists(p)) break;
        out.push_back(p.string());
    }
    return out;
}

std::vector<fs::path> data_sets(const fs::path &dir) {
    std::vector<fs::path> out;
    for (const auto &e : fs::directory_iterator(dir))
        if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

/// The data set's values compared; throws Error naming the output and element that differ.
double compare(const std::string &name, const HostTensor &want, const Tensor &got, const ConformanceOptions &o) {
    if (want.shape != got.shape())
        fail("output '{}' has shape {}, expected {}", name, shape_str(got.shape()), shape_str(want.shape));
    const Tensor g = got.contiguous();
    double worst = 0;
    for (int64_t i = 0; i < want.numel(); ++i) {
        const double w = want.value(i), v = g.get_flat(i);
        if (std::isnan(w) && std::isnan(v)) continue;
        if (std::isinf(w) && v == w) continue;
        const double err = std::abs(v - w);
        if (!(err <= o.atol + o.rtol * std::abs(w)))
            fail("output '{}' element {} is {}, expected {} (error {:.3g}, allowed {:.3g})", name, i, v, w, err,
                 o.atol + o.rtol * std::abs(w));
        worst = std::max(worst, err);
    }
    return worst;
}

CaseResult run_case(const fs::path &dir, const ConformanceOptions &options) {
    CaseResult r;
    r.name = dir.filename().string();
    const auto sets = data_sets(dir);
    if (sets.empty()) fail("no test_data_set_* folder");
    // Shapes from the first data set's inputs; the declared ones may be symbolic.
    const std::vector<std::string> input_files = numbered_files(sets[0], "input");
    ::onnx::ModelProto model = read_model((dir / "model.onnx").string());
    std::set<std::string> initializers;
    for (const auto &init : model.graph().initializer()) initializers.insert(init.name());
    std::vector<std::string> input_names;
    for (const auto &in : model.graph().input()) {
        if (initializers.count(in.name())) continue;
        if (!in.type().has_tensor_type())
            throw Unsupported(fmt::format("input '{}' is not a tensor (a sequence, map or optional)", in.name()));
        input_names.push_back(in.name());
    }
    for (const auto &out : model.graph().output())
        if (!out.type().has_tensor_type())
            throw Unsupported(fmt::format("output '{}' is not a tensor (a sequence, map or optional)", out.name()));
    if (input_files.size() != input_names.size())
        fail("{} input files for {} graph inputs", input_files.size(), input_names.size());
    ImportOptions import;
    std::vector<HostTensor> first_inputs;
    for (size_t i = 0; i < input_files.size(); ++i) {
        first_inputs.push_back(host_tensor(read_tensor_proto(input_files[i]), input_files[i]));
        const int32_t type = first_inputs.back().elem_type;
        // INT64 inputs (shapes, axes, pads the node tests feed as data) are fixed at import.
        if (type == ::onnx::TensorProto::INT64) {
            import.fixed_inputs[input_names[i]] = {first_inputs.back().shape, first_inputs.back().ints};
            continue;
        }
        if (type != ::onnx::TensorProto::FLOAT && type != ::onnx::TensorProto::DOUBLE && type != ::onnx::TensorProto::INT32 &&
            type != ::onnx::TensorProto::BOOL)
            throw Unsupported(fmt::format("input '{}' is {}, which Strata does not compute in", input_names[i],
                                          elem_type_name(type)));
        for (int64_t e : first_inputs.back().shape)
            if (e == 0) throw Unsupported(fmt::format("input '{}' is empty", input_names[i]));
        import.input_shapes[input_names[i]] = first_inputs.back().shape;
    }
    OnnxModel m((dir / "model.onnx").string(), import);
    Graph g;
    std::map<std::string, SymTensor> inputs;
    for (const ModelInput &in : m->inputs()) inputs[in.name] = g.input(in.name, in.shape, in.dtype);
    const auto outputs = m->forward(inputs);
    for (const std::string &name : m->outputs()) g.output(name, outputs.at(name));
    const CompiledGraph compiled = g.compile();
    double worst = 0;
    for (const fs::path &set : sets) {
        std::map<std::string, Tensor> feed;
        const auto files = numbered_files(set, "input");
        for (size_t i = 0; i < files.size() && i < input_names.size(); ++i) {
            const HostTensor value = host_tensor(read_tensor_proto(files[i]), files[i]);
            auto fixed = import.fixed_inputs.find(input_names[i]);
            if (fixed == import.fixed_inputs.end()) {
                feed[input_names[i]] = to_tensor(value, files[i]);
            } else if (value.shape != fixed->second.shape || value.ints != fixed->second.values) {
                throw Unsupported(fmt::format("INT64 input '{}' differs between data sets (fixed at import)", input_names[i]));
            }
        }
        const auto got = compiled.run(feed);
        const auto expected = numbered_files(set, "output");
        if (expected.size() != m->outputs().size())
            fail("{}: {} output files for {} graph outputs", set.string(), expected.size(), m->outputs().size());
        for (size_t i = 0; i < expected.size(); ++i) {
            const std::string &name = m->outputs()[i];
            worst = std::max(worst, compare(name, host_tensor(read_tensor_proto(expected[i]), expected[i]), got.at(name), options));
        }
    }
    r.status = CaseStatus::pass;
    r.message = fmt::format("largest error {:.3g} over {} data set(s)", worst, sets.size());
    return r;
}

}  // namespace

const char *status_name(CaseStatus status) {
    switch (status) {
    case CaseStatus::pass: return "pass";
    case CaseStatus::fail: return "FAIL";
    case CaseStatus::unsupported: return "unsupported";
    }
    return "?";
}

CaseResult run_conformance_case(const std::string &dir, const ConformanceOptions &options) {
    const auto start = std::chrono::steady_clock::now();
    CaseResult r;
    r.name = fs::path(dir).filename().string();
    try {
        r = run_case(fs::path(dir), options);
    } catch (const Unsupported &e) {
        r.status = CaseStatus::unsupported;
        r.message = e.what();
    } catch (const std::exception &e) {
        r.status = CaseStatus::fail;
        r.message = e.what();
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

std::vector<std::string> conformance_cases(const std::string &dir) {
    if (!fs::is_directory(dir)) fail("{}: not a folder (expected ONNX test cases, e.g. /usr/share/libonnx-testdata/data/node)", dir);
    if (fs::exists(fs::path(dir) / "model.onnx")) return {dir};
    std::vector<std::string> out;
    for (const auto &e : fs::directory_iterator(dir))
        if (e.is_directory() && fs::exists(e.path() / "model.onnx")) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    if (out.empty()) fail("{}: no case folders (subfolders with a model.onnx)", dir);
    return out;
}

}  // namespace strata::onnx
