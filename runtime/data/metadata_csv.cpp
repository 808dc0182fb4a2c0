#include "runtime/data/metadata_csv.h"

#include "runtime/input_file.h"

#include <strata/error.h>

namespace strata::data {

namespace {

/// Splits CSV text into rows of fields, recording the line on which each row starts.
struct CsvSplitter {
    const std::string &path;
    const std::string &text;
    size_t at = 0;
    int64_t line = 1;

    bool next(std::vector<std::string> &fields, int64_t &row_line) {
        fields.clear();
        // Skip blank lines between rows.
        while (at < text.size() && (text[at] == '\n' || text[at] == '\r')) line += text[at++] == '\n';
        if (at >= text.size()) return false;
        row_line = line;
        std::string field;
        while (true) {
            if (at < text.size() && text[at] == '"') {
                const int64_t opened = line;
                ++at;
                while (true) {
                    if (at >= text.size())
                        fail("{}:{}: unterminated quote: the quoted field opened on line {} never closes", path,
                             line, opened);
                    if (text[at] == '"') {
                        if (at + 1 < text.size() && text[at + 1] == '"') field += '"', at += 2;
                        else { ++at; break; }
                    } else {
                        line += text[at] == '\n';
                        field += text[at++];
                    }
                }
            }
            while (at < text.size() && text[at] != ',' && text[at] != '\n' && text[at] != '\r') field += text[at++];
            fields.push_back(field);
            field.clear();
            if (at < text.size() && text[at] == ',') { ++at; continue; }
            return true;
        }
    }
};

}  // namespace

MetadataTable MetadataTable::read_csv(const std::string &path) {
    InputFile file(path, "a CSV file of metadata");
    std::string text = file.read_all();
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
    MetadataTable table;
    table.path_ = path;
    CsvSplitter splitter{path, text};
    int64_t line = 0;
    if (!splitter.next(table.header_, line)) fail("{}: the file is empty; expected a CSV header row", path);
    for (size_t i = 0; i < table.header_.size(); ++i)
        if (!table.columns_.emplace(table.header_[i], i).second)
            fail("{}:{}: the column '{}' appears twice in the header", path, line, table.header_[i]);
    std::vector<std::string> fields;
    while (splitter.next(fields, line)) {
        if (fields.size() != table.header_.size())
            fail("{}:{}: {} fields; the header has {} columns", path, line, fields.size(), table.header_.size());
        table.rows_.push_back(fields);
        table.lines_.push_back(line);
    }
    return table;
}

size_t MetadataTable::column(const std::string &name) const {
    const auto it = columns_.find(name);
    if (it == columns_.end()) fail("{}: no column '{}'; the header has: {}", path_, name, fmt::join(header_, ", "));
    return it->second;
}

}  // namespace strata::data
