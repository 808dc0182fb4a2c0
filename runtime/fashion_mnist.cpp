#include "runtime/fashion_mnist.h"

#include "runtime/idx.h"

#include <cstdlib>
#include <filesystem>

namespace strata {

namespace fs = std::filesystem;

const char *split_name(Split split) { return split == Split::train ? "train" : "test"; }

std::string default_fashion_mnist_dir() {
    const char *env = std::getenv("STRATA_FASHION_MNIST_DIR");
    if (env && *env) return env;
    return "/usr/share/datasets/fashion-mnist";
}

namespace {

constexpr const char *how_to_get =
    "install the Debian package dataset-fashion-mnist (apt install dataset-fashion-mnist) or set "
    "STRATA_FASHION_MNIST_DIR to a directory holding the Fashion-MNIST IDX files";

/// `dir/name.gz`, or `dir/name` when only the unpacked file is there.
std::string find_file(const std::string &dir, const std::string &name) {
    const fs::path packed = fs::path(dir) / (name + ".gz");
    const fs::path plain = fs::path(dir) / name;
    std::error_code ec;
    if (fs::exists(packed, ec)) return packed.string();
    if (fs::exists(plain, ec)) return plain.string();
    fail("Fashion-MNIST: {} is missing from {} (neither {} nor {} exists); {}", name, dir,
         packed.string(), plain.string(), how_to_get);
}

}  // namespace

FashionMnist load_fashion_mnist(Split split, const std::string &dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        fail("Fashion-MNIST: directory {} does not exist; {}", dir, how_to_get);

    const std::string prefix = split == Split::train ? "train" : "t10k";
    const std::string image_path = find_file(dir, prefix + "-images-idx3-ubyte");
    const std::string label_path = find_file(dir, prefix + "-labels-idx1-ubyte");

    FashionMnist data;
    Tensor images = read_idx_images(image_path);
    if (images.dim() != 3 || images.size(1) != 28 || images.size(2) != 28)
        fail("{}: expected images of shape [N, 28, 28], the file holds {}", image_path,
             shape_str(images.shape()));
    data.labels = read_idx(label_path);
    if (data.labels.dim() != 1)
        fail("{}: expected labels of shape [N], the file holds {}", label_path,
             shape_str(data.labels.shape()));
    if (data.labels.size(0) != images.size(0))
        fail("Fashion-MNIST {} split: {} holds {} images but {} holds {} labels", split_name(split),
             image_path, images.size(0), label_path, data.labels.size(0));

    const int32_t *labels = data.labels.data<int32_t>();
    const int64_t n = data.labels.numel();
    for (int64_t i = 0; i < n; ++i) {
        if (labels[i] < 0 || labels[i] >= static_cast<int32_t>(fashion_mnist_classes.size()))
            fail("{}: label {} at index {} is outside 0..9", label_path, labels[i], i);
    }
    // Add the channel dimension that conv2d expects (NCHW).
    data.images = images.reshape({images.size(0), 1, 28, 28});
    return data;
}

}  // namespace strata
