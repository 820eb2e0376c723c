"""The ``tryon bench`` tables: size, compute and CPU latency of each model, and its ratio to the reference; each
model file (fp32, fp16, int8) side by side, with its ratio to the same model's fp32 file.

Every figure of every row is also given as a ratio to the reference row (``dmvton_ref`` by default) measured in
the same run, so numbers taken on different machines are never mixed. Sizes are in MB = 10^6 bytes (as the model
cards and ``tryon export`` print them), said in the column headers.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from tryon.processing import atomic_write_bytes

__all__ = ["BenchRow", "FileFigures", "FIGURES", "THREADS", "format_mb", "ratios", "fastest", "render_bench_table",
           "render_file_table", "bench_to_dict", "write_bench_json", "plot_files"]

FIGURES = ("params", "gmacs", "bytes_fp32", "bytes_fp16", "bytes_int8", "latency_ms_1t", "latency_ms_2t")
"""Row fields that get a ratio to the reference, in table order."""

THREADS = (1, 2)
"""onnxruntime CPU intra-op thread counts every file is timed with (the ``latency_ms_1t`` / ``_2t`` figures)."""


def format_mb(n: float | None) -> str:
    """``n`` bytes in MB (10^6 bytes) with two decimals, e.g. ``"2.89"``; ``"—"`` for None."""
    return "—" if n is None else f"{n / 1e6:.2f}"


@dataclass
class FileFigures:
    """One model file of a benchmarked model.

    Attributes:
        dtype: precision, one of :data:`tryon.manifest.DTYPES` (``fp32``, ``fp16``, ``int8``, ``int8_dynamic``).
        path: the file benchmarked (a temporary one unless ``tryon bench --keep`` or a given file).
        bytes: file size in bytes.
        latency_ms: intra-op thread count -> median onnxruntime CPU latency, milliseconds (empty: not timed).
    """

    dtype: str
    path: str
    bytes: int | None = None
    latency_ms: dict[int, float] = field(default_factory=dict)


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
    files: list[FileFigures] = field(default_factory=list)

    def figure(self, key: str) -> float | None:
        """The value of one of :data:`FIGURES`."""
        return getattr(self, key)


def ratios(rows: list[BenchRow], reference: str | None) -> dict[str, dict[str, float | None]]:
    """For each row, each figure divided by the reference row's (``None`` where either is missing or zero, and
    everywhere when ``reference`` is None: no reference benchmarked).

    Raises:
        KeyError: no row is named ``reference``.
    """
    ref = None
    if reference is not None:
        ref = next((r for r in rows if r.name == reference), None)
        if ref is None:
            raise KeyError(f"reference {reference!r} is not among the rows ({', '.join(r.name for r in rows)})")
    out: dict[str, dict[str, float | None]] = {}
    for r in rows:
        out[r.name] = {}
        for k in FIGURES:
            a, b = r.figure(k), None if ref is None else ref.figure(k)
            out[r.name][k] = None if a is None or not b else a / b
    return out


def fastest(row: BenchRow) -> dict[int, str]:
    """Thread count -> the dtype of ``row``'s fastest timed file at that count (ties go to the earlier file, so
    fp32 when listed first); counts with no timed file are left out."""
    best: dict[int, tuple[float, str]] = {}
    for f in row.files:
        for t, ms in f.latency_ms.items():
            if t not in best or ms < best[t][0]:
                best[t] = (ms, f.dtype)
    return {t: d for t, (_, d) in sorted(best.items())}


def _fmt(key: str, v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if key == "params":
        return f"{v / 1e6:.2f} M"
    if key == "gmacs":
        return f"{v:.2f}"
    if key.startswith("bytes"):
        return format_mb(v)
    return f"{v:.1f}"


_HEADERS = {"params": "params", "gmacs": "GMAC", "bytes_fp32": "fp32 MB", "bytes_fp16": "fp16 MB",
            "bytes_int8": "int8 MB", "latency_ms_1t": "fp32 ms 1 thr", "latency_ms_2t": "fp32 ms 2 thr"}


def render_bench_table(rows: list[BenchRow], reference: str | None, *, title: str = "tryon bench",
                       caption: str = ""):
    """A ``rich.table.Table``: one row per model, each cell ``value (ratio×)`` against ``reference`` (plain
    values when it is None). Model names never wrap (print it with :func:`tryon.cli.tables.print_table`)."""
    from rich.table import Table

    rat = ratios(rows, reference)
    table = Table(title=title, caption=caption)
    table.add_column("model", no_wrap=True)
    for k in FIGURES:
        table.add_column(_HEADERS[k], justify="right")
    for r in rows:
        cells = []
        for k in FIGURES:
            v, q = r.figure(k), rat[r.name][k]
            cells.append(_fmt(k, v) if r.name == reference or q is None else f"{_fmt(k, v)} ({q:.2f}×)")
        table.add_row(r.name + (" (ref)" if r.name == reference else ""), *cells)
    return table


def render_file_table(rows: list[BenchRow], *, title: str = "model files side by side", caption: str = ""):
    """A ``rich.table.Table`` of every timed model file: size and latency per thread count, each with its ratio to
    the same model's fp32 file, the fastest file per thread count marked ``*``. Rows without files are left out."""
    from rich.table import Table

    table = Table(title=title, caption=caption)
    for name in ("model", "dtype", "file"):
        table.add_column(name, no_wrap=True)
    table.add_column("MB", justify="right")
    for t in THREADS:
        table.add_column(f"ms {t} thr", justify="right")
    for r in rows:
        base = next((f for f in r.files if f.dtype == "fp32"), None)
        best = fastest(r)
        for f in r.files:
            cells = []
            for key, v, b in [("bytes", f.bytes, base.bytes if base else None),
                              *((t, f.latency_ms.get(t), base.latency_ms.get(t) if base else None) for t in THREADS)]:
                text = format_mb(v) if key == "bytes" else ("—" if v is None else f"{v:.1f}")
                if v is not None and b and f is not base:
                    text += f" ({v / b:.2f}×)"
                if key != "bytes" and best.get(key) == f.dtype and len(r.files) > 1:
                    text += " *"
                cells.append(text)
            table.add_row(r.name, f.dtype, Path(f.path).name, *cells)
    return table


def bench_to_dict(rows: list[BenchRow], reference: str | None, meta: dict | None = None) -> dict:
    """JSON-ready dict: ``{"reference", "meta", "rows": [{name, figures..., "ratio": {figure: x}, "files": [{dtype,
    path, bytes, "latency_ms": {"1": ms, ...}}], "fastest": {"1": dtype, ...}}]}`` (thread counts as strings)."""
    rat = ratios(rows, reference)
    return {"reference": reference, "meta": meta or {},
            "rows": [{"name": r.name, **{k: r.figure(k) for k in FIGURES}, "notes": r.notes, "ratio": rat[r.name],
                      "files": [{"dtype": f.dtype, "path": f.path, "bytes": f.bytes,
                                 "latency_ms": {str(t): ms for t, ms in f.latency_ms.items()}} for f in r.files],
                      "fastest": {str(t): d for t, d in fastest(r).items()}}
                     for r in rows]}


def write_bench_json(rows: list[BenchRow], reference: str | None, path: str | os.PathLike,
                     meta: dict | None = None) -> Path:
    """Write :func:`bench_to_dict` as indented JSON, atomically.

    Raises:
        OutputError: the file cannot be written.
    """
    p = Path(path)
    atomic_write_bytes(p, (json.dumps(bench_to_dict(rows, reference, meta), indent=2) + "\n").encode())
    return p


def plot_files(rows: list[BenchRow], path: str | os.PathLike, *, title: str = "tryon bench") -> Path | None:
    """A PNG of every timed file: one panel per model, one group of bars per file (dtype), one bar per thread count,
    labelled with the ratio to the model's fp32 file; the file's size in MB under its name.

    Returns:
        ``path``, or None when no file was timed or matplotlib is not installed.

    Raises:
        OutputError: the file cannot be written.
    """
    timed = [r for r in rows if any(f.latency_ms for f in r.files)]
    if not timed:
        return None
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(timed), figsize=(4.5 * len(timed), 3.8), squeeze=False)
    width = 0.8 / len(THREADS)
    for ax, r in zip(axes[0], timed, strict=True):
        files = [f for f in r.files if f.latency_ms]
        base = next((f for f in files if f.dtype == "fp32"), None)
        for j, t in enumerate(THREADS):
            xs = [i + (j - (len(THREADS) - 1) / 2) * width for i in range(len(files))]
            ms = [f.latency_ms.get(t, math.nan) for f in files]
            bars = ax.bar(xs, ms, width, label=f"{t} thread{'s' if t > 1 else ''}")
            if base is not None and base.latency_ms.get(t):
                ax.bar_label(bars, [f"{m / base.latency_ms[t]:.2f}×" for m in ms], fontsize=7)
        ax.set_xticks(range(len(files)), [f"{f.dtype}\n{format_mb(f.bytes)} MB" for f in files], fontsize=8)
        ax.set_title(r.name if len(r.name) <= 40 else "…" + r.name[-39:], fontsize=9)
        ax.set_ylabel("median ms (onnxruntime CPU)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{title}: bar labels = ratio to the model's fp32 file", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    p = Path(path)
    atomic_write_bytes(p, buf.getvalue())
    return p
