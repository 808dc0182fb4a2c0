#pragma once
/// \file
/// A workload compiled by Strata as one program (a CompiledGraph or a TrainStep).

#include "bench/engine_case.h"
#include "bench/workloads.h"

#include <memory>
#include <string>

namespace strata { class TrainStep; }
namespace strata::nn { class Module; }
namespace strata::optim { class Optimizer; }

namespace strata::bench {

/// A cross-entropy training step of `model` for batches of `input` with i32 class targets of `labels`.
std::shared_ptr<TrainStep> cross_entropy_step(nn::Module &model, optim::Optimizer &optimizer, const Shape &input,
                                              const Shape &labels, const std::string &schedule = "default");

/// A model the benchmarks train: "lenet" (LeNet-5) or one of frontend/models
/// ("resnet20", "phasenet", "gpd"), initialised from seed 0 (PyTorch's default
/// init), with `extra_classes` more outputs than the benchmark's.
std::shared_ptr<nn::Module> make_bench_model(const std::string &name, int64_t extra_classes = 0);
/// The optimizer the benchmarks train that model with: SGD momentum for LeNet-5 and ResNet-20, else Adam.
std::shared_ptr<optim::Optimizer> make_bench_optimizer(const std::string &name);

/// Compiles `workload` with `schedule` passed unchanged to
/// `codegen::CompileOptions::schedule`; a bad schedule throws strata::Error.
EngineCase make_strata_case(const Workload &workload, const WorkloadData &data, const std::string &schedule);

}  // namespace strata::bench
