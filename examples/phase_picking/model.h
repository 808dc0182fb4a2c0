#pragma once
// The two-headed picker: a stack of dilated 1-D convolutions over a 3-component window, then
//  - a detection head: is there a P arrival in the window (one logit),
//  - an onset head: a score per sample for P and one for S; the arg-max is the pick.

#include <strata/strata.h>

namespace picking {

namespace nn = strata::nn;

struct PickerImpl : nn::Module {
    PickerImpl() {
        // Receptive field 9 + 16 + 32 + 4 = 61 samples (1.5 s at 40 Hz): enough to see a
        // change from noise to signal and its polarisation (P on Z, S on N and E).
        backbone = register_module(
            "backbone", nn::Sequential(nn::Conv1d(nn::Conv1dOptions(3, 16, 9).padding("same")), nn::ReLU(),
                                       nn::Conv1d(nn::Conv1dOptions(16, 16, 9).padding("same").dilation(2)), nn::ReLU(),
                                       nn::Conv1d(nn::Conv1dOptions(16, 32, 9).padding("same").dilation(4)), nn::ReLU()));
        detect = register_module("detect", nn::Linear(32, 1));
        onset = register_module("onset", nn::Conv1d(nn::Conv1dOptions(32, 2, 5).padding("same")));
    }

    /// waveform [N, 3, L] -> "detection" [N] (logit), "p_pick" and "s_pick" [N, L] (scores per sample).
    strata::SymMap heads(const strata::SymTensor &waveform) {
        const strata::SymTensor features = backbone(waveform);                        // [N, 32, L]
        const strata::SymTensor pooled = strata::max(features, {2});                  // [N, 32]
        const strata::SymTensor scores = onset(features);                             // [N, 2, L]
        return {{"detection", strata::squeeze(detect(pooled), 1)},
                {"p_pick", strata::flatten(strata::slice(scores, 1, 0, 1), 1)},
                {"s_pick", strata::flatten(strata::slice(scores, 1, 1, 2), 1)}};
    }

    nn::Sequential backbone{nullptr};
    nn::Linear detect{nullptr};
    nn::Conv1d onset{nullptr};
};
STRATA_MODULE(Picker);

}  // namespace picking
