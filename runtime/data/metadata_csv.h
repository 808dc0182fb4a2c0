#pragma once
/// \file
/// A table of metadata read from a CSV file (STEAD's, for instance): a header row naming the
/// columns, then one row per item. Fields are separated by commas; a double-quoted field may
/// hold commas, line breaks and "" for a quote (RFC 4180). Windows line ends and a UTF-8
/// byte-order mark are accepted. Every row must have as many fields as the header.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace strata::data {

class MetadataTable {
public:
    /// Reads `path`. Throws `strata::Error` naming the file and the line on a missing or empty
    /// file, an unterminated quote, a ragged row or a repeated column name.
    static MetadataTable read_csv(const std::string &path);

    const std::string &path() const { return path_; }
    int64_t rows() const { return static_cast<int64_t>(rows_.size()); }
    /// The index of column `name`; throws naming the file and listing the header when absent.
    size_t column(const std::string &name) const;
    bool has_column(const std::string &name) const { return columns_.count(name) != 0; }
    /// Field `column` of row `row` (0-based, the header not counted).
    const std::string &field(int64_t row, size_t column) const { return rows_[static_cast<size_t>(row)][column]; }
    /// The file's line on which row `row` starts, for messages.
    int64_t line_of(int64_t row) const { return lines_[static_cast<size_t>(row)]; }

private:
    std::string path_;
    std::vector<std::string> header_;
    std::unordered_map<std::string, size_t> columns_;
    std::vector<std::vector<std::string>> rows_;
    std::vector<int64_t> lines_;
};

}  // namespace strata::data
