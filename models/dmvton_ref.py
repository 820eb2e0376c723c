"""DM-VTON student, re-implemented from its published configuration — a benchmark reference only (no weights).

Source: Nguyen-Ngoc, Phan-Nguyen, Tran, Le, Nguyen, "DM-VTON: Distilled Mobile Real-time Virtual Try-On",
ISMAR-Adjunct 2023 (arXiv 2308.13798); code KiseKloset/DM-VTON (CC BY-NC-SA 4.0; no code copied, the layer
configuration is re-typed from its description in ``docs/reference-models.md``). Its warp
module follows PF-AFN's AFlowNet (Ge et al., CVPR 2021).

What is reproduced (9.35 M parameters, ≈34.7 GMAC at 256×192 under ``tryon.bench.complexity``'s rules):
    * ``MobileAFWM``: two ``MobileNetV2_dynamicFPN`` encoders (person 3 ch, masked garment 3 ch): stride-1 3×3
      stem to 32 ch, seven inverted residuals (t, c, s) = (1,16,1)(6,24,2)(6,32,2)(6,64,2)(6,96,2)(6,160,2)
      (6,320,1), each with the 1×1 expansion even at t = 1; a global-average-pooled 320→256 top, 1×1 laterals
      to 256 ch from the five stride-2 outputs, bilinear top-down sum, and a 3×3 256→256 smoothing conv that is
      *one module shared by the five levels* (a quirk of the original, kept because it sets the parameter count).
    * ``AFlowNet``, 5 levels coarse → fine: correlation (7×7, mean over channels, LeakyReLU 0.1) → main head
      49→128→64→32→2 → compose → warp → concat → refine head 512→128→64→32→2 → compose → ×2 bilinear.
      Offsets are pixels turned into an absolute grid with ``align_corners=True``, as in the original.
    * ``MobileNetV2_unet(7, 4)`` generator with ConvTranspose 4×4/2 upsampling and nearest ×2 at the end.
    * Pipeline: garment premultiplied by its mask; ``tryon = m·warped + (1−m)·tanh(rendered)`` with
      ``m = sigmoid(logit)·warped_mask``.

What differs: the CuPy correlation kernel is replaced by the standard-op one in ``tryon.models.layers`` (same
numbers, runs on CPU and exports to ONNX). The outputs carry the student's names (``tryon``, ``warped_garment``,
``grid``, ``composition_mask``); the ``grid`` here is in the ``align_corners=True`` convention of the original.
Activations include LeakyReLU and the encoders a GlobalAveragePool, which are outside the student's WebGPU
allow-list; this model is for CPU timing and MAC ratios, not for the browser.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tryon.models._registry import register_model
from tryon.models.layers import ConvBnAct, InvertedResidual, LocalCorrelation

__all__ = ["DMVTONRef", "MobileFPN", "AFlowNet", "MobileUNet", "default_cfgs"]

_FPN_SETTING = ((1, 16, 1), (6, 24, 2), (6, 32, 2), (6, 64, 2), (6, 96, 2), (6, 160, 2), (6, 320, 1))  # (t, c, s)
_UNET_SETTING = ((1, 16, 1), (6, 24, 2), (6, 32, 2), (6, 64, 2), (6, 96, 1), (6, 160, 2), (6, 320, 1))


# ----------------------------------------------------------------------------------------------- blocks
class MobileFPN(nn.Module):
    """DM-VTON's ``MobileNetV2_dynamicFPN``: (N, cin, H, W) → five (N, 256, H/2^k, W/2^k), k = 1…5, fine first."""

    def __init__(self, cin: int = 3, fpn: int = 256):
        super().__init__()
        self.stem = ConvBnAct(cin, 32, 3, stride=1)
        blocks, c = [], 32
        for t, cout, s in _FPN_SETTING:
            blocks.append(InvertedResidual(c, cout, s, t, always_expand=True))
            c = cout
        self.blocks = nn.ModuleList(blocks)
        self.top = nn.Conv2d(320, fpn, 1)
        self.laterals = nn.ModuleList(nn.Conv2d(c, fpn, 1) for _, c, s in _FPN_SETTING[:-1] if s > 1)
        shared = nn.Conv2d(fpn, fpn, 3, padding=1)
        self.smooth = nn.ModuleList([shared] * len(self.laterals))  # one module, five call sites (original quirk)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)  # (N, 32, H, W)
        lateral_in = []
        for (_, _, s), block in zip(_FPN_SETTING, self.blocks, strict=True):
            x = block(x)
            if s > 1:
                lateral_in.append(x)  # 24@H/2, 32@H/4, 64@H/8, 96@H/16, 160@H/32
        laterals = [lat(f) for lat, f in zip(self.laterals, lateral_in, strict=True)]
        m = self.top(x.mean(dim=(2, 3), keepdim=True))  # (N, 256, 1, 1) global context
        merged = []
        for lat in reversed(laterals):
            m = lat + F.interpolate(m, size=lat.shape[-2:], mode="bilinear", align_corners=False)
            merged.append(m)
        return [conv(m) for conv, m in zip(self.smooth, merged, strict=True)][::-1]  # fine → coarse


def _apply_offset(offset: torch.Tensor) -> torch.Tensor:
    """(N, 2, H, W) pixel offsets → (N, H, W, 2) absolute grid, align_corners=True (PF-AFN ``apply_offset``)."""
    n, _, h, w = offset.shape
    ys = torch.arange(h, dtype=offset.dtype, device=offset.device).view(1, h, 1)
    xs = torch.arange(w, dtype=offset.dtype, device=offset.device).view(1, 1, w)
    gx = (xs + offset[:, 0]) / ((w - 1) / 2) - 1  # (N, H, W)
    gy = (ys + offset[:, 1]) / ((h - 1) / 2) - 1
    return torch.stack((gx, gy), dim=-1)


def _sample(x: torch.Tensor, grid: torch.Tensor, padding: str = "border") -> torch.Tensor:
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding, align_corners=True)


def _head(cin: int) -> nn.Sequential:
    return nn.Sequential(
        ConvBnAct(cin, 128, 3, act="leaky_relu", bn=False), ConvBnAct(128, 64, 3, act="leaky_relu", bn=False),
        ConvBnAct(64, 32, 3, act="leaky_relu", bn=False), nn.Conv2d(32, 2, 3, padding=1))


class AFlowNet(nn.Module):
    """PF-AFN / DM-VTON flow network (test phase). Returns the (N, 2, H, W) absolute grid at the input size."""

    def __init__(self, levels: int = 5, fpn: int = 256, radius: int = 3):
        super().__init__()
        self.corr = LocalCorrelation(radius)
        self.main = nn.ModuleList(_head((2 * radius + 1) ** 2) for _ in range(levels))
        self.refine = nn.ModuleList(_head(2 * fpn) for _ in range(levels))

    def forward(self, garment_feats: list[torch.Tensor], person_feats: list[torch.Tensor]) -> torch.Tensor:
        last = None  # (N, 2, h, w) absolute grid, channels first
        for i in range(len(garment_feats)):
            g, p = garment_feats[-1 - i], person_feats[-1 - i]
            g_after = g if last is None else _sample(g, last.permute(0, 2, 3, 1))
            cost = F.leaky_relu(self.corr(g_after, p), 0.1)  # (N, 49, h, w)
            grid = _apply_offset(self.main[i](cost))  # (N, h, w, 2)
            flow = grid.permute(0, 3, 1, 2) if last is None else _sample(last, grid)  # (N, 2, h, w)
            last = flow
            g_warp = _sample(g, flow.permute(0, 2, 3, 1))
            grid = _apply_offset(self.refine[i](torch.cat((g_warp, p), dim=1)))  # (N, 512) → (N, h, w, 2)
            flow = _sample(last, grid)
            last = F.interpolate(flow, scale_factor=2.0, mode="bilinear", align_corners=False)
        return last


class MobileUNet(nn.Module):
    """DM-VTON's ``MobileNetV2_unet(cin, cout)``: MobileNetV2 encoder (stride-2 stem) + ConvTranspose decoder."""

    def __init__(self, cin: int = 7, cout: int = 4):
        super().__init__()
        feats: list[nn.Module] = [ConvBnAct(cin, 32, 3, stride=2)]
        c = 32
        for t, co, s in _UNET_SETTING:
            feats.append(InvertedResidual(c, co, s, t))
            c = co
        feats.append(ConvBnAct(320, 512, 1))
        self.features = nn.Sequential(*feats)
        self.dconv = nn.ModuleList(nn.ConvTranspose2d(a, b, 4, 2, 1) for a, b in ((512, 96), (96, 32), (32, 24),
                                                                                    (24, 16)))
        self.invres = nn.ModuleList(InvertedResidual(2 * b, b, 1, 6) for b in (96, 32, 24, 16))
        self.conv_last = nn.Conv2d(16, cout, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, f in enumerate(self.features):
            x = f(x)
            if i in (1, 2, 3, 5):  # 16@H/2, 24@H/4, 32@H/8, 96@H/16
                skips.append(x)
        for dconv, invres in zip(self.dconv, self.invres, strict=True):
            x = invres(torch.cat((skips.pop(), dconv(x)), dim=1))
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")  # (N, 16, H, W)
        return self.conv_last(x)


# ------------------------------------------------------------------------------------------------ model
class DMVTONRef(nn.Module):
    """DM-VTON student (MobileAFWM + MobileNetV2_unet) with the student's input/output names.

    Inputs as :class:`tryon.models.afn_student.AFNStudent`: person, garment (N, 3, H, W) in [-1, 1],
    garment_mask (N, 1, H, W) in [0, 1]; H, W multiples of 32. Outputs the same dict; ``grid`` uses
    align_corners=True.
    """

    input_names = ("person", "garment", "garment_mask")
    output_names = ("tryon", "warped_garment", "grid", "composition_mask")

    def __init__(self):
        super().__init__()
        self.garment_fpn = MobileFPN(3)
        self.person_fpn = MobileFPN(3)
        self.aflow = AFlowNet()
        self.generator = MobileUNet(7, 4)

    def forward(self, person: torch.Tensor, garment: torch.Tensor,
                garment_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        edge = (garment_mask > 0.5).to(garment.dtype)  # the original thresholds the edge map
        garment = garment * edge
        flow = self.aflow(self.garment_fpn(garment), self.person_fpn(person))  # (N, 2, H, W) absolute grid
        grid = flow.permute(0, 2, 3, 1)  # (N, H, W, 2)
        warped = _sample(garment, grid)
        warped_mask = _sample(edge, grid, padding="zeros")
        out = self.generator(torch.cat((person, warped, warped_mask), dim=1))  # (N, 7) → (N, 4, H, W)
        mask = torch.sigmoid(out[:, 3:4]) * warped_mask
        tryon = warped * mask + torch.tanh(out[:, :3]) * (1 - mask)
        return {"tryon": tryon, "warped_garment": warped, "grid": grid, "composition_mask": mask}


@register_model
def dmvton_ref(**kwargs: Any) -> DMVTONRef:
    """DM-VTON student re-implementation (9.35 M params, ≈34.7 GMAC at 256×192); benchmark reference only."""
    if kwargs:
        raise TypeError(f"dmvton_ref takes no options, got {sorted(kwargs)}")
    model = DMVTONRef()
    model.default_cfg = default_cfgs["dmvton_ref"]
    return model


default_cfgs: dict[str, dict[str, Any]] = {
    "dmvton_ref": {"arch": {}, "input_size": (3, 256, 192), "value_range": (-1.0, 1.0), "weights": None,
                   "license": "architecture after KiseKloset/DM-VTON (CC BY-NC-SA 4.0); no weights"},
}
