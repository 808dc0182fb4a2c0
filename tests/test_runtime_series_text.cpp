// Series from plain text and from a CSV column: the happy paths, then every error message.
#include "runtime/series_text.h"

#include <strata/error.h>

#include <catch2/catch.hpp>

#include "tests/support/memory_limit.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using strata::read_series_csv;
using strata::read_series_text;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

using strata::testing::TempDir;

std::string text_error(const std::string &path) {
    try {
        read_series_text(path);
    } catch (const strata::Error &e) {
        return e.what();
    }
    FAIL("read_series_text(" << path << ") did not throw");
    return "";
}

std::string csv_error(const std::string &path, const std::string &column) {
    try {
        read_series_csv(path, column);
    } catch (const strata::Error &e) {
        return e.what();
    }
    FAIL("read_series_csv(" << path << ", " << column << ") did not throw");
    return "";
}

using Values = std::vector<double>;

}  // namespace

TEST_CASE("parse_series_number: C-locale finite numbers only") {
    double v = 0;
    CHECK((strata::parse_series_number(" 1.5e3\t", v) && v == 1500.0));
    CHECK((strata::parse_series_number("+0.25", v) && v == 0.25));
    CHECK((strata::parse_series_number("-2", v) && v == -2.0));
    CHECK((strata::parse_series_number(".5", v) && v == 0.5));
    for (const char *bad : {"", "  ", "+", "++1", "+-1", "1,5", "1.5.2", "0x10", "nan", "inf", "-inf",
                            "1e999", "abc", "1 2"})
        CHECK_FALSE(strata::parse_series_number(bad, v));
}

TEST_CASE("read_series_text: one value per line, comments and blank lines skipped") {
    TempDir dir;
    const std::string path = dir.write("series.txt", "\xEF\xBB\xBF# monthly means\n"
                                                     "12.5\r\n"
                                                     "\n"
                                                     "  -3   \n"
                                                     "   # a note\n"
                                                     "+1e-2\n"
                                                     "4");  // no final newline
    CHECK(read_series_text(path) == Values{12.5, -3.0, 0.01, 4.0});
}

TEST_CASE("read_series_text: errors name the file, the line and the text") {
    TempDir dir;
    CHECK_THAT(text_error((dir.path / "missing.txt").string()),
               Contains("missing.txt: cannot open: No such file or directory"));
    CHECK_THAT(text_error(dir.path.string()), Contains("cannot read: is a directory"));
    CHECK_THAT(text_error(dir.write("empty.txt", "")),
               Contains("empty.txt: no values: the file has no data lines"));
    CHECK_THAT(text_error(dir.write("comments.txt", "# only\n\n# comments\n")),
               Contains("comments.txt: no values"));
    CHECK_THAT(text_error(dir.write("word.txt", "1\n2\nn/a\n4\n")),
               Contains("word.txt:3: 'n/a', not a number"));
    CHECK_THAT(text_error(dir.write("two.txt", "# header\n1.5 2.5\n")),
               Contains("two.txt:2: expected one value per line, found '1.5 2.5'"));
    CHECK_THAT(text_error(dir.write("comma.txt", "1,5\n")),
               Contains("comma.txt:1: expected one value per line, found '1,5'"));
    CHECK_THAT(text_error(dir.write("nan.txt", "1\nnan\n")),
               Contains("nan.txt:2: 'nan', not a finite number"));
    CHECK_THAT(text_error(dir.write("huge.txt", "1e999\n")),
               Contains("huge.txt:1: '1e999', not a finite number"));
    const std::string long_line(200, 'x');
    CHECK_THAT(text_error(dir.write("long.txt", long_line + "\n")),
               Contains("long.txt:1: '" + std::string(57, 'x') + "...', not a number"));
}

TEST_CASE("read_series_csv: a column by header name or by index") {
    TempDir dir;
    const std::string prices = dir.write("prices.csv", "# daily closes\n"
                                                       "Date,Open,Close\r\n"
                                                       "2020-01-02,10.5,11\r\n"
                                                       "\r\n"
                                                       "2020-01-03, 11 ,\"12.25\"\r\n");
    CHECK(read_series_csv(prices, "Close") == Values{11.0, 12.25});
    CHECK(read_series_csv(prices, " Open ") == Values{10.5, 11.0});
    // Index 1: its field in the first row, "Open", is not a number, so that row is the header.
    CHECK(read_series_csv(prices, "1") == Values{10.5, 11.0});
    CHECK(read_series_csv(prices, size_t{2}) == Values{11.0, 12.25});

    // No header: the first row is data because its field in the column is a number.
    const std::string bare = dir.write("bare.csv", "1990-01,3.5\n1990-02,4.25\n");
    CHECK(read_series_csv(bare, "1") == Values{3.5, 4.25});

    const std::string semicolons = dir.write("semi.csv", "year;temp\n1990;3,5\n");
    CHECK_THAT(csv_error(semicolons, "temp"), Contains("semi.csv:2: column 'temp' (index 1) holds "
                                                       "'3,5', not a number"));
    const std::string semi_ok = dir.write("semi_ok.csv", "year;temp\n1990;3.5\n1991;-1\n");
    CHECK(read_series_csv(semi_ok, "temp") == Values{3.5, -1.0});
    const std::string tabs = dir.write("tabs.tsv", "t\tv\n0\t1.5\n1\t2.5\n");
    CHECK(read_series_csv(tabs, "v") == Values{1.5, 2.5});
    const std::string quoted = dir.write("quoted.csv", "\"name, full\",\"v\"\"x\"\n\"a, b\",7\n");
    CHECK(read_series_csv(quoted, "v\"x") == Values{7.0});
    CHECK_THAT(csv_error(quoted, "name, full"),
               Contains("quoted.csv:2: column 'name, full' (index 0) holds 'a, b', not a number"));
}

TEST_CASE("read_series_csv: errors name the file, the line, the column and the text") {
    TempDir dir;
    const std::string prices = dir.write("prices.csv", "Date,Open,Close\n"
                                                       "2020-01-02,10.5,11\n"
                                                       "2020-01-03,11,n/a\n");
    CHECK_THAT(csv_error(prices, "Close"),
               Contains("prices.csv:3: column 'Close' (index 2) holds 'n/a', not a number"));
    CHECK_THAT(csv_error(prices, "High"),
               Contains("prices.csv: no column named 'High'; the header (line 1) has: Date, Open, "
                        "Close"));
    CHECK_THAT(csv_error(prices, "5"),
               Contains("prices.csv:1: column index 5 is out of range: the row has 3 field(s) "
                        "(indices 0..2)"));
    CHECK_THAT(csv_error(prices, "0"),
               Contains("prices.csv:2: column 'Date' (index 0) holds '2020-01-02', not a number"));
    CHECK_THAT(csv_error(prices, " "), Contains("prices.csv: no column given"));

    const std::string ragged = dir.write("ragged.csv", "a,b\n1,2\n# note\n3\n");
    CHECK_THAT(csv_error(ragged, "b"),
               Contains("ragged.csv:4: ragged row: 1 field(s), but line 1 has 2 (separator ',')"));
    const std::string wide = dir.write("wide.csv", "1;2\n3;4;5\n");
    CHECK_THAT(csv_error(wide, "0"),
               Contains("wide.csv:2: ragged row: 3 field(s), but line 1 has 2 (separator ';')"));

    const std::string empty_field = dir.write("gap.csv", "t,v\n0,1\n1,\n");
    CHECK_THAT(csv_error(empty_field, "v"),
               Contains("gap.csv:3: column 'v' (index 1) holds an empty field, not a number"));
    const std::string bare = dir.write("bare.csv", "0,1.5\n1,inf\n");
    CHECK_THAT(csv_error(bare, "1"), Contains("bare.csv:2: column 1 holds 'inf', not a finite number"));
    CHECK_THAT(csv_error(bare, "value"),
               Contains("bare.csv: no column named 'value': the file has no header (line 1 holds "
                        "numbers); give a 0-based index instead"));

    const std::string quote = dir.write("quote.csv", "a,b\n1,\"2\n");
    CHECK_THAT(csv_error(quote, "b"),
               Contains("quote.csv:2: unterminated quote: the field starting at column 3 has no "
                        "closing '\"' on this line"));
    CHECK_THAT(csv_error(dir.write("header_only.csv", "a,b\n"), "a"),
               Contains("header_only.csv: no values: the file has a header (line 1) but no data rows"));
    CHECK_THAT(csv_error(dir.write("blank.csv", "\n\n"), "0"),
               Contains("blank.csv: no values: the file has no data lines"));
    CHECK_THAT(csv_error((dir.path / "missing.csv").string(), "0"),
               Contains("missing.csv: cannot open: No such file or directory"));
}

TEST_CASE("read_series_text: a FIFO, a device or a folder is refused instead of read forever") {
    TempDir dir;
    const std::string fifo = dir / "series.fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THAT(text_error(fifo), Contains("series.fifo: cannot read: is a FIFO (named pipe), not a regular file"));
    CHECK_THAT(csv_error(fifo, "0"), Contains("is a FIFO (named pipe)"));
    CHECK_THAT(text_error("/dev/zero"), Contains("/dev/zero: cannot read: is a character device"));
}

TEST_CASE("read_series_text: memory is bounded by the file's size, not by the number of lines") {
    // 2 million lines of 20 bytes (40 MB): the values take 16 MB. Keeping a std::string per line
    // took several times the file; under a 120 MB cap it must fit.
    if (!strata::testing::memory_caps_are_meaningful) STRATA_SKIP("a memory cap is not meaningful under AddressSanitizer");
    TempDir dir;
    const std::string path = dir / "long.txt";
    {
        std::string chunk;
        for (int i = 0; i < 1000; ++i) chunk += "0.12345678901234567\n";
        std::ofstream out(path, std::ios::binary);
        for (int i = 0; i < 2000; ++i) out << chunk;
    }
    std::string message;
    const auto outcome = strata::testing::run_with_memory_cap(
        120u << 20,
        [&] {
            const Values v = read_series_text(path);
            if (v.size() != 2000000 || v.back() != 0.12345678901234567) throw std::runtime_error("wrong values");
        },
        &message);
    INFO(message);
    CHECK(outcome == strata::testing::CappedOutcome::returned);
}
