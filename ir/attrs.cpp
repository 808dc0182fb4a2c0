#include "ir/attrs.h"

#include <strata/error.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstring>
#include <functional>

namespace strata::ir {

AttrKind attr_kind(const AttrValue &value) {
    static constexpr AttrKind kinds[] = {AttrKind::int_, AttrKind::float_, AttrKind::bool_,
                                         AttrKind::str,  AttrKind::ints,   AttrKind::dtype};
    return kinds[value.index()];
}

const AttrValue &Attrs::get(const std::string &name, AttrKind kind) const {
    auto it = map_.find(name);
    STRATA_ASSERT(it != map_.end(), "attribute '{}' missing (the verifier should have caught it)", name);
    STRATA_ASSERT(attr_kind(it->second) == kind, "attribute '{}' has kind {}, wanted {}", name,
                  attr_kind_name(attr_kind(it->second)), attr_kind_name(kind));
    return it->second;
}

int64_t Attrs::get_int(const std::string &n) const { return std::get<int64_t>(get(n, AttrKind::int_)); }
double Attrs::get_float(const std::string &n) const { return std::get<double>(get(n, AttrKind::float_)); }
bool Attrs::get_bool(const std::string &n) const { return std::get<bool>(get(n, AttrKind::bool_)); }
const std::string &Attrs::get_str(const std::string &n) const {
    return std::get<std::string>(get(n, AttrKind::str));
}
const Ints &Attrs::get_ints(const std::string &n) const { return std::get<Ints>(get(n, AttrKind::ints)); }
DType Attrs::get_dtype(const std::string &n) const { return std::get<DType>(get(n, AttrKind::dtype)); }

namespace {
uint64_t bits_of(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    return bits;
}
}  // namespace

bool Attrs::operator==(const Attrs &other) const {
    if (map_.size() != other.map_.size()) return false;
    for (auto a = map_.begin(), b = other.map_.begin(); a != map_.end(); ++a, ++b) {
        if (a->first != b->first || a->second.index() != b->second.index()) return false;
        const double *x = std::get_if<double>(&a->second);
        if (x ? bits_of(*x) != bits_of(std::get<double>(b->second)) : a->second != b->second) return false;
    }
    return true;
}

size_t Attrs::hash() const {
    size_t h = 0x51ed27;
    auto mix = [&h](size_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
    for (const auto &[name, value] : map_) {
        mix(std::hash<std::string>()(name));
        mix(value.index());
        std::visit(
            [&](const auto &v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, Ints>) {
                    for (int64_t x : v) mix(std::hash<int64_t>()(x));
                } else if constexpr (std::is_same_v<T, DType>) {
                    mix(static_cast<size_t>(v));
                } else if constexpr (std::is_same_v<T, double>) {
                    mix(std::hash<uint64_t>()(bits_of(v)));
                } else {
                    mix(std::hash<T>()(v));
                }
            },
            value);
    }
    return h;
}

namespace {
std::string quote(const std::string &s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + "\"";
}

/// Shortest text that reads back to the same double, always with a '.' or
/// an exponent so that the parser can tell a float from an int.
std::string float_str(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    std::string s = fmt::format("{}", v);
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
}
}  // namespace

std::string attr_value_str(const AttrValue &value) {
    return std::visit(
        [](const auto &v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, int64_t>) return fmt::format("{}", v);
            else if constexpr (std::is_same_v<T, double>) return float_str(v);
            else if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
            else if constexpr (std::is_same_v<T, std::string>) return quote(v);
            else if constexpr (std::is_same_v<T, Ints>) return fmt::format("[{}]", fmt::join(v, ","));
            else return dtype_name(v);
        },
        value);
}

}  // namespace strata::ir
