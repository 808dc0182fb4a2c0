/* Classifies the Fashion-MNIST test set with a LeNet-5 library emitted by
 * `strata emit` (no Strata, Halide or LLVM needed), printing the accuracy and
 * the latency per image.
 *
 *   strata emit lenet.safetensors --out lib --batch 1 --name lenet
 *   cc -std=c99 -O2 classify.c -I lib lib/lenet.a -lpthread -ldl -lm -o classify
 *   ./classify /usr/share/datasets/fashion-mnist
 */
#define _POSIX_C_SOURCE 200809L
#include "lenet.h"

#include "fashion_mnist_gz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    enum { N = 10000 };
    unsigned char *images = fmnist_read_gz(dir, "t10k-images-idx3-ubyte.gz", FMNIST_HEADER_IMAGES + (long)N * FMNIST_PIXELS);
    unsigned char *labels = fmnist_read_gz(dir, "t10k-labels-idx1-ubyte.gz", FMNIST_HEADER_LABELS + N);
    if (!images || !labels) return 1;
    if (lenet_images_shape[0] != 1) {
        fprintf(stderr, "emit the library with --batch 1\n");
        return 1;
    }
    float input[FMNIST_PIXELS], probabilities[10];
    int correct = 0;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < N; ++i) {
        /* The same normalisation as training: (x / 255 - mean) / std. */
        fmnist_normalise(images, i, input);
        if (lenet_predict(input, probabilities) != 0) {
            fprintf(stderr, "lenet_predict failed on image %d\n", i);
            return 1;
        }
        int best = 0;
        for (int c = 1; c < 10; ++c)
            if (probabilities[c] > probabilities[best]) best = c;
        correct += best == labels[FMNIST_HEADER_LABELS + i];
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    const double seconds = (double)(end.tv_sec - start.tv_sec) + 1e-9 * (double)(end.tv_nsec - start.tv_nsec);
    printf("accuracy %.4f (%d of %d)\nlatency %.1f us per image\n", (double)correct / N, correct, N, 1e6 * seconds / N);
    free(images);
    free(labels);
    return 0;
}
