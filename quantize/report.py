"""The result of ``tryon quantize``: one row per file (fp32 first), as a rich table and as JSON.

JSON layout (``QuantizeReport.to_dict``)::

    {"model": path, "input_size": [H, W] | null, "calibration": {"source", "samples"},
     "eval": {"source", "samples", "random"}, "latency": {"runs", "warmup", "threads"},
     "results": [{"mode", "path", "bytes", "bytes_before", "size_ratio",
                  "accuracy": {"output", "max_abs_diff", "psnr_db", "samples", "judged": [name],
                               "outputs": [{"name", "kind", "max_abs_diff", "psnr_db", "cosine"}]} | null,
                  "latency": {"median_ms", ...} | null, "kept_float_nodes", "seconds", "ops": {op: count},
                  "written", "gate_failures": [text]}],
     "gate": {"max_delta", "min_psnr", "min_cosine", "passed"} | null}
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from tryon.processing import atomic_write_bytes
from tryon.quantize.gate import Accuracy
from tryon.quantize.session import LatencyStats

__all__ = ["ModeResult", "QuantizeReport", "render_table", "render_outputs_table", "write_json", "format_bytes"]


@dataclass
class ModeResult:
    """One written (or, for ``fp32``, the input) model file and its measured figures."""

    mode: str
    path: Path
    bytes: int
    bytes_before: int
    accuracy: Accuracy | None = None
    latency: LatencyStats | None = None
    kept_float_nodes: int = 0
    seconds: float = 0.0
    ops: dict[str, int] = field(default_factory=dict)
    written: bool = True
    """False when the file failed the quality gate and was therefore written nowhere."""
    gate_failures: list[str] = field(default_factory=list)

    @property
    def size_ratio(self) -> float:
        """This file's size over the fp32 file's size."""
        return self.bytes / self.bytes_before if self.bytes_before else math.nan

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        return {"mode": self.mode, "path": str(self.path), "bytes": self.bytes, "bytes_before": self.bytes_before,
                "size_ratio": round(self.size_ratio, 4),
                "accuracy": self.accuracy.to_dict() if self.accuracy else None,
                "latency": self.latency.to_dict() if self.latency else None,
                "kept_float_nodes": self.kept_float_nodes, "seconds": round(self.seconds, 3), "ops": self.ops,
                "written": self.written, "gate_failures": list(self.gate_failures)}


@dataclass
class QuantizeReport:
    """Everything ``tryon quantize`` measured."""

    model: Path
    input_size: tuple[int, int] | None
    results: list[ModeResult]
    calibration_source: str | None = None
    calibration_samples: int = 0
    eval_source: str | None = None
    eval_samples: int = 0
    runs: int = 0
    warmup: int = 0
    threads: int = 1
    gate: dict | None = None
    random_inputs: bool = False
    """The accuracy figures were measured on random inputs (weak)."""

    def to_dict(self) -> dict:
        """Plain dict for JSON; see the module docstring."""
        return {"model": str(self.model), "input_size": list(self.input_size) if self.input_size else None,
                "calibration": {"source": self.calibration_source, "samples": self.calibration_samples},
                "eval": {"source": self.eval_source, "samples": self.eval_samples, "random": self.random_inputs},
                "latency": {"runs": self.runs, "warmup": self.warmup, "threads": self.threads},
                "results": [r.to_dict() for r in self.results], "gate": self.gate}


def format_bytes(n: int | float | None) -> str:
    """A file size in MB (10^6 bytes, the unit ``tryon export`` and ``tryon bench`` print), two decimals
    (``2.89``); ``—`` for None."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "—"
    return f"{n / 1e6:.2f}"


def _psnr_text(v: float | None) -> str:
    if v is None or math.isnan(v):
        return "—"
    return "inf" if math.isinf(v) and v > 0 else f"{v:.1f}"


def render_table(report: QuantizeReport):
    """A ``rich.table.Table`` with one row per file: size, size ratio, accuracy of the judged output vs fp32, CPU
    latency, and whether it was written (a file failing the gate is not)."""
    from rich.table import Table

    out = "tryon"
    for r in report.results:
        if r.accuracy:
            out = r.accuracy.output if len(r.accuracy.judged) <= 1 else f"{len(r.accuracy.judged)} outputs"
    title = f"{report.model.name}"
    if report.input_size:
        title += f" @ {report.input_size[0]}x{report.input_size[1]}"
    kept = max((r.kept_float_nodes for r in report.results), default=0)
    inputs = "random" if report.random_inputs else "sample"
    caption = (f"accuracy: {out!r} vs fp32 on {report.eval_samples} {inputs} input(s) (worst judged output); "
               f"latency: onnxruntime CPU, {report.threads} thread(s), median of {report.runs} after "
               f"{report.warmup} warm-up")
    if report.eval_samples == 0:
        caption += "; no accuracy figure: give --eval/--calibration inputs (or --random-calibration N)"
    if kept:
        caption += f"; up to {kept} nodes kept in float32"
    if any(r.mode == "fp16" for r in report.results):
        caption += "; fp16 on CPU runs through Cast fallbacks (not a WebGPU figure)"
    table = Table(title=title, caption=caption)
    table.add_column("mode")
    table.add_column("file", no_wrap=True)
    table.add_column("MB", justify="right")
    table.add_column("× fp32", justify="right")
    table.add_column("max |Δ|", justify="right")
    table.add_column("PSNR dB / cos", justify="right")
    table.add_column("latency ms", justify="right")
    table.add_column("written")
    for r in report.results:
        acc = r.accuracy
        if r.mode == "fp32":
            delta = quality = "ref"
        elif acc is None:
            delta = quality = "—"
        else:
            judged = [acc.outputs[n] for n in acc.judged if n in acc.outputs]
            if not judged:
                delta, quality = f"{acc.max_abs_diff:.4f}", _psnr_text(acc.psnr_db)
            else:
                delta = f"{max(o.max_abs_diff for o in judged):.4f}"
                ps = [o.psnr_db for o in judged if o.psnr_db is not None]
                cs = [o.cosine for o in judged if o.cosine is not None]
                quality = " / ".join(([_psnr_text(min(ps))] if ps else []) + ([f"{min(cs):.4f}"] if cs else []))
        lat = "—" if r.latency is None else f"{r.latency.median_ms:.2f}"
        written = "input" if r.mode == "fp32" else ("yes" if r.written else "NO: gate")
        table.add_row(r.mode, r.path.name, format_bytes(r.bytes), f"{r.size_ratio:.2f}", delta, quality, lat,
                      written)
    return table


def render_outputs_table(report: QuantizeReport):
    """A ``rich.table.Table`` with one row per (mode, output): kind, max |Δ|, PSNR (image) or cosine (other),
    and whether the gate judges it; ``None`` when no accuracy was measured."""
    from rich.table import Table

    rows = [(r.mode, o, o.name in r.accuracy.judged) for r in report.results if r.accuracy
            for o in r.accuracy.outputs.values()]
    if not rows:
        return None
    table = Table(title="every output vs fp32")
    for col in ("mode", "output", "kind", "max |Δ|", "PSNR dB", "cosine", "judged"):
        table.add_column(col, justify="right" if col in ("max |Δ|", "PSNR dB", "cosine") else "left")
    for mode, o, judged in rows:
        table.add_row(mode, o.name, o.kind, f"{o.max_abs_diff:.4g}", _psnr_text(o.psnr_db),
                      "—" if o.cosine is None else f"{o.cosine:.6f}", "yes" if judged else "")
    return table


def write_json(report: QuantizeReport, path: str | os.PathLike) -> Path:
    """Write ``report.to_dict()`` as indented JSON, atomically.

    Raises:
        OutputError: the file cannot be written.
    """
    p = Path(path)
    atomic_write_bytes(p, (json.dumps(report.to_dict(), indent=2) + "\n").encode())
    return p
