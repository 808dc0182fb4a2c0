#include "codegen/schedule.h"

#include "codegen/stage_line_parser.h"
#include "ir/op.h"

#include <strata/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace strata::codegen {

namespace {

const char *kDirectives = "compute=root|inline, vectorize=N, tile=XxC, parallel=on|off, task=N, gpu_threads=N";

bool is_class(const std::string &name) {
    ir::OpClass cls;
    return ir::find_op_class(name, &cls);
}

std::string class_names() {
    std::string names;
    for (ir::OpClass cls : ir::all_op_classes()) names += (names.empty() ? "" : ", ") + std::string(ir::op_class_name(cls));
    return names;
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
        fail("schedule: unknown op class '{}' (classes: {})", op_class, class_names());
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
            schedule.add_stage(parse_stage_line(selector, rest, where));
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
        std::vector<std::string> given;
        while (words >> item) {
            const std::string name = item.substr(0, item.find('='));
            if (std::find(given.begin(), given.end(), name) != given.end())
                fail("{}: '{}' is given twice on one line; give each directive once", rule_where, name);
            given.push_back(name);
            parse_directive(item, *rule, rule_where);
        }
        if (given.empty()) fail("{}: no directives (expected some of: {})", rule_where, kDirectives);
    }
    return schedule;
}

Schedule load_schedule(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("cannot open the schedule file '{}'", path);
    std::ostringstream text;
    text << in.rdbuf();
    return parse_schedule(text.str(), path);
}

}  // namespace strata::codegen
