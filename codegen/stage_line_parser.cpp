// Stage lines: their grammar, and StageRule, which checks each directive
// against the registry (codegen/stage_directives.h) as it is added.

#include "codegen/stage_line_parser.h"

#include "codegen/stage_directives.h"

#include <strata/error.h>

#include <fmt/format.h>

#include <cctype>
#include <sstream>

namespace strata::codegen {

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

StageRule parse_stage_line(const std::string &selector, const std::string &directives, const std::string &where) {
    StageRule rule(selector, where);
    const std::string rule_where = fmt::format("{} (stage {})", where, selector);
    for (const StageDirective &d : parse_stage_directives(directives, rule_where)) rule.add(d.name, d.args);
    if (rule.directives().empty()) fail("{}: no directives", rule_where);
    return rule;
}

std::string StageDirective::to_string() const { return fmt::format("{}({})", name, fmt::join(args, ", ")); }

StageRule::StageRule(const std::string &stage, const std::string &where) : stage_(stage), where_(where) {
    const std::string at = where.empty() ? "schedule" : where;
    const size_t dot = stage.find('.');
    func_ = stage.substr(0, dot);
    if (dot != std::string::npos) {
        const std::string rest = stage.substr(dot);
        int64_t k = -1;
        const bool ok = rest.size() > 9 && rest.compare(0, 8, ".update(") == 0 && rest.back() == ')' &&
                        parse_whole(rest.substr(8, rest.size() - 9), k) && k >= 0 && k <= (1 << 20);
        if (!ok) fail("{}: stage '{}' must be a Func name or Func.update(K), e.g. n2_conv1d_acc.update(0)", at, stage);
        update_ = static_cast<int>(k);
    }
    if (!is_stage_name(func_)) fail("{}: stage '{}': '{}' is not a Func name", at, stage, func_);
}

StageRule &StageRule::add(const std::string &name, const std::vector<std::string> &args) {
    StageDirective d{name, args};
    const std::string where = fmt::format("{} (stage {}): {}", where_.empty() ? "schedule" : where_, stage_, d.to_string());
    if (const std::string problem = check_stage_directive(d, update_ >= 0); !problem.empty())
        fail("{}: {}", where, problem);
    // Halide lets a later call win; on one line that is a mistake, not a schedule.
    const std::string &group = find_stage_directive(name)->once_group;
    for (const StageDirective &earlier : directives_) {
        if (earlier.name == d.name && earlier.args == d.args) fail("{}: given twice on one line", where);
        if (group.empty() || group != find_stage_directive(earlier.name)->once_group) continue;
        if (earlier.name == d.name)
            fail("{}: the line already has {}; give {} once per line", where, earlier.to_string(), d.name);
        fail("{}: the line already has {}; a line computes (or stores) its Func one way", where, earlier.to_string());
    }
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
    stages_.push_back(parse_stage_line(selector, rest, "schedule"));
    return stages_.back();
}

}  // namespace strata::codegen
