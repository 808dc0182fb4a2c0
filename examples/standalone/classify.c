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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Reads a gzip-compressed IDX file through `gzip -dc` (no zlib needed). */
static unsigned char *read_gz(const char *dir, const char *name, long expected) {
    char command[4096];
    snprintf(command, sizeof command, "gzip -dc '%s/%s'", dir, name);
    FILE *pipe = popen(command, "r");
    unsigned char *data = malloc((size_t)expected);
    if (!pipe || !data) return NULL;
    long got = (long)fread(data, 1, (size_t)expected, pipe);
    if (pclose(pipe) != 0 || got != expected) {
        fprintf(stderr, "%s/%s: expected %ld bytes, read %ld\n", dir, name, expected, got);
        free(data);
        return NULL;
    }
    return data;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    enum { N = 10000, PIXELS = 28 * 28, HEADER_IMAGES = 16, HEADER_LABELS = 8 };
    unsigned char *images = read_gz(dir, "t10k-images-idx3-ubyte.gz", HEADER_IMAGES + (long)N * PIXELS);
    unsigned char *labels = read_gz(dir, "t10k-labels-idx1-ubyte.gz", HEADER_LABELS + N);
    if (!images || !labels) return 1;
    if (lenet_images_shape[0] != 1) {
        fprintf(stderr, "emit the library with --batch 1\n");
        return 1;
    }
    float input[PIXELS], probabilities[10];
    int correct = 0;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < N; ++i) {
        /* The same normalisation as training: (x / 255 - mean) / std. */
        for (int p = 0; p < PIXELS; ++p)
            input[p] = ((float)images[HEADER_IMAGES + (long)i * PIXELS + p] / 255.0f - 0.2860f) / 0.3530f;
        if (lenet_predict(input, probabilities) != 0) {
            fprintf(stderr, "lenet_predict failed on image %d\n", i);
            return 1;
        }
        int best = 0;
        for (int c = 1; c < 10; ++c)
            if (probabilities[c] > probabilities[best]) best = c;
        correct += best == labels[HEADER_LABELS + i];
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    const double seconds = (double)(end.tv_sec - start.tv_sec) + 1e-9 * (double)(end.tv_nsec - start.tv_nsec);
    printf("accuracy %.4f (%d of %d)\nlatency %.1f us per image\n", (double)correct / N, correct, N, 1e6 * seconds / N);
    free(images);
    free(labels);
    return 0;
}
