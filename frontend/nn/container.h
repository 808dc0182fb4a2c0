#pragma once
/// \file
/// `nn::Sequential`, as torch.nn.Sequential: children called in order, each
/// on the output of the one before.
///
///     nn::Sequential features(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)),
///                             nn::ReLU(),
///                             nn::MaxPool2d(2));          // children "0", "1", "2"
///     features->push_back(nn::Flatten());                 // child "3"
///     nn::Sequential named({{"conv", nn::Conv2d(1, 6, 5)}, {"relu", nn::ReLU()}});
///
/// A single Sequential argument is a copy of the handle, not a nested child
/// (as in LibTorch): nest with push_back.

#include "frontend/nn/module.h"

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace strata::nn {

/// A child given with its name, for `Sequential({{"conv", nn::Conv2d(...)}, ...})`.
struct NamedModule {
    template <typename M>
    NamedModule(std::string name_, const ModuleHolder<M> &holder)
        : name(std::move(name_)), module(holder.ptr()) {}
    template <typename M, typename = std::enable_if_t<std::is_base_of_v<Module, M>>>
    NamedModule(std::string name_, std::shared_ptr<M> module_)
        : name(std::move(name_)), module(std::move(module_)) {}

    std::string name;
    std::shared_ptr<Module> module;
};

class SequentialImpl : public Module {
public:
    SequentialImpl() : Module("Sequential") {}
    /// Children named "0", "1", ... in argument order (holders or shared_ptrs).
    template <typename First, typename... Rest>
    explicit SequentialImpl(First &&first, Rest &&...rest) : Module("Sequential") {
        push_back(std::forward<First>(first));
        (push_back(std::forward<Rest>(rest)), ...);
    }
    /// Children with the given names, in order.
    explicit SequentialImpl(std::initializer_list<NamedModule> named);

    /// Appends a child named by its index ("3" for the fourth).
    template <typename M> void push_back(const ModuleHolder<M> &holder) { push_back(holder.ptr()); }
    template <typename M> void push_back(std::shared_ptr<M> module) {
        push_back(std::to_string(modules_.size()), std::move(module));
    }
    /// Appends a child with the given name.
    template <typename M> void push_back(std::string name, const ModuleHolder<M> &holder) {
        push_back(std::move(name), holder.ptr());
    }
    template <typename M> void push_back(std::string name, std::shared_ptr<M> module) {
        modules_.push_back(register_module(std::move(name), std::shared_ptr<Module>(std::move(module))));
    }

    /// Calls the children in order; with no children, returns the input.
    SymTensor forward(const SymTensor &input) override;

    size_t size() const { return modules_.size(); }
    bool is_empty() const { return modules_.empty(); }
    /// The i-th child; fails when out of range.
    std::shared_ptr<Module> operator[](size_t index) const;
    /// The i-th child as `M` (e.g. `seq->ptr<nn::Conv2dImpl>(0)`); fails when it is not one.
    template <typename M> std::shared_ptr<M> ptr(size_t index) const {
        auto module = std::dynamic_pointer_cast<M>((*this)[index]);
        if (!module) fail_wrong_type(index, typeid(M).name());
        return module;
    }
    auto begin() const { return modules_.begin(); }
    auto end() const { return modules_.end(); }

private:
    [[noreturn]] void fail_wrong_type(size_t index, const char *type_name) const;

    std::vector<std::shared_ptr<Module>> modules_;
};

class Sequential : public ModuleHolder<SequentialImpl> {
public:
    using ModuleHolder<SequentialImpl>::ModuleHolder;
    Sequential() : ModuleHolder<SequentialImpl>() {}
    /// `nn::Sequential({{"conv", nn::Conv2d(1, 6, 5)}, {"relu", nn::ReLU()}})`.
    Sequential(std::initializer_list<NamedModule> named)
        : ModuleHolder<SequentialImpl>(std::make_shared<SequentialImpl>(named)) {}
};

}  // namespace strata::nn
