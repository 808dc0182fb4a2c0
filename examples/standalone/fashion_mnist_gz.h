/* Fashion-MNIST for the standalone C examples: the gzip-compressed IDX files
 * read through `gzip -dc` (no zlib needed), and images normalised as in
 * training. Plain C99, header only. */
#ifndef STRATA_EXAMPLE_FASHION_MNIST_GZ_H
#define STRATA_EXAMPLE_FASHION_MNIST_GZ_H

#include <stdio.h>
#include <stdlib.h>

enum { FMNIST_PIXELS = 28 * 28, FMNIST_HEADER_IMAGES = 16, FMNIST_HEADER_LABELS = 8 };

/* The whole file DIR/NAME, which must decompress to exactly `expected` bytes; NULL on error. */
static unsigned char *fmnist_read_gz(const char *dir, const char *name, long expected) {
    char command[4096];
    FILE *pipe;
    unsigned char *data;
    long got;
    snprintf(command, sizeof command, "gzip -dc '%s/%s'", dir, name);
    pipe = popen(command, "r");
    data = malloc((size_t)expected);
    if (!pipe || !data) return NULL;
    got = (long)fread(data, 1, (size_t)expected, pipe);
    if (pclose(pipe) != 0 || got != expected) {
        fprintf(stderr, "%s/%s: expected %ld bytes, read %ld\n", dir, name, expected, got);
        free(data);
        return NULL;
    }
    return data;
}

/* Image `index` of an images file as the model saw it in training: (x / 255 - mean) / std. */
static void fmnist_normalise(const unsigned char *images, long index, float *out) {
    int p;
    for (p = 0; p < FMNIST_PIXELS; ++p)
        out[p] = ((float)images[FMNIST_HEADER_IMAGES + index * FMNIST_PIXELS + p] / 255.0f - 0.2860f) / 0.3530f;
}

#endif
