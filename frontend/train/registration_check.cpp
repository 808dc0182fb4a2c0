#include "frontend/train/registration_check.h"

#include <set>

namespace strata {

void check_modules_registered(const nn::Module &model, const Graph &graph, const std::string &where) {
    std::set<const void *> registered;
    const auto params = model.named_parameters(), buffers = model.named_buffers();
    for (const auto &[name, t] : params.items()) registered.insert(t.raw_data());
    for (const auto &[name, t] : buffers.items()) registered.insert(t.raw_data());
    for (const auto &[name, t] : graph.parameter_values()) {
        if (name.rfind("optim.", 0) == 0 || t.numel() == 0 || registered.count(t.raw_data())) continue;
        fail("{}: the forward pass reads '{}' {} ({}), which is not a parameter or buffer of the model: it "
             "belongs to a module that is a member but was never registered, so it would be neither trained "
             "nor saved. Register that module in its parent (`sub = register_module(\"sub\", nn::Linear(...))`), "
             "or a fixed tensor with register_buffer",
             where, name, shape_str(t.shape()), dtype_name(t.dtype()));
    }
}

}  // namespace strata
