#!/usr/bin/python3
"""The PyTorch side of the import_pytorch example: a small 1-D CNN that tells 3-component
windows with an earthquake (1) from noise (0), trained briefly on synthetic windows and exported
with torch.onnx.export (opset 13, dynamic batch) as detector.onnx next to this script.

Debian's python3-torch 1.13:  /usr/bin/python3 examples/import_pytorch/make_detector.py
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

WINDOW = 256  # samples, 3 components


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(3, 8, 7, padding=3)
        self.bn1 = nn.BatchNorm1d(8)  # folded into conv1 by the (eval-mode) export
        self.conv2 = nn.Conv1d(8, 16, 5, padding=2)
        self.conv3 = nn.Conv1d(16, 16, 3, padding=1)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        x = F.max_pool1d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool1d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.conv3(x)).mean(dim=2)  # one value per channel
        return self.head(x)


def windows(n, gen):
    """Half events (a P burst, then a stronger S burst, decaying), half white noise."""
    t = torch.arange(WINDOW, dtype=torch.float32)
    x = torch.randn(n, 3, WINDOW, generator=gen) * 0.3
    labels = torch.zeros(n, dtype=torch.int64)
    for i in range(0, n, 2):
        p = int(torch.randint(20, WINDOW - 120, (1,), generator=gen))
        s = p + int(torch.randint(25, 90, (1,), generator=gen))
        for onset, amp, freq in ((p, 1.0, 0.25), (s, 2.0, 0.12)):
            dt = (t - onset).clamp(min=0)
            burst = amp * torch.sin(2 * math.pi * freq * dt) * torch.exp(-dt / 30) * (t >= onset)
            x[i] += burst * torch.randn(3, 1, generator=gen).abs()
        labels[i] = 1
    return x / x.abs().amax(dim=(1, 2), keepdim=True), labels


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    net = Detector()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for step in range(150):
        x, y = windows(64, gen)
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, y = windows(512, gen)
    net.eval()
    with torch.no_grad():
        accuracy = (net(x).argmax(1) == y).float().mean().item()
    print(f"PyTorch: loss {loss.item():.4f} after 150 steps, accuracy {accuracy:.3f} on 512 new windows")

    # The five lines the README shows.
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "detector.onnx")
    torch.onnx.export(net, torch.zeros(1, 3, WINDOW), out, opset_version=13,
                      input_names=["waveform"], output_names=["logits"],
                      dynamic_axes={"waveform": {0: "batch"}, "logits": {0: "batch"}})
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
