/* The emitted detector in a plain C program: no Strata, no Python, no LibTorch.
 *   cc -std=c99 predict.c -I DIR DIR/detector.a -lpthread -ldl -lm -o predict
 * It classifies the probe window the example also runs in process (local_windows.cpp's
 * probe_window): both must print the same probabilities. */
#include "detector.h"

#include <math.h>
#include <stdio.h>

enum { CHANNELS = 3, SAMPLES = 256 };

int main(void) {
    static float waveform[CHANNELS * SAMPLES];
    for (int i = 0; i < CHANNELS * SAMPLES; ++i) {
        const int t = i % SAMPLES;
        waveform[i] = (float)(0.3 * sin(0.1 * i) + (t > 100 ? 0.8 * sin(1.5 * i) * exp(-(t - 100) / 30.0) : 0.0));
    }
    float probability[2];
    const int status = detector_predict(waveform, probability);
    if (status != 0) {
        fprintf(stderr, "detector_predict failed: %d\n", status);
        return 1;
    }
    printf("probe window: noise %.6f earthquake %.6f\n", probability[0], probability[1]);
    return 0;
}
