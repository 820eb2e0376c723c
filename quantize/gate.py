"""Accuracy of a converted model against the fp32 model on the same inputs, per output, and the quality gate.

Every output is compared (:func:`compare_outputs`):

- **max abs diff**: the largest absolute difference over every element of every sample, in the output's own
  units (for the student's ``tryon`` image in [-1, 1]: 2.0 = full range, 1/127.5 ≈ 0.0078 one 8-bit grey level);
- **PSNR** in dB for image-like outputs (:func:`is_image_like`), ``10 log10(peak² / MSE)`` with the MSE pooled
  over all samples, infinite when identical. The student's ``tryon`` is clipped to [-1, 1] and mapped to [0, 1]
  (peak 1, as the page shows it); any other image uses the fp32 output's range as the peak;
- **cosine similarity** for every other output (landmarks, logits, the student's sampling grid) except those of
  one number per sample (a presence score), which only the max abs diff judges.

The gate (:class:`GateLimits`) judges the student's ``tryon`` output, or every output of any other model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tryon.errors import QualityGateError, UsageError

__all__ = ["QualityGateError", "Accuracy", "OutputAccuracy", "GateLimits", "compare_outputs", "check_gate",
           "check_limits_fit", "gate_failures", "psnr_db", "range_psnr_db", "cosine", "is_image_like", "PRIMARY_OUTPUT"]

PRIMARY_OUTPUT = "tryon"
"""The output the gate judges (the first output is used when a model has none of this name)."""


@dataclass(frozen=True)
class OutputAccuracy:
    """One output of a converted model against fp32.

    ``kind`` is ``"image"`` (rank 4 with 1, 3 or 4 channels on axis 1 or the last axis, and both spatial sides at
    least 8: PSNR in dB, ``cosine`` None), ``"scalar"`` (one number per sample, e.g. a presence score: max abs
    diff only) or ``"tensor"`` (anything else: cosine similarity of the flattened outputs over all samples,
    ``psnr_db`` None). PSNR of the student's ``tryon`` image maps [-1, 1] to [0, 1]
    (:func:`psnr_db`); of any other image, its peak is the range (max - min) of the fp32 output over the samples.
    """

    name: str
    kind: str
    max_abs_diff: float
    psnr_db: float | None = None
    cosine: float | None = None

    def to_dict(self) -> dict:
        """Plain dict for JSON (an infinite PSNR becomes ``None``)."""
        psnr = None if self.psnr_db is None or math.isinf(self.psnr_db) else self.psnr_db
        return {"name": self.name, "kind": self.kind, "max_abs_diff": self.max_abs_diff, "psnr_db": psnr,
                "cosine": self.cosine}


@dataclass(frozen=True)
class Accuracy:
    """How far a converted model's outputs are from the fp32 model's on ``samples`` inputs.

    ``output``, ``max_abs_diff`` and ``psnr_db`` are the judged output's (the student's ``tryon``; else the first
    output, whose ``psnr_db`` is NaN when it is not image-like); ``outputs`` holds every output's figures and
    ``judged`` the names the gate checks (``tryon`` for the student, every output otherwise).
    """

    output: str
    max_abs_diff: float
    psnr_db: float
    samples: int
    max_abs_diff_by_output: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, OutputAccuracy] = field(default_factory=dict)
    judged: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Plain dict for JSON (an infinite or NaN PSNR becomes ``None``)."""
        psnr = None if math.isinf(self.psnr_db) or math.isnan(self.psnr_db) else self.psnr_db
        return {"output": self.output, "max_abs_diff": self.max_abs_diff, "psnr_db": psnr, "samples": self.samples,
                "max_abs_diff_by_output": dict(self.max_abs_diff_by_output),
                "outputs": [o.to_dict() for o in self.outputs.values()], "judged": list(self.judged)}


def psnr_db(reference: np.ndarray, candidate: np.ndarray) -> float:
    """PSNR (dB) of two images in [-1, 1] (clipped), peak 1 after mapping to [0, 1]; ``inf`` when equal."""
    a = (np.clip(reference, -1, 1).astype(np.float64) + 1) / 2
    b = (np.clip(candidate, -1, 1).astype(np.float64) + 1) / 2
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)


def range_psnr_db(reference: np.ndarray, candidate: np.ndarray) -> float:
    """PSNR (dB) with the reference's range (max - min) as the peak: ``10 log10(peak² / MSE)``; ``inf`` when equal,
    ``-inf`` when the reference is constant and the candidate differs."""
    a = reference.astype(np.float64)
    b = candidate.astype(np.float64)
    mse = float(np.mean((a - b) ** 2))
    peak = float(a.max() - a.min()) if a.size else 0.0
    if mse == 0:
        return math.inf
    return -math.inf if peak == 0 else 10.0 * math.log10(peak * peak / mse)


def cosine(reference: np.ndarray, candidate: np.ndarray) -> float:
    """Cosine similarity of the flattened arrays; 1.0 when both are all zeros, 0.0 when only one is."""
    a = reference.astype(np.float64).ravel()
    b = candidate.astype(np.float64).ravel()
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 or nb == 0:
        return 1.0 if na == nb else 0.0
    return float(np.dot(a, b) / (na * nb))


def is_image_like(shape: Sequence[int]) -> bool:
    """Rank 4 with 1, 3 or 4 channels on axis 1 (NCHW) or the last axis (NHWC), spatial sides >= 8."""
    if len(shape) != 4:
        return False
    if shape[1] in (1, 3, 4) and min(shape[2], shape[3]) >= 8:
        return True
    return shape[3] in (1, 3, 4) and min(shape[1], shape[2]) >= 8


def compare_outputs(reference: Sequence[dict[str, np.ndarray]], candidate: Sequence[dict[str, np.ndarray]],
                    output: str = PRIMARY_OUTPUT) -> Accuracy:
    """Compare per-sample output dicts of the fp32 model (``reference``) and a converted one (``candidate``).

    Every output present in both is measured (see :class:`OutputAccuracy`); ``output`` is the judged one when
    the model has it (the student), else every output is judged.

    Raises:
        ValueError: the two lists differ in length or are empty, or an output's shapes differ.
    """
    if not reference or len(reference) != len(candidate):
        raise ValueError(f"need the same, non-zero number of samples (got {len(reference)} and {len(candidate)})")
    outputs: dict[str, OutputAccuracy] = {}
    for name in reference[0]:
        if name not in candidate[0]:
            continue
        ref = [np.asarray(r[name]) for r in reference]
        cand = [np.asarray(c[name]) for c in candidate]
        if any(a.shape != b.shape for a, b in zip(ref, cand, strict=True)):
            raise ValueError(f"output {name!r}: shapes differ between fp32 and the converted model")
        mad = max(float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0
                  for a, b in zip(ref, cand, strict=True))
        flat_r = np.concatenate([a.ravel() for a in ref])
        flat_c = np.concatenate([b.ravel() for b in cand])
        if ref[0].size <= 1:
            # One number per sample (a presence score): a cosine over samples says nothing; max |Δ| judges it.
            outputs[name] = OutputAccuracy(name, "scalar", mad)
        elif not np.issubdtype(flat_r.dtype, np.floating):
            outputs[name] = OutputAccuracy(name, "tensor", mad, cosine=cosine(flat_r, flat_c))
        elif name == PRIMARY_OUTPUT:
            outputs[name] = OutputAccuracy(name, "image", mad, psnr_db=psnr_db(flat_r, flat_c))
        elif is_image_like(ref[0].shape):
            outputs[name] = OutputAccuracy(name, "image", mad, psnr_db=range_psnr_db(flat_r, flat_c))
        else:
            outputs[name] = OutputAccuracy(name, "tensor", mad, cosine=cosine(flat_r, flat_c))
    if not outputs:
        raise ValueError("the converted model has none of the fp32 model's outputs")
    judged = (output,) if output in outputs else tuple(outputs)
    main = outputs[judged[0]]
    return Accuracy(main.name, main.max_abs_diff, main.psnr_db if main.psnr_db is not None else math.nan,
                    len(reference), {k: o.max_abs_diff for k, o in outputs.items()}, outputs, judged)


@dataclass(frozen=True)
class GateLimits:
    """The quality gate (``--max-delta``, ``--min-psnr``, ``--min-cosine``); ``None`` leaves a figure unchecked.

    Each limit applies to every judged output it fits (:attr:`Accuracy.judged`): ``max_delta`` (output units) to
    all, ``min_psnr`` (dB) to image-like ones, ``min_cosine`` to the others.
    """

    max_delta: float | None = None
    min_psnr: float | None = None
    min_cosine: float | None = None

    @property
    def active(self) -> bool:
        """True when any limit is set."""
        return any(v is not None for v in (self.max_delta, self.min_psnr, self.min_cosine))

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        return {"max_delta": self.max_delta, "min_psnr": self.min_psnr, "min_cosine": self.min_cosine}


def gate_failures(acc: Accuracy, limits: GateLimits) -> list[str]:
    """What in ``acc`` is outside ``limits``, one phrase per failing figure (empty: passes)."""
    failures = []
    for name in acc.judged or (acc.output,):
        o = acc.outputs.get(name)
        if o is None:  # an Accuracy built without per-output figures: the judged output's own
            o = OutputAccuracy(acc.output, "image", acc.max_abs_diff, psnr_db=acc.psnr_db)
        if limits.max_delta is not None and o.max_abs_diff > limits.max_delta:
            failures.append(f"max abs diff {o.max_abs_diff:.4g} > {limits.max_delta:g} on {name!r}")
        if limits.min_psnr is not None and o.psnr_db is not None and o.psnr_db < limits.min_psnr:
            failures.append(f"PSNR {o.psnr_db:.2f} dB < {limits.min_psnr:g} dB on {name!r}")
        if limits.min_cosine is not None and o.cosine is not None and o.cosine < limits.min_cosine:
            failures.append(f"cosine {o.cosine:.6f} < {limits.min_cosine:g} on {name!r}")
    return failures


def check_limits_fit(acc: Accuracy, limits: GateLimits) -> None:
    """Refuse a limit that no judged output can be checked against.

    Raises:
        UsageError: ``--min-psnr`` with no image-like judged output, or ``--min-cosine`` with only image ones.
    """
    kinds = {acc.outputs[n].kind for n in acc.judged if n in acc.outputs} - {"scalar"}
    if limits.min_psnr is not None and kinds and "image" not in kinds:
        raise UsageError(f"--min-psnr judges image-like outputs and this model has none ({', '.join(acc.judged)}): "
                         "use --min-cosine and/or --max-delta")
    if limits.min_cosine is not None and kinds and "tensor" not in kinds:
        raise UsageError(f"--min-cosine judges non-image outputs and this model's judged outputs "
                         f"({', '.join(acc.judged)}) are images: use --min-psnr and/or --max-delta")


def check_gate(results: dict[str, Accuracy], *, max_delta: float | None = None, min_psnr: float | None = None,
               min_cosine: float | None = None) -> None:
    """Raise when any mode's accuracy is outside the limits (see :class:`GateLimits`).

    Args:
        results: mode name -> its :class:`Accuracy`.
        max_delta: largest allowed max abs diff of a judged output.
        min_psnr: smallest allowed PSNR (dB) of a judged image-like output.
        min_cosine: smallest allowed cosine similarity of a judged non-image output.

    Raises:
        QualityGateError: naming every mode that fails and by how much.
    """
    limits = GateLimits(max_delta, min_psnr, min_cosine)
    failures = [f"{mode}: {f}" for mode, acc in results.items() for f in gate_failures(acc, limits)]
    if failures:
        acc = next(iter(results.values()))
        raise QualityGateError(f"quality gate failed vs fp32 ({acc.samples} inputs): " + "; ".join(failures))
