"""Parameter and multiply-accumulate (MAC) counts of the try-on networks, from forward hooks.

Counting rules (per sample, i.e. divided by the batch size):
    * ``nn.Conv2d``: output elements × (C_in / groups) × k_h × k_w.
    * ``nn.ConvTranspose2d``: input elements × (C_out / groups) × k_h × k_w.
    * ``nn.Linear``: output elements × in_features.
    * local correlation (``tryon.models.layers.LocalCorrelation``): C × k² × H × W (one product per channel and
      displacement; the mean's division is not counted).
    Everything else (BatchNorm, activations, resizes, grid_sample, additions) is ignored, as in the usual
    ``thop``/``ptflops`` conventions; GMAC = 1e9 MACs (a FLOP count is about twice the MAC count).
    A module shared between call sites (DM-VTON's FPN smoothing conv) is counted at every call, and its
    parameters once.

The numbers in the project notes (DM-VTON student 9.35 M params, 34.7 GMAC at 256×192) use these rules.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from tryon.models.layers import LocalCorrelation

__all__ = ["Complexity", "count_params", "count_macs", "complexity"]


@dataclass(frozen=True)
class Complexity:
    """Size and compute of one model at one input size.

    Attributes:
        params: number of distinct parameters (shared modules counted once).
        macs: multiply-accumulates per sample for one forward pass.
        input_size: (height, width) the MACs were counted at.
        by_module: MACs per top-level child module name (for "where does the compute go").
    """

    params: int
    macs: int
    input_size: tuple[int, int]
    by_module: dict[str, int] = field(default_factory=dict)

    @property
    def gmacs(self) -> float:
        """MACs in units of 1e9."""
        return self.macs / 1e9

    @property
    def mparams(self) -> float:
        """Parameters in units of 1e6."""
        return self.params / 1e6

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (adds ``gmacs`` and ``mparams``)."""
        return {**asdict(self), "input_size": list(self.input_size), "gmacs": self.gmacs, "mparams": self.mparams}


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of distinct parameters of ``model`` (a parameter shared by several modules counts once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _module_macs(module: nn.Module, inputs: tuple, output: Any) -> int:
    if isinstance(module, nn.Conv2d):
        out = output
        per_out = (module.in_channels // module.groups) * module.kernel_size[0] * module.kernel_size[1]
        return out.numel() // out.shape[0] * per_out
    if isinstance(module, nn.ConvTranspose2d):
        x = inputs[0]
        per_in = (module.out_channels // module.groups) * module.kernel_size[0] * module.kernel_size[1]
        return x.numel() // x.shape[0] * per_in
    if isinstance(module, nn.Linear):
        batch = output.shape[0] if output.dim() > 1 else 1
        return output.numel() // batch * module.in_features
    if isinstance(module, LocalCorrelation):
        first = inputs[0]  # (N, C, H, W)
        return first.numel() // first.shape[0] * module.out_channels
    return 0


def _default_inputs(model: nn.Module, input_size: tuple[int, int]) -> tuple[torch.Tensor, ...]:
    """Example inputs for a try-on model (person, garment, garment_mask) or a single-image model."""
    h, w = input_size
    names = getattr(model, "input_names", None)
    if names == ("person", "garment", "garment_mask"):
        return (torch.zeros(1, 3, h, w), torch.zeros(1, 3, h, w), torch.ones(1, 1, h, w))
    return (torch.zeros(1, 3, h, w),)


def count_macs(model: nn.Module, input_size: tuple[int, int] = (256, 192),
               inputs: tuple[torch.Tensor, ...] | None = None) -> int:
    """MACs per sample of one forward pass of ``model`` (see the module docstring for the rules).

    Args:
        model: the network; run once in eval mode under ``torch.no_grad`` (its train/eval mode is restored).
        input_size: (height, width) used to build zero inputs when ``inputs`` is None: three tensors
            (person, garment, garment_mask) for a model whose ``input_names`` say so, else one (1, 3, H, W).
        inputs: explicit positional inputs instead.

    Returns:
        Integer MAC count for one sample.
    """
    return complexity(model, input_size, inputs).macs


def complexity(model: nn.Module, input_size: tuple[int, int] = (256, 192),
               inputs: tuple[torch.Tensor, ...] | None = None) -> Complexity:
    """Parameters, MACs and a per-top-level-module breakdown (see :func:`count_macs`)."""
    if inputs is None:
        inputs = _default_inputs(model, input_size)
    else:
        input_size = tuple(inputs[0].shape[-2:])
    totals: dict[str, int] = defaultdict(int)
    prefix_of: dict[int, str] = {}
    for name, child in model.named_children():
        for m in child.modules():
            prefix_of.setdefault(id(m), name)

    def hook(module: nn.Module, args: tuple, output: Any) -> None:
        totals[prefix_of.get(id(module), "")] += _module_macs(module, args, output)

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, LocalCorrelation))]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    by_module = dict(sorted(totals.items(), key=lambda kv: -kv[1]))
    return Complexity(params=count_params(model), macs=sum(totals.values()), input_size=tuple(input_size),
                      by_module=by_module)
