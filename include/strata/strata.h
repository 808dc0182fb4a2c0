#pragma once
/// \file
/// Strata's one public header: the DSL, the nn modules, compilation, ahead-of-time
/// emit and the runtime. Each public header can also be included alone, as
/// <strata/frontend/nn/conv.h> (cmake/public_headers.cmake lists them).
///
///     #include <strata/strata.h>
///     namespace nn = strata::nn;

#include "codegen/aot.h"
#include "codegen/compiler.h"
#include "codegen/target.h"
#include "frontend/debug/anomaly.h"
#include "frontend/distributed/distributed_trainer.h"
#include "frontend/functional.h"
#include "frontend/graph.h"
#include "frontend/models/models.h"
#include "frontend/nn.h"
#include "frontend/optim/adam.h"
#include "frontend/optim/lr_scheduler.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/callbacks.h"
#include "frontend/train/checkpoint.h"
#include "frontend/train/history.h"
#include "frontend/train/data_loader.h"
#include "frontend/train/train_step.h"
#include "frontend/train/trainer.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/program.h"
#include "runtime/atomic_file.h"
#include "runtime/fashion_mnist.h"
#include "runtime/generator.h"
#include "runtime/idx.h"
#include "runtime/miniseed.h"
#include "runtime/progress.h"
#include "runtime/safetensors.h"
#include "runtime/series_text.h"
#include "runtime/svg_plot.h"
#include "runtime/tensor.h"
#include "runtime/version.h"
