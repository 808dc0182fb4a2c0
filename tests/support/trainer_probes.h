#pragma once
// What the Trainer resume tests read from a run: its steps as they finish (through a pipe, so a
// parent can kill the child at a chosen step) and its whole state as bytes.

#include "frontend/nn/module.h"
#include "frontend/optim/optimizer.h"
#include "frontend/train/callbacks.h"
#include "frontend/train/trainer.h"

#include "tests/support/child_process.h"

#include <string>

namespace strata::testing {

/// Writes "s" to `fd` after every step (fd -1: reports nothing).
struct StepReporter : Callback {
    explicit StepReporter(int fd) : fd(fd) {}
    void on_step_end(Trainer &, const StepStats &) override {
        if (fd >= 0) Child::send(fd, "s");
    }
    int fd;
};

/// Every parameter and optimizer tensor as raw bytes, in order.
inline std::string state_bytes(const nn::Module &net, const optim::Optimizer &opt) {
    std::string out;
    const auto params = net.named_parameters();
    for (const auto &[name, t] : params.items()) out.append(static_cast<const char *>(t.raw_data()), t.nbytes());
    for (const auto &[key, t] : opt.state()) out.append(static_cast<const char *>(t.raw_data()), t.nbytes());
    return out;
}

}  // namespace strata::testing
