#pragma once
/// \file
/// The benchmark workloads: what each computes, its size, how much work one
/// call is (FLOPs or bytes), and the data it runs on — the same data for
/// every schedule and for LibTorch, so their results can be compared.

#include "runtime/tensor.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace strata::bench {

enum class Family {
    lenet_train,  ///< a LeNet-5 training step (forward, cross-entropy, backward, SGD momentum)
    lenet_infer,  ///< LeNet-5 forward
    conv,         ///< conv1d / conv2d without bias; with `backward`, also the gradients wrt input and weight
    max_pool,     ///< max_pool2d 2x2; with `backward`, also the gradient wrt input
    model_train,  ///< a training step of a model of frontend/models (`model`): forward, loss, backward, optimizer
    model_infer,  ///< that model's forward in eval mode
};

struct Workload {
    std::string name;         ///< what `strata bench NAME` takes, e.g. "conv2d_fwd"
    std::string description;  ///< one line for humans
    Family family;
    Shape input;              ///< NCL / NCHW
    Shape weight;             ///< conv only: [C_out, C_in, K...]
    int64_t stride = 1;
    int64_t padding = 0;
    bool backward = false;
    /// FLOPs per call: 2 x multiply-adds of the convolutions and linear layers
    /// (forward, plus the weight and input gradients the call computes). 0 for max_pool.
    double flops = 0;
    /// max_pool only: the bytes any implementation must move per call (each
    /// tensor read or written once, f32).
    double bytes = 0;
    /// Images per call (LeNet), for images/s.
    int64_t images = 0;
    /// model_train / model_infer: "resnet20", "phasenet" or "gpd".
    std::string model;
};

/// Every workload, in the order the suite runs them.
const std::vector<Workload> &all_workloads();
/// The workload called `name`; a strata::Error listing the names when there is none.
const Workload &find_workload(const std::string &name);

/// The data one workload runs on, from fixed seeds.
struct WorkloadData {
    /// By name: "x" (input), "w" (conv weight), "grad_y" (the upstream gradient
    /// of a backward workload), "labels" (i32 class targets, LeNet and model training;
    /// per sample for PhaseNet).
    std::map<std::string, Tensor> inputs;
    /// LeNet only: the initial parameters in module order (conv1 w, b, conv2 w, b, fc1 w, b, ...).
    std::vector<std::pair<std::string, Tensor>> parameters;
};
WorkloadData make_data(const Workload &workload);

/// The output shape of a conv or max_pool workload.
Shape output_shape(const Workload &workload);

/// LeNet-5 training: SGD learning rate and momentum (both engines).
constexpr double kLeNetLearningRate = 0.05;
constexpr double kLeNetMomentum = 0.9;

}  // namespace strata::bench
