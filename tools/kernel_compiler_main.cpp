// strata-kernel-compiler DIR: a worker process that compiles the kernels of a
// plan listed in DIR/jobs into the on-disk compile cache (codegen/plan/kernel_workers.h).
// Started by Strata itself, not by users.

#include "codegen/plan/kernel_workers.h"
#include "runtime/version.h"

#include <cstdio>
#include <cstring>
#include <exception>

int main(int argc, char **argv) {
    if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
        std::printf("strata-kernel-compiler (Strata %s)\n", strata::version());
        return 0;
    }
    if (argc != 2) {
        std::fprintf(stderr, "usage: strata-kernel-compiler DIR (started by Strata to compile kernels in parallel)\n");
        return 2;
    }
    try {
        return strata::codegen::run_kernel_worker(argv[1]);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "strata-kernel-compiler: %s\n", e.what());
        return 1;
    }
}
