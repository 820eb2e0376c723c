"""TeacherRefine: a compact inpainting U-Net that fills the holes the geometric teacher leaves.

The geometric teacher uncovers regions it cannot paint convincingly with classical fills (arms under a
shorter new sleeve, the chest under a lower neckline, seams along the new garment's edges, background
slivers where the old garment was wider). This network fills such a hole from its surroundings.

Method and sources:
    * U-Net encoder/decoder with skip connections — Ronneberger, Fischer, Brox, "U-Net: Convolutional
      Networks for Biomedical Image Segmentation", MICCAI 2015.
    * Input = image with the hole zeroed + the hole mask as an extra channel, trained self-supervised by
      hiding random regions of real photos and reconstructing them — as in Iizuka, Simo-Serra, Ishikawa,
      "Globally and Locally Consistent Image Completion", SIGGRAPH 2017, and Suvorov et al., "Resolution-robust
      Large Mask Inpainting with Fourier Convolutions" (LaMa), WACV 2022. Plain convolutions with the mask as
      a channel are used instead of partial (Liu et al., ECCV 2018) or gated (Yu et al., ICCV 2019)
      convolutions: at this size they train as well and cost half the multiply-adds on a CPU.
    * Dilated residual convolutions at the lowest resolution widen the receptive field so that the skin
      tone of a hand or the face can reach the middle of a hidden arm (Iizuka et al. 2017; Yu & Koltun,
      "Multi-Scale Context Aggregation by Dilated Convolutions", ICLR 2016).
    * An optional one-channel *hint* says what the hole should hold: +1 skin, -1 not skin (background or
      cloth), 0 unknown. The teacher derives it from its parse map; training derives it from a skin-colour
      detector on the hidden pixels and drops it at random so that the unknown case is learned too.

Tensor conventions: NCHW float32; images in [-1, 1]; masks in {0, 1} (1 = hole); height and width divisible
by ``2 ** len(widths[1:])`` (8 for the registered variants).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tryon.models._registry import register_model

__all__ = ["TeacherRefine", "ConvAct", "DilatedResBlock", "default_cfgs", "composite"]


# ----------------------------------------------------------------------------------------------- blocks
class ConvAct(nn.Sequential):
    """3×3 convolution + LeakyReLU(0.2); ``stride=2`` halves the resolution."""

    def __init__(self, cin: int, cout: int, stride: int = 1, dilation: int = 1):
        super().__init__(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation),
            nn.LeakyReLU(0.2, inplace=True),
        )


class DilatedResBlock(nn.Module):
    """Residual pair of 3×3 convolutions with dilation ``d`` (receptive field +4d per block)."""

    def __init__(self, ch: int, dilation: int):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=dilation, dilation=dilation)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)
        self.act = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.act(self.conv1(x)))


class _Down(nn.Sequential):
    def __init__(self, cin: int, cout: int):
        super().__init__(ConvAct(cin, cout, stride=2), ConvAct(cout, cout))


class _Up(nn.Module):
    """Bilinear ×2 upsampling, concatenation with the skip, two convolutions."""

    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.conv1 = ConvAct(cin + cskip, cout)
        self.conv2 = ConvAct(cout, cout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv2(self.conv1(torch.cat([x, skip], dim=1)))


# ------------------------------------------------------------------------------------------------ model
class TeacherRefine(nn.Module):
    """Compact inpainting U-Net.

    Args:
        widths: channel width per level, full resolution first; ``len(widths) - 1`` downsamplings.
        dilations: one dilated residual block per entry at the lowest resolution.
        use_hint: add the one-channel skin/background hint to the input.

    Inputs of :meth:`forward`:
        image: (N, 3, H, W) float32 in [-1, 1]; pixels inside the hole are ignored (zeroed here).
        mask: (N, 1, H, W) float32, 1 inside the hole, 0 where the image is known.
        hint: (N, 1, H, W) float32 in [-1, 1] or None (= all zero, "unknown").

    Returns:
        (N, 3, H, W) float32 in [-1, 1]: the predicted image everywhere (use :func:`composite` to keep the
        known pixels).
    """

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64, 80), dilations: tuple[int, ...] = (2, 4, 8),
                 use_hint: bool = True):
        super().__init__()
        self.widths = tuple(widths)
        self.use_hint = use_hint
        self.stride = 2 ** (len(self.widths) - 1)
        cin = 3 + 1 + (1 if use_hint else 0)
        self.stem = nn.Sequential(ConvAct(cin, widths[0]), ConvAct(widths[0], widths[0]))
        self.downs = nn.ModuleList(_Down(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
        self.middle = nn.Sequential(*(DilatedResBlock(widths[-1], d) for d in dilations))
        ups = []
        for i in range(len(widths) - 1, 0, -1):
            ups.append(_Up(widths[i], widths[i - 1], widths[i - 1]))
        self.ups = nn.ModuleList(ups)
        self.head = nn.Conv2d(widths[0], 3, 3, padding=1)

    def forward(self, image: torch.Tensor, mask: torch.Tensor, hint: torch.Tensor | None = None) -> torch.Tensor:
        mask = mask.to(image.dtype)
        parts = [image * (1.0 - mask), mask * 2.0 - 1.0]
        if self.use_hint:
            parts.append(torch.zeros_like(mask) if hint is None else hint.to(image.dtype) * mask)
        x = self.stem(torch.cat(parts, dim=1))
        skips = [x]
        for down in self.downs:
            x = down(x)
            skips.append(x)
        x = self.middle(skips.pop())
        for up in self.ups:
            x = up(x, skips.pop())
        return torch.tanh(self.head(x))


def composite(image: torch.Tensor, mask: torch.Tensor, pred: torch.Tensor) -> torch.Tensor:
    """Known pixels from ``image``, hole pixels from ``pred`` (all NCHW, mask 1 = hole)."""
    return image * (1.0 - mask) + pred * mask


def _create(variant: str, **kwargs: Any) -> TeacherRefine:
    cfg = dict(default_cfgs[variant]["arch"])
    cfg.update(kwargs)
    model = TeacherRefine(**cfg)
    model.default_cfg = {**default_cfgs[variant], "arch": cfg}
    return model


# ------------------------------------------------------------------------------------ registered variants
@register_model
def teacher_refine_tiny(**kwargs: Any) -> TeacherRefine:
    """Tiny variant for tests and smoke runs (94 k parameters, 0.11 GMAC at 128×96)."""
    return _create("teacher_refine_tiny", **kwargs)


@register_model
def teacher_refine_small(**kwargs: Any) -> TeacherRefine:
    """Default teacher refiner (0.69 M parameters); the shipped weights are for this variant."""
    return _create("teacher_refine_small", **kwargs)


@register_model
def teacher_refine_base(**kwargs: Any) -> TeacherRefine:
    """Wider variant (0.9 M parameters, more full-resolution width) for a GPU training run."""
    return _create("teacher_refine_base", **kwargs)


# ------------------------------------------------------------------------------------------- cfg table
default_cfgs: dict[str, dict[str, Any]] = {
    "teacher_refine_tiny": {
        "arch": {"widths": (8, 16, 24, 32), "dilations": (2, 4), "use_hint": True},
        "input_size": (3, 128, 96), "mean_std": "[-1, 1]", "weights": None,
    },
    "teacher_refine_small": {
        "arch": {"widths": (16, 32, 64, 80), "dilations": (2, 4, 8), "use_hint": True},
        "input_size": (3, 128, 96), "mean_std": "[-1, 1]", "weights": "teacher_refine.pt",
    },
    "teacher_refine_base": {
        "arch": {"widths": (24, 48, 80, 96), "dilations": (2, 4), "use_hint": True},
        "input_size": (3, 256, 192), "mean_std": "[-1, 1]", "weights": None,
    },
}
