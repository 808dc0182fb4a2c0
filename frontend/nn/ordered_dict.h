#pragma once
/// \file
/// `OrderedDict<V>`: string keys in insertion order, like torch::OrderedDict.
/// What `named_parameters()`, `named_buffers()` and `named_children()` return.
///
///     for (const auto &[name, tensor] : net->named_parameters()) ...
///     Tensor w = net->named_parameters()["features.0.weight"];

#include <strata/error.h>

#include <string>
#include <utility>
#include <vector>

namespace strata::nn {

template <typename V> class OrderedDict {
public:
    using Item = std::pair<std::string, V>;

    OrderedDict() = default;
    /// `what` names the entries in error messages ("parameter", "submodule").
    explicit OrderedDict(std::string what) : what_(std::move(what)) {}

    /// Appends; fails when `key` is already present.
    V &insert(std::string key, V value) {
        if (contains(key)) fail("OrderedDict: {} '{}' is already defined", what_, key);
        items_.emplace_back(std::move(key), std::move(value));
        return items_.back().second;
    }

    /// The value of `key`, or nullptr.
    V *find(const std::string &key) {
        for (auto &item : items_)
            if (item.first == key) return &item.second;
        return nullptr;
    }
    const V *find(const std::string &key) const { return const_cast<OrderedDict *>(this)->find(key); }
    bool contains(const std::string &key) const { return find(key) != nullptr; }

    /// The value of `key`; fails (listing the keys) when absent.
    const V &operator[](const std::string &key) const {
        if (const V *v = find(key)) return *v;
        std::vector<std::string> names = keys();
        fail("OrderedDict: no {} named '{}' (have: {})", what_, key,
             names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")));
    }
    V &operator[](const std::string &key) {
        return const_cast<V &>(static_cast<const OrderedDict &>(*this)[key]);
    }

    std::vector<std::string> keys() const {
        std::vector<std::string> out;
        for (const auto &item : items_) out.push_back(item.first);
        return out;
    }
    std::vector<V> values() const {
        std::vector<V> out;
        for (const auto &item : items_) out.push_back(item.second);
        return out;
    }
    const std::vector<Item> &items() const { return items_; }

    size_t size() const { return items_.size(); }
    bool empty() const { return items_.empty(); }
    auto begin() { return items_.begin(); }
    auto end() { return items_.end(); }
    auto begin() const { return items_.begin(); }
    auto end() const { return items_.end(); }

private:
    std::string what_ = "key";
    std::vector<Item> items_;
};

}  // namespace strata::nn
