"""GarmentSeg: a small U-Net that cuts an in-shop garment out of its photo (one logit per pixel).

It backs up the classical garment mask (``tryon.garment.mask``) where that one is unsure: white on white,
tinted or graded studio paper, soft shadows, prints and logos that look like background (see
``docs/garment-mask.md`` for the data, the training and the figures).

Method and sources:
    * U-Net encoder/decoder with skip connections — Ronneberger, Fischer, Brox, "U-Net: Convolutional
      Networks for Biomedical Image Segmentation", MICCAI 2015.
    * Encoder of MobileNetV2 inverted residual blocks — Sandler et al., "MobileNetV2: Inverted Residuals and
      Linear Bottlenecks", CVPR 2018; decoder of bilinear ×2 upsampling + concatenation + depthwise-separable
      convolutions as in the light decoders of MobileNetV2-DeepLab / U²-Net-p sized salient-object cut-out
      models (Qin et al., "U²-Net", Pattern Recognition 2020, whose 'p' variant shows a ~1 MB network is
      enough for a single foreground object on a plain background).
    * Training from a classical segmenter's confident masks composited onto synthetic backgrounds is the
      cut-and-paste augmentation of Dwibedi, Misra, Hebert, "Cut, Paste and Learn", ICCV 2017, with the
      pseudo-labels selected by the classical method's own stability (self-training, as in Xie et al.,
      "Self-training with Noisy Student", CVPR 2020).

Tensor conventions: NCHW float32; image in [-1, 1] (RGB); height and width divisible by 32 best; output logits
(N, 1, H, W) at the input resolution (sigmoid gives the garment probability).
Only ONNX ops that onnxruntime-web runs: Conv, Clip, Add, Concat, Resize.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tryon.models._registry import register_model
from tryon.models.layers import ConvBnAct, InvertedResidual

__all__ = ["GarmentSeg", "default_cfgs"]


class _SepConv(nn.Sequential):
    """Depthwise 3×3 + pointwise 1×1 (both with BN and ReLU6)."""

    def __init__(self, cin: int, cout: int):
        super().__init__(ConvBnAct(cin, cin, 3, groups=cin), ConvBnAct(cin, cout, 1))


class _Up(nn.Module):
    """Bilinear ×2 to the skip's size, concatenation with the skip, one separable convolution."""

    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.conv = _SepConv(cin + cskip, cout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(torch.cat([x, skip], dim=1))


class GarmentSeg(nn.Module):
    """Garment/background segmenter.

    Args:
        widths: channels of the stride-2 stem, then of the stages at strides 4, 8, 16, 32.
        blocks: inverted residual blocks per stage after its stride-2 block.
        expand: expansion ratio of the inverted residual blocks.

    Inputs of :meth:`forward`:
        image: (N, 3, H, W) float32 RGB in [-1, 1], H and W divisible by 32 (others work, with uneven padding).

    Returns:
        (N, 1, H, W) float32 logits (sigmoid = probability that the pixel is garment).
    """

    def __init__(self, widths: tuple[int, ...] = (12, 16, 24, 40, 64), blocks: tuple[int, ...] = (1, 1, 2, 2),
                 expand: float = 4.0):
        super().__init__()
        if len(widths) != len(blocks) + 1:
            raise ValueError(f"widths needs one entry more than blocks, got {widths} and {blocks}")
        self.stride = 2 ** (len(blocks) + 1)
        # Stride-2 stem: the skip at full resolution costs most of the compute and adds little on a 3:4 photo
        # whose garment edge the bilinear ×2 at the end places within a pixel.
        self.stem = ConvBnAct(3, widths[0], 3, stride=2)
        stages = []
        for cin, cout, n in zip(widths[:-1], widths[1:], blocks, strict=True):
            layers = [InvertedResidual(cin, cout, stride=2, expand_ratio=expand)]
            layers += [InvertedResidual(cout, cout, stride=1, expand_ratio=expand) for _ in range(n)]
            stages.append(nn.Sequential(*layers))
        self.stages = nn.ModuleList(stages)
        self.ups = nn.ModuleList(_Up(widths[i], widths[i - 1], widths[i - 1]) for i in range(len(widths) - 1, 0, -1))
        self.head = nn.Conv2d(widths[0], 1, 3, padding=1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.stem(image)
        skips = [x]
        for stage in self.stages:
            x = stage(x)
            skips.append(x)
        x = skips.pop()
        for up in self.ups:
            x = up(x, skips.pop())
        return F.interpolate(self.head(x), size=image.shape[-2:], mode="bilinear", align_corners=False)


def _create(variant: str, **kwargs: Any) -> GarmentSeg:
    cfg = dict(default_cfgs[variant]["arch"])
    cfg.update(kwargs)
    model = GarmentSeg(**cfg)
    model.default_cfg = {**default_cfgs[variant], "arch": cfg}
    return model


@register_model
def garment_seg_tiny(**kwargs: Any) -> GarmentSeg:
    """Tiny variant for tests and smoke runs."""
    return _create("garment_seg_tiny", **kwargs)


@register_model
def garment_seg_small(**kwargs: Any) -> GarmentSeg:
    """Default garment segmenter; the shipped weights ``garment_seg.pt`` are for this variant."""
    return _create("garment_seg_small", **kwargs)


default_cfgs: dict[str, dict[str, Any]] = {
    "garment_seg_tiny": {
        "arch": {"widths": (8, 12, 16, 24, 32), "blocks": (0, 0, 1, 1), "expand": 2.0},
        "input_size": (3, 128, 96), "mean_std": "[-1, 1]", "weights": None,
    },
    "garment_seg_small": {
        "arch": {"widths": (12, 16, 24, 40, 64), "blocks": (1, 1, 2, 2), "expand": 4.0},
        "input_size": (3, 128, 96), "mean_std": "[-1, 1]", "weights": "garment_seg.pt",
    },
}
"""Architecture and input size per variant (``input_size`` = (C, H, W) of training and inference)."""
