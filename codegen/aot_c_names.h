#pragma once
// Internal to codegen: turning user-chosen names (inputs, outputs, parameters,
// schedule files) into text that is safe in the C header `strata emit` writes:
// identifiers that are valid, unique and clash with nothing the header uses,
// string literals and comments that C99 (trigraphs included) reads back as written.

#include <string>
#include <vector>

namespace strata::codegen {

/// A valid C (and C++) identifier for the model input or output `name`
/// ("images" -> images, "a.b" -> a_b, "int" -> int_, "9x" -> t_9x), never a
/// keyword, a name the header's functions use for themselves, a standard
/// macro or type, a reserved identifier, or one starting with `library` + "_".
std::string c_identifier(const std::string &name, const std::string &library);

/// Throws strata::Error when two of `names` (the model's inputs, then its
/// outputs) give the same identifier, naming both and the identifier.
void require_distinct_c_identifiers(const std::vector<std::string> &names, const std::string &library);

/// `text` as the contents of a C string literal: quotes, backslashes, '?'
/// (trigraphs), control and non-ASCII bytes escaped.
std::string c_string_contents(const std::string &text);

/// `text` made safe inside a /* comment */: no "*/", no trigraph, printable ASCII only.
std::string c_comment_text(const std::string &text);

}  // namespace strata::codegen
