#include "codegen/aot_c_names.h"

#include <strata/error.h>

#include <fmt/format.h>

#include <map>
#include <set>

namespace strata::codegen {

namespace {

bool ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

/// Identifiers a parameter of the header's functions must not be: C and C++
/// keywords, the functions' own locals, and the macros and types of the headers
/// NAME.h includes that a parameter would hide or break.
const std::set<std::string> &unusable_identifiers() {
    static const std::set<std::string> names = {
        // C99 .. C23
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern",
        "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed",
        "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "bool",
        "true", "false", "alignas", "alignof", "static_assert", "thread_local", "nullptr", "constexpr", "typeof",
        "typeof_unqual",
        // C++ (the header is usable from C++)
        "asm", "catch", "class", "const_cast", "delete", "dynamic_cast", "explicit", "export", "friend", "mutable",
        "namespace", "new", "noexcept", "operator", "private", "protected", "public", "reinterpret_cast",
        "static_cast", "template", "this", "throw", "try", "typeid", "typename", "using", "virtual", "wchar_t",
        "char8_t", "char16_t", "char32_t", "decltype", "concept", "requires", "consteval", "constinit", "co_await",
        "co_return", "co_yield", "and", "and_eq", "bitand", "bitor", "compl", "not", "not_eq", "or", "or_eq", "xor",
        "xor_eq",
        // the locals of the generated functions
        "b", "dims", "result", "tensor", "weights", "s", "labels", "loss", "lr", "first", "loss_value", "swap", "i",
        // macros and types of <math.h>, <stdarg.h>, <stddef.h>, <stdint.h>, <stdio.h>, <stdlib.h>, <string.h>,
        // <errno.h>, <fcntl.h>, <unistd.h>
        "NULL", "EOF", "FILE", "BUFSIZ", "SEEK_SET", "SEEK_CUR", "SEEK_END", "stdin", "stdout", "stderr", "errno",
        "assert", "offsetof", "size_t", "ssize_t", "ptrdiff_t", "max_align_t", "va_list", "va_start", "va_end",
        "va_arg", "va_copy", "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t",
        "uint64_t", "intptr_t", "uintptr_t", "intmax_t", "uintmax_t", "INFINITY", "NAN", "HUGE_VAL", "HUGE_VALF",
        "isfinite", "isnan", "isinf", "isnormal", "signbit", "fpclassify", "EXIT_SUCCESS", "EXIT_FAILURE",
        "RAND_MAX", "MB_CUR_MAX", "pid_t", "off_t", "mode_t", "main"};
    return names;
}

bool starts_with(const std::string &s, const std::string &prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

std::string c_identifier(const std::string &name, const std::string &library) {
    std::string out;
    for (char c : name) out += ascii_alnum(c) ? c : '_';
    // Not empty, not starting with a digit, and not reserved to the implementation ("_X", "__x").
    if (out.empty() || (out[0] >= '0' && out[0] <= '9') || out[0] == '_') out = "t_" + out;
    if (starts_with(out, library + "_") || starts_with(out, "halide_") || starts_with(out, "HALIDE_") ||
        starts_with(out, "Halide"))
        out = "t_" + out;
    if (unusable_identifiers().count(out)) out += '_';
    return out;
}

void require_distinct_c_identifiers(const std::vector<std::string> &names, const std::string &library) {
    std::map<std::string, std::string> first_of;
    for (const std::string &name : names) {
        const std::string id = c_identifier(name, library);
        const auto [it, fresh] = first_of.emplace(id, name);
        if (!fresh)
            fail("emit: the model's inputs and outputs '{}' and '{}' would both be called '{}' in C (names become C "
                 "identifiers: letters, digits and _); rename one",
                 it->second, name, id);
    }
}

std::string c_string_contents(const std::string &text) {
    std::string out;
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\' || c == '?') out += '\\', out += c;  // "\?": no "??/" trigraph
        else if (byte < 0x20 || byte >= 0x7f) out += fmt::format("\\{:03o}", byte);  // 3 digits: never ambiguous
        else out += c;
    }
    return out;
}

std::string c_comment_text(const std::string &text) {
    std::string out;
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        const char safe = byte < 0x20 || byte >= 0x7f ? '.' : c;
        // "*/" would end the comment, "??" could start a trigraph, "/*" nests (-Wcomment).
        if ((safe == '/' && !out.empty() && out.back() == '*') || (safe == '?' && !out.empty() && out.back() == '?') ||
            (safe == '*' && !out.empty() && out.back() == '/'))
            out += ' ';
        out += safe;
    }
    return out;
}

}  // namespace strata::codegen
