#include "codegen/stage_schedule.h"

#include "codegen/stage_context.h"

#include <strata/error.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>

namespace strata::codegen {

using namespace Halide;
using Halide::Internal::Definition;
using Halide::Internal::Dim;
using Halide::Internal::DimType;
using Halide::Internal::ForType;
using Halide::Internal::Function;
using Halide::Internal::Split;
using Halide::Internal::StageSchedule;

namespace {

std::string trimmed(std::string s) {
    if (s.rfind("Error: ", 0) == 0) s = s.substr(7);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    return s;
}

/// "f$3" -> ("f", 3); "f" -> ("f", -1).
std::pair<std::string, long> split_unique_suffix(const std::string &name) {
    const size_t dollar = name.rfind('$');
    if (dollar == std::string::npos || dollar + 1 == name.size()) return {name, -1};
    for (size_t i = dollar + 1; i < name.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(name[i]))) return {name, -1};
    return {name.substr(0, dollar), std::stol(name.substr(dollar + 1))};
}

Definition &definition(Function &f, int update) { return update < 0 ? f.definition() : f.update(update); }
const Definition &definition(const Function &f, int update) { return update < 0 ? f.definition() : f.update(update); }

}  // namespace

/// The Funcs of a pipeline under their canonical names (see the header).
struct PipelineFuncs {
    std::map<std::string, Function> by_actual;
    std::map<std::string, std::string> canonical_of, actual_of;
    std::vector<std::string> order;  ///< actual names, producers first

    explicit PipelineFuncs(const LoweredProgram &lowered, const PipelineNames *names = nullptr) {
        for (const Func &out : lowered.outputs)
            for (const auto &[name, f] : Internal::find_transitive_calls(out.function())) by_actual.emplace(name, f);
        if (names) {
            // Names and order as lowered, before an autoscheduler inlined some Funcs away.
            for (const auto &[actual, f] : by_actual) {
                auto it = names->canonical.find(actual);
                canonical_of[actual] = it == names->canonical.end() ? actual : it->second;
                actual_of[canonical_of[actual]] = actual;
            }
            for (const std::string &a : names->order)
                if (by_actual.count(a)) order.push_back(a);
            const PipelineFuncs now(lowered);
            for (const std::string &a : now.order)
                if (!names->canonical.count(a)) order.push_back(a);
            return;
        }
        std::map<std::string, std::vector<std::pair<long, std::string>>> groups;
        for (const auto &[name, f] : by_actual) {
            const auto [base, n] = split_unique_suffix(name);
            groups[base].emplace_back(n, name);
        }
        for (auto &[base, members] : groups) {
            std::sort(members.begin(), members.end());
            for (size_t i = 0; i < members.size(); ++i) {
                const std::string canonical = i == 0 ? base : base + "$" + std::to_string(i);
                canonical_of[members[i].second] = canonical;
                actual_of[canonical] = members[i].second;
            }
        }
        std::set<std::string> seen;
        std::function<void(const Function &)> visit = [&](const Function &f) {
            if (!seen.insert(f.name()).second) return;
            std::vector<std::pair<std::string, Function>> callees;
            for (const auto &[name, g] : Internal::find_direct_calls(f))
                if (name != f.name() && by_actual.count(name)) callees.emplace_back(canonical_of.at(name), g);
            std::sort(callees.begin(), callees.end(),
                      [](const auto &a, const auto &b) { return a.first < b.first; });
            for (const auto &c : callees) visit(c.second);
            order.push_back(f.name());
        };
        for (const Func &out : lowered.outputs) visit(out.function());
    }

    std::string canonical(const std::string &actual) const {
        auto it = canonical_of.find(actual);
        return it == canonical_of.end() ? actual : it->second;
    }
    std::string names() const {
        std::vector<std::string> all;
        for (const std::string &a : order) all.push_back(canonical(a));
        if (all.size() > 40) all.resize(40), all.push_back("...");
        return fmt::format("{}", fmt::join(all, ", "));
    }
};

/// An unnamed RDom's variables are "r123$x" (a per-process counter); stage
/// lines call them "r$x". Named RDoms keep their names.
struct RDomAlias {
    std::string actual;  ///< "r123", or empty when the stage needs no alias

    explicit RDomAlias(const Definition &def) {
        for (const auto &rv : def.schedule().rvars()) {
            const std::string prefix = rv.var.substr(0, rv.var.find('$'));
            if (prefix.size() > 1 && prefix[0] == 'r' &&
                std::all_of(prefix.begin() + 1, prefix.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
                actual = prefix;
            break;
        }
    }
    std::string to_actual(const std::string &name) const {
        if (!actual.empty() && name.rfind("r$", 0) == 0) return actual + name.substr(1);
        return name;
    }
    /// The name a stage line uses for a loop: the last component ("x.xo" -> "xo").
    std::string to_line(const std::string &full) const {
        const size_t dot = full.rfind('.');
        const std::string last = dot == std::string::npos ? full : full.substr(dot + 1);
        if (!actual.empty() && last.rfind(actual + "$", 0) == 0) return "r" + last.substr(actual.size());
        return last;
    }
};

namespace {

/// The loop of a stage called `name`, as Halide matches names (exactly or as the last component).
const Dim *find_dim(const Definition &def, const std::string &name) {
    for (const Dim &d : def.schedule().dims())
        if (d.var == name || (d.var.size() > name.size() && d.var.compare(d.var.size() - name.size() - 1, std::string::npos, "." + name) == 0))
            return &d;
    return nullptr;
}

std::string loops_of(const Definition &def, const RDomAlias &alias) {
    std::vector<std::string> names;
    for (const Dim &d : def.schedule().dims())
        if (d.var != Var::outermost().name()) names.push_back(alias.to_line(d.var));
    return fmt::format("{}", fmt::join(names, ", "));
}

/// The loops of a stage before any scheduling, innermost first (as Halide
/// sets them up: a reduction's variables, then the pure variables of the update).
std::vector<Dim> initial_dims(const Function &f, int update) {
    std::vector<Dim> dims;
    if (update < 0) {
        for (const std::string &a : f.args()) dims.push_back({a, ForType::Serial, DeviceAPI::None, DimType::PureVar});
    } else {
        const Definition &def = f.update(update);
        for (const auto &rv : def.schedule().rvars())
            dims.push_back({rv.var, ForType::Serial, DeviceAPI::None, DimType::ImpureRVar});
        for (size_t i = 0; i < def.args().size() && i < f.args().size(); ++i) {
            const auto *v = def.args()[i].as<Internal::Variable>();
            if (v && !v->param.defined() && !v->reduction_domain.defined() && v->name == f.args()[i])
                dims.push_back({v->name, ForType::Serial, DeviceAPI::None, DimType::PureVar});
        }
    }
    dims.push_back({Var::outermost().name(), ForType::Serial, DeviceAPI::None, DimType::PureVar});
    return dims;
}

VarOrRVar loop_var(const std::string &name, bool rvar) {
    if (rvar) return VarOrRVar(RVar(name));
    return VarOrRVar(Var(name));
}

}  // namespace

void reset_schedules(LoweredProgram &lowered) {
    PipelineFuncs funcs(lowered);
    for (auto &[name, f] : funcs.by_actual) {
        Internal::FuncSchedule &s = f.schedule();
        if (!s.wrappers().empty())
            fail("the schedule of {} wraps it (Func::in), which changes the algorithm; stage lines cannot start from "
                 "it (use 'algorithm plain')", funcs.canonical(name));
        s.compute_level() = LoopLevel::inlined();
        s.store_level() = LoopLevel::inlined();
        s.bounds().clear();
        s.memory_type() = MemoryType::Auto;
        std::vector<Internal::StorageDim> storage;
        for (const std::string &a : f.args())
            for (const Internal::StorageDim &d : s.storage_dims())
                if (d.var == a) storage.push_back(d);
        s.storage_dims() = storage;
        for (int k = -1; k < static_cast<int>(f.updates().size()); ++k) {
            StageSchedule &ss = definition(f, k).schedule();
            ss.splits().clear();
            ss.dims() = initial_dims(f, k);
            ss.fuse_level() = FuseLoopLevel();
            ss.fused_pairs().clear();
            ss.touched() = false;
        }
    }
}

// ---- applying stage lines ------------------------------------------------------

/// One stage while lines are applied: what StageApply's helpers read.
struct StageState {
    Function function;
    int update;          ///< -1: the pure definition, K: update K
    std::string stage;   ///< as lines name it: "f" or "f.update(K)"
    RDomAlias alias;
    std::map<std::string, int64_t> extents;  ///< actual loop name -> known extent

    const Definition &definition() const { return codegen::definition(function, update); }
};

namespace {

/// The state of a stage, made the first time a line names it.
StageState &stage_state(std::map<std::pair<std::string, int>, StageState> &states, const Function &f, int update,
                        const std::string &stage) {
    const auto key = std::make_pair(f.name(), update);
    if (auto it = states.find(key); it != states.end()) return it->second;
    const Definition &def = definition(f, update);
    StageState state{f, update, stage, RDomAlias(def), {}};
    // Extents the pipeline fixes before any line: an output's dims, a reduction's domain.
    if (!f.output_buffers().empty())
        for (size_t i = 0; i < f.args().size(); ++i)
            if (const int64_t *e = Internal::as_const_int(f.output_buffers()[0].extent_constraint(static_cast<int>(i))))
                state.extents[f.args()[i]] = *e;
    for (const Internal::ReductionVariable &rv : def.schedule().rvars())
        if (const int64_t *e = Internal::as_const_int(rv.extent)) state.extents[rv.var] = *e;
    return states.emplace(key, std::move(state)).first->second;
}

}  // namespace

VarOrRVar StageApply::loop(const std::string &token) const {
    const std::string name = state->alias.to_actual(token);
    const Dim *dim = find_dim(state->definition(), name);
    if (!dim)
        fail("{}: {} has no loop '{}' (its loops: {})", what, state->stage, token,
             loops_of(state->definition(), state->alias));
    return loop_var(name, dim->is_rvar());
}

VarOrRVar StageApply::fresh(const std::string &token, bool rvar) const {
    return loop_var(state->alias.to_actual(token), rvar);
}

Var StageApply::pure_dim(const std::string &token) const {
    const std::vector<std::string> &args = state->function.args();
    if (std::find(args.begin(), args.end(), token) == args.end())
        fail("{}: {} has no dimension '{}' (its dimensions: {})", what, func_name, token, fmt::join(args, ", "));
    return Var(token);
}

int StageApply::number(const std::vector<std::string> &args, size_t i) const {
    return static_cast<int>(std::stoll(args.at(i)));  // checked to fit 32 bits when parsed
}

LoopLevel StageApply::level(const std::vector<std::string> &a, bool with_stage) const {
    auto target_func = funcs->actual_of.find(a[0]);
    if (target_func == funcs->actual_of.end())
        fail("{}: there is no Func '{}' in this pipeline (its Funcs: {})", what, a[0], funcs->names());
    const Function &g = funcs->by_actual.at(target_func->second);
    // Without a stage: the last one (compute_with needs it spelled out to Halide).
    const int last = static_cast<int>(g.updates().size());
    const int stage_index = a.size() > 2 ? number(a, 2) : with_stage ? last : -1;
    if (stage_index > last) fail("{}: {} has stages 0 to {}", what, a[0], last);
    const Definition &gdef = definition(g, stage_index < 0 ? last - 1 : stage_index - 1);
    const RDomAlias galias(gdef);
    const std::string var = galias.to_actual(a[1]);
    const Dim *dim = find_dim(gdef, var);
    pending->push_back({what, g.name(), var, stage_index});
    return LoopLevel(g, loop_var(var, dim && dim->is_rvar()), stage_index);
}

TailStrategy StageApply::tail(const std::vector<std::string> &args, size_t i) const {
    return i < args.size() ? tail_strategy_named(args[i]) : TailStrategy::Auto;
}

void StageApply::require_gpu() const {
    if (!target.has_gpu_feature())
        fail("{}: GPU directives need a GPU target (e.g. host-cuda); target {} has none", what, target.to_string());
}

bool StageApply::has_updates() const { return state->function.has_update_definition(); }

int64_t StageApply::known_extent(const std::string &token) const {
    auto it = state->extents.find(state->alias.to_actual(token));
    return it == state->extents.end() ? 0 : it->second;
}

void StageApply::set_extent(const std::string &token, int64_t extent) {
    if (extent > 0) state->extents[state->alias.to_actual(token)] = extent;
    else state->extents.erase(state->alias.to_actual(token));
}

void StageApply::require_extent_at_most(const std::string &token, int64_t most, const char *what_it_makes) const {
    const int64_t extent = known_extent(token);
    if (extent > most)
        fail("{}: loop '{}' has extent {}, which would make {} {} (at most {}); split it first or give a factor", what,
             token, extent, extent, what_it_makes, most);
}

void apply_stage_rules(LoweredProgram &lowered, const Schedule &schedule, const Target &target) {
    PipelineFuncs funcs(lowered);
    std::vector<StageApply::PendingLevel> pending;
    std::map<std::pair<std::string, int>, StageState> states;
    for (const StageRule &rule : schedule.stage_rules()) {
        const std::string where = fmt::format("{} (stage {})", rule.where(), rule.stage());
        auto found = funcs.actual_of.find(rule.func());
        if (found == funcs.actual_of.end())
            fail("{}: there is no Func '{}' in this pipeline (its Funcs: {}; `strata schedule dump --stages` lists "
                 "the scheduled ones)", where, rule.func(), funcs.names());
        Function function = funcs.by_actual.at(found->second);
        const int updates = static_cast<int>(function.updates().size());
        if (rule.update_index() >= updates)
            fail("{}: {} has {} update definition{}", where, rule.func(), updates, updates == 1 ? "" : "s");
        Func func(function);
        Stage stage = rule.update_index() < 0 ? Stage(func) : func.update(rule.update_index());
        StageState &state = stage_state(states, function, rule.update_index(), rule.stage());
        for (const StageDirective &d : rule.directives()) {
            StageApply apply{func, stage, rule.func(), fmt::format("{}: {}", where, d.to_string()), target};
            apply.funcs = &funcs;
            apply.state = &state;
            apply.pending = &pending;
            try {
                apply_stage_directive(apply, d);
            } catch (const Halide::Error &e) {
                fail("{}: Halide rejected it: {}", apply.what, trimmed(e.what()));
            }
        }
    }
    for (const StageApply::PendingLevel &p : pending) {
        const Function &g = funcs.by_actual.at(p.func_actual);
        const int update = p.stage < 0 ? static_cast<int>(g.updates().size()) - 1 : p.stage - 1;
        const Definition &gdef = definition(g, update);
        if (!find_dim(gdef, p.var))
            fail("{}: {} has no loop '{}' (its loops: {})", p.what, funcs.canonical(p.func_actual),
                 RDomAlias(gdef).to_line(p.var), loops_of(gdef, RDomAlias(gdef)));
    }
}

// ---- reading schedules back ----------------------------------------------------

namespace {

/// A LoopLevel as stage lines write it: "" when inlined, "root", or "F, v[, stage]".
std::string level_text(const LoopLevel &stored, const PipelineFuncs &funcs) {
    LoopLevel level = stored;
    level.lock();  // Halide reads LoopLevels only when locked; compiling locks them too
    if (!level.defined() || level.is_inlined()) return "";
    if (level.is_root()) return "root";
    int stage = -1;
    try {
        stage = level.stage_index();
    } catch (const Halide::InternalError &) {
        stage = -1;  // not given: the Func's last stage
    }
    const std::string func = level.func();
    std::string var = level.var().name();
    if (auto it = funcs.by_actual.find(func); it != funcs.by_actual.end()) {
        const Function &g = it->second;
        const int update = stage < 0 ? static_cast<int>(g.updates().size()) - 1 : stage - 1;
        var = RDomAlias(definition(g, update)).to_line(var);
    }
    return funcs.canonical(func) + ", " + var + (stage >= 0 ? ", " + std::to_string(stage) : "");
}

[[noreturn]] void cannot_write(const std::string &func, const std::string &feature) {
    fail("cannot write the schedule of {} as stage lines: it uses {}, which stage lines do not express", func, feature);
}

/// The directives that give one stage (update -1: the Func's own line) its schedule.
std::vector<StageDirective> stage_directives(const Function &f, int update, const std::string &name,
                                             const PipelineFuncs &funcs) {
    StageRead r{f, update, name, funcs};
    const StageSchedule &s = r.schedule();
    std::vector<StageDirective> out;
    if (!s.prefetches().empty()) cannot_write(name, "prefetch");
    if (s.atomic() || s.allow_race_conditions()) cannot_write(name, "atomic() or allow_race_conditions()");
    if (update < 0) read_stage_directives(ReadFrom::func, r, out);
    for (const Split &split : s.splits()) {
        r.split = &split;
        if (!read_stage_directives(ReadFrom::split, r, out))
            cannot_write(name, "a purified reduction variable (rfactor or an RVar made pure)");
    }
    r.split = nullptr;
    read_stage_directives(ReadFrom::stage, r, out);
    for (const Dim &d : s.dims()) {
        r.dim = &d;
        if (d.for_type != ForType::Serial && !read_stage_directives(ReadFrom::loop, r, out))
            cannot_write(name, "an extern or unusual loop type on " + r.line_name(d.var));
    }
    return out;
}

}  // namespace

const StageSchedule &StageRead::schedule() const { return definition(function, update).schedule(); }

std::string StageRead::line_name(const std::string &var) const {
    return RDomAlias(definition(function, update)).to_line(var);
}

std::string StageRead::level_text(const LoopLevel &level) const { return codegen::level_text(level, funcs); }

std::vector<std::string> StageRead::initial_loops() const {
    std::vector<std::string> loops;
    for (const Dim &d : initial_dims(function, update))
        if (d.var != Var::outermost().name()) loops.push_back(d.var);
    return loops;
}

void StageRead::cannot_write(const std::string &feature) const { codegen::cannot_write(name, feature); }

PipelineNames pipeline_names(const LoweredProgram &lowered) {
    const PipelineFuncs funcs(lowered);
    return {funcs.canonical_of, funcs.order};
}

namespace {

std::string read_stages(const LoweredProgram &lowered, const PipelineNames *names) {
    const PipelineFuncs funcs(lowered, names);
    std::string text;
    auto line = [&](const std::string &stage, const std::vector<StageDirective> &directives) {
        if (directives.empty()) return;
        text += "stage " + stage;
        for (const StageDirective &d : directives) text += " " + d.to_string();
        text += "\n";
    };
    for (const std::string &actual : funcs.order) {
        const Function &f = funcs.by_actual.at(actual);
        const std::string name = funcs.canonical(actual);
        const Internal::FuncSchedule &s = f.schedule();
        if (!s.wrappers().empty()) cannot_write(name, "Func::in wrappers");
        if (s.memoized() || s.async()) cannot_write(name, "memoize() or async()");
        line(name, stage_directives(f, -1, name, funcs));
        for (int k = 0; k < static_cast<int>(f.updates().size()); ++k)
            line(fmt::format("{}.update({})", name, k), stage_directives(f, k, name, funcs));
    }
    return text;
}

}  // namespace

std::string read_stage_schedule(const LoweredProgram &lowered, const PipelineNames *names) {
    try {
        return read_stages(lowered, names);
    } catch (const Halide::Error &e) {
        fail("reading the schedule back from Halide failed: {}", trimmed(e.what()));
    }
}

}  // namespace strata::codegen
