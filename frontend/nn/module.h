#pragma once
/// \file
/// `nn::Module`, the base of every layer and model, and `nn::ModuleHolder`,
/// the shared handle LibTorch users know (`nn::Conv2d` holds a `Conv2dImpl`).
///
/// A model is a tree of modules. Each module owns named parameters (trained),
/// buffers (state such as batch-norm running statistics) and child modules;
/// names follow PyTorch, so a child registered as "features" whose child "0"
/// has a "weight" gives the parameter "features.0.weight".
///
///     struct NetImpl : nn::Module {
///         NetImpl() {
///             conv = register_module("conv", nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)));
///             fc = register_module("fc", nn::Linear(6 * 28 * 28, 10));
///         }
///         SymTensor forward(const SymTensor &x) override {
///             return fc(flatten(relu(conv(x)), 1));
///         }
///         nn::Conv2d conv{nullptr};
///         nn::Linear fc{nullptr};
///     };
///     STRATA_MODULE(Net);
///
/// `forward` builds graph nodes: a module's parameters enter the graph of its
/// input as `Graph::parameter`s named by their full path (see `param`), so the
/// compiled graph reads (and its optimizer updates) the module's own tensors.

#include "frontend/graph.h"
#include "frontend/nn/ordered_dict.h"
#include "runtime/tensor.h"

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace strata::nn {

template <typename Impl> class ModuleHolder;

class Module {
public:
    /// `name` is the type name used in messages and `to_string` ("Conv2d");
    /// empty means the C++ class name without namespaces and "Impl".
    explicit Module(std::string name = "");
    virtual ~Module();
    // A module owns its tensors' identity in the graph: copies would alias them silently.
    Module(const Module &) = delete;
    Module &operator=(const Module &) = delete;

    /// Builds this module's computation on `input`. The base version fails:
    /// containers without a forward of their own are not callable.
    virtual SymTensor forward(const SymTensor &input);
    SymTensor operator()(const SymTensor &input) { return forward(input); }

    /// The type name ("Conv2d", "Sequential", "Net").
    std::string name() const;
    /// The path of this module in its tree: "" for a root, "features.0" for
    /// child "0" of the root's child "features". Set by `register_module`.
    const std::string &prefix() const { return prefix_; }
    /// The full path of this module's tensor `tensor_name` ("features.0.weight"):
    /// its name in a Graph.
    std::string full_name(const std::string &tensor_name) const;

    /// Registers a trainable tensor (floating point) and returns it (same storage).
    Tensor register_parameter(std::string name, Tensor tensor);
    /// Registers a state tensor that is not trained (e.g. running statistics).
    Tensor register_buffer(std::string name, Tensor tensor);
    /// Registers `module` as child `name` and returns it. Its prefix, and
    /// those of its descendants, become this module's prefix plus `name`;
    /// a module registered in several places (shared weights) keeps the
    /// prefix of its first registration, which is also the name under which
    /// `named_parameters` lists its tensors when the first registration comes
    /// first in the tree.
    template <typename M> std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module);
    template <typename M> std::shared_ptr<M> register_module(std::string name, ModuleHolder<M> module);

    /// Parameters of this module and (when `recurse`) its descendants, in
    /// registration order, named relative to this module ("features.0.weight");
    /// a tensor shared by two modules is listed once, under its first name.
    OrderedDict<Tensor> named_parameters(bool recurse = true) const;
    OrderedDict<Tensor> named_buffers(bool recurse = true) const;
    std::vector<Tensor> parameters(bool recurse = true) const;
    std::vector<Tensor> buffers(bool recurse = true) const;
    /// Total number of parameter elements (each shared tensor counted once).
    int64_t parameter_count() const;

    /// The direct children, in registration order.
    OrderedDict<std::shared_ptr<Module>> named_children() const;
    std::vector<std::shared_ptr<Module>> children() const;
    /// Every descendant (not this module), depth first, named relative to this
    /// module ("features", "features.0", ...).
    OrderedDict<std::shared_ptr<Module>> named_modules() const;
    /// Calls `fn` on this module and then on every descendant, depth first.
    void apply(const std::function<void(Module &)> &fn);

    /// Converts every floating-point parameter and buffer of this module and its
    /// descendants to `dtype` (f32 or f64), as torch.nn.Module.to(dtype); integer
    /// tensors (counters) are left as they are. Converting to the dtype a tensor
    /// already has keeps it. Tensors shared by several modules stay shared, and
    /// member handles (`conv->weight`) see the converted tensors (`refresh_tensor_members`).
    /// The tensors are new storage: graphs, compiled programs, TrainSteps and
    /// optimizer state built before keep the old ones, so build them after `to`.
    Module &to(DType dtype);

    /// Sets training mode on this module and every descendant (dropout and
    /// batch norm behave differently when training).
    virtual void train(bool on = true);
    void eval() { train(false); }
    bool is_training() const { return training_; }

    /// The graph node of this module's parameter or buffer `name`, in the
    /// graph of `like` (usually the forward input), named `full_name(name)`.
    /// Asking twice gives the same node.
    SymTensor param(const SymTensor &like, const std::string &name) const;

    /// The module tree as PyTorch prints it:
    ///     Sequential(
    ///       (0): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))
    ///       (1): ReLU()
    ///     )
    std::string to_string() const;
    /// The text inside the parentheses of this module's line ("1, 6, kernel_size=(5, 5)").
    virtual std::string extra_repr() const { return ""; }

protected:
    /// Called by `to` after it replaced this module's own parameters and buffers:
    /// a module that keeps handles to them (weight, bias) takes the new tensors
    /// here, from `registered_tensor`. The built-in modules do; so must a module
    /// of your own that keeps such members.
    virtual void refresh_tensor_members() {}
    /// This module's own parameter or buffer `name`; undefined when there is none.
    Tensor registered_tensor(const std::string &name) const;

private:
    void check_new_name(const std::string &name, const char *what) const;
    void add_child(const std::string &name, std::shared_ptr<Module> module);
    void set_prefix(const std::string &prefix);
    void collect(const std::string &prefix, bool buffers, bool recurse, OrderedDict<Tensor> &out,
                 std::vector<const void *> &seen) const;
    void collect_modules(const std::string &prefix, OrderedDict<std::shared_ptr<Module>> &out) const;
    std::string repr(int indent) const;
    /// Converts this module's own floating tensors; `converted` maps each old
    /// storage to its new tensor, so tensors shared between modules stay shared.
    void convert_own_tensors(DType dtype, std::vector<std::pair<Tensor, Tensor>> &converted);

    std::string name_;
    std::string prefix_;
    /// The module that registered this one first: only it sets this module's prefix.
    const Module *owner_ = nullptr;
    bool training_ = true;
    OrderedDict<Tensor> parameters_{"parameter"};
    OrderedDict<Tensor> buffers_{"buffer"};
    OrderedDict<std::shared_ptr<Module>> children_{"submodule"};
};

/// Puts a module (and its descendants) in training or evaluation mode for one scope, then
/// gives every one of them back the mode it had: `Trainer::evaluate` must not leave a model
/// in training mode that the caller had put in eval().
class TrainingModeScope {
public:
    TrainingModeScope(Module &module, bool training);
    ~TrainingModeScope();
    TrainingModeScope(const TrainingModeScope &) = delete;
    TrainingModeScope &operator=(const TrainingModeScope &) = delete;

private:
    std::vector<std::pair<Module *, bool>> saved_;  ///< each module, parents before children
};

std::ostream &operator<<(std::ostream &os, const Module &module);

namespace detail {
/// Whether a single constructor argument of ModuleHolder<Impl> is itself a
/// holder or a pointer to adopt (copy / share) rather than an Impl argument.
template <typename Impl, typename Arg>
inline constexpr bool is_holder_argument_v = std::is_base_of_v<ModuleHolder<Impl>, std::decay_t<Arg>> ||
                                             std::is_convertible_v<Arg, std::shared_ptr<Impl>>;

[[noreturn]] void fail_empty_holder(const char *type_name);
}  // namespace detail

/// A shared handle to a module, as in LibTorch: `nn::Linear` holds a
/// `std::shared_ptr<LinearImpl>`. Copies share the module. Constructor
/// arguments are forwarded to `Impl`'s constructor; `nullptr` gives an empty
/// holder to assign later (`nn::Linear fc{nullptr};`).
template <typename Impl> class ModuleHolder {
    static_assert(std::is_base_of_v<Module, Impl>, "ModuleHolder<Impl>: Impl must derive from nn::Module");

public:
    using ContainedType = Impl;

    /// Default-constructs the module (when `Impl` has a default constructor).
    ModuleHolder() : impl_(default_construct()) {
        static_assert(std::is_default_constructible_v<Impl>,
                      "this module has no default constructor: pass its options, or nullptr for an "
                      "empty holder (e.g. `nn::Linear fc{nullptr};`)");
    }
    /// An empty holder; using it before assigning a module fails.
    /* implicit */ ModuleHolder(std::nullptr_t) {}
    /* implicit */ ModuleHolder(std::shared_ptr<Impl> module) : impl_(std::move(module)) {}
    /// Constructs `Impl(head, tail...)`.
    template <
        typename Head, typename... Tail,
        typename = std::enable_if_t<!(sizeof...(Tail) == 0 && detail::is_holder_argument_v<Impl, Head>)>>
    explicit ModuleHolder(Head &&head, Tail &&...tail)
        : impl_(std::make_shared<Impl>(std::forward<Head>(head), std::forward<Tail>(tail)...)) {}

    Impl *operator->() const { return get(); }
    Impl &operator*() const { return *get(); }
    /// The module; fails when the holder is empty.
    Impl *get() const {
        if (!impl_) detail::fail_empty_holder(typeid(Impl).name());
        return impl_.get();
    }
    const std::shared_ptr<Impl> &ptr() const { return impl_; }
    bool is_empty() const noexcept { return impl_ == nullptr; }

    /// Calls the module's forward.
    template <typename... Args> decltype(auto) operator()(Args &&...args) const {
        return get()->forward(std::forward<Args>(args)...);
    }

private:
    static std::shared_ptr<Impl> default_construct() {
        if constexpr (std::is_default_constructible_v<Impl>)
            return std::make_shared<Impl>();
        else
            return nullptr;
    }

    std::shared_ptr<Impl> impl_;
};

/// Defines `Name`, the holder of `NameImpl` (LibTorch's TORCH_MODULE).
#define STRATA_MODULE(Name)                                                                                  \
    class Name : public ::strata::nn::ModuleHolder<Name##Impl> {                                             \
    public:                                                                                                  \
        using ::strata::nn::ModuleHolder<Name##Impl>::ModuleHolder;                                          \
    }

// ---- template definitions ----

template <typename M>
std::shared_ptr<M> Module::register_module(std::string name, std::shared_ptr<M> module) {
    static_assert(std::is_base_of_v<Module, M>, "register_module: the child must derive from nn::Module");
    add_child(name, module);
    return module;
}

template <typename M> std::shared_ptr<M> Module::register_module(std::string name, ModuleHolder<M> module) {
    return register_module(std::move(name), module.ptr());
}

}  // namespace strata::nn
