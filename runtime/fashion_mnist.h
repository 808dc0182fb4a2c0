#pragma once
/// \file
/// The Fashion-MNIST data set (Zalando): 28x28 grey images of clothing in 10 classes,
/// 60000 for training and 10000 for testing, read from the IDX files that Debian's
/// `dataset-fashion-mnist` package installs in /usr/share/datasets/fashion-mnist.

#include "runtime/tensor.h"

#include <array>
#include <string>

namespace strata {

/// Which part of a data set to load.
enum class Split { train, test };

/// "train" or "test".
const char *split_name(Split split);

/// The class names, indexed by label.
inline constexpr std::array<const char *, 10> fashion_mnist_classes = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/// Images and labels of one split.
struct FashionMnist {
    Tensor images;  ///< f32 [N, 1, 28, 28], pixel values scaled to [0, 1]
    Tensor labels;  ///< i32 [N], class indices 0..9 into `fashion_mnist_classes`
};

/// `$STRATA_FASHION_MNIST_DIR` when set and non-empty, else /usr/share/datasets/fashion-mnist.
std::string default_fashion_mnist_dir();

/// Loads a split from `dir`, which holds `train-images-idx3-ubyte.gz`,
/// `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz` and `t10k-labels-idx1-ubyte.gz`
/// (a file may also be present unpacked, without `.gz`). Throws `strata::Error` when the
/// directory or a file is missing (saying how to get the data), when a file is corrupt,
/// when the image and label counts differ, when the images are not 28x28, or when a label
/// is outside 0..9.
FashionMnist load_fashion_mnist(Split split, const std::string &dir = default_fashion_mnist_dir());

}  // namespace strata
