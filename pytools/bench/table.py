"""The ``tryon bench`` table: size, compute and CPU latency of each model, and its ratio to the reference.

Every figure of every row is also given as a ratio to the reference row (``dmvton_ref`` by default) measured in
the same run, so numbers taken on different machines are never mixed.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from tryon.processing import atomic_write_bytes

__all__ = ["BenchRow", "FIGURES", "ratios", "render_bench_table", "bench_to_dict", "write_bench_json"]

FIGURES = ("params", "gmacs", "bytes_fp32", "bytes_fp16", "bytes_int8", "latency_ms_1t", "latency_ms_2t")
"""Row fields that get a ratio to the reference, in table order."""


@dataclass
class BenchRow:
    """Figures of one model; ``None`` where a figure could not be measured."""

    name: str
    params: int | None = None
    gmacs: float | None = None
    bytes_fp32: int | None = None
    bytes_fp16: int | None = None
    bytes_int8: int | None = None
    latency_ms_1t: float | None = None
    latency_ms_2t: float | None = None
    notes: list[str] = field(default_factory=list)

    def figure(self, key: str) -> float | None:
        """The value of one of :data:`FIGURES`."""
        return getattr(self, key)


def ratios(rows: list[BenchRow], reference: str) -> dict[str, dict[str, float | None]]:
    """For each row, each figure divided by the reference row's (``None`` where either is missing or zero).

    Raises:
        KeyError: no row is named ``reference``.
    """
    ref = next((r for r in rows if r.name == reference), None)
    if ref is None:
        raise KeyError(f"reference {reference!r} is not among the rows ({', '.join(r.name for r in rows)})")
    out: dict[str, dict[str, float | None]] = {}
    for r in rows:
        out[r.name] = {}
        for k in FIGURES:
            a, b = r.figure(k), ref.figure(k)
            out[r.name][k] = None if a is None or not b else a / b
    return out


def _fmt(key: str, v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if key == "params":
        return f"{v / 1e6:.2f} M"
    if key == "gmacs":
        return f"{v:.2f}"
    if key.startswith("bytes"):
        return f"{v / 2**20:.2f} MiB"
    return f"{v:.1f}"


_HEADERS = {"params": "params", "gmacs": "GMAC", "bytes_fp32": "fp32", "bytes_fp16": "fp16", "bytes_int8": "int8",
            "latency_ms_1t": "ms 1 thr", "latency_ms_2t": "ms 2 thr"}


def render_bench_table(rows: list[BenchRow], reference: str, *, title: str = "tryon bench", caption: str = ""):
    """A ``rich.table.Table``: one row per model, each cell ``value (ratio×)`` against ``reference``."""
    from rich.table import Table

    rat = ratios(rows, reference)
    table = Table(title=title, caption=caption)
    table.add_column("model")
    for k in FIGURES:
        table.add_column(_HEADERS[k], justify="right")
    for r in rows:
        cells = []
        for k in FIGURES:
            v, q = r.figure(k), rat[r.name][k]
            cells.append(_fmt(k, v) if r.name == reference or q is None else f"{_fmt(k, v)} ({q:.2f}×)")
        table.add_row(r.name + (" (ref)" if r.name == reference else ""), *cells)
    return table


def bench_to_dict(rows: list[BenchRow], reference: str, meta: dict | None = None) -> dict:
    """JSON-ready dict: ``{"reference", "meta", "rows": [{name, figures..., "ratio": {figure: x}}]}``."""
    rat = ratios(rows, reference)
    return {"reference": reference, "meta": meta or {},
            "rows": [{"name": r.name, **{k: r.figure(k) for k in FIGURES}, "notes": r.notes, "ratio": rat[r.name]}
                     for r in rows]}


def write_bench_json(rows: list[BenchRow], reference: str, path: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write :func:`bench_to_dict` as indented JSON, atomically.

    Raises:
        OutputError: the file cannot be written.
    """
    p = Path(path)
    atomic_write_bytes(p, (json.dumps(bench_to_dict(rows, reference, meta), indent=2) + "\n").encode())
    return p
