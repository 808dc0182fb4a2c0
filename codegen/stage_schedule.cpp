#include "codegen/stage_schedule.h"

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

const char *const kTailNames[] = {"RoundUp",         "GuardWithIf",  "Predicate", "PredicateLoads",
                                  "PredicateStores", "ShiftInwards", "Auto"};
const TailStrategy kTails[] = {TailStrategy::RoundUp,         TailStrategy::GuardWithIf,  TailStrategy::Predicate,
                               TailStrategy::PredicateLoads,  TailStrategy::PredicateStores,
                               TailStrategy::ShiftInwards,    TailStrategy::Auto};
const char *const kMemoryNames[] = {"Auto",       "Heap",        "Stack", "Register", "GPUShared",
                                    "GPUTexture", "LockedCache", "VTCM",  "AMXTile"};
const MemoryType kMemoryTypes[] = {MemoryType::Auto,       MemoryType::Heap,        MemoryType::Stack,
                                   MemoryType::Register,   MemoryType::GPUShared,   MemoryType::GPUTexture,
                                   MemoryType::LockedCache, MemoryType::VTCM,       MemoryType::AMXTile};

TailStrategy tail_named(const std::string &name) {
    for (size_t i = 0; i < std::size(kTailNames); ++i)
        if (name == kTailNames[i]) return kTails[i];
    return TailStrategy::Auto;  // the parser accepts only the names above
}

std::string tail_name(TailStrategy t) {
    for (size_t i = 0; i < std::size(kTails); ++i)
        if (t == kTails[i]) return kTailNames[i];
    return "Auto";
}

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

Definition &definition(Function &f, int update) { return update < 0 ? f.definition() : f.update(update); }
const Definition &definition(const Function &f, int update) { return update < 0 ? f.definition() : f.update(update); }

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

/// A compute_at/store_at to check once every line has been applied (the
/// loop may come from a later line's split).
struct PendingLevel {
    std::string what, func_actual, var;
    int stage;
};

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

void apply_stage_rules(LoweredProgram &lowered, const Schedule &schedule, const Target &target) {
    PipelineFuncs funcs(lowered);
    std::vector<PendingLevel> pending;
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
        const Definition &def = definition(function, rule.update_index());
        const RDomAlias alias(def);

        for (const StageDirective &d : rule.directives()) {
            const std::string what = fmt::format("{}: {}", where, d.to_string());
            const std::vector<std::string> &a = d.args;
            auto existing = [&](const std::string &token) {
                const std::string name = alias.to_actual(token);
                const Dim *dim = find_dim(def, name);
                if (!dim) fail("{}: {} has no loop '{}' (its loops: {})", what, rule.stage(), token, loops_of(def, alias));
                return loop_var(name, dim->is_rvar());
            };
            auto fresh = [&](const std::string &token, bool rvar) { return loop_var(alias.to_actual(token), rvar); };
            auto number = [&](size_t i) { return Expr(static_cast<int>(std::stoll(a.at(i)))); };
            auto pure_dim = [&](const std::string &token) {
                const std::vector<std::string> &args = function.args();
                if (std::find(args.begin(), args.end(), token) == args.end())
                    fail("{}: {} has no dimension '{}' (its dimensions: {})", what, rule.func(), token, fmt::join(args, ", "));
                return Var(token);
            };
            auto level = [&]() {
                auto target_func = funcs.actual_of.find(a[0]);
                if (target_func == funcs.actual_of.end())
                    fail("{}: there is no Func '{}' in this pipeline (its Funcs: {})", what, a[0], funcs.names());
                const Function &g = funcs.by_actual.at(target_func->second);
                // Without a stage: the last one (compute_with needs it spelled out to Halide).
                const int last = static_cast<int>(g.updates().size());
                const int stage_index = a.size() > 2        ? static_cast<int>(std::stoll(a[2]))
                                        : d.name == "compute_with" ? last
                                                                   : -1;
                if (stage_index > static_cast<int>(g.updates().size()))
                    fail("{}: {} has stages 0 to {}", what, a[0], g.updates().size());
                const Definition &gdef = definition(g, stage_index < 0 ? static_cast<int>(g.updates().size()) - 1 : stage_index - 1);
                const RDomAlias galias(gdef);
                const std::string var = galias.to_actual(a[1]);
                const Dim *dim = find_dim(gdef, var);
                pending.push_back({what, g.name(), var, stage_index});
                return LoopLevel(g, loop_var(var, dim && dim->is_rvar()), stage_index);
            };
            auto gpu = [&]() {
                if (!target.has_gpu_feature())
                    fail("{}: GPU directives need a GPU target (e.g. host-cuda); target {} has none", what,
                         target.to_string());
            };
            try {
                if (d.name == "compute_root") {
                    func.compute_root();
                } else if (d.name == "compute_inline") {
                    if (function.has_update_definition())
                        fail("{}: {} has update definitions and cannot be inlined; compute it at root or at a loop",
                             what, rule.func());
                    func.compute_inline();
                } else if (d.name == "compute_at") {
                    func.compute_at(level());
                } else if (d.name == "compute_with") {
                    stage.compute_with(level());
                } else if (d.name == "store_root") {
                    func.store_root();
                } else if (d.name == "store_at") {
                    func.store_at(level());
                } else if (d.name == "reorder_storage") {
                    std::vector<Var> vars;
                    for (const std::string &v : a) vars.push_back(pure_dim(v));
                    func.reorder_storage(vars);
                } else if (d.name == "bound") {
                    func.bound(pure_dim(a[0]), number(1), number(2));
                } else if (d.name == "store_in") {
                    for (size_t i = 0; i < std::size(kMemoryNames); ++i)
                        if (a[0] == kMemoryNames[i]) func.store_in(kMemoryTypes[i]);
                } else if (d.name == "split") {
                    const VarOrRVar old = existing(a[0]);
                    stage.split(old, fresh(a[1], old.is_rvar), fresh(a[2], old.is_rvar), number(3),
                                a.size() > 4 ? tail_named(a[4]) : TailStrategy::Auto);
                } else if (d.name == "fuse") {
                    const VarOrRVar inner = existing(a[0]), outer = existing(a[1]);
                    stage.fuse(inner, outer, fresh(a[2], inner.is_rvar || outer.is_rvar));
                } else if (d.name == "rename") {
                    const VarOrRVar old = existing(a[0]);
                    stage.rename(old, fresh(a[1], old.is_rvar));
                } else if (d.name == "tile") {
                    const VarOrRVar x = existing(a[0]), y = existing(a[1]);
                    stage.tile(x, y, fresh(a[2], x.is_rvar), fresh(a[3], y.is_rvar), fresh(a[4], x.is_rvar),
                               fresh(a[5], y.is_rvar), number(6), number(7),
                               a.size() > 8 ? tail_named(a[8]) : TailStrategy::Auto);
                } else if (d.name == "reorder") {
                    std::vector<VarOrRVar> vars;
                    for (const std::string &v : a) vars.push_back(existing(v));
                    stage.reorder(vars);
                } else if (d.name == "serial") {
                    stage.serial(existing(a[0]));
                } else if (d.name == "vectorize") {
                    if (a.size() > 1) stage.vectorize(existing(a[0]), number(1));
                    else stage.vectorize(existing(a[0]));
                } else if (d.name == "unroll") {
                    if (a.size() > 1) stage.unroll(existing(a[0]), number(1));
                    else stage.unroll(existing(a[0]));
                } else if (d.name == "parallel") {
                    if (a.size() > 1) stage.parallel(existing(a[0]), number(1));
                    else stage.parallel(existing(a[0]));
                } else if (d.name == "gpu_blocks" || d.name == "gpu_threads") {
                    gpu();
                    std::vector<VarOrRVar> v;
                    for (const std::string &name : a) v.push_back(existing(name));
                    const bool blocks = d.name == "gpu_blocks";
                    if (v.size() == 1) blocks ? stage.gpu_blocks(v[0]) : stage.gpu_threads(v[0]);
                    else if (v.size() == 2) blocks ? stage.gpu_blocks(v[0], v[1]) : stage.gpu_threads(v[0], v[1]);
                    else blocks ? stage.gpu_blocks(v[0], v[1], v[2]) : stage.gpu_threads(v[0], v[1], v[2]);
                } else if (d.name == "gpu_lanes") {
                    gpu();
                    stage.gpu_lanes(existing(a[0]));
                } else if (d.name == "gpu_tile") {
                    gpu();
                    if (a.size() <= 5) {
                        const VarOrRVar x = existing(a[0]);
                        stage.gpu_tile(x, fresh(a[1], x.is_rvar), fresh(a[2], x.is_rvar), number(3),
                                       a.size() > 4 ? tail_named(a[4]) : TailStrategy::Auto);
                    } else {
                        const VarOrRVar x = existing(a[0]), y = existing(a[1]);
                        stage.gpu_tile(x, y, fresh(a[2], x.is_rvar), fresh(a[3], y.is_rvar), fresh(a[4], x.is_rvar),
                                       fresh(a[5], y.is_rvar), number(6), number(7),
                                       a.size() > 8 ? tail_named(a[8]) : TailStrategy::Auto);
                    }
                } else {
                    STRATA_ASSERT(false, "stage directive {} passed the parser", d.name);
                }
            } catch (const Halide::Error &e) {
                fail("{}: Halide rejected it: {}", what, trimmed(e.what()));
            }
        }
    }
    for (const PendingLevel &p : pending) {
        const Function &g = funcs.by_actual.at(p.func_actual);
        const int update = p.stage < 0 ? static_cast<int>(g.updates().size()) - 1 : p.stage - 1;
        const Definition &gdef = definition(g, update);
        if (!find_dim(gdef, p.var))
            fail("{}: {} has no loop '{}' (its loops: {})", p.what, funcs.canonical(p.func_actual),
                 RDomAlias(gdef).to_line(p.var), loops_of(gdef, RDomAlias(gdef)));
    }
}

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

/// The directives that give one stage its schedule.
std::vector<StageDirective> stage_directives(const Function &f, int update, const std::string &name,
                                             const PipelineFuncs &funcs) {
    const Definition &def = definition(f, update);
    const StageSchedule &s = def.schedule();
    const RDomAlias alias(def);
    std::vector<StageDirective> out;
    if (!s.prefetches().empty()) cannot_write(name, "prefetch");
    if (s.atomic() || s.allow_race_conditions()) cannot_write(name, "atomic() or allow_race_conditions()");
    for (const Split &split : s.splits()) {
        if (split.is_split()) {
            const int64_t *factor = Internal::as_const_int(split.factor);
            if (!factor) cannot_write(name, "a split by a non-constant factor");
            std::vector<std::string> args = {alias.to_line(split.old_var), alias.to_line(split.outer),
                                             alias.to_line(split.inner), std::to_string(*factor)};
            if (split.tail != TailStrategy::Auto) args.push_back(tail_name(split.tail));
            out.push_back({"split", args});
        } else if (split.is_fuse()) {
            out.push_back({"fuse", {alias.to_line(split.inner), alias.to_line(split.outer), alias.to_line(split.old_var)}});
        } else if (split.is_rename()) {
            out.push_back({"rename", {alias.to_line(split.old_var), alias.to_line(split.outer)}});
        } else {
            cannot_write(name, "a purified reduction variable (rfactor or an RVar made pure)");
        }
    }
    std::vector<std::string> now, initially;
    for (const Dim &d : s.dims())
        if (d.var != Var::outermost().name()) now.push_back(d.var);
    for (const Dim &d : initial_dims(f, update))
        if (d.var != Var::outermost().name()) initially.push_back(d.var);
    if ((!s.splits().empty() || now != initially) && now.size() > 1) {
        std::vector<std::string> order;
        for (const std::string &v : now) order.push_back(alias.to_line(v));
        out.push_back({"reorder", order});
    }
    for (const auto &[var, align] : s.fuse_level().align)
        if (align != LoopAlignStrategy::Auto) cannot_write(name, "compute_with with a loop alignment");
    if (const std::string with = level_text(s.fuse_level().level, funcs); !with.empty() && with != "root")
        out.push_back({"compute_with", {with}});  // "F, var[, stage]", as compute_at
    for (const Dim &d : s.dims()) {
        const std::string v = alias.to_line(d.var);
        switch (d.for_type) {
        case ForType::Serial: break;
        case ForType::Parallel: out.push_back({"parallel", {v}}); break;
        case ForType::Vectorized: out.push_back({"vectorize", {v}}); break;
        case ForType::Unrolled: out.push_back({"unroll", {v}}); break;
        case ForType::GPUBlock: out.push_back({"gpu_blocks", {v}}); break;
        case ForType::GPUThread: out.push_back({"gpu_threads", {v}}); break;
        case ForType::GPULane: out.push_back({"gpu_lanes", {v}}); break;
        default: cannot_write(name, "an extern or unusual loop type on " + v);
        }
    }
    return out;
}

}  // namespace

PipelineNames pipeline_names(const LoweredProgram &lowered) {
    const PipelineFuncs funcs(lowered);
    return {funcs.canonical_of, funcs.order};
}

namespace {
std::string read_stages(const LoweredProgram &lowered, const PipelineNames *names);
}

std::string read_stage_schedule(const LoweredProgram &lowered, const PipelineNames *names) {
    try {
        return read_stages(lowered, names);
    } catch (const Halide::Error &e) {
        fail("reading the schedule back from Halide failed: {}", trimmed(e.what()));
    }
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
        std::vector<StageDirective> directives;
        const std::string compute = level_text(s.compute_level(), funcs);
        if (compute == "root") directives.push_back({"compute_root", {}});
        else if (!compute.empty()) directives.push_back({"compute_at", {compute}});
        const std::string store = level_text(s.store_level(), funcs);
        if (!compute.empty() && store != compute) {
            if (store == "root") directives.push_back({"store_root", {}});
            else if (!store.empty()) directives.push_back({"store_at", {store}});
        }
        std::vector<std::string> storage;
        for (const Internal::StorageDim &d : s.storage_dims()) {
            if (d.alignment.defined() || d.bound.defined() || d.fold_factor.defined())
                cannot_write(name, "align_storage, bound_storage or fold_storage");
            storage.push_back(d.var);
        }
        if (storage != f.args()) directives.push_back({"reorder_storage", storage});
        for (const Internal::Bound &b : s.bounds()) {
            const int64_t *min = b.min.defined() ? Internal::as_const_int(b.min) : nullptr;
            const int64_t *extent = b.extent.defined() ? Internal::as_const_int(b.extent) : nullptr;
            if (!min || !extent || b.modulus.defined()) cannot_write(name, "bound_extent, align_bounds or a non-constant bound");
            directives.push_back({"bound", {b.var, std::to_string(*min), std::to_string(*extent)}});
        }
        if (s.memory_type() != MemoryType::Auto)
            for (size_t i = 0; i < std::size(kMemoryTypes); ++i)
                if (s.memory_type() == kMemoryTypes[i]) directives.push_back({"store_in", {kMemoryNames[i]}});
        for (StageDirective &d : stage_directives(f, -1, name, funcs)) directives.push_back(std::move(d));
        line(name, directives);
        for (int k = 0; k < static_cast<int>(f.updates().size()); ++k)
            line(fmt::format("{}.update({})", name, k), stage_directives(f, k, name, funcs));
    }
    return text;
}

}  // namespace

}  // namespace strata::codegen
