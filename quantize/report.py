"""The result of ``tryon quantize``: one row per file (fp32 first), as a rich table and as JSON.

JSON layout (``QuantizeReport.to_dict``)::

    {"model": path, "input_size": [H, W], "calibration": {"source", "samples"}, "eval": {"source", "samples"},
     "latency": {"runs", "warmup", "threads"},
     "results": [{"mode", "path", "bytes", "bytes_before", "size_ratio", "accuracy": {...} | null,
                  "latency": {"median_ms", ...} | null, "kept_float_nodes", "seconds", "ops": {op: count}}],
     "gate": {"max_delta", "min_psnr", "passed"} | null}
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

__all__ = ["ModeResult", "QuantizeReport", "render_table", "write_json", "format_bytes"]


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
                "kept_float_nodes": self.kept_float_nodes, "seconds": round(self.seconds, 3), "ops": self.ops}


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

    def accuracies(self) -> dict[str, Accuracy]:
        """Mode -> accuracy, converted files only (fp32 is the reference)."""
        return {r.mode: r.accuracy for r in self.results if r.mode != "fp32" and r.accuracy is not None}

    def to_dict(self) -> dict:
        """Plain dict for JSON; see the module docstring."""
        return {"model": str(self.model), "input_size": list(self.input_size) if self.input_size else None,
                "calibration": {"source": self.calibration_source, "samples": self.calibration_samples},
                "eval": {"source": self.eval_source, "samples": self.eval_samples},
                "latency": {"runs": self.runs, "warmup": self.warmup, "threads": self.threads},
                "results": [r.to_dict() for r in self.results], "gate": self.gate}


def format_bytes(n: int | float | None) -> str:
    """Human-readable size with binary prefixes (``1.5 MiB``); ``—`` for None."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "—"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return str(n)  # pragma: no cover


def render_table(report: QuantizeReport):
    """A ``rich.table.Table`` with one row per file: size, size ratio, accuracy vs fp32, CPU latency."""
    from rich.table import Table

    out = report.results[0].accuracy.output if report.results and report.results[0].accuracy else "tryon"
    for r in report.results:
        if r.accuracy:
            out = r.accuracy.output
    title = f"{report.model.name}"
    if report.input_size:
        title += f" @ {report.input_size[0]}x{report.input_size[1]}"
    kept = max((r.kept_float_nodes for r in report.results), default=0)
    caption = (f"accuracy: {out!r} output vs fp32 on {report.eval_samples} real input(s); "
               f"latency: onnxruntime CPU, {report.threads} thread(s), median of {report.runs} after "
               f"{report.warmup} warm-up")
    if kept:
        caption += f"; grid path (and in int8 modes the feature pyramids) kept in float32 (up to {kept} nodes)"
    if any(r.mode == "fp16" for r in report.results):
        caption += "; fp16 on CPU runs through Cast fallbacks (not a WebGPU figure)"
    table = Table(title=title, caption=caption)
    table.add_column("mode")
    table.add_column("file", overflow="fold")
    table.add_column("size", justify="right")
    table.add_column("× fp32", justify="right")
    table.add_column("max |Δ|", justify="right")
    table.add_column("PSNR dB", justify="right")
    table.add_column("max |Δ| grid", justify="right")
    table.add_column("latency ms", justify="right")
    for r in report.results:
        acc = r.accuracy
        if r.mode == "fp32":
            delta = psnr = grid = "ref"
        elif acc is None:
            delta = psnr = grid = "—"
        else:
            delta = f"{acc.max_abs_diff:.4f}"
            psnr = "inf" if math.isinf(acc.psnr_db) else f"{acc.psnr_db:.1f}"
            g = acc.max_abs_diff_by_output.get("grid")
            grid = "—" if g is None else f"{g:.4f}"
        lat = "—" if r.latency is None else f"{r.latency.median_ms:.2f}"
        table.add_row(r.mode, r.path.name, format_bytes(r.bytes), f"{r.size_ratio:.2f}", delta, psnr, grid, lat)
    return table


def write_json(report: QuantizeReport, path: str | os.PathLike) -> Path:
    """Write ``report.to_dict()`` as indented JSON, atomically.

    Raises:
        OutputError: the file cannot be written.
    """
    p = Path(path)
    atomic_write_bytes(p, (json.dumps(report.to_dict(), indent=2) + "\n").encode())
    return p
