#include "frontend/nn/container.h"

#include <strata/error.h>

#include <cxxabi.h>

#include <cstdlib>

namespace strata::nn {

SequentialImpl::SequentialImpl(std::initializer_list<NamedModule> named) : Module("Sequential") {
    for (const NamedModule &item : named) push_back(item.name, item.module);
}

SymTensor SequentialImpl::forward(const SymTensor &input) {
    SymTensor x = input;
    for (const auto &module : modules_) x = module->forward(x);
    return x;
}

std::shared_ptr<Module> SequentialImpl::operator[](size_t index) const {
    if (index >= modules_.size())
        fail("Sequential: index {} is out of range for a Sequential of {} modules", index, modules_.size());
    return modules_[index];
}

void SequentialImpl::fail_wrong_type(size_t index, const char *type_name) const {
    int status = 0;
    char *demangled = abi::__cxa_demangle(type_name, nullptr, nullptr, &status);
    const std::string wanted = status == 0 && demangled ? demangled : type_name;
    std::free(demangled);
    fail("Sequential: module {} is a {}, not a {}", index, modules_[index]->name(), wanted);
}

}  // namespace strata::nn
