// ResNet-20 (He et al. 2016, the CIFAR layout) trained with SGD momentum on
// CIFAR-shaped images: synthetic ones by default (10 classes of coloured,
// oriented stripes in noise, so it learns in a minute), or the CIFAR-10
// binary files in a folder you name.
//
//   build/bin/resnet20 [--epochs 2] [--batch 64] [--lr 0.05] [--train-images 4096]
//                      [--data DIR]      (data_batch_1.bin ... and test_batch.bin)
//                      [--threads N]
//
// The training step is compiled as a plan of kernels: the first run compiles
// them on every core (a progress bar shows it), later runs load them from the
// compile cache in well under a second.

#include <strata/cli_version.h>
#include <strata/strata.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

constexpr int64_t kSide = 32, kPixels = 3 * kSide * kSide;

/// Class c: stripes at angle c*18 degrees with a colour of its own, in noise.
strata::Dataset synthetic_cifar(int64_t count, uint64_t seed) {
    strata::Generator gen(seed);
    strata::Tensor images = strata::Tensor::randn({count, 3, kSide, kSide}, gen, strata::DType::f32, 0.0, 0.6);
    strata::Tensor labels = strata::Tensor::empty({count}, strata::DType::i32);
    float *x = images.data<float>();
    for (int64_t i = 0; i < count; ++i) {
        const int c = static_cast<int>(i % 10);
        labels.data<int32_t>()[i] = c;
        const double angle = c * M_PI / 10, phase = static_cast<double>((i * 7919) % 17);
        for (int ch = 0; ch < 3; ++ch) {
            const double colour = 0.4 + 0.6 * std::cos(c + 2.1 * ch);
            for (int64_t y = 0; y < kSide; ++y)
                for (int64_t xx = 0; xx < kSide; ++xx)
                    x[((i * 3 + ch) * kSide + y) * kSide + xx] +=
                        static_cast<float>(colour * std::sin(0.8 * (xx * std::cos(angle) + y * std::sin(angle)) + phase));
        }
    }
    return {images, labels};
}

/// CIFAR-10's binary format: records of one label byte and 3x32x32 pixel bytes.
strata::Dataset read_cifar(const std::vector<std::filesystem::path> &files) {
    std::vector<unsigned char> bytes;
    for (const auto &file : files) {
        // A FIFO would block and /dev/zero never ends: only regular files are data.
        if (!std::filesystem::is_regular_file(file))
            strata::fail("{}: not a regular file; expected a CIFAR-10 binary batch", file.string());
        std::ifstream in(file, std::ios::binary);
        if (!in) strata::fail("cannot read {}", file.string());
        bytes.insert(bytes.end(), std::istreambuf_iterator<char>(in), {});
    }
    const int64_t record = 1 + kPixels;
    if (bytes.empty() || bytes.size() % record != 0)
        strata::fail("CIFAR files {}...: {} bytes is not a whole number of {}-byte records", files[0].string(),
                     bytes.size(), record);
    const int64_t count = static_cast<int64_t>(bytes.size()) / record;
    strata::Tensor images = strata::Tensor::empty({count, 3, kSide, kSide});
    strata::Tensor labels = strata::Tensor::empty({count}, strata::DType::i32);
    for (int64_t i = 0; i < count; ++i) {
        const unsigned char *r = bytes.data() + i * record;
        if (r[0] > 9) strata::fail("CIFAR record {}: label {} is not 0-9", i, r[0]);
        labels.data<int32_t>()[i] = r[0];
        for (int64_t p = 0; p < kPixels; ++p) images.data<float>()[i * kPixels + p] = (r[1 + p] / 255.0f - 0.47f) / 0.25f;
    }
    return {images, labels};
}

}  // namespace

int main(int argc, char **argv) {
    CLI::App app{"ResNet-20 on CIFAR-shaped images (synthetic, or CIFAR-10 binary files)"};
    strata::cli::add_version_flag(app, "resnet20");
    int64_t epochs = 2, batch = 64, train_images = 4096;
    double lr = 0.05;
    int threads = 0;
    std::string data;
    app.add_option("--epochs", epochs)->check(CLI::Range(int64_t{1}, int64_t{1000}));
    app.add_option("--batch", batch)->check(CLI::Range(int64_t{1}, int64_t{4096}));
    app.add_option("--lr", lr)->check(CLI::Range(1e-6, 10.0));
    app.add_option("--train-images", train_images, "Synthetic training images")->check(CLI::Range(int64_t{64}, int64_t{1} << 20));
    app.add_option("--data", data, "A folder with CIFAR-10's data_batch_*.bin and test_batch.bin");
    app.add_option("--threads", threads)->check(CLI::Range(1, 1024));
    CLI11_PARSE(app, argc, argv);
    try {
        if (threads > 0) setenv("HL_NUM_THREADS", std::to_string(threads).c_str(), 1);
        strata::Dataset train, test;
        if (data.empty()) {
            train = synthetic_cifar(train_images, 1);
            test = synthetic_cifar(1024, 2);
        } else {
            std::vector<std::filesystem::path> batches;
            for (int i = 1; i <= 5; ++i)
                if (auto f = std::filesystem::path(data) / fmt::format("data_batch_{}.bin", i); std::filesystem::exists(f))
                    batches.push_back(f);
            if (batches.empty()) strata::fail("{}: no data_batch_N.bin files", data);
            train = read_cifar(batches);
            test = read_cifar({std::filesystem::path(data) / "test_batch.bin"});
        }
        strata::manual_seed(0);
        strata::models::ResNet net;
        fmt::print("ResNet-20: {} parameters, {} training and {} test images\n", net->parameter_count(), train.size(),
                   test.size());
        strata::optim::SGD sgd{strata::optim::SGDOptions(lr).momentum(0.9).weight_decay(1e-4)};
        strata::TrainerOptions options;
        options.epochs = epochs;
        options.batch_size = batch;
        strata::Trainer trainer(*net, sgd, [](const auto &y, const auto &t) { return strata::cross_entropy(y, t); },
                                options);
        const auto stats = trainer.fit(train, &test);
        fmt::print("compiled in {:.1f} s; test accuracy {:.3f}\n", trainer.compile_seconds(),
                   stats.back().validation_accuracy);
    } catch (const std::exception &e) {
        fmt::print(stderr, "resnet20: {}\n", e.what());
        return 1;
    }
}
