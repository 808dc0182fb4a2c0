// check_c_loader (fuzz/format_checks.h): the safetensors loader of an emitted C library, as a
// user's program calls it, compiled from the header fuzz/c_loader_header.cpp generates.
#include "fuzz/format_checks.h"

#include "fuzzmodel.h"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

namespace strata::fuzz {

namespace {

/// The loader takes a path: the input goes to an in-memory file, opened as /proc/self/fd/N.
std::string input_path(const uint8_t *data, size_t size) {
    static const int fd = memfd_create("strata-fuzz-c-loader", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 0) != 0) throw std::runtime_error("memfd: " + std::string(std::strerror(errno)));
    for (size_t done = 0; done < size;) {
        const ssize_t n = pwrite(fd, data + done, size - done, static_cast<off_t>(done));
        if (n <= 0) throw std::runtime_error("writing the fuzz input: " + std::string(std::strerror(errno)));
        done += static_cast<size_t>(n);
    }
    return "/proc/self/fd/" + std::to_string(fd);
}

/// A failed load returns one of the documented codes, a message, and nothing loaded.
void check_result(int result, const char *message, bool loaded, const char *function) {
    if (result == 0 && !loaded) throw FuzzFinding(std::string(function) + " returned 0 without a result");
    if (result == 0) return;
    if (result < fuzzmodel_ERROR_OPEN || result > fuzzmodel_ERROR_ARGUMENT)
        throw FuzzFinding(std::string(function) + " returned an undocumented code " + std::to_string(result));
    if (!message[0]) throw FuzzFinding(std::string(function) + " failed without a message");
    if (loaded) throw FuzzFinding(std::string(function) + " failed but set its result");
}

}  // namespace

void check_c_loader(const uint8_t *data, size_t size) {
    const std::string path = input_path(data, size);
    char message[512] = "";
    fuzzmodel_weights *weights = nullptr;
    const int weights_result = fuzzmodel_load_weights(path.c_str(), &weights, message, sizeof message);
    check_result(weights_result, message, weights != nullptr, "fuzzmodel_load_weights");
    fuzzmodel_weights_free(weights);

    message[0] = '\0';
    fuzzmodel_state *state = nullptr;
    const int state_result = fuzzmodel_state_load(path.c_str(), &state, message, sizeof message);
    check_result(state_result, message, state != nullptr, "fuzzmodel_state_load");
    if (state && state->momentum_ready != 0 && state->momentum_ready != 1)
        throw FuzzFinding("fuzzmodel_state_load set momentum_ready to neither 0 nor 1");
    fuzzmodel_state_free(state);
}

}  // namespace strata::fuzz
