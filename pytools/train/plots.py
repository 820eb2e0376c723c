"""Training pictures: the loss-curve PNG and the validation grid PNG written after every epoch.

The curve uses matplotlib (Agg backend, no display needed) when it is installed and falls back to a plain
Pillow line drawing otherwise; the grid is always Pillow. Both files are written atomically
(``tryon.processing.atomic_write_bytes`` / ``save_image``), so a viewer never sees half a PNG.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from tryon.processing import atomic_write_bytes, save_image

__all__ = ["plot_loss_curves", "validation_grid", "GRID_COLUMNS"]

GRID_COLUMNS = ("person", "garment", "teacher", "student")


def _smooth(values: Sequence[float], window: int) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(v) < window:
        return v
    kernel = np.ones(window) / window
    head = np.array([v[: i + 1].mean() for i in range(window - 1)])
    return np.concatenate([head, np.convolve(v, kernel, mode="valid")])


def plot_loss_curves(path: str | Path, train: dict[str, tuple[list[int], list[float]]],
                     val: dict[str, tuple[list[int], list[float]]] | None = None, *, title: str = "student") -> Path:
    """Draw loss curves (log scale) against the optimiser step.

    Args:
        path: the PNG to write.
        train: ``{term: (steps, values)}`` of the training losses (smoothed over ~2 % of the points).
        val: the same for validation losses (drawn with markers), or None.

    Returns:
        ``path``.
    """
    path = Path(path)
    val = val or {}
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return _pillow_curves(path, train, val, title)
    fig, ax = plt.subplots(figsize=(9, 5), dpi=100)
    for i, (name, (steps, values)) in enumerate(sorted(train.items())):
        if not steps:
            continue
        ax.plot(steps, _smooth(values, max(1, len(values) // 50)), label=name, color=f"C{i % 10}", linewidth=1.2)
        if name in val and val[name][0]:
            ax.plot(*val[name], "o--", color=f"C{i % 10}", markersize=4, linewidth=0.8, label=f"val {name}")
    for name, (steps, values) in val.items():
        if name not in train and steps:
            ax.plot(steps, values, "o--", markersize=4, linewidth=0.8, label=f"val {name}")
    if any(v > 0 for _, vals in train.values() for v in vals):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _pillow_curves(path: Path, train: dict, val: dict, title: str) -> Path:
    """Fallback without matplotlib: log-scale polylines on a white canvas, a legend in the corner."""
    w, h, m = 900, 500, 50
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    series = [(n, s, v, False) for n, (s, v) in sorted(train.items()) if s]
    series += [(n, s, v, True) for n, (s, v) in sorted(val.items()) if s]
    pos = [x for _, _, vals, _ in series for x in vals if x > 0]
    if not series or not pos:
        d.text((m, m), f"{title}: no losses yet", fill="black")
    else:
        smax = max(max(s) for _, s, _, _ in series) or 1
        lo, hi = math.log10(min(pos)), math.log10(max(pos))
        hi = hi if hi > lo else lo + 1
        colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
        d.rectangle((m, m, w - m, h - m), outline="black")
        for i, (name, steps, values, is_val) in enumerate(series):
            pts = [(m + (w - 2 * m) * s / smax, h - m - (h - 2 * m) * (math.log10(max(v, 1e-12)) - lo) / (hi - lo))
                   for s, v in zip(steps, values if is_val else _smooth(values, max(1, len(values) // 50)),
                                   strict=True)]
            c = colours[i % len(colours)]
            if len(pts) > 1:
                d.line(pts, fill=c, width=2)
            for x, y in pts if is_val else pts[-1:]:
                d.ellipse((x - 2, y - 2, x + 2, y + 2), fill=c)
            d.text((w - m - 150, m + 5 + 12 * i), ("val " if is_val else "") + name, fill=c)
        d.text((m, h - m + 10), f"step 0 .. {smax}   loss 1e{lo:.1f} .. 1e{hi:.1f} (log)", fill="black")
        d.text((m, 10), title, fill="black")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())
    return path


def validation_grid(path: str | Path, rows: Sequence[Sequence[np.ndarray]], *,
                    columns: Sequence[str] = GRID_COLUMNS, caption: str = "") -> Path:
    """Tile images into a labelled grid: one row per sample, columns person | garment | teacher | student.

    Args:
        path: the PNG to write.
        rows: per sample, one (H, W, 3) uint8 image per column (all the same size).
        columns: column titles.
        caption: a line under the titles (e.g. "epoch 3, step 1200").

    Returns:
        ``path``.
    """
    if not rows:
        raise ValueError("no rows to draw")
    h, w = rows[0][0].shape[:2]
    top = 32 if caption else 18
    canvas = Image.new("RGB", (w * len(columns), top + h * len(rows)), "white")
    d = ImageDraw.Draw(canvas)
    for j, name in enumerate(columns):
        d.text((j * w + 4, 3), name, fill="black")
    if caption:
        d.text((4, 17), caption, fill="#555555")
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            canvas.paste(Image.fromarray(np.ascontiguousarray(img)), (j * w, top + i * h))
    save_image(Path(path), np.asarray(canvas))
    return Path(path)
