#include "ir/passes/pipeline.h"

#include "ir/passes/common_subexpression_elimination.h"
#include "ir/passes/constant_folding.h"
#include "ir/passes/dead_code_elimination.h"
#include "ir/passes/fold_layout_chains.h"
#include "ir/printer.h"
#include "ir/verifier.h"

#include <strata/error.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace strata::ir {

const std::vector<Pass> &default_passes() {
    static const std::vector<Pass> passes = {
        {"dead_code_elimination", dead_code_elimination},
        {"constant_folding", constant_folding},
        {"fold_layout_chains", fold_layout_chains},
        {"common_subexpression_elimination", common_subexpression_elimination},
        {"dead_code_elimination", dead_code_elimination},
    };
    return passes;
}

Program run_passes(const Program &program, const std::vector<Pass> &passes) {
    const char *dump_env = std::getenv("STRATA_DUMP_IR");
    const bool dump = dump_env && std::strcmp(dump_env, "1") == 0;
    verify(program);
    Program current;
    const Program *last = &program;
    for (const Pass &pass : passes) {
        Program next = pass.run(*last);
        try {
            verify(next);
        } catch (const Error &e) {
            // A pass produced broken IR: that is a Strata bug, not a user mistake.
            STRATA_ASSERT(false, "the IR after pass {} does not verify: {}", pass.name, e.what());
        }
        if (dump) std::fprintf(stderr, "// after %s\n%s", pass.name.c_str(), print(next).c_str());
        current = std::move(next);
        last = &current;
    }
    if (last == &program) return clone(program);
    return current;
}

}  // namespace strata::ir
