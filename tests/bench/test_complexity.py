"""MAC counting rules of tryon.bench.complexity."""

from __future__ import annotations

import torch
from torch import nn

from tryon.bench.complexity import complexity, count_macs, count_params
from tryon.models.layers import LocalCorrelation


class _Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)  # 8*3*9 per output pixel
        self.dw = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8)  # 9 per output element
        self.up = nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1)  # 4*16 per input element
        self.corr = LocalCorrelation(2)  # C*25 per pixel
        self.shared = nn.Conv2d(4, 4, 1)
        self.fc = nn.Linear(4, 10)

    def forward(self, x):
        x = self.conv(x)  # (N, 8, 16, 12)
        y = self.dw(x)  # (N, 8, 8, 6)
        z = self.up(y)  # (N, 4, 16, 12)
        c = self.corr(z, z)  # (N, 25, 16, 12)
        z = self.shared(self.shared(z))  # counted twice
        return self.fc(z.mean((2, 3))) + c.mean()


def test_counting_rules():
    h, w = 16, 12
    expected = (h * w * 8 * 3 * 9  # conv
                + 8 * 6 * 8 * 9  # depthwise
                + 8 * 6 * 8 * 4 * 16  # transposed: input elements x Cout x k^2
                + 4 * 25 * h * w  # correlation C k^2 H W
                + 2 * h * w * 4 * 4  # shared 1x1 conv, two calls
                + 10 * 4)  # linear
    model = _Tiny()
    assert count_macs(model, inputs=(torch.zeros(3, 3, h, w),)) == expected  # per sample, not per batch
    c = complexity(model, inputs=(torch.zeros(1, 3, h, w),))
    assert c.macs == expected and c.input_size == (h, w)
    assert c.by_module["shared"] == 2 * h * w * 16
    assert c.params == count_params(model) == sum(p.numel() for p in model.parameters())
    assert c.to_dict()["gmacs"] == expected / 1e9


def test_restores_training_mode():
    model = _Tiny().train()
    count_macs(model, inputs=(torch.zeros(1, 3, 8, 8),))
    assert model.training
