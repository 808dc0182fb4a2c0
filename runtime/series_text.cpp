#include "runtime/series_text.h"

#include "runtime/input_file.h"

#include <strata/error.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string_view>

namespace strata {

namespace {

/// A line that holds data, with its 1-based number in the file.
struct Line {
    size_t number = 0;
    std::string_view text;
};

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string trim(std::string_view s) {
    size_t begin = 0, end = s.size();
    while (begin < end && is_blank(s[begin])) ++begin;
    while (end > begin && is_blank(s[end - 1])) --end;
    return std::string(s.substr(begin, end - begin));
}

/// The text quoted for an error message, shortened when long.
std::string quoted(const std::string &text) {
    if (text.size() <= 60) return "'" + text + "'";
    return "'" + text.substr(0, 57) + "...'";
}

/// The lines of a file that hold data, one at a time: blank lines and `#` comments skipped,
/// line ends ("\n" or "\r\n") and a UTF-8 byte-order mark removed. The file is read whole
/// (a regular file only, see InputFile) and the lines are views into it, so memory is the
/// file's size plus the values, whatever the number of lines.
class DataLines {
public:
    explicit DataLines(const std::string &path) : text_(InputFile(path, "a text file of values").read_all()) {
        if (text_.compare(0, 3, "\xEF\xBB\xBF") == 0) at_ = 3;
    }

    /// At most how many lines are left (for reserving the values).
    size_t max_remaining() const {
        return static_cast<size_t>(std::count(text_.begin() + static_cast<std::ptrdiff_t>(at_), text_.end(), '\n')) + 1;
    }

    /// The next data line; false at the end of the file.
    bool next(Line &line) {
        while (at_ < text_.size()) {
            const size_t end = std::min(text_.find('\n', at_), text_.size());
            std::string_view text(text_.data() + at_, end - at_);
            at_ = end + 1;
            ++number_;
            if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
            size_t first = 0;
            while (first < text.size() && is_blank(text[first])) ++first;
            if (first == text.size() || text[first] == '#') continue;
            line = {number_, text};
            return true;
        }
        return false;
    }

private:
    std::string text_;
    size_t at_ = 0;
    size_t number_ = 0;
};

/// The separator of a CSV file, from its first row: a comma, else a semicolon or a tab.
char detect_separator(std::string_view first_row) {
    if (first_row.find(',') != std::string_view::npos) return ',';
    if (first_row.find(';') != std::string_view::npos) return ';';
    if (first_row.find('\t') != std::string_view::npos) return '\t';
    return ',';
}

/// Splits one CSV row; double-quoted fields may hold separators and "" for a quote.
std::vector<std::string> split_fields(const std::string &path, const Line &line, char separator) {
    std::vector<std::string> fields;
    const std::string_view s = line.text;
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
    DataLines lines(path);
    Line first_line;
    if (!lines.next(first_line)) fail("{}: no values: the file has no data lines (only blanks or comments)", path);
    const char separator = detect_separator(first_line.text);
    const std::vector<std::string> first = split_fields(path, first_line, separator);

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
                     path, quoted(*name), first_line.number);
            fail("{}: no column named {}; the header (line {}) has: {}", path, quoted(*name),
                 first_line.number, fmt::join(first, ", "));
        }
        index = static_cast<size_t>(it - first.begin());
        label_name = *it;
        header = true;
    } else {
        if (index >= first.size())
            fail("{}:{}: column index {} is out of range: the row has {} field(s) (indices 0..{})",
                 path, first_line.number, index, first.size(), first.size() - 1);
        header = !parse_series_number(first[index], ignored);
        if (header) label_name = first[index];
    }
    const std::string label = column_label(label_name, index);

    std::vector<double> values;
    values.reserve(lines.max_remaining() + 1);
    auto add = [&](const Line &line, const std::vector<std::string> &fields) {
        if (fields.size() != first.size())
            fail("{}:{}: ragged row: {} field(s), but line {} has {} (separator '{}')", path,
                 line.number, fields.size(), first_line.number, first.size(),
                 separator == '\t' ? "\\t" : std::string(1, separator));
        double value = 0.0;
        if (!parse_series_number(fields[index], value))
            fail("{}:{}: {} holds {}", path, line.number, label, not_a_number(fields[index]));
        values.push_back(value);
    };
    if (!header) add(first_line, first);
    for (Line line; lines.next(line);) add(line, split_fields(path, line, separator));
    if (values.empty())
        fail("{}: no values: the file has a header (line {}) but no data rows", path, first_line.number);
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
    DataLines lines(path);
    std::vector<double> values;
    values.reserve(lines.max_remaining());
    for (Line line; lines.next(line);) {
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
