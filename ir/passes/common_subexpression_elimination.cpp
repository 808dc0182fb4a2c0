#include "ir/passes/common_subexpression_elimination.h"

#include "ir/passes/rebuild.h"

namespace strata::ir {

Program common_subexpression_elimination(const Program &program) {
    return rebuild(program, [](Rebuilder &b, const Node &old) { return b.copy(old); });
}

}  // namespace strata::ir
