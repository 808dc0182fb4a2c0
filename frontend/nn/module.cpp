#include "frontend/nn/module.h"

#include <strata/error.h>

#include <cxxabi.h>

#include <cstdlib>
#include <ostream>
#include <sstream>

namespace strata::nn {

namespace {

/// "strata::nn::Conv2dImpl" -> "Conv2d"; "(anonymous namespace)::NetImpl" -> "Net".
std::string short_type_name(const char *mangled) {
    int status = 0;
    char *demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
    std::string name = status == 0 && demangled ? demangled : mangled;
    std::free(demangled);
    // Drop namespaces, but not colons inside template arguments.
    size_t angle = name.find('<');
    size_t colon = name.rfind("::", angle);
    if (colon != std::string::npos) name = name.substr(colon + 2);
    const std::string suffix = "Impl";
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        name.resize(name.size() - suffix.size());
    return name;
}

std::string join_path(const std::string &prefix, const std::string &name) {
    return prefix.empty() ? name : prefix + "." + name;
}

}  // namespace

namespace detail {
void fail_empty_holder(const char *type_name) {
    fail("accessing an empty {} holder: assign a module to it first (it was constructed from nullptr)",
         short_type_name(type_name));
}
}  // namespace detail

Module::Module(std::string name) : name_(std::move(name)) {}

Module::~Module() {
    // Children outliving this module may be registered again: let the next parent name them.
    for (auto &[name, child] : children_)
        if (child->owner_ == this) child->owner_ = nullptr;
}

SymTensor Module::forward(const SymTensor &) {
    fail("{}: this module has no forward(SymTensor); call its children instead", name());
}

std::string Module::name() const { return name_.empty() ? short_type_name(typeid(*this).name()) : name_; }

std::string Module::full_name(const std::string &tensor_name) const {
    return join_path(prefix_, tensor_name);
}

void Module::check_new_name(const std::string &name, const char *what) const {
    if (name.empty()) fail("{}: {} name must not be empty", this->name(), what);
    if (name.find('.') != std::string::npos)
        fail("{}: {} name '{}' must not contain '.' (dots separate the levels of a path)", this->name(), what,
             name);
    if (parameters_.contains(name) || buffers_.contains(name) || children_.contains(name))
        fail("{}: cannot register {} '{}': a parameter, buffer or submodule of that name already exists",
             this->name(), what, name);
}

Tensor Module::register_parameter(std::string name, Tensor tensor) {
    check_new_name(name, "parameter");
    if (!tensor.defined()) fail("{}: parameter '{}' is an undefined tensor", this->name(), name);
    if (!is_float(tensor.dtype()))
        fail("{}: parameter '{}' must be floating point (f32 or f64) to be trained, got {}", this->name(),
             name, dtype_name(tensor.dtype()));
    return parameters_.insert(std::move(name), std::move(tensor));
}

Tensor Module::register_buffer(std::string name, Tensor tensor) {
    check_new_name(name, "buffer");
    if (!tensor.defined()) fail("{}: buffer '{}' is an undefined tensor", this->name(), name);
    return buffers_.insert(std::move(name), std::move(tensor));
}

void Module::add_child(const std::string &name, std::shared_ptr<Module> module) {
    if (!module) fail("{}: cannot register submodule '{}': it is empty (nullptr)", this->name(), name);
    if (module.get() == this)
        fail("{}: cannot register a module as its own submodule '{}'", this->name(), name);
    check_new_name(name, "submodule");
    // Catch cycles: `this` must not be a descendant of the new child.
    module->apply([&](Module &m) {
        if (&m == this)
            fail("{}: cannot register submodule '{}': this module is already inside it (a cycle)",
                 this->name(), name);
    });
    children_.insert(name, module);
    // A shared module keeps the name it got first, so its graph nodes keep one name.
    if (module->owner_ == nullptr) {
        module->owner_ = this;
        module->set_prefix(join_path(prefix_, name));
    }
}

void Module::set_prefix(const std::string &prefix) {
    prefix_ = prefix;
    for (auto &[name, child] : children_)
        if (child->owner_ == this) child->set_prefix(join_path(prefix_, name));
}

void Module::collect(const std::string &prefix, bool buffers, bool recurse, OrderedDict<Tensor> &out,
                     std::vector<const void *> &seen) const {
    for (const auto &[name, tensor] : buffers ? buffers_ : parameters_) {
        const void *storage = tensor.raw_data();
        bool duplicate = false;
        for (const void *s : seen) duplicate = duplicate || (storage != nullptr && s == storage);
        if (duplicate) continue;
        seen.push_back(storage);
        out.insert(join_path(prefix, name), tensor);
    }
    if (!recurse) return;
    for (const auto &[name, child] : children_)
        child->collect(join_path(prefix, name), buffers, true, out, seen);
}

OrderedDict<Tensor> Module::named_parameters(bool recurse) const {
    OrderedDict<Tensor> out("parameter");
    std::vector<const void *> seen;
    collect("", false, recurse, out, seen);
    return out;
}

OrderedDict<Tensor> Module::named_buffers(bool recurse) const {
    OrderedDict<Tensor> out("buffer");
    std::vector<const void *> seen;
    collect("", true, recurse, out, seen);
    return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const { return named_parameters(recurse).values(); }
std::vector<Tensor> Module::buffers(bool recurse) const { return named_buffers(recurse).values(); }

int64_t Module::parameter_count() const {
    int64_t count = 0;
    for (const Tensor &t : parameters()) count += t.numel();
    return count;
}

OrderedDict<std::shared_ptr<Module>> Module::named_children() const { return children_; }
std::vector<std::shared_ptr<Module>> Module::children() const { return children_.values(); }

void Module::collect_modules(const std::string &prefix, OrderedDict<std::shared_ptr<Module>> &out) const {
    for (const auto &[name, child] : children_) {
        const std::string path = join_path(prefix, name);
        out.insert(path, child);
        child->collect_modules(path, out);
    }
}

OrderedDict<std::shared_ptr<Module>> Module::named_modules() const {
    OrderedDict<std::shared_ptr<Module>> out("submodule");
    collect_modules("", out);
    return out;
}

void Module::apply(const std::function<void(Module &)> &fn) {
    fn(*this);
    for (auto &[name, child] : children_) child->apply(fn);
}

Module &Module::to(DType dtype) {
    if (!is_float(dtype))
        fail("{}.to({}): parameters must stay floating point to be trained; convert to f32 or f64", name(),
             dtype_name(dtype));
    std::vector<std::pair<Tensor, Tensor>> converted;
    std::vector<const Module *> done;  // a module registered twice is converted once
    apply([&](Module &m) {
        for (const Module *d : done)
            if (d == &m) return;
        done.push_back(&m);
        m.convert_own_tensors(dtype, converted);
        m.refresh_tensor_members();
    });
    return *this;
}

void Module::convert_own_tensors(DType dtype, std::vector<std::pair<Tensor, Tensor>> &converted) {
    auto convert = [&](Tensor &tensor) {
        if (!is_float(tensor.dtype()) || tensor.dtype() == dtype) return;
        for (const auto &[old_tensor, new_tensor] : converted)
            if (old_tensor.raw_data() == tensor.raw_data() && old_tensor.shape() == tensor.shape() &&
                old_tensor.strides() == tensor.strides()) {
                tensor = new_tensor;
                return;
            }
        Tensor new_tensor = tensor.to(dtype);
        converted.emplace_back(tensor, new_tensor);
        tensor = new_tensor;
    };
    for (auto &[name, tensor] : parameters_) convert(tensor);
    for (auto &[name, tensor] : buffers_) convert(tensor);
}

Tensor Module::registered_tensor(const std::string &name) const {
    if (const Tensor *t = parameters_.find(name)) return *t;
    if (const Tensor *t = buffers_.find(name)) return *t;
    return Tensor();
}

void Module::train(bool on) {
    training_ = on;
    for (auto &[name, child] : children_) child->train(on);
}

TrainingModeScope::TrainingModeScope(Module &module, bool training) {
    saved_.emplace_back(&module, module.is_training());
    for (const auto &[name, child] : module.named_modules()) saved_.emplace_back(child.get(), child->is_training());
    module.train(training);
}

TrainingModeScope::~TrainingModeScope() {
    // train() sets a whole subtree, so parents first and then each child.
    for (const auto &[m, training] : saved_) m->train(training);
}

SymTensor Module::param(const SymTensor &like, const std::string &name) const {
    const Tensor *tensor = parameters_.find(name);
    if (!tensor) tensor = buffers_.find(name);
    if (!tensor) {
        std::vector<std::string> names = parameters_.keys();
        for (const std::string &b : buffers_.keys()) names.push_back(b);
        fail("{}: no parameter or buffer named '{}' (has: {})", this->name(), name,
             names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")));
    }
    Graph &graph = like.graph();
    const std::string path = full_name(name);
    // Two unregistered modules both call their weight "weight": say how to fix it.
    auto existing = graph.parameter_values().find(path);
    if (existing != graph.parameter_values().end() && existing->second.raw_data() != tensor->raw_data())
        fail("{}: the graph already has a parameter '{}' from another module; register the modules in "
             "one parent (register_module / Sequential) so their names are unique (or, when to(dtype) "
             "replaced this module's tensors after this graph used them, build a new Graph)",
             this->name(), path);
    return graph.parameter(path, *tensor);
}

std::string Module::repr(int indent) const {
    const std::string extra = extra_repr();
    if (children_.empty()) return name() + "(" + extra + ")";
    const std::string pad(static_cast<size_t>(indent + 2), ' ');
    std::string out = name() + "(\n";
    if (!extra.empty()) out += pad + extra + "\n";
    for (const auto &[name, child] : children_)
        out += pad + "(" + name + "): " + child->repr(indent + 2) + "\n";
    out += std::string(static_cast<size_t>(indent), ' ') + ")";
    return out;
}

std::string Module::to_string() const { return repr(0); }

std::ostream &operator<<(std::ostream &os, const Module &module) { return os << module.to_string(); }

}  // namespace strata::nn
