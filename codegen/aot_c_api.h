#pragma once
// Internal to codegen: the plain C header of a library `emit_library` writes
// (NAME.h). Text only: no Halide types here.

#include <strata/dtype.h>
#include <strata/shape.h>

#include <string>
#include <vector>

namespace strata::codegen {

/// A named tensor of the C API: a model input or output, or a weight / state tensor.
struct CTensor {
    std::string name;
    DType dtype = DType::f32;
    Shape shape;
};

/// One buffer argument of a compiled pipeline: a C expression for its data pointer.
struct CBuffer {
    std::string data;   ///< e.g. "images", "tensor[3]", "s->next[3]", "&lr"
    std::string shape;  ///< a C expression for its int64_t shape array
    CTensor tensor;
    bool input = true;
};

/// Everything NAME.h declares. Pipelines are declared as `int NAME_<suffix>(buffers...)`.
struct CApi {
    std::string name, target;
    /// The schedules the pipelines were compiled with, as the header's comment names them.
    std::string schedule, train_schedule;
    std::vector<CTensor> inputs, outputs;  ///< the model's, in program order
    /// `NAME_predict(inputs..., outputs...)` with the weights compiled in ("" when external).
    std::vector<CBuffer> embedded_predict;
    /// Weight / state tensors: the model's parameters, then (training) the optimizer state.
    std::vector<CTensor> tensors;
    size_t parameter_count = 0;
    /// Inference reading parameters from `tensor[i]` (external weights or a training state).
    std::vector<CBuffer> params_predict;
    bool external_weights = false;
    /// Training (empty `train` when not emitted).
    std::vector<CBuffer> train;       ///< reads s->tensor[i], writes s->next[i], lr, first, loss_value
    std::vector<CBuffer> initial;     ///< writes s->tensor[i] (embedded weights only)
    std::vector<bool> updated;        ///< per tensor: a training step writes a new value
    int64_t classes = 0;
    int64_t ignore_index = -100;
    double learning_rate = 0.01;
    bool momentum_ready = false;      ///< the initial state holds momentum buffers (no first-step rule)
};

/// The text of NAME.h.
std::string c_header(const CApi &api);

}  // namespace strata::codegen
