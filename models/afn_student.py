"""AFN student: a compact, parser-free appearance-flow try-on network for the browser (onnxruntime-web, WebGPU).

The person photo, the in-shop garment and the garment's mask go in; the person wearing the garment comes out,
with no parsing, pose or DensePose at inference. Trained by distillation from the project's geometric teacher.

Method and sources:
    * Parser-free appearance-flow try-on and its teacher–tutor–student distillation — Ge, Song, Zhang, Ge, Liu,
      Luo, "Parser-Free Virtual Try-on via Distilling Appearance Flows" (PF-AFN), CVPR 2021 (arXiv 2103.04559).
    * Its mobile student, which this family shrinks ~25× in multiply-adds — Nguyen-Ngoc, Phan-Nguyen, Tran, Le,
      Nguyen, "DM-VTON: Distilled Mobile Real-time Virtual Try-On", ISMAR-Adjunct 2023 (arXiv 2308.13798); see
      ``tryon.models.dmvton_ref`` for a re-implementation used as the benchmark reference.
    * Coarse-to-fine flow with a local cost volume and warping at every level — PWC-Net (Sun et al., CVPR 2018).
    * Encoders and generator from MobileNetV2 inverted residuals (Sandler et al., CVPR 2018) in a U-Net
      (Ronneberger et al., MICCAI 2015).

Architecture (widths from :class:`StudentConfig`; strides for a 256×192 input in brackets):
    1. Two feature pyramids with the same layout and separate weights: person (3 ch) and garment + mask (4 ch;
       4, not 6 or 9, input channels keep the native WebGPU EP's 3×3-Conv bug away). Stem conv stride 2, then
       one stage of inverted residuals per level (levels at 1/2 … 1/32: 128×96 … 8×6), then a light FPN
       (1×1 laterals to ``fpn_channels``, bilinear top-down sum, depthwise + pointwise smoothing).
    2. Flow, coarse to fine. At each level: warp the garment features with the current flow; local correlation
       with the person features (window ``2r+1``, wider at coarse levels); a *main* head predicts a residual
       offset from the cost volume; compose; warp again, concatenate with the person features; a *refine* head
       predicts a second residual; compose; upsample ×2. Flows are normalised offsets (``layers.flow_warp``).
    3. The finest flow is upsampled to the input size; garment (border padding) and mask (zero padding) are
       warped with it.
    4. A mobile U-Net generator on [person, warped garment, warped mask] (7 ch) predicts a rendered person and
       a composition logit; ``composition_mask = sigmoid(logit) · warped_mask`` and
       ``tryon = mask · warped_garment + (1 − mask) · rendered``. With ``render="residual"`` (the default) the
       rendered person is ``clip(person + Δ, −1, 1)`` and Δ starts at zero: face, hair, background and trousers
       pass through at full sharpness and the generator only learns what changes (skin where the old garment
       was, shading at the seams). A small network that must redraw the whole person from a bottleneck blurs it
       (``render="full"``, tanh of the output, as PF-AFN's generator does).

Only ops that onnxruntime-web runs on WebGPU at opset 17: Conv (BN folded), Relu, Clip, Sigmoid, Tanh, Add, Sub,
Mul, Concat, Resize (linear), GridSample, Pad, Slice (plus shape constants; the correlation's channel means are
1×1 Convs, ``tryon.models.layers.correlation``). Checked by
``tests/models/test_afn_student.py`` on the exported graph.

Tensor conventions: NCHW float32. Inputs ``person`` (N, 3, H, W) and ``garment`` (N, 3, H, W) in [-1, 1],
``garment_mask`` (N, 1, H, W) in [0, 1]; H and W multiples of 16 (32 keeps the 1/32 level exactly aligned).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tryon.models._registry import register_model
from tryon.models.layers import (
    ConvBnAct,
    InvertedResidual,
    LocalCorrelation,
    compose_flow,
    offset_to_grid,
    pixels_to_normalized,
    upsample_flow,
    warp,
)

__all__ = [
    "StudentConfig", "AFNStudent", "FeaturePyramid", "FlowEstimator", "MobileUNetGenerator",
    "INPUT_NAMES", "OUTPUT_NAMES", "default_cfgs", "GarmentFeatureGraph", "LiveStudentGraph", "live_graphs",
    "DEFAULT_STUDENT", "default_student_weights", "deployed_config",
]

INPUT_NAMES = ("person", "garment", "garment_mask")
OUTPUT_NAMES = ("tryon", "warped_garment", "grid", "composition_mask")

DEFAULT_STUDENT = "afn_student_s"
"""The student the project deploys: its trained weights are committed as ``weights/afn_student_s.pt`` (model card
``weights/afn_student_s.md``); ``tryon train --model`` starts from this variant unless told otherwise."""


# ----------------------------------------------------------------------------------------------- config
@dataclass(frozen=True)
class StudentConfig:
    """Architecture of an AFN student. Tuples indexed by pyramid level run fine → coarse (1/2 … 1/32).

    Attributes:
        enc_channels: output channels of each pyramid level's encoder stage (5 levels = strides 2…32).
        enc_depth: inverted residual blocks per level (the first one carries the stride).
        enc_expand: expansion ratio of the encoder blocks.
        stem_channels: output channels of the stride-2 stem convolution.
        fpn_channels: channels of every pyramid output (and of the correlated features).
        corr_radius: correlation radius per level; window ``2r+1``; r ≥ 2 (r = 1 would give a 9-channel
            cost volume feeding a 3×3 Conv, which the native WebGPU EP miscomputes).
        flow_channels: hidden width of the main and refine heads per level (second conv has half of it).
        gen_channels: generator encoder widths at strides 2, 4, 8, 16, 32.
        gen_expand: expansion ratio of the generator's blocks.
        out_channels: width of the generator's full-resolution head.
        render: ``"residual"`` (rendered person = clip(person + Δ)) or ``"full"`` (tanh, redrawn from scratch).
        mask_sharpness: k in ``composition_mask = sigmoid(k · logit) · warped_mask``; training uses 1. An L1-trained
            student settles on a soft blend of the warped garment and the render wherever the warp is uncertain
            (about 0.84 opacity inside the teacher's garment region for the default student), which a shopper
            sees as a translucent garment with the old one showing through; the teacher's composition is nearly
            binary. A deployed k > 1 hardens it without retraining; choose it on held-out records
            (``tryon mask-sharpness``, ``tryon.train.mask_sharpness``).
        flip_ensemble: estimate the appearance flow twice, on the inputs and on their mirror image, and warp
            with the mean (the mirrored estimate flipped back, its x offset negated); the generator runs once.
            The flow's errors are not mirror-symmetric (a learnt left/right bias on sleeves and hems), so the
            mean is closer to the teacher's warp: on the evaluation pairs the v2 default student's garment
            cosine rose from 0.680 to 0.714 with no retraining, for 1.7× the GMAC (test-time flip augmentation
            built into the graph, as in pose and segmentation networks). Training uses ``False``; a deployment
            setting like ``mask_sharpness`` (``tryon mask-sharpness --flip-ensemble``).
        input_size: the nominal (height, width) this variant is meant for (export default; any size that is a
            multiple of 16 works).
    """

    enc_channels: tuple[int, ...] = (24, 32, 48, 64, 96)
    enc_depth: tuple[int, ...] = (1, 1, 2, 2, 2)
    enc_expand: float = 4.0
    stem_channels: int = 16
    fpn_channels: int = 48
    corr_radius: tuple[int, ...] = (2, 2, 3, 3, 3)
    flow_channels: tuple[int, ...] = (32, 48, 64, 64, 64)
    gen_channels: tuple[int, ...] = (16, 24, 32, 64, 96)
    gen_expand: float = 4.0
    out_channels: int = 16
    render: str = "residual"
    mask_sharpness: float = 1.0
    flip_ensemble: bool = False
    input_size: tuple[int, int] = (256, 192)

    def __post_init__(self) -> None:
        n = len(self.enc_channels)
        for name in ("enc_depth", "corr_radius", "flow_channels"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} needs {n} entries (one per pyramid level), got {getattr(self, name)}")
        if any(c in (6, 9) for h in self.flow_channels for c in (h, h // 2)):
            raise ValueError(f"flow_channels {self.flow_channels}: a 3x3 Conv on 6 or 9 channels is miscomputed by "
                             "the native WebGPU EP; pick other widths")
        if any(r < 2 for r in self.corr_radius):
            raise ValueError(f"corr_radius must be >= 2 at every level, got {self.corr_radius}")
        if self.render not in ("residual", "full"):
            raise ValueError(f"render must be 'residual' or 'full', got {self.render!r}")
        if not self.mask_sharpness > 0:
            raise ValueError(f"mask_sharpness must be > 0, got {self.mask_sharpness!r}")
        if len(self.gen_channels) != 5:
            raise ValueError(f"gen_channels needs 5 entries (strides 2..32), got {self.gen_channels}")

    @property
    def divisor(self) -> int:
        """Height and width must be multiples of this (16). Levels coarser than 1/16 round their size up, so a
        multiple of ``2 ** len(enc_channels)`` keeps every level exactly aligned; 16 is enough to run
        (64×48 for tests, 256×192, 512×384)."""
        return 16


# ----------------------------------------------------------------------------------------------- blocks
class FeaturePyramid(nn.Module):
    """MobileNetV2-style encoder + light FPN: (N, cin, H, W) → list of (N, fpn, H/2^(i+1), W/2^(i+1)), fine first."""

    def __init__(self, cin: int, cfg: StudentConfig):
        super().__init__()
        self.stem = ConvBnAct(cin, cfg.stem_channels, 3, stride=2)
        stages, c = [], cfg.stem_channels
        for i, (cout, depth) in enumerate(zip(cfg.enc_channels, cfg.enc_depth, strict=True)):
            blocks = [InvertedResidual(c, cout, stride=1 if i == 0 else 2, expand_ratio=cfg.enc_expand)]
            blocks += [InvertedResidual(cout, cout, 1, cfg.enc_expand) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*blocks))
            c = cout
        self.stages = nn.ModuleList(stages)
        f = cfg.fpn_channels
        self.laterals = nn.ModuleList(nn.Conv2d(ci, f, 1) for ci in cfg.enc_channels)
        self.smooth = nn.ModuleList(
            nn.Sequential(ConvBnAct(f, f, 3, groups=f, act=None), ConvBnAct(f, f, 1, act=None))
            for _ in cfg.enc_channels)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)  # (N, stem, H/2, W/2)
        feats = []
        for stage in self.stages:
            x = stage(x)  # (N, c_i, H/2^(i+1), W/2^(i+1))
            feats.append(x)
        top = self.laterals[-1](feats[-1])  # (N, fpn, H/32, W/32)
        outs = [self.smooth[-1](top)]
        for i in range(len(feats) - 2, -1, -1):
            lat = self.laterals[i](feats[i])  # (N, fpn, h_i, w_i)
            top = lat + F.interpolate(top, size=lat.shape[-2:], mode="bilinear", align_corners=False)
            outs.append(self.smooth[i](top))
        return outs[::-1]  # fine → coarse


class _FlowHead(nn.Sequential):
    """Conv stack → (N, 2, h, w) residual offset in pixels of its level. ``pointwise_first``: cheap 1×1 entry."""

    def __init__(self, cin: int, hidden: int, pointwise_first: bool = False):
        super().__init__(
            ConvBnAct(cin, hidden, 1 if pointwise_first else 3, act="relu", bn=False),
            ConvBnAct(hidden, hidden // 2, 3, act="relu", bn=False),
            nn.Conv2d(hidden // 2, 2, 3, padding=1),
        )
        # Start from the identity warp: the last layer predicts zero offsets until it has learned something.
        nn.init.zeros_(self[-1].weight)
        nn.init.zeros_(self[-1].bias)


class FlowEstimator(nn.Module):
    """Coarse-to-fine appearance flow from two pyramids (PF-AFN's AFlowNet, with standard-op correlation)."""

    def __init__(self, cfg: StudentConfig):
        super().__init__()
        f = cfg.fpn_channels
        self.corr = nn.ModuleList(LocalCorrelation(r) for r in cfg.corr_radius)
        self.main = nn.ModuleList(_FlowHead((2 * r + 1) ** 2, h)
                                  for r, h in zip(cfg.corr_radius, cfg.flow_channels, strict=True))
        self.refine = nn.ModuleList(_FlowHead(2 * f, h, pointwise_first=True) for h in cfg.flow_channels)

    def forward(self, person_feats: list[torch.Tensor], garment_feats: list[torch.Tensor]) -> list[torch.Tensor]:
        """Returns the normalised offsets of every level, (N, 2, h_i, w_i), coarse first (the last is the finest)."""
        flows: list[torch.Tensor] = []
        flow = None
        for i in range(len(person_feats) - 1, -1, -1):
            p, g = person_feats[i], garment_feats[i]  # (N, fpn, h_i, w_i)
            if flow is not None:
                flow = upsample_flow(flow, p.shape[-2:])  # (N, 2, h_i, w_i)
                # As PF-AFN/DM-VTON: the cost volume does not backpropagate into the previous flow (stabler).
                g_warped = warp(g, flow.detach())
            else:
                g_warped = g
            cost = self.corr[i](g_warped, p)  # (N, (2r+1)², h_i, w_i)
            delta = pixels_to_normalized(self.main[i](cost))  # (N, 2, h_i, w_i)
            flow = delta if flow is None else compose_flow(flow, delta)
            g_warped = warp(g, flow)
            delta = pixels_to_normalized(self.refine[i](torch.cat((g_warped, p), dim=1)))  # (N, 2fpn) → (N, 2)
            flow = compose_flow(flow, delta)
            flows.append(flow)
        return flows


class MobileUNetGenerator(nn.Module):
    """MobileNetV2 U-Net: (N, cin, H, W) → (N, 4, H, W) raw: 3 RGB (the residual Δ, or pre-tanh for
    ``render="full"``) + 1 composition logit.

    Decoder upsamples with bilinear Resize + convolution instead of ConvTranspose (cheaper, no checkerboard).
    The full-resolution head sees the input again so that thin garment detail need not pass the bottleneck.
    """

    def __init__(self, cin: int, cfg: StudentConfig):
        super().__init__()
        g, t = cfg.gen_channels, cfg.gen_expand
        self.stem = ConvBnAct(cin, g[0], 3, stride=2)  # H/2
        self.down = nn.ModuleList(
            nn.Sequential(InvertedResidual(g[i - 1], g[i], 2, t), InvertedResidual(g[i], g[i], 1, t))
            for i in range(1, len(g)))  # H/4 … H/32
        self.up = nn.ModuleList(InvertedResidual(g[i] + g[i - 1], g[i - 1], 1, t / 2) for i in range(len(g) - 1, 0, -1))
        self.head = nn.Sequential(
            ConvBnAct(g[0] + cin, cfg.out_channels, 1, act="relu"),
            ConvBnAct(cfg.out_channels, cfg.out_channels, 3, groups=cfg.out_channels, act="relu"),
            nn.Conv2d(cfg.out_channels, 4, 3, padding=1),
        )
        if cfg.render == "residual":
            # Start as the identity on the person (Δ = 0) and a half-open composition mask.
            nn.init.zeros_(self.head[-1].weight)
            nn.init.zeros_(self.head[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.stem(x)]  # (N, g0, H/2, W/2)
        for block in self.down:
            skips.append(block(skips[-1]))  # (N, g_i, H/2^(i+1), W/2^(i+1))
        y = skips.pop()
        for block in self.up:
            skip = skips.pop()
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = block(torch.cat((y, skip), dim=1))  # (N, g_{i-1}, ...)
        y = F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)  # (N, g0, H, W)
        return self.head(torch.cat((y, x), dim=1))  # (N, 4, H, W)


# ------------------------------------------------------------------------------------------------ model
def _mirror(x: torch.Tensor) -> torch.Tensor:
    """Left-right mirror of an NCHW tensor as a Gather with a constant index (a Slice with step -1, what
    ``torch.flip`` exports to, breaks the Concat after it on onnxruntime-web's WebGPU EP)."""
    w = x.shape[-1]
    return x.index_select(-1, torch.arange(w - 1, -1, -1, device=x.device))


class AFNStudent(nn.Module):
    """The parser-free student (see the module docstring).

    Args:
        cfg: the architecture; keyword overrides of :class:`StudentConfig` fields are accepted instead.
    """

    input_names = INPUT_NAMES
    output_names = OUTPUT_NAMES

    def __init__(self, cfg: StudentConfig | None = None, **overrides: Any):
        super().__init__()
        cfg = cfg or StudentConfig()
        if overrides:
            cfg = dataclasses.replace(cfg, **overrides)
        self.cfg = cfg
        self.person_encoder = FeaturePyramid(3, cfg)
        self.garment_encoder = FeaturePyramid(4, cfg)
        self.flow = FlowEstimator(cfg)
        self.generator = MobileUNetGenerator(7, cfg)

    def _flows(self, person: torch.Tensor, garment_in: torch.Tensor) -> list[torch.Tensor]:
        """Per-level flows for person (N, 3, H, W) and garment + mask (N, 4, H, W)."""
        return self.flow(self.person_encoder(person), self.garment_encoder(garment_in))

    def forward(self, person: torch.Tensor, garment: torch.Tensor, garment_mask: torch.Tensor,
                return_aux: bool = False) -> dict[str, torch.Tensor | list[torch.Tensor]]:
        """Dress ``person`` in ``garment``.

        Args:
            person: (N, 3, H, W) in [-1, 1]; H, W multiples of ``cfg.divisor`` (16).
            garment: (N, 3, H, W) in [-1, 1], in-shop photo.
            garment_mask: (N, 1, H, W) in [0, 1].
            return_aux: also return ``flows`` (per-level normalised offsets, coarse first), ``rendered``
                (N, 3, H, W) and ``warped_mask`` (N, 1, H, W) for training losses.

        Returns:
            dict with ``tryon`` (N, 3, H, W) in [-1, 1]; ``warped_garment`` (N, 3, H, W) in [-1, 1];
            ``grid`` (N, H, W, 2) sampling grid into the garment image (grid_sample convention, x then y,
            align_corners=False, clamped to [-1, 1]); ``composition_mask`` (N, 1, H, W) in [0, 1].

        Raises:
            ValueError: shapes disagree or H, W are not multiples of 16.
        """
        n, _, h, w = person.shape
        if garment.shape != person.shape or garment_mask.shape != (n, 1, h, w):
            raise ValueError(f"expected person/garment (N, 3, H, W) and garment_mask (N, 1, H, W), got "
                             f"{tuple(person.shape)}, {tuple(garment.shape)}, {tuple(garment_mask.shape)}")
        d = self.cfg.divisor
        if h % d or w % d:
            raise ValueError(f"height and width must be multiples of {d}, got {h}x{w}")
        return self.dress(person, garment, garment_mask, return_aux=return_aux)

    def garment_features(self, garment: torch.Tensor, garment_mask: torch.Tensor) -> list[torch.Tensor]:
        """The garment pyramid, which depends on the garment alone: (N, 3, H, W) in [-1, 1] and (N, 1, H, W) in
        [0, 1] → ``len(enc_channels)`` tensors (N, fpn_channels, H/2^(i+1), W/2^(i+1)), fine first. Live mode
        computes it once per garment instead of once per frame (:class:`GarmentFeatureGraph`)."""
        return self.garment_encoder(torch.cat((garment, garment_mask), dim=1))

    def dress(self, person: torch.Tensor, garment: torch.Tensor, garment_mask: torch.Tensor,
              garment_feats: list[torch.Tensor] | None = None,
              return_aux: bool = False) -> dict[str, torch.Tensor | list[torch.Tensor]]:
        """:meth:`forward` without the shape checks, optionally on precomputed :meth:`garment_features`.

        Args:
            garment_feats: the garment pyramid of ``garment``/``garment_mask``; then the flip ensemble is not
                used (its mirrored pyramid is not among them), whatever ``cfg.flip_ensemble`` says.

        Returns:
            as :meth:`forward`.
        """
        _, _, h, w = person.shape
        garment_in = torch.cat((garment, garment_mask), dim=1)  # (N, 4, H, W)
        if garment_feats is None:
            garment_feats = self.garment_encoder(garment_in)
            flip = self.cfg.flip_ensemble
        else:
            flip = False
        flows = self.flow(self.person_encoder(person), list(garment_feats))
        offset = upsample_flow(flows[-1], (h, w))  # (N, 2, H, W) normalised
        if flip:
            mirrored = self._flows(_mirror(person), _mirror(garment_in))[-1]
            # Back to the original frame: mirror the field and negate its x offset (a Mul, not Neg, which
            # the WebGPU EP's allow-list lacks).
            sign = torch.tensor([-0.5, 0.5], dtype=offset.dtype, device=offset.device).view(1, 2, 1, 1)
            offset = 0.5 * offset + sign * _mirror(upsample_flow(mirrored, (h, w)))
        # Sampling outside [-1, 1] only ever reads padding; clamping keeps the published grid in range.
        grid = offset_to_grid(offset).clamp(-1.0, 1.0)  # (N, H, W, 2)
        warped_garment = F.grid_sample(garment, grid, mode="bilinear", padding_mode="border", align_corners=False)
        warped_mask = F.grid_sample(garment_mask, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        out = self.generator(torch.cat((person, warped_garment, warped_mask), dim=1))  # (N, 7, H, W) → (N, 4, H, W)
        if self.cfg.render == "residual":
            rendered = (person + out[:, :3]).clamp(-1.0, 1.0)  # (N, 3, H, W)
        else:
            rendered = torch.tanh(out[:, :3])
        logit = out[:, 3:4] if self.cfg.mask_sharpness == 1.0 else out[:, 3:4] * self.cfg.mask_sharpness
        mask = torch.sigmoid(logit) * warped_mask  # (N, 1, H, W)
        tryon = mask * warped_garment + (1.0 - mask) * rendered
        result: dict[str, Any] = {"tryon": tryon, "warped_garment": warped_garment, "grid": grid,
                                  "composition_mask": mask}
        if return_aux:
            result.update(flows=flows, rendered=rendered, warped_mask=warped_mask)
        return result


# ------------------------------------------------------------------------------------ live-mode graphs
def _feature_names(cfg: StudentConfig) -> tuple[str, ...]:
    return tuple(f"garment_features_{i}" for i in range(len(cfg.enc_channels)))


class GarmentFeatureGraph(nn.Module):
    """Export wrapper: the garment pyramid alone (``AFNStudent.garment_features``), for live mode.

    Inputs ``garment`` (1, 3, H, W) in [-1, 1] and ``garment_mask`` (1, 1, H, W) in [0, 1]; outputs
    ``garment_features_0`` … (1, fpn_channels, H/2^(i+1), W/2^(i+1)), fine first. Shares the student's weights.
    """

    def __init__(self, student: AFNStudent):
        super().__init__()
        self.student = student
        self.input_names = ("garment", "garment_mask")
        self.output_names = _feature_names(student.cfg)

    def forward(self, garment: torch.Tensor, garment_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.student.garment_features(garment, garment_mask))


class LiveStudentGraph(nn.Module):
    """Export wrapper: the student on a precomputed garment pyramid and without the flip ensemble, for live mode.

    A webcam frame changes, the garment does not: its pyramid (29 % of the deployed student's multiply-adds
    with the flip ensemble) is computed once by :class:`GarmentFeatureGraph`, and the flip ensemble (which
    doubles the flow: 44 %) is left out so that frames come twice as fast, for a slightly less symmetric warp.
    Inputs: the student's ``person``, ``garment``, ``garment_mask`` and ``garment_features_*``; outputs the
    student's (``tryon``, ``warped_garment``, ``grid``, ``composition_mask``), the same as
    ``AFNStudent(flip_ensemble=False)`` gives on those inputs.
    """

    def __init__(self, student: AFNStudent):
        super().__init__()
        self.student = student
        self.input_names = (*INPUT_NAMES, *_feature_names(student.cfg))
        self.output_names = OUTPUT_NAMES

    def forward(self, person: torch.Tensor, garment: torch.Tensor, garment_mask: torch.Tensor,
                *garment_feats: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.student.dress(person, garment, garment_mask, garment_feats=list(garment_feats))


def live_graphs(student: AFNStudent) -> tuple[GarmentFeatureGraph, LiveStudentGraph]:
    """The two graphs of live mode for ``student`` (eval mode; they share its weights)."""
    student = student.eval()
    return GarmentFeatureGraph(student).eval(), LiveStudentGraph(student).eval()


# ---------------------------------------------------------------------------------------------- create
def _create(variant: str, **kwargs: Any) -> AFNStudent:
    cfg = dataclasses.replace(default_cfgs[variant]["arch"], **kwargs)
    model = AFNStudent(cfg)
    model.default_cfg = {**default_cfgs[variant], "arch": model.cfg}
    return model


def default_student_weights() -> Path:
    """``tryon/models/weights/<DEFAULT_STUDENT>.pt``, the committed default student (shipped with the package)."""
    return Path(__file__).resolve().parent / "weights" / f"{DEFAULT_STUDENT}.pt"


def deployed_config(weights: str | Path | None = None) -> tuple[str, dict[str, Any]]:
    """The variant a weight file holds and the architecture settings it differs from that variant's defaults by.

    The weight file (``tryon mask-sharpness -o`` / ``tryon train`` output: a dict with ``variant`` or ``model``,
    and ``arch`` or ``model_args``) is the one source of truth for how the student is deployed, e.g.
    ``("afn_student_s", {"flip_ensemble": True, "mask_sharpness": 4.0})`` for the committed weights (v4).

    Args:
        weights: the ``.pt`` file; default :func:`default_student_weights`.

    Returns:
        (registered variant name, {field: value} for each :class:`StudentConfig` field whose stored value
        differs from the registered default; tuples for list values).

    Raises:
        ValueError: the file holds no variant name and architecture, or an unknown variant or field.
        OSError / RuntimeError: the file cannot be read by ``torch.load``.
    """
    path = Path(weights) if weights is not None else default_student_weights()
    obj = torch.load(path, map_location="cpu", weights_only=True)
    variant = next((obj[k] for k in ("variant", "model") if isinstance(obj, dict) and isinstance(obj.get(k), str)),
                   None)
    arch = next((obj[k] for k in ("arch", "model_args") if isinstance(obj, dict) and isinstance(obj.get(k), dict)),
                None)
    if variant is None or arch is None:
        raise ValueError(f"{path}: not a student weight file (needs 'variant' and 'arch')")
    if variant not in default_cfgs:
        raise ValueError(f"{path}: unknown student variant {variant!r} (known: {', '.join(default_cfgs)})")
    base = dataclasses.asdict(default_cfgs[variant]["arch"])
    unknown = sorted(set(arch) - set(base))
    if unknown:
        raise ValueError(f"{path}: unknown architecture field(s) {', '.join(unknown)}")
    stored = {k: tuple(v) if isinstance(v, list) else v for k, v in arch.items()}
    return variant, {k: v for k, v in stored.items() if v != base[k]}


# ------------------------------------------------------------------------------------ registered variants
@register_model
def afn_student_s(**kwargs: Any) -> AFNStudent:
    """Small student: 0.61 M params, 0.74 GMAC at 256×192 (2.98 at 512×384)."""
    return _create("afn_student_s", **kwargs)


@register_model
def afn_student_m(**kwargs: Any) -> AFNStudent:
    """Medium student: 1.11 M params, 1.14 GMAC at 256×192 (4.57 at 512×384); DM-VTON needs 34.7."""
    return _create("afn_student_m", **kwargs)


@register_model
def afn_student_m_hr(**kwargs: Any) -> AFNStudent:
    """M laid out for 512×384: a sixth, coarser level keeps the flow's reach in pixels; 1.33 M params,
    4.27 GMAC at 512×384 (1.07 at 256×192)."""
    return _create("afn_student_m_hr", **kwargs)


# ------------------------------------------------------------------------------------------- cfg table
default_cfgs: dict[str, dict[str, Any]] = {
    "afn_student_s": {
        "arch": StudentConfig(
            enc_channels=(16, 24, 32, 48, 64), enc_depth=(1, 1, 1, 2, 2), stem_channels=16, fpn_channels=32,
            corr_radius=(2, 2, 3, 3, 3), flow_channels=(24, 32, 48, 48, 48), gen_channels=(16, 24, 32, 48, 64),
            out_channels=16, input_size=(256, 192)),
        "input_size": (3, 256, 192), "value_range": (-1.0, 1.0), "weights": None,
    },
    "afn_student_m": {
        "arch": StudentConfig(input_size=(256, 192)),
        "input_size": (3, 256, 192), "value_range": (-1.0, 1.0), "weights": None,
    },
    "afn_student_m_hr": {
        "arch": StudentConfig(
            enc_channels=(24, 32, 48, 64, 96, 128), enc_depth=(1, 1, 2, 2, 2, 1), corr_radius=(2, 2, 2, 3, 3, 3),
            flow_channels=(32, 32, 48, 64, 64, 64), input_size=(512, 384)),
        "input_size": (3, 512, 384), "value_range": (-1.0, 1.0), "weights": None,
    },
}
