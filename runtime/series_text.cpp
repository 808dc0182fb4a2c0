#include "runtime/series_text.h"

#include <strata/error.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sys/stat.h>

namespace strata {

namespace {

/// A line that holds data, with its 1-based number in the file.
struct Line {
    size_t number = 0;
    std::string text;
};

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string trim(const std::string &s) {
    size_t begin = 0, end = s.size();
    while (begin < end && is_blank(s[begin])) ++begin;
    while (end > begin && is_blank(s[end - 1])) --end;
    return s.substr(begin, end - begin);
}

/// The text quoted for an error message, shortened when long.
std::string quoted(const std::string &text) {
    if (text.size() <= 60) return "'" + text + "'";
    return "'" + text.substr(0, 57) + "...'";
}

/// The lines of `path` that hold data: blank lines and `#` comments dropped, line ends
/// ("\n" or "\r\n") and a UTF-8 byte-order mark removed.
std::vector<Line> read_data_lines(const std::string &path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) fail("{}: cannot open: {}", path, std::strerror(errno));
    if (S_ISDIR(st.st_mode)) fail("{}: cannot read: is a directory", path);
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("{}: cannot open: {}", path, std::strerror(errno));
    std::vector<Line> lines;
    std::string text;
    for (size_t number = 1; std::getline(in, text); ++number) {
        if (!text.empty() && text.back() == '\r') text.pop_back();
        if (number == 1 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
        const std::string content = trim(text);
        if (content.empty() || content[0] == '#') continue;
        lines.push_back({number, text});
    }
    if (in.bad()) fail("{}: read error: {}", path, std::strerror(errno));
    return lines;
}

/// The separator of a CSV file, from its first row: a comma, else a semicolon or a tab.
char detect_separator(const std::string &first_row) {
    if (first_row.find(',') != std::string::npos) return ',';
    if (first_row.find(';') != std::string::npos) return ';';
    if (first_row.find('\t') != std::string::npos) return '\t';
    return ',';
}

/// Splits one CSV row; double-quoted fields may hold separators and "" for a quote.
std::vector<std::string> split_fields(const std::string &path, const Line &line, char separator) {
    std::vector<std::string> fields;
    const std::string &s = line.text;
    size_t i = 0;
    for (;;) {
        std::string field;
        while (i < s.size() && is_blank(s[i]) && s[i] != separator) ++i;
        if (i < s.size() && s[i] == '"') {
            const size_t open = i++;
            for (;; ++i) {
                if (i >= s.size())
                    fail("{}:{}: unterminated quote: the field starting at column {} has no "
                         "closing '\"' on this line",
                         path, line.number, open + 1);
                if (s[i] != '"') field += s[i];
                else if (i + 1 < s.size() && s[i + 1] == '"') field += s[i++];
                else break;
            }
            ++i;  // past the closing quote; anything up to the separator is kept
        }
        while (i < s.size() && s[i] != separator) field += s[i++];
        fields.push_back(trim(field));
        if (i >= s.size()) break;
        ++i;  // past the separator
    }
    return fields;
}

bool all_digits(const std::string &s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// Why `text` is not a usable value, for an error message.
std::string not_a_number(const std::string &text) {
    const std::string t = trim(text);
    if (t.empty()) return "an empty field, not a number";
    double value = 0.0;
    const char *begin = t.data() + (t[0] == '+' ? 1 : 0);
    const auto r = std::from_chars(begin, t.data() + t.size(), value);
    if (r.ptr == t.data() + t.size() && (r.ec == std::errc::result_out_of_range || !std::isfinite(value)))
        return fmt::format("{}, not a finite number", quoted(text));
    return fmt::format("{}, not a number", quoted(text));
}

/// How the chosen column is named in messages: "column 'Close' (index 4)" or "column 4".
std::string column_label(const std::string &name, size_t index) {
    if (name.empty()) return fmt::format("column {}", index);
    return fmt::format("column '{}' (index {})", name, index);
}

std::vector<double> read_csv_column(const std::string &path, const std::string *name,
                                    size_t index) {
    const std::vector<Line> lines = read_data_lines(path);
    if (lines.empty()) fail("{}: no values: the file has no data lines (only blanks or comments)", path);
    const char separator = detect_separator(lines[0].text);
    const std::vector<std::string> first = split_fields(path, lines[0], separator);

    bool header = false;
    std::string label_name;
    double ignored = 0.0;
    if (name) {
        // A name refers to the header, which has to be the first row.
        const auto it = std::find(first.begin(), first.end(), trim(*name));
        if (it == first.end()) {
            const bool numeric = std::all_of(first.begin(), first.end(), [&](const std::string &f) {
                return parse_series_number(f, ignored);
            });
            if (numeric)
                fail("{}: no column named {}: the file has no header (line {} holds numbers); give "
                     "a 0-based index instead",
                     path, quoted(*name), lines[0].number);
            fail("{}: no column named {}; the header (line {}) has: {}", path, quoted(*name),
                 lines[0].number, fmt::join(first, ", "));
        }
        index = static_cast<size_t>(it - first.begin());
        label_name = *it;
        header = true;
    } else {
        if (index >= first.size())
            fail("{}:{}: column index {} is out of range: the row has {} field(s) (indices 0..{})",
                 path, lines[0].number, index, first.size(), first.size() - 1);
        header = !parse_series_number(first[index], ignored);
        if (header) label_name = first[index];
    }
    const std::string label = column_label(label_name, index);

    std::vector<double> values;
    values.reserve(lines.size());
    for (size_t row = header ? 1 : 0; row < lines.size(); ++row) {
        const Line &line = lines[row];
        const std::vector<std::string> fields = row == 0 ? first : split_fields(path, line, separator);
        if (fields.size() != first.size())
            fail("{}:{}: ragged row: {} field(s), but line {} has {} (separator '{}')", path,
                 line.number, fields.size(), lines[0].number, first.size(),
                 separator == '\t' ? "\\t" : std::string(1, separator));
        double value = 0.0;
        if (!parse_series_number(fields[index], value))
            fail("{}:{}: {} holds {}", path, line.number, label, not_a_number(fields[index]));
        values.push_back(value);
    }
    if (values.empty())
        fail("{}: no values: the file has a header (line {}) but no data rows", path, lines[0].number);
    return values;
}

}  // namespace

bool parse_series_number(const std::string &text, double &value) {
    const std::string t = trim(text);
    if (t.empty()) return false;
    // from_chars takes no '+' sign, and is locale-independent (strtod is not).
    if (t[0] == '+' && (t.size() == 1 || t[1] == '+' || t[1] == '-')) return false;
    const char *begin = t.data() + (t[0] == '+' ? 1 : 0);
    const char *end = t.data() + t.size();
    double parsed = 0.0;
    const auto r = std::from_chars(begin, end, parsed);
    if (r.ec != std::errc() || r.ptr != end || !std::isfinite(parsed)) return false;
    value = parsed;
    return true;
}

std::vector<double> read_series_text(const std::string &path) {
    const std::vector<Line> lines = read_data_lines(path);
    std::vector<double> values;
    values.reserve(lines.size());
    for (const Line &line : lines) {
        const std::string text = trim(line.text);
        double value = 0.0;
        if (parse_series_number(text, value)) {
            values.push_back(value);
            continue;
        }
        if (std::any_of(text.begin(), text.end(), [](char c) { return is_blank(c) || c == ',' || c == ';'; }))
            fail("{}:{}: expected one value per line, found {} (for a column of a CSV file, read it "
                 "as CSV)",
                 path, line.number, quoted(text));
        fail("{}:{}: {}", path, line.number, not_a_number(text));
    }
    if (values.empty()) fail("{}: no values: the file has no data lines (only blanks or comments)", path);
    return values;
}

std::vector<double> read_series_csv(const std::string &path, const std::string &column) {
    const std::string c = trim(column);
    if (c.empty()) fail("{}: no column given: name a header field or give a 0-based index", path);
    if (all_digits(c)) {
        size_t index = 0;
        const auto r = std::from_chars(c.data(), c.data() + c.size(), index);
        if (r.ec != std::errc()) fail("{}: column index {} is out of range", path, c);
        return read_csv_column(path, nullptr, index);
    }
    return read_csv_column(path, &c, 0);
}

std::vector<double> read_series_csv(const std::string &path, size_t index) {
    return read_csv_column(path, nullptr, index);
}

}  // namespace strata
