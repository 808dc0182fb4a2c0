// The compile and memory reports run `strata bench` again through the shell: names and the
// program's path must reach the child as words, never as shell commands.
#include "bench/child_json.h"
#include "bench/compile_report.h"
#include "bench/memory_report.h"

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

#include <cstdio>
#include <filesystem>
#include <string>

using Catch::Matchers::Contains;
using strata::testing::TempDir;

namespace {

/// What `sh -c "printf %s WORD"` prints for the quoted word.
std::string echoed(const std::string &word) {
    FILE *p = popen(("printf %s " + strata::bench::shell_quoted(word)).c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buffer[256];
    while (fgets(buffer, sizeof buffer, p)) out += buffer;
    pclose(p);
    return out;
}

}  // namespace

TEST_CASE("shell_quoted keeps quotes, spaces, $(...) and backslashes as they are") {
    for (const std::string word : {"plain", "it's", "'", "''", "a b", "$(touch x)", "`id`", "a\\'b", "\"q\"", ""})
        CHECK(echoed(word) == word);
}

TEST_CASE("the compile and memory reports run no shell command hidden in a name or in the program's path") {
    TempDir dir;
    const std::string marker = dir / "injected";
    const std::string injection = "x'; touch " + marker + "; echo '";
    CHECK_THROWS_WITH(strata::bench::run_compile_report({injection}, "/bin/true", 1),
                      Contains("unknown model 'x'; touch") && Contains("expected one of: lenet"));
    CHECK_THROWS_WITH(strata::bench::run_compile_report({"lenet"}, "/bin/true", 0), Contains("--threads must be at least 1"));
    CHECK_THROWS_WITH(strata::bench::run_memory_report({injection}, "/bin/true", 1), Contains("unknown workload"));
    // A program path with a quote: the child fails to start (no such program), nothing else runs.
    const std::vector<strata::bench::MemoryReportRow> rows =
        strata::bench::run_memory_report({"lenet_train"}, "/nonexistent/" + injection, 1);
    REQUIRE(rows.size() == 1);
    CHECK_THAT(rows[0].strata_error, Contains("the measuring process failed"));
    const std::vector<strata::bench::CompileReportRow> compile =
        strata::bench::run_compile_report({"lenet"}, "/nonexistent/" + injection, 1);
    REQUIRE(compile.size() == 1);
    CHECK_THAT(compile[0].error, Contains("the measuring process failed"));
    CHECK(!std::filesystem::exists(marker));
}
