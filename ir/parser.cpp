#include "ir/parser.h"

#include <strata/error.h>

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>
#include <unordered_map>

namespace strata::ir {

namespace {

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// Reads the tokens of one line. Every error names `source:line:column`.
class LineCursor {
public:
    LineCursor(const std::string &source, int line_no, std::string_view line)
        : source_(source), line_no_(line_no), line_(line) {}

    /// The column of the next token (after blanks), for messages.
    size_t mark() {
        skip_blanks();
        return pos_;
    }

    /// True when the next token starts a number literal.
    bool at_number() { return !at_end() && (is_digit(line_[pos_]) || line_[pos_] == '-'); }

    [[noreturn]] void fail_at(size_t pos, const std::string &message) const {
        throw Error(fmt::format("{}:{}:{}: {}", source_, line_no_, pos + 1, message));
    }

    /// True at the end of the line or at a `#` comment (after skipping blanks).
    bool at_end() {
        skip_blanks();
        return pos_ >= line_.size() || line_[pos_] == '#';
    }

    bool peek(char c) { return !at_end() && line_[pos_] == c; }

    bool accept(char c) {
        if (!peek(c)) return false;
        ++pos_;
        return true;
    }

    void expect(char c, const char *context) {
        if (!accept(c)) fail_at(pos_, fmt::format("expected '{}' {}, got {}", c, context, current()));
    }

    void expect_end(const char *context) {
        if (!at_end())
            fail_at(pos_, fmt::format("expected the end of the line {}, got {}", context, current()));
    }

    /// The token at the cursor, quoted, for "got ..." in messages.
    std::string current() {
        if (at_end()) return "the end of the line";
        size_t end = pos_;
        if (is_word_char(line_[pos_]) || line_[pos_] == '-') {
            end = pos_ + 1;
            while (end < line_.size() && (is_word_char(line_[end]) || line_[end] == '.')) ++end;
        } else {
            end = pos_ + 1;
        }
        return fmt::format("'{}'", line_.substr(pos_, end - pos_));
    }

    /// [A-Za-z_][A-Za-z0-9_]*; `what` says what was expected.
    std::string_view word(const char *what) {
        if (at_end() || !(std::isalpha(static_cast<unsigned char>(line_[pos_])) || line_[pos_] == '_'))
            fail_at(pos_, fmt::format("expected {}, got {}", what, current()));
        const size_t start = pos_;
        while (pos_ < line_.size() && is_word_char(line_[pos_])) ++pos_;
        return line_.substr(start, pos_ - start);
    }

    /// `%N` with N a non-negative integer.
    int64_t node_ref(const char *what) {
        if (!peek('%')) fail_at(pos_, fmt::format("expected {} like %3, got {}", what, current()));
        const size_t start = pos_++;
        if (pos_ >= line_.size() || !is_digit(line_[pos_]))
            fail_at(pos_, fmt::format("expected digits after '%', got {}", current()));
        int64_t id = 0;
        while (pos_ < line_.size() && is_digit(line_[pos_])) {
            if (id > (std::numeric_limits<int64_t>::max() - 9) / 10) fail_at(start, "node id is too large");
            id = id * 10 + (line_[pos_++] - '0');
        }
        if (pos_ < line_.size() && is_word_char(line_[pos_]))
            fail_at(start, fmt::format("malformed node id {}", token_from(start)));
        return id;
    }

    /// A double-quoted string with the escapes \" \\ \n.
    std::string string_literal(const char *what) {
        if (!peek('"')) fail_at(pos_, fmt::format("expected {} in double quotes, got {}", what, current()));
        const size_t start = pos_++;
        std::string out;
        while (true) {
            if (pos_ >= line_.size()) fail_at(start, "unterminated string (missing the closing '\"')");
            const char c = line_[pos_++];
            if (c == '"') return out;
            if (c != '\\') {
                out += c;
                continue;
            }
            const char e = pos_ < line_.size() ? line_[pos_] : '\0';
            if (e == '"' || e == '\\')
                out += e;
            else if (e == 'n')
                out += '\n';
            else
                fail_at(pos_ - 1, "unknown escape in string (allowed: \\\" \\\\ \\n)");
            ++pos_;
        }
    }

    /// An int or a float literal (not nan/inf, which are words).
    AttrValue number() {
        skip_blanks();
        const size_t start = pos_;
        if (pos_ < line_.size() && line_[pos_] == '-') ++pos_;
        if (line_.substr(pos_, 3) == "inf" && (pos_ + 3 >= line_.size() || !is_word_char(line_[pos_ + 3]))) {
            pos_ += 3;
            return -std::numeric_limits<double>::infinity();
        }
        const size_t digits_start = pos_;
        skip_digits();
        if (pos_ == digits_start) fail_at(start, fmt::format("expected a number, got {}", token_from(start)));
        bool is_float = false;
        if (pos_ < line_.size() && line_[pos_] == '.') {
            is_float = true;
            ++pos_;
            skip_digits();
        }
        if (pos_ < line_.size() && (line_[pos_] == 'e' || line_[pos_] == 'E')) {
            is_float = true;
            ++pos_;
            if (pos_ < line_.size() && (line_[pos_] == '+' || line_[pos_] == '-')) ++pos_;
            const size_t exp_start = pos_;
            skip_digits();
            if (pos_ == exp_start) fail_at(start, fmt::format("malformed number {}", token_from(start)));
        }
        if (pos_ < line_.size() && (is_word_char(line_[pos_]) || line_[pos_] == '.'))
            fail_at(start, fmt::format("malformed number {}", token_from(start)));
        const std::string_view text = line_.substr(start, pos_ - start);
        if (!is_float) {
            int64_t v = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (ec != std::errc() || end != text.data() + text.size())
                fail_at(start, fmt::format("integer {} does not fit in 64 bits", text));
            return v;
        }
        double v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size())
            fail_at(start, fmt::format("float {} is out of the range of f64", text));
        return v;
    }

    /// An integer literal; `what` names the context for the message.
    int64_t integer(const char *what) {
        skip_blanks();
        const size_t start = pos_;
        if (at_end() || !(is_digit(line_[pos_]) || line_[pos_] == '-'))
            fail_at(pos_, fmt::format("expected {}, got {}", what, current()));
        const AttrValue v = number();
        if (!std::holds_alternative<int64_t>(v))
            fail_at(start, fmt::format("expected {}, got {}", what, token_from(start)));
        return std::get<int64_t>(v);
    }

private:
    const std::string &source_;
    int line_no_;
    std::string_view line_;
    size_t pos_ = 0;

    void skip_blanks() {
        while (pos_ < line_.size() && (line_[pos_] == ' ' || line_[pos_] == '\t')) ++pos_;
    }
    void skip_digits() {
        while (pos_ < line_.size() && is_digit(line_[pos_])) ++pos_;
    }
    std::string token_from(size_t start) const {
        size_t end = pos_;
        while (end < line_.size() && (is_word_char(line_[end]) || line_[end] == '.')) ++end;
        return fmt::format("'{}'", line_.substr(start, end - start));
    }
};

/// Parses a whole program, one line at a time.
class ProgramParser {
public:
    ProgramParser(const std::string &text, const std::string &source) : text_(text), source_(source) {}

    Program run() {
        int line_no = 0;
        size_t start = 0;
        while (start <= text_.size()) {
            size_t end = text_.find('\n', start);
            if (end == std::string::npos) end = text_.size();
            std::string_view line(text_.data() + start, end - start);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            ++line_no;
            parse_line(LineCursor(source_, line_no, line), line_no);
            start = end + 1;
        }
        return std::move(program_);
    }

private:
    struct Defined {
        const Node *node;
        int line;
    };

    const std::string &text_;
    const std::string &source_;
    Program program_;
    std::unordered_map<int64_t, Defined> ids_;

    void parse_line(LineCursor cur, int line_no) {
        if (cur.at_end()) return;  // blank or comment
        if (cur.peek('%')) return parse_node(cur, line_no);
        const size_t start = cur.mark();
        const std::string_view keyword = cur.word("'%id = op(...) : type' or 'output \"name\" = %id'");
        if (keyword != "output")
            cur.fail_at(
                start,
                fmt::format("expected '%id = op(...) : type' or 'output \"name\" = %id', got '{}'", keyword));
        parse_output(cur);
    }

    const Node *lookup(LineCursor &cur) {
        const size_t start = cur.mark();
        const int64_t id = cur.node_ref("a node reference");
        auto it = ids_.find(id);
        if (it == ids_.end())
            cur.fail_at(start,
                        fmt::format("%{} is not defined (a node must be defined before it is used)", id));
        return it->second.node;
    }

    void parse_node(LineCursor &cur, int line_no) {
        const size_t id_pos = cur.mark();
        const int64_t id = cur.node_ref("a node id");
        if (auto it = ids_.find(id); it != ids_.end())
            cur.fail_at(id_pos, fmt::format("%{} is defined twice (first on line {})", id, it->second.line));
        cur.expect('=', "after the node id");

        const size_t op_pos = cur.mark();
        const std::string_view op_text = cur.word("an op name");
        Op op;
        if (!find_op(op_text, &op)) cur.fail_at(op_pos, fmt::format("unknown op '{}'", op_text));
        const OpInfo &info = op_info(op);

        cur.expect('(', "after the op name");
        std::vector<const Node *> inputs;
        if (!cur.accept(')')) {
            do inputs.push_back(lookup(cur));
            while (cur.accept(','));
            cur.expect(')', "after inputs");
        }

        Attrs attrs;
        if (cur.accept('{') && !cur.accept('}')) {
            do parse_attr(cur, info, attrs);
            while (cur.accept(','));
            cur.expect('}', "after attributes");
        }

        cur.expect(':', "before the result type");
        const size_t type_pos = cur.mark();
        const Type type = parse_type(cur);
        cur.expect_end("after the type");

        const Node *node = build(cur, op_pos, op, inputs, std::move(attrs), type);
        if (node->type != type)
            cur.fail_at(type_pos,
                        fmt::format("%{} ({}): the written type {} does not match the inferred type {}", id,
                                    info.name, type_str(type), type_str(node->type)));
        ids_[id] = {node, line_no};
    }

    void parse_attr(LineCursor &cur, const OpInfo &info, Attrs &attrs) {
        const size_t name_pos = cur.mark();
        const std::string name(cur.word("an attribute name"));
        const AttrSpec *spec = nullptr;
        for (const AttrSpec &s : info.attrs)
            if (s.name == name) spec = &s;
        if (!spec) {
            std::string names;
            for (const AttrSpec &s : info.attrs) names += (names.empty() ? "" : ", ") + s.name;
            cur.fail_at(name_pos, fmt::format("{}: unknown attribute '{}' (the op takes: {})", info.name,
                                              name, names.empty() ? "no attributes" : names));
        }
        if (attrs.has(name)) cur.fail_at(name_pos, fmt::format("attribute '{}' is given twice", name));
        cur.expect('=', "after the attribute name");
        const size_t value_pos = cur.mark();
        AttrValue value = parse_value(cur);
        if (attr_kind(value) != spec->kind)
            cur.fail_at(value_pos, fmt::format("{}: attribute '{}' is {} but must be of kind {}", info.name,
                                               name, attr_value_str(value), attr_kind_name(spec->kind)));
        attrs.set(name, std::move(value));
    }

    AttrValue parse_value(LineCursor &cur) {
        static const char *expected =
            "an attribute value (int, float, true/false, \"string\", [ints] or a dtype)";
        if (cur.peek('"')) return cur.string_literal("a string");
        if (cur.accept('[')) {
            Ints values;
            if (cur.accept(']')) return values;
            do values.push_back(cur.integer("an integer in the list"));
            while (cur.accept(','));
            cur.expect(']', "after the list");
            return values;
        }
        if (cur.at_number()) return cur.number();
        const size_t pos = cur.mark();
        const std::string_view w = cur.word(expected);
        if (w == "true") return true;
        if (w == "false") return false;
        if (w == "nan") return std::numeric_limits<double>::quiet_NaN();
        if (w == "inf") return std::numeric_limits<double>::infinity();
        DType dtype;
        if (parse_dtype(w, &dtype)) return dtype;
        cur.fail_at(pos, fmt::format("expected {}, got '{}'", expected, w));
    }

    Type parse_type(LineCursor &cur) {
        const size_t pos = cur.mark();
        const std::string_view name = cur.word("a type like f32[2,3]");
        Type type;
        if (!parse_dtype(name, &type.dtype))
            cur.fail_at(pos, fmt::format("unknown dtype '{}' (expected f32, f64, i32, i64 or bool)", name));
        cur.expect('[', "after the dtype");
        if (cur.accept(']')) return type;
        do {
            const size_t extent_pos = cur.mark();
            const int64_t extent = cur.integer("an extent");
            if (extent < 0) cur.fail_at(extent_pos, fmt::format("extent {} must be >= 0", extent));
            type.shape.push_back(extent);
        } while (cur.accept(','));
        cur.expect(']', "after the shape");
        return type;
    }

    /// Program::make with its errors placed at the op name.
    const Node *build(LineCursor &cur, size_t op_pos, Op op, const std::vector<const Node *> &inputs,
                      Attrs attrs, const Type &type) {
        // Program::make would hash-cons a repeated source into the first one; say so instead.
        if ((op == Op::input || op == Op::parameter) && attrs.has("name") &&
            program_.find_source(attrs.get_str("name")))
            cur.fail_at(op_pos,
                        fmt::format("a source named \"{}\" is defined already", attrs.get_str("name")));
        try {
            const bool is_source = op_info(op).op_class == OpClass::source;
            return program_.make(op, inputs, std::move(attrs), is_source ? &type : nullptr);
        } catch (const Error &e) {
            cur.fail_at(op_pos, e.what());
        }
    }

    void parse_output(LineCursor &cur) {
        const size_t name_pos = cur.mark();
        const std::string name = cur.string_literal("an output name");
        if (name.empty()) cur.fail_at(name_pos, "an output name must not be empty");
        cur.expect('=', "after the output name");
        const Node *node = lookup(cur);
        cur.expect_end("after the output");
        try {
            program_.add_output(name, node);
        } catch (const Error &e) {
            cur.fail_at(name_pos, e.what());
        }
    }
};

}  // namespace

Program parse(const std::string &text, const std::string &source_name) {
    return ProgramParser(text, source_name).run();
}

}  // namespace strata::ir
