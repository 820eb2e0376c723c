"""Appearance-flow helpers: identity grids, offsets ↔ sampling grids, warping, composing and upsampling flows.

Convention (the project's): a flow is an *offset* field in normalised units, ``(N, 2, H, W)``, channel 0 = x,
channel 1 = y. The sampling grid is ``identity + offset`` in the ``torch.nn.functional.grid_sample`` convention
with ``align_corners=False``: ``(N, H, W, 2)``, x then y, −1/+1 at the outer edges of the border pixels. Offsets in
normalised units do not change when the field is resized, so a coarse flow is upsampled with a plain bilinear
resize (an absolute grid would be distorted at the borders by the resize's edge clamping).

Sources: appearance flow — Zhou et al., "View Synthesis by Appearance Flow", ECCV 2016; coarse-to-fine flow
composition as in PF-AFN (Ge et al., CVPR 2021, ``apply_offset`` + ``grid_sample(last_flow, grid)``).

ONNX: ``identity_grid`` becomes a constant for a fixed input size (the legacy exporter bakes sizes in);
``grid_sample`` exports as GridSample (opset 16–19; onnxruntime-web runs it on WebGPU), resizes as Resize
(linear, half_pixel).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["identity_grid", "pixels_to_normalized", "offset_to_grid", "warp", "compose_flow", "upsample_flow"]


def identity_grid(height: int, width: int, *, dtype: torch.dtype = torch.float32,
                  device: torch.device | str | None = None) -> torch.Tensor:
    """The identity sampling grid, ``(1, H, W, 2)``: x = (2j+1)/W − 1, y = (2i+1)/H − 1 (pixel centres)."""
    ys = (torch.arange(height, dtype=dtype, device=device) * 2 + 1) / height - 1  # (H,)
    xs = (torch.arange(width, dtype=dtype, device=device) * 2 + 1) / width - 1  # (W,)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # (H, W) each
    return torch.stack((gx, gy), dim=-1).unsqueeze(0)  # (1, H, W, 2)


def pixels_to_normalized(offset_px: torch.Tensor) -> torch.Tensor:
    """Scale an ``(N, 2, H, W)`` offset in pixels of its own grid to normalised units (×2/W for x, ×2/H for y)."""
    h, w = offset_px.shape[-2:]
    scale = torch.tensor([2.0 / w, 2.0 / h], dtype=offset_px.dtype, device=offset_px.device).view(1, 2, 1, 1)
    return offset_px * scale


def offset_to_grid(offset: torch.Tensor) -> torch.Tensor:
    """``(N, 2, H, W)`` normalised offset → ``(N, H, W, 2)`` sampling grid (identity + offset).

    The identity is added as a (1, 1, W, 2) row of x values and a (1, H, 1, 2) column of y values: in ONNX these
    stay two small constants instead of an H×W×2 one per level (1.5 MB at 512×384), and the sum is the same.
    """
    h, w = offset.shape[-2:]
    zeros_w = torch.zeros(w, dtype=offset.dtype, device=offset.device)
    zeros_h = torch.zeros(h, dtype=offset.dtype, device=offset.device)
    xs = (torch.arange(w, dtype=offset.dtype, device=offset.device) * 2 + 1) / w - 1
    ys = (torch.arange(h, dtype=offset.dtype, device=offset.device) * 2 + 1) / h - 1
    x_row = torch.stack((xs, zeros_w), dim=-1).view(1, 1, w, 2)  # (1, 1, W, 2): (x, 0)
    y_col = torch.stack((zeros_h, ys), dim=-1).view(1, h, 1, 2)  # (1, H, 1, 2): (0, y)
    return offset.permute(0, 2, 3, 1) + x_row + y_col  # (N, H, W, 2)


def warp(x: torch.Tensor, offset: torch.Tensor, padding_mode: str = "border") -> torch.Tensor:
    """Sample ``x`` (N, C, H', W') at ``identity + offset`` (offset (N, 2, H, W)), bilinear, align_corners=False.

    Returns:
        (N, C, H, W). ``padding_mode="border"`` for images and features, ``"zeros"`` for masks.
    """
    return F.grid_sample(x, offset_to_grid(offset), mode="bilinear", padding_mode=padding_mode, align_corners=False)


def compose_flow(previous: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """Compose a residual flow on top of a previous one (both normalised offsets, (N, 2, H, W)).

    ``delta`` was estimated on features already warped by ``previous``; an output pixel p therefore reads the
    source at ``p + delta(p) + previous(p + delta(p))``, i.e. the previous offset is resampled at the new grid.
    """
    return delta + warp(previous, delta, padding_mode="border")


def upsample_flow(offset: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
    """Bilinearly resize a normalised offset field to ``size`` = (H, W) (default ×2); values need no rescaling."""
    if size is None:
        return F.interpolate(offset, scale_factor=2.0, mode="bilinear", align_corners=False)
    return F.interpolate(offset, size=size, mode="bilinear", align_corners=False)
