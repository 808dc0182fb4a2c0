// check_schedule_text (fuzz/format_checks.h): in a file of its own so that only what calls it
// needs codegen's schedule parser; the fuzz target compiles that one file, not Halide's codegen.
#include "fuzz/format_checks.h"

#include "codegen/schedule.h"

#include <strata/error.h>

#include <string>

namespace strata::fuzz {

void check_schedule_text(const uint8_t *data, size_t size) {
    const std::string text(reinterpret_cast<const char *>(data), size);
    std::string written;
    try {
        written = codegen::parse_schedule(text, "fuzz.schedule").to_text();
    } catch (const Error &) {
        return;  // rejected with a message naming the line: the expected outcome for bad text
    }
    // The documented round trip: parse_schedule(to_text()) gives the same schedule back.
    std::string again;
    try {
        again = codegen::parse_schedule(written, "written.schedule").to_text();
    } catch (const Error &e) {
        throw FuzzFinding("a written schedule does not parse back: " + std::string(e.what()) + "\n---\n" + written);
    }
    if (again != written) throw FuzzFinding("schedule round trip differs:\n" + written + "---\n" + again);
}

}  // namespace strata::fuzz
