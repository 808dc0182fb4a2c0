#pragma once
/// \file
/// Reads the IR text form that `print` writes (see ir/printer.h) back into a Program.
///
/// Grammar, one statement per line:
///
///     %N = op(%a, %b, ...) {name=value, ...} : dtype[d0,d1,...]
///     output "name" = %N
///
/// Blank lines and `#` comments are skipped. Node ids may be any non-negative
/// integers, each defined once and before its first use; the parsed program
/// numbers its nodes afresh (0, 1, 2, ...), so `print(parse(print(p))) == print(p)`.
///
/// Attribute values: ints (`3`, `-1`), floats (with a `.` or an exponent, or
/// `nan`, `inf`, `-inf`), `true` / `false`, strings in double quotes with the
/// escapes `\"` `\\` `\n`, int lists (`[1,2]`, `[]`) and dtype names.
///
/// Nodes are built through `Program::make`: a source op takes the written type,
/// any other op has its type inferred, which must equal the written one.

#include "ir/program.h"

#include <string>

namespace strata::ir {

/// Parses IR text. Every mistake throws strata::Error starting with
/// `source_name:line:column: ` and saying what was expected, e.g.
/// `model.ir:3:14: expected ')' after inputs, got '{'`.
Program parse(const std::string &text, const std::string &source_name = "<ir>");

}  // namespace strata::ir
