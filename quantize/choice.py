"""Which model file to deploy on a backend: fp32 unless a quantized file is at least as fast at equal quality.

Rule (issue 14, "which file for which backend"): among the files measured **in the same run** on one backend,
a quantized file is a candidate when its accuracy against fp32 was measured and is "equal quality" (it passes
:data:`EQUAL_QUALITY`, or the run's own gate when one was given) and its median latency is at most fp32's; the
fastest candidate wins (ties: the smaller file), else fp32. A file without a latency or accuracy figure is never
chosen: a choice needs both. Measured on this project's CPU, every quantized student was slower than fp32
(fp32 87.8 ms, fp16 105.9 ms, int8 QDQ 105.6 ms, dynamic 141.0 ms), which is why the default is not "the
smallest file".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tryon.manifest import FP32
from tryon.quantize.gate import GateLimits, gate_failures

__all__ = ["EQUAL_QUALITY", "Candidate", "choose_dtype", "candidates_from_report"]

EQUAL_QUALITY = GateLimits(min_psnr=40.0, min_cosine=0.999)
""""Equal quality" when the run has no gate of its own: PSNR >= 40 dB on every judged image output (an error
below what a person sees on a photo) and cosine >= 0.999 on every other judged output."""


@dataclass(frozen=True)
class Candidate:
    """One measured file: its manifest dtype, median latency (ms), size (bytes) and whether its quality is equal
    to fp32's (``None``: not measured)."""

    dtype: str
    median_ms: float | None
    bytes: int
    quality_ok: bool | None

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        return {"dtype": self.dtype, "median_ms": self.median_ms, "bytes": self.bytes, "quality_ok": self.quality_ok}


def choose_dtype(candidates: Sequence[Candidate]) -> str:
    """The dtype to deploy among ``candidates`` (see the module docstring); ``fp32`` when nothing beats it.

    Raises:
        ValueError: no fp32 candidate.
    """
    ref = next((c for c in candidates if c.dtype == FP32), None)
    if ref is None:
        raise ValueError("the fp32 file must be among the candidates: it is the reference")
    if ref.median_ms is None:
        return FP32
    fit = [c for c in candidates if c.dtype != FP32 and c.quality_ok and c.median_ms is not None
           and c.median_ms <= ref.median_ms]
    if not fit:
        return FP32
    return min(fit, key=lambda c: (c.median_ms, c.bytes)).dtype


def candidates_from_report(report, dtype_of: dict[str, str], gate: GateLimits | None = None) -> list[Candidate]:
    """One :class:`Candidate` per written file of a :class:`~tryon.quantize.report.QuantizeReport` (fp32 first).

    Args:
        report: the run's report.
        dtype_of: mode -> manifest dtype (``fp32`` for the input).
        gate: the run's gate; when inactive, :data:`EQUAL_QUALITY` decides.
    """
    limits = gate if gate is not None and gate.active else EQUAL_QUALITY
    out = []
    for r in report.results:
        if not r.written:
            continue
        ok = True if r.mode == "fp32" else (None if r.accuracy is None else not gate_failures(r.accuracy, limits))
        out.append(Candidate(dtype_of.get(r.mode, FP32), r.latency.median_ms if r.latency else None, r.bytes, ok))
    return out
