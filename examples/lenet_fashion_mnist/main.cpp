// LeNet-5 on Fashion-MNIST: inference speed with random weights, then
// training with SGD and the test accuracy after each epoch.
//
//   build/bin/lenet_fashion_mnist [--epochs 3] [--batch-size 64] [--lr 0.05] [--seed 0]

#include <strata/strata.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <chrono>

namespace nn = strata::nn;

int main(int argc, char **argv) {
    int64_t epochs = 3, batch_size = 64;
    double lr = 0.05, momentum = 0.9;
    uint64_t seed = 0;
    std::string data_dir = strata::default_fashion_mnist_dir();
    CLI::App app{"LeNet-5 on Fashion-MNIST with Strata"};
    app.add_option("--epochs", epochs, "Training epochs (0: inference only)");
    app.add_option("--batch-size", batch_size, "Examples per batch");
    app.add_option("--lr", lr, "SGD learning rate");
    app.add_option("--momentum", momentum, "SGD momentum");
    app.add_option("--seed", seed, "Seed of the initial weights and the shuffling");
    app.add_option("--data", data_dir, "Folder with the Fashion-MNIST .gz files");
    CLI11_PARSE(app, argc, argv);

    try {
        strata::manual_seed(seed);
        nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::ReLU(), nn::MaxPool2d(2),
                           nn::Conv2d(nn::Conv2dOptions(6, 16, 5)), nn::ReLU(), nn::MaxPool2d(2),
                           nn::Flatten(), nn::Linear(400, 120), nn::ReLU(), nn::Linear(120, 84), nn::ReLU(),
                           nn::Linear(84, 10));
        fmt::print("{}\nparameters: {}\n", net->to_string(), net->parameter_count());

        // Fashion-MNIST's pixel mean and standard deviation.
        auto train = strata::load_fashion_mnist(strata::Split::train, data_dir);
        auto test = strata::load_fashion_mnist(strata::Split::test, data_dir);
        strata::Dataset train_set = strata::Dataset{train.images, train.labels}.normalized(0.2860, 0.3530);
        strata::Dataset test_set = strata::Dataset{test.images, test.labels}.normalized(0.2860, 0.3530);
        fmt::print("train {} images {}, test {} images\n", train_set.size(), strata::shape_str(train.images.shape()),
                   test_set.size());

        // Inference: the layer shapes, then images/s over the test set.
        net->eval();
        strata::Graph g;
        strata::SymTensor h = g.input("images", {batch_size, 1, 28, 28});
        const auto layers = net->named_children();
        for (const auto &[name, layer] : layers.items()) {
            h = layer->forward(h);
            fmt::print("  {:<3} {:<12} -> {}\n", name, layer->name(), strata::shape_str(h.shape()));
        }
        g.output("logits", h);
        const auto compile_start = std::chrono::steady_clock::now();
        strata::CompiledGraph forward = g.compile();
        fmt::print("compiled the forward pass in {:.2f} s for {}\n",
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - compile_start).count(),
                   forward.executable().target());
        strata::DataLoader loader(test_set, {batch_size, false, 0, true});
        forward.run(loader.batch(0).inputs);  // warm-up
        const auto start = std::chrono::steady_clock::now();
        for (int64_t i = 0; i < loader.num_batches(); ++i) forward.run(loader.batch(i).inputs);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fmt::print("inference: {} images in {:.3f} s = {:.0f} images/s (batch {}, random weights)\n",
                   loader.num_batches() * batch_size, seconds,
                   static_cast<double>(loader.num_batches() * batch_size) / seconds, batch_size);

        if (epochs > 0) {
            strata::optim::SGD sgd(strata::optim::SGDOptions(lr).momentum(momentum));
            auto loss = [](const strata::SymTensor &logits, const strata::SymTensor &labels) {
                return strata::cross_entropy(logits, labels);
            };
            strata::Trainer trainer(*net, sgd, loss, {.epochs = epochs, .batch_size = batch_size, .seed = seed});
            trainer.on_epoch_end([](const strata::EpochStats &s) {
                fmt::print("epoch {}: train loss {:.4f} acc {:.2f}%  test loss {:.4f} acc {:.2f}%  {:.0f} images/s\n",
                           s.epoch + 1, s.train_loss, 100 * s.train_accuracy, s.validation_loss,
                           100 * s.validation_accuracy, s.examples_per_second);
            });
            trainer.fit(train_set, &test_set);
        }
    } catch (const strata::Error &e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    }
    return 0;
}
