// End to end: LeNet-5 trained with Adam on the first 6000 Fashion-MNIST training images
// (one pass) classifies more than 70% of 2000 test images correctly. Skipped when Debian's
// dataset-fashion-mnist is not installed.
#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/adam.h"
#include "frontend/train/trainer.h"
#include "runtime/fashion_mnist.h"

#include <catch2/catch.hpp>

#include "tests/support/skip.h"

#include <cmath>
#include <fstream>
#include <string>

using namespace strata;

namespace {

bool fashion_mnist_present(const std::string &dir) {
    for (const char *file : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                             "t10k-labels-idx1-ubyte"}) {
        const std::string path = dir + "/" + file;
        if (!std::ifstream(path + ".gz").good() && !std::ifstream(path).good()) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("LeNet-5 learns Fashion-MNIST from 6000 images", "[train][fashion_mnist][slow]") {
    const std::string dir = default_fashion_mnist_dir();
    if (!fashion_mnist_present(dir))
        STRATA_SKIP("Fashion-MNIST is not in " << dir
                                               << " (apt install dataset-fashion-mnist, or set "
                                                  "STRATA_FASHION_MNIST_DIR)");
    const FashionMnist train_split = load_fashion_mnist(Split::train, dir);
    const FashionMnist test_split = load_fashion_mnist(Split::test, dir);
    // Fashion-MNIST's pixel mean and standard deviation.
    const Dataset train =
        Dataset{train_split.images, train_split.labels}.slice(0, 6000).normalized(0.2860, 0.3530);
    const Dataset test =
        Dataset{test_split.images, test_split.labels}.slice(0, 2000).normalized(0.2860, 0.3530);

    manual_seed(0);
    nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::ReLU(), nn::MaxPool2d(2),
                       nn::Conv2d(nn::Conv2dOptions(6, 16, 5)), nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(),
                       nn::Linear(400, 120), nn::ReLU(), nn::Linear(120, 84), nn::ReLU(), nn::Linear(84, 10));
    optim::Adam adam(optim::AdamOptions(4e-3));
    TrainerOptions options;
    options.epochs = 1;
    options.batch_size =
        50;  // divides both 6000 and 2000: one compiled graph each for training and evaluation
    options.progress = false;
    Trainer trainer(
        *net, adam, [](const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); }, options);

    const EvalStats before = trainer.evaluate(test);
    const auto history = trainer.fit(train, &test);
    REQUIRE(history.size() == 1);
    const EpochStats &s = history[0];
    INFO("untrained: loss " << before.loss << ", accuracy " << before.accuracy);
    INFO("after 6000 images: train loss " << s.train_loss << ", test loss " << s.validation_loss
                                          << ", accuracy " << s.validation_accuracy);
    // Ten classes: an untrained net is near chance, ln(10) = 2.30.
    CHECK(before.accuracy < 0.3);
    CHECK(std::isfinite(s.train_loss));
    CHECK(s.validation_loss < before.loss);
    CHECK(s.validation_accuracy > 0.70);
    CHECK(s.train_accuracy > 0.5);
}
