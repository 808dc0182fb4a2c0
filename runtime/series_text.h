#pragma once
/// \file
/// Reading a 1-d series (prices, temperatures, a seismogram exported as text) from plain text
/// with one value per line, or from one numeric column of a CSV file.
///
/// Both readers skip blank lines and lines whose first non-blank character is `#`, accept
/// Windows line ends and a UTF-8 byte-order mark, and parse numbers the C way whatever the
/// locale ("1.5e3", "-2", "+0.25"). A value that is not a finite number throws
/// `strata::Error` naming the file, the line and the offending text.

#include <cstddef>
#include <string>
#include <vector>

namespace strata {

/// Reads a text file of one number per line. Throws `strata::Error` on a missing file, a line
/// that is not one finite number (e.g. "1.5 2.5", "n/a", "1,5", "nan"), or a file without values.
std::vector<double> read_series_text(const std::string &path);

/// Reads one numeric column of a CSV file.
///
/// `column` is a header name ("Close") or, when it is all digits, a 0-based index ("4"). A
/// name refers to the header, which is then the first row. With an index, the first row is
/// taken as a header when its field in that column is not a number. Fields are separated by commas, or by
/// semicolons or tabs when the first row has no comma but one of those; double-quoted fields
/// may contain separators ("" is a quote). Every row must have as many fields as the first.
///
/// Throws `strata::Error` on a missing file, an unknown column name (listing the header),
/// an index beyond the row, a ragged row, an unterminated quote, a value in the column
/// that is not a finite number (naming line and text), or a file without values.
std::vector<double> read_series_csv(const std::string &path, const std::string &column);

/// Reads the column at 0-based `index`; the same as `read_series_csv(path, std::to_string(index))`.
std::vector<double> read_series_csv(const std::string &path, size_t index);

/// Parses `text` (surrounding spaces and tabs allowed) as a finite double, C locale.
/// Returns false when it is anything else, including empty, "nan" or "inf".
bool parse_series_number(const std::string &text, double &value);

}  // namespace strata
