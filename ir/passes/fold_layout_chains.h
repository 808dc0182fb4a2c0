#pragma once
/// \file
/// Folds chains of layout ops and layout ops that do nothing.

#include "ir/program.h"

namespace strata::ir {

/// Rewrites
/// - reshape(reshape(x)) -> reshape(x), and a reshape to x's own shape -> x;
/// - permute(permute(x)) -> one permute (the composed permutation), and an
///   identity permute -> x;
/// - expand to x's own shape -> x;
/// - slice over a whole dim with step 1 -> x.
/// The replaced nodes stay in the program until dead code elimination.
Program fold_layout_chains(const Program &program);

}  // namespace strata::ir
