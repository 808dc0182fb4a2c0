#include "codegen/schedule.h"

#include "ir/op.h"
#include "runtime/input_file.h"

#include <strata/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace strata::codegen {

namespace {

const std::vector<std::string> kClasses = {"source", "pointwise", "reduction", "conv", "pool", "matmul", "layout"};
const char *kDirectives = "compute=root|inline, vectorize=N, tile=XxC, parallel=on|off, task=N, gpu_threads=N";

bool is_class(const std::string &name) {
    for (const std::string &c : kClasses)
        if (c == name) return true;
    return false;
}

bool is_op(const std::string &name) {
    ir::Op op;
    return ir::find_op(name, &op);
}

/// "%12": a node id as the IR text and `strata schedule dump` write it.
bool is_node_id(const std::string &s) {
    if (s.size() < 2 || s[0] != '%') return false;
    for (size_t i = 1; i < s.size(); ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

template <typename T>
void take(std::optional<T> &field, const std::optional<T> &narrower) {
    if (narrower) field = narrower;
}

}  // namespace

void NodeSchedule::merge(const NodeSchedule &n) {
    take(inline_into_consumers, n.inline_into_consumers);
    take(vector_lanes, n.vector_lanes);
    take(tile_x, n.tile_x);
    take(tile_c, n.tile_c);
    take(parallel_outer, n.parallel_outer);
    take(task_rows, n.task_rows);
    take(gpu_threads, n.gpu_threads);
}

bool NodeSchedule::empty() const { return directives().empty(); }

std::vector<std::string> NodeSchedule::directives() const {
    std::vector<std::string> d;
    if (inline_into_consumers) d.push_back("compute");
    if (vector_lanes) d.push_back("vectorize");
    if (tile_x || tile_c) d.push_back("tile");
    if (parallel_outer) d.push_back("parallel");
    if (task_rows) d.push_back("task");
    if (gpu_threads) d.push_back("gpu_threads");
    return d;
}

std::string NodeSchedule::to_string() const {
    std::string s;
    auto add = [&](const std::string &item) { s += (s.empty() ? "" : " ") + item; };
    if (inline_into_consumers) add(fmt::format("compute={}", *inline_into_consumers ? "inline" : "root"));
    if (vector_lanes) add(fmt::format("vectorize={}", *vector_lanes));
    if (tile_x || tile_c) add(fmt::format("tile={}x{}", tile_x.value_or(1), tile_c.value_or(1)));
    if (parallel_outer) add(fmt::format("parallel={}", *parallel_outer ? "on" : "off"));
    if (task_rows) add(fmt::format("task={}", *task_rows));
    if (gpu_threads) add(fmt::format("gpu_threads={}", *gpu_threads));
    return s;
}

NodeSchedule &Schedule::for_class(const std::string &op_class) {
    if (!is_class(op_class))
        fail("schedule: unknown op class '{}' (classes: source, pointwise, reduction, conv, pool, matmul, layout)",
             op_class);
    return by_class_[op_class];
}

NodeSchedule &Schedule::for_op(const std::string &op) {
    if (is_class(op)) return by_class_[op];
    if (!is_op(op)) fail("schedule: unknown op '{}' (`strata ops` lists them; op classes work too)", op);
    return by_op_[op];
}

NodeSchedule &Schedule::for_node(const std::string &node) {
    if (!is_node_id(node))
        fail("schedule: '{}' is not a node id; write it as `strata schedule dump` shows it, e.g. %12", node);
    return by_node_[node];
}

NodeSchedule Schedule::resolve(const std::string &op_class, const std::string &op, const std::string &node) const {
    NodeSchedule s;
    if (auto it = by_class_.find(op_class); it != by_class_.end()) s.merge(it->second);
    if (auto it = by_op_.find(op); it != by_op_.end()) s.merge(it->second);
    if (auto it = by_node_.find(node); it != by_node_.end()) s.merge(it->second);
    return s;
}

void Schedule::merge(const Schedule &later) {
    for (const auto &[k, v] : later.by_class_) by_class_[k].merge(v);
    for (const auto &[k, v] : later.by_op_) by_op_[k].merge(v);
    for (const auto &[k, v] : later.by_node_) by_node_[k].merge(v);
    for (const StageRule &rule : later.stages_) stages_.push_back(rule);
    if (!later.stage_algorithm_.empty()) stage_algorithm_ = later.stage_algorithm_;
}

std::string Schedule::to_text() const {
    std::string text;
    for (const auto &[name, rule] : by_class_)
        if (!rule.empty()) text += fmt::format("class {} {}\n", name, rule.to_string());
    for (const auto &[name, rule] : by_op_)
        if (!rule.empty()) text += fmt::format("op {} {}\n", name, rule.to_string());
    for (const auto &[name, rule] : by_node_)
        if (!rule.empty()) text += fmt::format("node {} {}\n", name, rule.to_string());
    if (!stage_algorithm_.empty()) text += "algorithm " + stage_algorithm_ + "\n";
    for (const StageRule &rule : stages_) text += rule.to_string() + "\n";
    return text;
}

namespace {

int64_t positive(const std::string &value, const std::string &where, const std::string &directive) {
    int64_t v = 0;
    size_t used = 0;
    try {
        v = std::stoll(value, &used);
    } catch (const std::exception &) {
        used = 0;
    }
    if (used == 0 || used != value.size() || v <= 0 || v > (1 << 20))
        fail("{}: {}={} must be a positive whole number (at most 2^20)", where, directive, value);
    return v;
}

bool on_off(const std::string &value, const std::string &where, const std::string &directive) {
    if (value == "on") return true;
    if (value == "off") return false;
    fail("{}: {}={} must be 'on' or 'off'", where, directive, value);
}

void parse_directive(const std::string &item, NodeSchedule &rule, const std::string &where) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
        fail("{}: '{}' is not a directive (expected name=value: {})", where, item, kDirectives);
    const std::string name = item.substr(0, eq), value = item.substr(eq + 1);
    if (name == "compute") {
        if (value != "root" && value != "inline") fail("{}: compute={} must be 'root' or 'inline'", where, value);
        rule.inline_into_consumers = value == "inline";
    } else if (name == "vectorize") {
        rule.vector_lanes = positive(value, where, name);
    } else if (name == "tile") {
        const size_t x = value.find('x');
        if (x == std::string::npos) fail("{}: tile={} must be XxC, e.g. tile=32x4", where, value);
        rule.tile_x = positive(value.substr(0, x), where, name);
        rule.tile_c = positive(value.substr(x + 1), where, name);
    } else if (name == "parallel") {
        rule.parallel_outer = on_off(value, where, name);
    } else if (name == "task") {
        rule.task_rows = positive(value, where, name);
    } else if (name == "gpu_threads") {
        rule.gpu_threads = positive(value, where, name);
    } else {
        fail("{}: unknown directive '{}' (known: {})", where, name, kDirectives);
    }
}

}  // namespace


// ---- Stage lines -----------------------------------------------------------

namespace {

const char *kStageDirectives =
    "compute_root, compute_inline, compute_at, store_root, store_at, reorder_storage, bound, store_in, compute_with, "
    "split, fuse, "
    "rename, tile, reorder, serial, vectorize, unroll, parallel, gpu_blocks, gpu_threads, gpu_lanes, gpu_tile";

const std::vector<std::string> kTailStrategies = {"RoundUp",         "GuardWithIf",  "Predicate", "PredicateLoads",
                                                   "PredicateStores", "ShiftInwards", "Auto"};
const std::vector<std::string> kMemoryTypes = {"Auto",       "Heap",        "Stack", "Register", "GPUShared",
                                                "GPUTexture", "LockedCache", "VTCM",  "AMXTile"};

bool is_identifier(const std::string &s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$')) return false;
    return true;
}

bool parse_int(const std::string &s, int64_t &v) {
    size_t used = 0;
    try {
        v = std::stoll(s, &used);
    } catch (const std::exception &) {
        return false;
    }
    return used == s.size();
}

bool one_of(const std::string &s, const std::vector<std::string> &names) {
    return std::find(names.begin(), names.end(), s) != names.end();
}

/// Checks a directive's arguments; returns "" when they fit, else what is wrong.
std::string check_stage_directive(const StageDirective &d, bool update_stage) {
    const size_t n = d.args.size();
    auto arity = [&](size_t lo, size_t hi, const char *form) -> std::string {
        if (n < lo || n > hi) return fmt::format("takes {}", form);
        return "";
    };
    auto var = [&](size_t i) -> std::string {
        if (i < n && !is_identifier(d.args[i]))
            return fmt::format("'{}' is not a loop variable name (letters, digits, _ and $; no dots)", d.args[i]);
        return "";
    };
    auto vars = [&](size_t from, size_t to) -> std::string {
        for (size_t i = from; i < std::min(to, n); ++i)
            if (std::string e = var(i); !e.empty()) return e;
        return "";
    };
    auto positive = [&](size_t i, const char *what) -> std::string {
        int64_t v = 0;
        if (i < n && (!parse_int(d.args[i], v) || v <= 0 || v > (1 << 20)))
            return fmt::format("the {} '{}' must be a positive whole number (at most 2^20)", what, d.args[i]);
        return "";
    };
    auto tail = [&](size_t i) -> std::string {
        if (i < n && !one_of(d.args[i], kTailStrategies))
            return fmt::format("'{}' is not a tail strategy ({})", d.args[i], fmt::join(kTailStrategies, ", "));
        return "";
    };
    const std::string &k = d.name;
    const bool func_level = k == "compute_root" || k == "compute_inline" || k == "compute_at" || k == "store_root" ||
                            k == "store_at" || k == "reorder_storage" || k == "bound" || k == "store_in";
    if (func_level && update_stage)
        return "schedules the whole Func; put it on the Func's own line (stage NAME, not NAME.update(K))";
    for (const std::string &e : [&]() -> std::vector<std::string> {
             if (k == "compute_root" || k == "compute_inline" || k == "store_root") return {arity(0, 0, "no arguments")};
             if (k == "compute_at" || k == "store_at" || k == "compute_with") {
                 int64_t stage = 0;
                 return {arity(2, 3, "(Func, var[, stage index])"), var(0), var(1),
                         n == 3 && (!parse_int(d.args[2], stage) || stage < 0)
                             ? fmt::format("the stage index '{}' must be 0 or more", d.args[2])
                             : ""};
             }
             if (k == "reorder_storage" || k == "reorder") return {arity(1, 64, "one or more vars"), vars(0, n)};
             if (k == "bound") {
                 int64_t min = 0;
                 return {arity(3, 3, "(var, min, extent)"), var(0),
                         n == 3 && !parse_int(d.args[1], min) ? fmt::format("the min '{}' must be a whole number", d.args[1])
                                                              : "",
                         positive(2, "extent")};
             }
             if (k == "store_in")
                 return {arity(1, 1, "(memory type)"),
                         n == 1 && !one_of(d.args[0], kMemoryTypes)
                             ? fmt::format("'{}' is not a memory type ({})", d.args[0], fmt::join(kMemoryTypes, ", "))
                             : ""};
             if (k == "split") return {arity(4, 5, "(var, outer, inner, factor[, tail])"), vars(0, 3), positive(3, "factor"), tail(4)};
             if (k == "fuse") return {arity(3, 3, "(inner, outer, fused)"), vars(0, 3)};
             if (k == "rename") return {arity(2, 2, "(var, new name)"), vars(0, 2)};
             if (k == "tile")
                 return {arity(8, 9, "(x, y, xo, yo, xi, yi, x factor, y factor[, tail])"), vars(0, 6),
                         positive(6, "factor"), positive(7, "factor"), tail(8)};
             if (k == "serial" || k == "gpu_lanes") return {arity(1, 1, "(var)"), var(0)};
             if (k == "vectorize" || k == "unroll")
                 return {arity(1, 2, "(var[, factor])"), var(0), positive(1, "factor")};
             if (k == "parallel") return {arity(1, 2, "(var[, task size])"), var(0), positive(1, "task size")};
             if (k == "gpu_blocks" || k == "gpu_threads") return {arity(1, 3, "one to three vars"), vars(0, n)};
             if (k == "gpu_tile") {
                 if (n <= 5) return {arity(4, 5, "(x, bx, tx, n[, tail]) or (x, y, bx, by, tx, ty, nx, ny[, tail])"), vars(0, 3), positive(3, "factor"), tail(4)};
                 return {arity(8, 9, "(x, bx, tx, n[, tail]) or (x, y, bx, by, tx, ty, nx, ny[, tail])"), vars(0, 6),
                         positive(6, "factor"), positive(7, "factor"), tail(8)};
             }
             return {fmt::format("is not a stage directive (known: {})", kStageDirectives)};
         }())
        if (!e.empty()) return e;
    return "";
}

/// "name(a, b) name2() ..." into directives; errors name `where`.
std::vector<StageDirective> parse_stage_directives(const std::string &text, const std::string &where) {
    std::vector<StageDirective> out;
    size_t i = 0;
    auto skip = [&] {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    };
    for (skip(); i < text.size(); skip()) {
        const size_t start = i;
        while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) ++i;
        StageDirective d;
        d.name = text.substr(start, i - start);
        skip();
        if (d.name.empty() || i >= text.size() || text[i] != '(') {
            const size_t end = text.find_first_of(" \t", start);
            fail("{}: '{}' is not a directive; write them as in Halide C++, e.g. split(x, xo, xi, 8) vectorize(xi)",
                 where, text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        }
        const size_t close = text.find(')', i);
        if (close == std::string::npos) fail("{}: {}( has no closing ')'", where, d.name);
        std::string inside = text.substr(i + 1, close - i - 1);
        i = close + 1;
        std::istringstream items(inside);
        std::string item;
        while (std::getline(items, item, ',')) {
            const size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
            d.args.push_back(b == std::string::npos ? "" : item.substr(b, e - b + 1));
        }
        if (d.args.size() == 1 && d.args[0].empty()) d.args.clear();
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace

std::string StageDirective::to_string() const { return fmt::format("{}({})", name, fmt::join(args, ", ")); }

StageRule::StageRule(const std::string &stage, const std::string &where) : stage_(stage), where_(where) {
    const std::string at = where.empty() ? "schedule" : where;
    const size_t dot = stage.find('.');
    func_ = stage.substr(0, dot);
    if (dot != std::string::npos) {
        const std::string rest = stage.substr(dot);
        int64_t k = -1;
        const bool ok = rest.size() > 9 && rest.compare(0, 8, ".update(") == 0 && rest.back() == ')' &&
                        parse_int(rest.substr(8, rest.size() - 9), k) && k >= 0;
        if (!ok) fail("{}: stage '{}' must be a Func name or Func.update(K), e.g. n2_conv1d_acc.update(0)", at, stage);
        update_ = static_cast<int>(k);
    }
    if (!is_identifier(func_)) fail("{}: stage '{}': '{}' is not a Func name", at, stage, func_);
}

StageRule &StageRule::add(const std::string &name, const std::vector<std::string> &args) {
    StageDirective d{name, args};
    if (const std::string problem = check_stage_directive(d, update_ >= 0); !problem.empty())
        fail("{} (stage {}): {}: {}", where_.empty() ? "schedule" : where_, stage_, d.to_string(), problem);
    directives_.push_back(std::move(d));
    return *this;
}

StageRule &StageRule::split(const std::string &var, const std::string &outer, const std::string &inner,
                            int64_t factor, const std::string &tail) {
    std::vector<std::string> args = {var, outer, inner, std::to_string(factor)};
    if (!tail.empty()) args.push_back(tail);
    return add("split", args);
}

StageRule &StageRule::vectorize(const std::string &var, int64_t lanes) {
    return add("vectorize", lanes ? std::vector<std::string>{var, std::to_string(lanes)} : std::vector<std::string>{var});
}

StageRule &StageRule::unroll(const std::string &var, int64_t factor) {
    return add("unroll", factor ? std::vector<std::string>{var, std::to_string(factor)} : std::vector<std::string>{var});
}

StageRule &StageRule::parallel(const std::string &var, int64_t task) {
    return add("parallel", task ? std::vector<std::string>{var, std::to_string(task)} : std::vector<std::string>{var});
}

StageRule &StageRule::bound(const std::string &var, int64_t min, int64_t extent) {
    return add("bound", {var, std::to_string(min), std::to_string(extent)});
}

std::string StageRule::to_string() const {
    std::string s = "stage " + stage_;
    for (const StageDirective &d : directives_) s += " " + d.to_string();
    return s;
}

StageRule &Schedule::for_stage(const std::string &stage) {
    stages_.emplace_back(stage, fmt::format("for_stage(\"{}\")", stage));
    return stages_.back();
}

StageRule &Schedule::add_stage_line(const std::string &line) {
    std::istringstream words(line);
    std::string first, selector;
    words >> first;
    if (first == "stage") words >> selector;
    else selector = first;
    if (selector.empty()) fail("schedule: '{}' is not a stage line (stage NAME directives...)", line);
    std::string rest;
    std::getline(words, rest);
    StageRule rule(selector, "schedule");
    for (const StageDirective &d : parse_stage_directives(rest, fmt::format("schedule (stage {})", selector)))
        rule.add(d.name, d.args);
    if (rule.directives().empty()) fail("schedule (stage {}): no directives", selector);
    stages_.push_back(std::move(rule));
    return stages_.back();
}

void Schedule::set_stage_algorithm(const std::string &algorithm) {
    if (algorithm != "plain" && algorithm != "default" && algorithm != "simple")
        fail("schedule: algorithm '{}' must be plain, default or simple", algorithm);
    stage_algorithm_ = algorithm;
}

Schedule parse_schedule(const std::string &text, const std::string &source_name) {
    Schedule schedule;
    std::istringstream lines(text);
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
        if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        std::istringstream words(line);
        std::string kind, selector, item;
        if (!(words >> kind)) continue;
        const std::string where = fmt::format("{}:{}", source_name, number);
        if (kind == "algorithm") {
            std::string algorithm, extra;
            words >> algorithm;
            if (words >> extra || algorithm.empty()) fail("{}: write 'algorithm plain', 'algorithm default' or 'algorithm simple'", where);
            try {
                schedule.set_stage_algorithm(algorithm);
            } catch (const Error &e) {
                fail("{}: {}", where, e.what());
            }
            continue;
        }
        if (kind == "stage") {
            std::string selector, rest;
            words >> selector;
            if (selector.empty()) fail("{}: 'stage' needs a stage: a Func name or Func.update(K)", where);
            std::getline(words, rest);
            StageRule rule(selector, where);
            const std::string rule_where = fmt::format("{} (stage {})", where, selector);
            for (const StageDirective &d : parse_stage_directives(rest, rule_where)) rule.add(d.name, d.args);
            if (rule.directives().empty()) fail("{}: no directives", rule_where);
            schedule.add_stage(std::move(rule));
            continue;
        }
        if (!(words >> selector)) fail("{}: '{}' needs a selector (an op, a class or a node id)", where, kind);
        NodeSchedule *rule = nullptr;
        try {
            if (kind == "op") rule = &schedule.for_op(selector);
            else if (kind == "class") rule = &schedule.for_class(selector);
            else if (kind == "node") rule = &schedule.for_node(selector);
            else fail("a rule starts with 'op', 'class' or 'node' (a stage line with 'stage'), not '{}'", kind);
        } catch (const Error &e) {
            fail("{}: {}", where, e.what());
        }
        const std::string rule_where = fmt::format("{} ({} {})", where, kind, selector);
        bool any = false;
        while (words >> item) {
            parse_directive(item, *rule, rule_where);
            any = true;
        }
        if (!any) fail("{}: no directives (expected some of: {})", rule_where, kDirectives);
    }
    return schedule;
}

Schedule load_schedule(const std::string &path) {
    return parse_schedule(InputFile(path, "a schedule file").read_all(), path);
}

}  // namespace strata::codegen
