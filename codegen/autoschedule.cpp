#include "codegen/autoschedule.h"

#include <strata/error.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>

namespace strata::codegen {

using namespace Halide;

namespace {

struct Autoscheduler {
    const char *name;         ///< ours, lower case
    const char *halide_name;  ///< as the plugin registers itself
    const char *plugin;       ///< the plugin's path, from Halide's CMake package
};

const Autoscheduler kAutoschedulers[] = {
    {"mullapudi2016", "Mullapudi2016", STRATA_PLUGIN_MULLAPUDI2016},
    {"li2018", "Li2018", STRATA_PLUGIN_LI2018},
    {"adams2019", "Adams2019", STRATA_PLUGIN_ADAMS2019},
};

const Autoscheduler *find(const std::string &name) {
    for (const Autoscheduler &a : kAutoschedulers)
        if (name == a.name) return &a;
    return nullptr;
}

/// The region [0, extent) of every dimension, innermost first.
Region whole(const Shape &shape) {
    Region r;
    for (size_t i = shape.size(); i-- > 0;) r.push_back(Range(0, static_cast<int>(shape[i])));
    return r;
}

}  // namespace

bool is_autoscheduler(const std::string &name) { return find(name) != nullptr; }

std::string autoschedule(const std::string &name, LoweredProgram &lowered, const ir::Program &program,
                         const Target &target, int threads) {
    const Autoscheduler *a = find(name);
    STRATA_ASSERT(a, "not an autoscheduler");
    {
        static std::mutex mutex;
        static std::set<std::string> loaded;
        std::lock_guard<std::mutex> lock(mutex);
        if (!loaded.count(a->plugin)) {
            if (!std::filesystem::exists(a->plugin))
                fail("schedule '{}': Halide's plugin {} is missing (it comes with libhalide14-0-dev)", name, a->plugin);
            load_plugin(a->plugin);
            loaded.insert(a->plugin);
        }
    }
    for (size_t i = 0; i < lowered.sources.size(); ++i)
        lowered.source_params[i].set_estimates(whole(lowered.sources[i]->shape()));
    for (size_t i = 0; i < lowered.outputs.size(); ++i)
        lowered.outputs[i].set_estimates(whole(program.outputs()[i].node->shape()));
    // Cache and balance as Halide's own apps give them for a CPU.
    const MachineParams machine(threads, 16 * 1024 * 1024, 40);
    try {
        return lowered.pipeline.auto_schedule(a->halide_name, target, machine).schedule_source;
    } catch (const Halide::Error &e) {
        fail("the {} autoscheduler failed on this program: {}", a->halide_name, e.what());
    }
}

}  // namespace strata::codegen
