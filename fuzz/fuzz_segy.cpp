// libFuzzer target: see check_segy in fuzz/format_checks.h for what it checks.
#include "fuzz/format_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    strata::fuzz::check_segy(data, size);
    return 0;
}
