/* Fine-tunes LeNet-5 on Fashion-MNIST with the training step `strata emit
 * --train` compiled into the library (no Strata, Halide or LLVM needed),
 * printing the loss as it goes down and the test loss and accuracy before and
 * after.
 *
 *   strata emit lenet.safetensors --out lib --batch 32 --name lenet_train --train
 *   cc -std=c99 -O2 finetune.c -I lib lib/lenet_train.a -lpthread -ldl -lm -o finetune
 *   ./finetune [DATA_DIR] [STEPS] [SAVE.safetensors]
 */
#define _POSIX_C_SOURCE 200809L
#include "lenet_train.h"

#include "fashion_mnist_gz.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { TRAIN = 60000, TEST = 10000, WINDOW = 50 };

/* Mean cross-entropy and accuracy of the state's model on the test set (whole batches). */
static int evaluate(const lenet_train_state *s, const unsigned char *images, const unsigned char *labels,
                    double *loss, double *accuracy) {
    static float batch[lenet_train_BATCH * FMNIST_PIXELS], probabilities[lenet_train_BATCH * lenet_train_CLASSES];
    const long batches = TEST / lenet_train_BATCH;
    double total = 0;
    long correct = 0;
    for (long b = 0; b < batches; ++b) {
        for (int i = 0; i < lenet_train_BATCH; ++i) fmnist_normalise(images, b * lenet_train_BATCH + i, batch + i * FMNIST_PIXELS);
        if (lenet_train_state_predict(s, batch, probabilities) != 0) return 1;
        for (int i = 0; i < lenet_train_BATCH; ++i) {
            const float *p = probabilities + i * lenet_train_CLASSES;
            const int label = labels[FMNIST_HEADER_LABELS + b * lenet_train_BATCH + i];
            int best = 0;
            for (int c = 1; c < lenet_train_CLASSES; ++c)
                if (p[c] > p[best]) best = c;
            correct += best == label;
            total -= log(p[label] > 1e-30f ? p[label] : 1e-30f);
        }
    }
    *loss = total / (double)(batches * lenet_train_BATCH);
    *accuracy = (double)correct / (double)(batches * lenet_train_BATCH);
    return 0;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    const long steps = argc > 2 ? atol(argv[2]) : 300;
    const char *save = argc > 3 ? argv[3] : NULL;
    unsigned char *train_images = fmnist_read_gz(dir, "train-images-idx3-ubyte.gz", FMNIST_HEADER_IMAGES + (long)TRAIN * FMNIST_PIXELS);
    unsigned char *train_labels = fmnist_read_gz(dir, "train-labels-idx1-ubyte.gz", FMNIST_HEADER_LABELS + TRAIN);
    unsigned char *test_images = fmnist_read_gz(dir, "t10k-images-idx3-ubyte.gz", FMNIST_HEADER_IMAGES + (long)TEST * FMNIST_PIXELS);
    unsigned char *test_labels = fmnist_read_gz(dir, "t10k-labels-idx1-ubyte.gz", FMNIST_HEADER_LABELS + TEST);
    if (!train_images || !train_labels || !test_images || !test_labels) return 1;

    lenet_train_state *s = lenet_train_state_new();
    if (!s) {
        fprintf(stderr, "lenet_train_state_new: out of memory\n");
        return 1;
    }
    double test_loss, test_accuracy;
    if (evaluate(s, test_images, test_labels, &test_loss, &test_accuracy) != 0) return 1;
    printf("before: test loss %.4f, accuracy %.4f\n", test_loss, test_accuracy);
    printf("fine-tuning %ld steps of %d images, learning rate %g\n", steps, lenet_train_BATCH, (double)s->lr);

    static float batch[lenet_train_BATCH * FMNIST_PIXELS];
    int32_t labels[lenet_train_BATCH];
    uint32_t random = 12345; /* a fixed LCG: the same batches on every run */
    double window = 0, first_window = -1, last_window = -1;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long step = 1; step <= steps; ++step) {
        for (int i = 0; i < lenet_train_BATCH; ++i) {
            random = random * 1664525u + 1013904223u;
            const long index = (long)(random >> 8) % TRAIN;
            fmnist_normalise(train_images, index, batch + i * FMNIST_PIXELS);
            labels[i] = train_labels[FMNIST_HEADER_LABELS + index];
        }
        float loss;
        const int result = lenet_train_train_step(s, batch, labels, &loss);
        if (result != 0) {
            fprintf(stderr, "lenet_train_train_step failed at step %ld: error %d\n", step, result);
            return 1;
        }
        window += loss;
        if (step % WINDOW == 0) {
            printf("steps %4ld-%4ld: mean loss %.4f\n", step - WINDOW + 1, step, window / WINDOW);
            if (first_window < 0) first_window = window / WINDOW;
            last_window = window / WINDOW;
            window = 0;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    const double seconds = (double)(end.tv_sec - start.tv_sec) + 1e-9 * (double)(end.tv_nsec - start.tv_nsec);
    printf("%.0f images/s while training\n", (double)(steps * lenet_train_BATCH) / seconds);
    if (evaluate(s, test_images, test_labels, &test_loss, &test_accuracy) != 0) return 1;
    printf("after: test loss %.4f, accuracy %.4f\n", test_loss, test_accuracy);
    if (first_window >= 0) printf("loss of the first %d steps %.4f, of the last %d %.4f\n", WINDOW, first_window, WINDOW, last_window);
    if (save) {
        if (lenet_train_state_save(s, save) != 0) {
            fprintf(stderr, "could not write %s\n", save);
            return 1;
        }
        printf("saved the fine-tuned weights to %s\n", save);
    }
    lenet_train_state_free(s);
    free(train_images);
    free(train_labels);
    free(test_images);
    free(test_labels);
    return 0;
}
