"""Local correlation (a cost volume over a small window) written in standard ops, with a hand-written backward.

Sources:
    * Cost volume of FlowNet — Dosovitskiy et al., "FlowNet: Learning Optical Flow with Convolutional Networks",
      ICCV 2015; local (windowed) version of PWC-Net — Sun, Yang, Liu, Kautz, "PWC-Net: CNNs for Optical Flow
      Using Pyramid, Warping, and Cost Volume", CVPR 2018.
    * As used by PF-AFN (Ge et al., CVPR 2021) and DM-VTON (Nguyen-Ngoc et al., ISMAR 2023), where it is a CuPy
      CUDA kernel (``FunctionCorrelation``, max displacement 3, stride 1, mean over channels). That kernel cannot
      run on a CPU or export to ONNX; this module computes the same numbers with Pad + Slice + Mul + Conv (1×1,
      the channel mean) + Concat, all of which onnxruntime-web runs on WebGPU.

Definition, for a window of ``k = 2r + 1`` (displacements ``dy, dx`` in ``[-r, r]``, row-major, ``dy`` outer)::

    out[n, (dy + r)·k + (dx + r), y, x] = mean_c  first[n, c, y, x] · second[n, c, y + dy, x + dx]

with ``second`` zero outside the image. Cost: ``C·k²·H·W`` multiply-adds per sample (what
``tryon.bench.complexity`` counts).

Why a hand-written backward: plain autograd through the k² slices of the padded tensor allocates a zeroed,
padded gradient per shift; :class:`_LocalCorrelationFn` accumulates into one buffer instead (the op alone is
about 3× faster to train, a 24 % shorter step for a whole student; see the project notes). The forward is the
same code path in both cases, so the ONNX graph is unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MAX_CONCAT_INPUTS", "LocalCorrelation", "cat_tree", "local_correlation", "local_correlation_reference"]


def _shifted_products(first: torch.Tensor, second_padded: torch.Tensor, radius: int,
                      channel_mean_as_conv: bool = False) -> list[torch.Tensor]:
    """The k² per-shift channel means, each (N, 1, H, W).

    ``channel_mean_as_conv`` takes each mean as a 1×1 convolution with weights 1/C instead of a mean over dim 1:
    the same numbers, but in ONNX a ``Conv`` rather than a ``ReduceMean`` over the channel axis, which onnxruntime's
    CPU and WASM kernels run far slower (the ReduceMeans were 29 % of live mode's frame graph at 1 thread; one level
    at 128×96, r = 2: 95 → 29 ms on onnxruntime CPU; see ``docs/web-runtime.md``, live mode).
    """
    h, w = first.shape[-2:]
    k = 2 * radius + 1
    weight = None
    if channel_mean_as_conv:  # a constant kernel for ONNX (a Conv needs a known kernel shape; C is fixed)
        c = int(first.shape[1])
        weight = torch.full((1, c, 1, 1), 1.0 / c, dtype=first.dtype, device=first.device)  # (1, C, 1, 1)
    out = []
    for dy in range(k):
        for dx in range(k):
            # second_padded[..., dy:dy+H, dx:dx+W] is ``second`` shifted by (dy - r, dx - r).
            shifted = second_padded[:, :, dy:dy + h, dx:dx + w]  # (N, C, H, W)
            product = first * shifted  # (N, C, H, W)
            out.append(F.conv2d(product, weight) if weight is not None
                       else product.mean(dim=1, keepdim=True))  # (N, 1, H, W)
    return out


MAX_CONCAT_INPUTS = 7
"""onnxruntime-web's WebGPU Concat binds one storage buffer per input plus the output, and WebGPU's default
limit is 8 per shader stage: a Concat of more than 7 inputs silently returns garbage there."""


def cat_tree(tensors: list[torch.Tensor], dim: int = 1, max_inputs: int = MAX_CONCAT_INPUTS) -> torch.Tensor:
    """``torch.cat`` as a tree of concatenations of at most ``max_inputs`` tensors each (same result)."""
    while len(tensors) > max_inputs:
        tensors = [torch.cat(tensors[i:i + max_inputs], dim=dim) if len(tensors[i:i + max_inputs]) > 1
                   else tensors[i] for i in range(0, len(tensors), max_inputs)]
    return torch.cat(tensors, dim=dim)


def local_correlation_reference(first: torch.Tensor, second: torch.Tensor, radius: int) -> torch.Tensor:
    """The correlation in plain differentiable ops (no custom backward); also the ONNX export path.

    Args:
        first: (N, C, H, W) features (e.g. the warped garment pyramid level).
        second: (N, C, H, W) features (e.g. the person pyramid level), sampled at the displaced positions.
        radius: maximum displacement ``r`` in pixels; the window is ``(2r+1)×(2r+1)``.

    Returns:
        (N, (2r+1)², H, W) mean over channels of the products, displacement index ``(dy+r)·k + (dx+r)``; each
        mean is a 1×1 convolution (an ONNX ``Conv``, not a ``ReduceMean``: the same numbers, faster in
        onnxruntime and onnxruntime-web).
    """
    second_padded = F.pad(second, (radius, radius, radius, radius))  # (N, C, H+2r, W+2r), zeros outside
    return cat_tree(_shifted_products(first, second_padded, radius, channel_mean_as_conv=True), dim=1)  # (N, k², H, W)


class _LocalCorrelationFn(torch.autograd.Function):
    """Same forward as :func:`local_correlation_reference`; backward accumulates into one padded buffer."""

    @staticmethod
    def forward(ctx, first: torch.Tensor, second: torch.Tensor, radius: int) -> torch.Tensor:
        second_padded = F.pad(second, (radius, radius, radius, radius))
        ctx.save_for_backward(first, second_padded)
        ctx.radius = radius
        return torch.cat(_shifted_products(first, second_padded, radius), dim=1)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        first, second_padded = ctx.saved_tensors
        r = ctx.radius
        k = 2 * r + 1
        c, h, w = first.shape[1:]
        # The mean over channels contributes 1/C to every product; apply it once to the incoming gradient.
        g = grad_out / c  # (N, k², H, W)
        need_first, need_second = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_first = torch.zeros_like(first) if need_first else None
        grad_second_padded = torch.zeros_like(second_padded) if need_second else None
        for i in range(k * k):
            dy, dx = divmod(i, k)
            gi = g[:, i:i + 1]  # (N, 1, H, W), broadcast over channels
            if need_first:
                grad_first.addcmul_(gi, second_padded[:, :, dy:dy + h, dx:dx + w])
            if need_second:
                grad_second_padded[:, :, dy:dy + h, dx:dx + w].addcmul_(gi, first)
        grad_second = grad_second_padded[:, :, r:r + h, r:r + w] if need_second else None
        return grad_first, grad_second, None


def local_correlation(first: torch.Tensor, second: torch.Tensor, radius: int) -> torch.Tensor:
    """Local correlation (see the module docstring); uses the hand-written backward when a gradient is needed.

    Args:
        first: (N, C, H, W).
        second: (N, C, H, W), same shape and dtype as ``first``.
        radius: maximum displacement in pixels (window ``2·radius + 1``), ≥ 0.

    Returns:
        (N, (2·radius+1)², H, W).

    Raises:
        ValueError: shapes differ or radius is negative.
    """
    if first.shape != second.shape or first.dim() != 4:
        raise ValueError(f"correlation needs two equal (N, C, H, W) tensors, got {tuple(first.shape)} and "
                         f"{tuple(second.shape)}")
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    # Tracing for ONNX must see the plain ops; a custom Function would become an opaque PythonOp node.
    if (torch.is_grad_enabled() and (first.requires_grad or second.requires_grad)
            and not torch.onnx.is_in_onnx_export() and not torch.jit.is_tracing()):
        return _LocalCorrelationFn.apply(first, second, radius)
    return local_correlation_reference(first, second, radius)


class LocalCorrelation(nn.Module):
    """Module wrapper of :func:`local_correlation` so that complexity hooks can count it (``C·k²·H·W`` MACs).

    Args:
        radius: maximum displacement ``r``; the output has ``(2r+1)²`` channels.
    """

    def __init__(self, radius: int):
        super().__init__()
        self.radius = radius

    @property
    def out_channels(self) -> int:
        """Number of displacement channels, ``(2r+1)²``."""
        return (2 * self.radius + 1) ** 2

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        return local_correlation(first, second, self.radius)

    def extra_repr(self) -> str:
        k = 2 * self.radius + 1
        return f"radius={self.radius}, window={k}x{k}"
