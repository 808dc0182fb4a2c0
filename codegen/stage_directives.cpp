// The registry of stage directives, built from stage_directives.def, and the
// checks of their arguments. No Halide here: the schedule fuzzer links it.

#include "codegen/stage_directives.h"

#include <strata/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <limits>

namespace strata::codegen {

namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

std::string trim(const std::string &s) {
    const size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split_on(const std::string &s, const std::string &separator) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t at; (at = s.find(separator, start)) != std::string::npos; start = at + separator.size())
        parts.push_back(trim(s.substr(start, at - start)));
    parts.push_back(trim(s.substr(start)));
    return parts;
}

ArgKind kind_named(const std::string &name) {
    static const std::pair<const char *, ArgKind> kinds[] = {
        {"loop", ArgKind::loop},     {"func", ArgKind::func},     {"stage_index", ArgKind::stage_index},
        {"whole", ArgKind::whole},   {"extent", ArgKind::extent}, {"factor", ArgKind::factor},
        {"lanes", ArgKind::lanes},   {"unroll", ArgKind::unroll}, {"task", ArgKind::task},
        {"gpu_threads", ArgKind::gpu_threads}, {"tail", ArgKind::tail}, {"memory", ArgKind::memory}};
    for (const auto &[n, k] : kinds)
        if (name == n) return k;
    STRATA_ASSERT(false, "stage_directives.def: unknown argument kind '{}'", name);
}

/// "loop var, lanes? factor" into argument specs.
std::vector<ArgSpec> parse_form(const std::string &text) {
    std::vector<ArgSpec> form;
    if (trim(text).empty()) return form;
    for (const std::string &item : split_on(text, ",")) {
        const size_t space = item.find(' ');
        STRATA_ASSERT(space != std::string::npos, "stage_directives.def: argument '{}' needs a kind and a name", item);
        std::string kind = item.substr(0, space);
        ArgSpec spec{ArgKind::loop, item.substr(space + 1)};
        if (kind.back() == '?') spec.optional = true, kind.pop_back();
        else if (kind.back() == '*') spec.repeats = true, kind.pop_back();
        spec.kind = kind_named(kind);
        form.push_back(spec);
    }
    return form;
}

/// A form as errors show it: "(var, outer, inner, factor[, tail])".
std::string form_text(const std::vector<ArgSpec> &form) {
    if (form.empty()) return "no arguments";
    std::string text = "(", closing;
    for (size_t i = 0; i < form.size(); ++i) {
        const std::string sep = i == 0 ? "" : ", ";
        if (form[i].optional) text += "[" + sep + form[i].name, closing += "]";
        else text += sep + form[i].name;
        if (form[i].repeats) text += ", ...";
    }
    return text + closing + ")";
}

std::vector<StageDirectiveTraits> build_table() {
    std::vector<StageDirectiveTraits> table;
    auto add = [&](const char *name, const std::string &level, const std::string &once, ReadFrom read_from,
                   const std::string &forms) {
        StageDirectiveTraits t{name, level == "func", once == "none" ? "" : once, read_from, {}, ""};
        std::vector<std::string> texts;
        for (const std::string &f : split_on(forms, "|")) {
            t.forms.push_back(parse_form(f));
            texts.push_back(form_text(t.forms.back()));
        }
        t.form_text = fmt::format("{}", fmt::join(texts, " or "));
        table.push_back(std::move(t));
    };
#define STRATA_STAGE_DIRECTIVE(name, level, once, read_from, forms) add(#name, #level, #once, ReadFrom::read_from, forms);
#include "codegen/stage_directives.def"
#undef STRATA_STAGE_DIRECTIVE
    return table;
}

/// "" when `value` fits `spec`, else what is wrong with it.
std::string check_arg(const ArgSpec &spec, const std::string &value) {
    int64_t v = 0;
    switch (spec.kind) {
    case ArgKind::loop:
    case ArgKind::func:
        if (!is_stage_name(value))
            return fmt::format("'{}' is not a {} name (letters, digits, _ and $; no dots)", value,
                               spec.kind == ArgKind::func ? "Func" : "loop variable");
        return "";
    case ArgKind::stage_index:
        if (!parse_whole(value, v) || v < 0 || v > kInt32Max)
            return fmt::format("the stage index '{}' must be 0 or more (32-bit)", value);
        return "";
    case ArgKind::whole:
        if (!parse_whole(value, v) || v < std::numeric_limits<int32_t>::min() || v > kInt32Max)
            return fmt::format("the {} '{}' must be a whole number (32-bit)", spec.name, value);
        return "";
    case ArgKind::tail:
        if (!std::count(tail_strategy_names().begin(), tail_strategy_names().end(), value))
            return fmt::format("'{}' is not a tail strategy ({})", value, fmt::join(tail_strategy_names(), ", "));
        return "";
    case ArgKind::memory:
        if (!std::count(memory_type_names().begin(), memory_type_names().end(), value))
            return fmt::format("'{}' is not a memory type ({})", value, fmt::join(memory_type_names(), ", "));
        return "";
    default: break;
    }
    const int64_t most = arg_bound(spec.kind);
    if (!parse_whole(value, v) || v <= 0 || v > most)
        return fmt::format("the {} '{}' must be a positive whole number (at most {})", spec.name, value, most);
    return "";
}

/// Whether `n` arguments fit the form.
bool arity_fits(const std::vector<ArgSpec> &form, size_t n) {
    size_t required = 0;
    for (const ArgSpec &a : form) required += a.optional ? 0 : 1;
    const bool repeats = !form.empty() && form.back().repeats;
    return n >= required && (repeats ? n <= 64 : n <= form.size());
}

}  // namespace

int64_t arg_bound(ArgKind kind) {
    switch (kind) {
    case ArgKind::lanes: return kMaxVectorLanes;
    case ArgKind::unroll: return kMaxUnroll;
    case ArgKind::gpu_threads: return kMaxGpuThreads;
    default: return kInt32Max;
    }
}

const std::vector<StageDirectiveTraits> &stage_directive_table() {
    static const std::vector<StageDirectiveTraits> table = build_table();
    return table;
}

const StageDirectiveTraits *find_stage_directive(const std::string &name) {
    for (const StageDirectiveTraits &t : stage_directive_table())
        if (name == t.name) return &t;
    return nullptr;
}

std::string stage_directive_names() {
    std::vector<std::string> names;
    for (const StageDirectiveTraits &t : stage_directive_table()) names.push_back(t.name);
    return fmt::format("{}", fmt::join(names, ", "));
}

const std::vector<std::string> &tail_strategy_names() {
#define STRATA_NAME_STRING(name) #name,
    static const std::vector<std::string> names = {STRATA_TAIL_STRATEGIES(STRATA_NAME_STRING)};
    return names;
}

const std::vector<std::string> &memory_type_names() {
    static const std::vector<std::string> names = {STRATA_MEMORY_TYPES(STRATA_NAME_STRING)};
    return names;
}

std::string check_stage_directive(const StageDirective &d, bool update_stage) {
    const StageDirectiveTraits *t = find_stage_directive(d.name);
    if (!t) return fmt::format("is not a stage directive (known: {})", stage_directive_names());
    if (t->func_level && update_stage)
        return "schedules the whole Func; put it on the Func's own line (stage NAME, not NAME.update(K))";
    for (const std::vector<ArgSpec> &form : t->forms) {
        if (!arity_fits(form, d.args.size())) continue;
        for (size_t i = 0; i < d.args.size(); ++i)
            if (std::string e = check_arg(form[std::min(i, form.size() - 1)], d.args[i]); !e.empty()) return e;
        return "";
    }
    return "takes " + t->form_text;
}

bool is_stage_name(const std::string &s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$')) return false;
    return true;
}

bool parse_whole(const std::string &s, int64_t &v) {
    size_t used = 0;
    try {
        v = std::stoll(s, &used);
    } catch (const std::exception &) {
        return false;
    }
    return used == s.size();
}

}  // namespace strata::codegen
