#include "frontend/train/registration_check.h"

#include <set>

namespace strata {

void check_modules_registered(const nn::Module &model, const Graph &graph, const std::string &where) {
    std::set<const void *> registered;
    const auto params = model.named_parameters(), buffers = model.named_buffers();
    for (const auto &[name, t] : params.items()) registered.insert(t.raw_data());
    for (const auto &[name, t] : buffers.items()) registered.insert(t.raw_data());
    std::string strays;
    int count = 0;
    for (const auto &[name, t] : graph.parameter_values()) {
        if (name.rfind("optim.", 0) == 0 || t.numel() == 0 || registered.count(t.raw_data())) continue;
        strays += fmt::format("{}'{}' {} ({})", strays.empty() ? "" : ", ", name, shape_str(t.shape()),
                              dtype_name(t.dtype()));
        ++count;
    }
    if (count > 0)
        fail("{}: the forward pass reads {}, which {} not a parameter or buffer of the model: {} to a module that is "
             "a member but was never registered, so {} be neither trained nor saved. Register that module in its "
             "parent (`sub = register_module(\"sub\", nn::Linear(...))`), or a fixed tensor with register_buffer",
             where, strays, count > 1 ? "are" : "is", count > 1 ? "they belong" : "it belongs",
             count > 1 ? "they would" : "it would");
}

}  // namespace strata
