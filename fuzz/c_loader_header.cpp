// Writes the C header of a small emitted library (external weights and a training state)
// to argv[1]: the emitted safetensors loader (codegen/aot_c_safetensors.cpp) with its name
// tables, for fuzz/c_loader_check.cpp to compile against. Run at build time.
#include "codegen/aot_c_api.h"

#include <cstdio>
#include <fstream>
#include <iostream>

using namespace strata;
using namespace strata::codegen;

int main(int argc, char **argv) {
    if (argc != 2) {
        std::cerr << "usage: c_loader_header OUT.h\n";
        return 2;
    }
    CApi api;
    api.name = "fuzzmodel";
    api.target = "host";
    api.schedule = api.train_schedule = "default";
    api.inputs = {{"x", DType::f32, {2, 3}}};
    api.outputs = {{"y", DType::f32, {2, 2}}};
    // Names that need escaping: a '@' (the library name's placeholder) and a "??/" trigraph.
    api.tensors = {{"w@1", DType::f32, {2, 3}},
                   {"b?\?/x", DType::f32, {2}},
                   {"w@1.momentum_buffer", DType::f32, {2, 3}},
                   {"b?\?/x.momentum_buffer", DType::f32, {2}}};
    api.parameter_count = 2;
    api.external_weights = true;
    api.updated = {true, true, true, true};
    api.classes = 2;
    const auto io = [](const std::string &data, const std::string &shape, const CTensor &t, bool input) {
        CBuffer b;
        b.data = data;
        b.shape = shape;
        b.tensor = t;
        b.input = input;
        return b;
    };
    api.params_predict = {io("x", "fuzzmodel_x_shape", api.inputs[0], true),
                          io("tensor[0]", "fuzzmodel_tensor_shapes[0]", api.tensors[0], true),
                          io("tensor[1]", "fuzzmodel_tensor_shapes[1]", api.tensors[1], true),
                          io("y", "fuzzmodel_y_shape", api.outputs[0], false)};
    api.train = {io("x", "fuzzmodel_x_shape", api.inputs[0], true),
                 io("labels", "fuzzmodel_labels_shape", {"labels", DType::i32, {2}}, true),
                 io("&lr", "NULL", {"lr", DType::f32, {}}, true),
                 io("&loss_value", "NULL", {"loss", DType::f32, {}}, false)};
    std::ofstream out(argv[1]);
    out << c_header(api);
    return out ? 0 : 1;
}
