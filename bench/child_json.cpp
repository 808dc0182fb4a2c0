#include "bench/child_json.h"

#include <strata/error.h>

#include <cstdio>
#include <filesystem>

namespace strata::bench {

nlohmann::json run_child_for_json(const std::string &command) {
    std::string out;
    FILE *p = popen(command.c_str(), "r");
    if (!p) fail("cannot start the measuring process");
    char buffer[4096];
    while (fgets(buffer, sizeof buffer, p)) out += buffer;
    if (pclose(p) != 0) fail("the measuring process failed");
    const size_t start = out.rfind('{');
    if (start == std::string::npos) fail("the measuring process printed no result");
    try {
        return nlohmann::json::parse(out.substr(start));
    } catch (const std::exception &e) {
        fail("unreadable result of the measuring process: {}", e.what());
    }
}

std::string shell_quoted(const std::string &text) {
    std::string out = "'";
    for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string this_program(const char *report) {
    std::error_code ec;
    const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec) fail("strata bench {}: cannot find this program's path: {}", report, ec.message());
    return self;
}

}  // namespace strata::bench
