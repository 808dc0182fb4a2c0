#pragma once
// Internal to codegen: the grammar of stage lines,
//     stage NAME directive(arg, ...) directive(...) ...
// where NAME is a Func or Func.update(K). Which directives exist and what
// they take is codegen/stage_directives.h's table. This header does not
// include Halide.

#include "codegen/schedule.h"

#include <string>
#include <vector>

namespace strata::codegen {

/// "name(a, b) name2() ..." into directives, unchecked; errors name `where`.
std::vector<StageDirective> parse_stage_directives(const std::string &text, const std::string &where);

/// One stage line: `selector` ("f" or "f.update(0)") and its directives' text; each directive is
/// checked against the table. Errors name `where` ("FILE:LINE"), the stage and the directive.
StageRule parse_stage_line(const std::string &selector, const std::string &directives, const std::string &where);

}  // namespace strata::codegen
