"""Accuracy of a converted model against the fp32 model on the same real inputs, and the quality gate.

Two figures on the try-on image (output ``tryon``, NCHW in [-1, 1]):

- **max abs diff**: the largest absolute difference over every pixel and channel of every sample, in the
  output's own units (2.0 = full range; 1/127.5 ≈ 0.0078 is one 8-bit grey level);
- **PSNR** in dB with the image mapped to [0, 1] (both clipped to [-1, 1] first, as the page shows them):
  ``10 log10(1 / MSE)`` with the MSE pooled over all samples; infinite when identical.

Other outputs (``grid``, ``warped_garment``, ``composition_mask``) get their max abs diff for information.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tryon.errors import QualityGateError

__all__ = ["QualityGateError", "Accuracy", "compare_outputs", "check_gate", "psnr_db", "PRIMARY_OUTPUT"]

PRIMARY_OUTPUT = "tryon"
"""The output the gate judges (the first output is used when a model has none of this name)."""


@dataclass(frozen=True)
class Accuracy:
    """How far a converted model's outputs are from the fp32 model's on ``samples`` real inputs."""

    output: str
    max_abs_diff: float
    psnr_db: float
    samples: int
    max_abs_diff_by_output: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain dict for JSON (an infinite PSNR becomes ``None``)."""
        return {"output": self.output, "max_abs_diff": self.max_abs_diff,
                "psnr_db": None if math.isinf(self.psnr_db) else self.psnr_db, "samples": self.samples,
                "max_abs_diff_by_output": dict(self.max_abs_diff_by_output)}


def psnr_db(reference: np.ndarray, candidate: np.ndarray) -> float:
    """PSNR (dB) of two images in [-1, 1] (clipped), peak 1 after mapping to [0, 1]; ``inf`` when equal."""
    a = (np.clip(reference, -1, 1).astype(np.float64) + 1) / 2
    b = (np.clip(candidate, -1, 1).astype(np.float64) + 1) / 2
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)


def compare_outputs(reference: Sequence[dict[str, np.ndarray]], candidate: Sequence[dict[str, np.ndarray]],
                    output: str = PRIMARY_OUTPUT) -> Accuracy:
    """Compare per-sample output dicts of the fp32 model (``reference``) and a converted one (``candidate``).

    Raises:
        ValueError: the two lists differ in length or are empty, or ``output`` is missing.
    """
    if not reference or len(reference) != len(candidate):
        raise ValueError(f"need the same, non-zero number of samples (got {len(reference)} and {len(candidate)})")
    if output not in reference[0]:
        output = next(iter(reference[0]))
    by_output: dict[str, float] = {}
    for name in reference[0]:
        if name in candidate[0]:
            by_output[name] = max(float(np.max(np.abs(r[name].astype(np.float64) - c[name].astype(np.float64))))
                                  for r, c in zip(reference, candidate, strict=True))
    ref = np.concatenate([r[output].ravel() for r in reference])
    cand = np.concatenate([c[output].ravel() for c in candidate])
    return Accuracy(output, by_output[output], psnr_db(ref, cand), len(reference), by_output)


def check_gate(results: dict[str, Accuracy], *, max_delta: float | None = None,
               min_psnr: float | None = None) -> None:
    """Raise when any mode's accuracy is outside the limits.

    Args:
        results: mode name -> its :class:`Accuracy`.
        max_delta: largest allowed max abs diff of the judged output.
        min_psnr: smallest allowed PSNR (dB).

    Raises:
        QualityGateError: naming every mode that fails and by how much.
    """
    failures = []
    for mode, acc in results.items():
        if max_delta is not None and acc.max_abs_diff > max_delta:
            failures.append(f"{mode}: max abs diff {acc.max_abs_diff:.4g} > {max_delta:g}")
        if min_psnr is not None and acc.psnr_db < min_psnr:
            failures.append(f"{mode}: PSNR {acc.psnr_db:.2f} dB < {min_psnr:g} dB")
    if failures:
        raise QualityGateError(f"quality gate failed on the {acc.output!r} output vs fp32 ({acc.samples} real "
                               "inputs): " + "; ".join(failures))
