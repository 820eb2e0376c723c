"""Side-by-side sheets of two evaluations of the same pairs (``tryon eval-compare A B``).

Two methods or settings (the classical fill and the learned refiner, the student and the teacher) are judged by
eye pair by pair; on a full-body photo the garment is a small part of the frame and a whole-photo grid hides
what differs. Each sheet row is therefore person | A | B | ``|A - B|`` x4, all cropped to the same box around
the pixels where A and B differ (where neither differs from the other: around what A changed in the person
photo; where A changed nothing either: the whole photo). ``compare.csv`` lists one row per pair with an empty
``judgement`` column to fill in (``A better | same | B better``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from tryon.errors import DataError
from tryon.eval.report import DIFF_LEVEL, diff_box, failure_tile, fit_tile, strip

__all__ = ["load_eval", "compare_evals"]

_ROW_TILE = (360, 270)          # (height, width) of a sheet tile, pixels: larger than the grid's, crops are small
_CAPTION_H = 20
_MIN_SHARE = 0.001              # A and B must differ on 0.1 % of the photo for the crop to follow their difference


def load_eval(folder: str | Path) -> tuple[Path, dict[str, dict[str, Any]]]:
    """The pairs of a ``tryon eval`` output folder, by pair name.

    Args:
        folder: a folder written by ``tryon eval`` (``metrics.json``, ``results/``).

    Returns:
        (the folder, {pair name: its ``metrics.json`` row}).

    Raises:
        DataError: no readable ``metrics.json`` with a ``pairs`` list in ``folder``.
    """
    folder = Path(folder)
    path = folder / "metrics.json"
    try:
        pairs = json.loads(path.read_text())["pairs"]
        return folder, {str(p["name"]): p for p in pairs}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: not a `tryon eval` output ({exc}); give folders written by `tryon eval -o`") \
            from None


def _result(folder: Path, row: dict[str, Any], size: tuple[int, int]) -> np.ndarray | None:
    from tryon.processing import load_image, resize

    if row.get("status") != "ok" or not row.get("result"):
        return None
    img = load_image(folder / row["result"])
    return img if img.shape[:2] == size else resize(img, size)


def _error(row: dict[str, Any]) -> str:
    err = row.get("error") or {}
    return f"{err.get('name', 'failed')}: {err.get('message', '')}" if isinstance(err, dict) else str(err)


def _caption(tile_row: np.ndarray, text: str) -> np.ndarray:
    from PIL import Image, ImageDraw

    band = Image.new("RGB", (tile_row.shape[1], _CAPTION_H), (255, 255, 255))
    ImageDraw.Draw(band).text((4, 4), text, fill=(20, 20, 20))
    return np.concatenate([np.asarray(band), tile_row], axis=0)


def compare_evals(dir_a: str | Path, dir_b: str | Path, out_dir: str | Path, *, labels: tuple[str, str] = ("A", "B"),
                  rows_per_sheet: int = 4) -> dict[str, Any]:
    """Write side-by-side sheets and ``compare.csv`` for the pairs two evaluations share.

    Args:
        dir_a, dir_b: ``tryon eval`` output folders of the same pairs (matched by pair name).
        out_dir: where ``compare_<k>.png`` and ``compare.csv`` go (created).
        labels: the two columns' names (e.g. ``("classical", "refined")``).
        rows_per_sheet: pairs per sheet image.

    Returns:
        ``{"pairs": n, "sheets": [paths], "csv": path, "identical": n, "failed_a": n, "failed_b": n}``;
        ``identical``: pairs where both results exist and no pixel differs by more than :data:`DIFF_LEVEL`.

    Raises:
        DataError: a folder is not a ``tryon eval`` output, or the two share no pair.
    """
    from tryon.processing import load_image, save_image

    fa, rows_a = load_eval(dir_a)
    fb, rows_b = load_eval(dir_b)
    names = [n for n in rows_a if n in rows_b]
    if not names:
        raise DataError(f"{fa} and {fb} share no pair name: run `tryon eval` on the same pairs CSV for both")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table: list[dict[str, Any]] = []
    strips: list[np.ndarray] = []
    identical = 0
    for name in names:
        ra, rb = rows_a[name], rows_b[name]
        person = load_image(ra["person"])
        size = person.shape[:2]
        a, b = _result(fa, ra, size), _result(fb, rb, size)
        box = None
        changed = 0
        if a is not None and b is not None:
            changed = int((np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > DIFF_LEVEL).sum())
            identical += changed == 0
            # A handful of differing pixels (resampling, JPEG) would zoom onto noise: show the try-on instead.
            box = diff_box(a, b, min_share=_MIN_SHARE)
        if box is None:
            ref = a if a is not None else b
            box = diff_box(person, ref) if ref is not None else None
        x0, y0, x1, y1 = box or (0, 0, size[1], size[0])

        def crop(img, x0=x0, y0=y0, x1=x1, y1=y1):
            return img[y0:y1, x0:x1]

        tiles = [fit_tile(crop(person), _ROW_TILE)]
        for img, row in ((a, ra), (b, rb)):
            tiles.append(fit_tile(crop(img), _ROW_TILE) if img is not None else failure_tile(_error(row), _ROW_TILE))
        diff = None if a is None or b is None else \
            np.clip(np.abs(a.astype(np.int16) - b.astype(np.int16)) * 4, 0, 255).astype(np.uint8)
        tiles.append(fit_tile(None if diff is None else crop(diff), _ROW_TILE))
        secs = [r.get("seconds") for r in (ra, rb)]
        text = (f"{name} | person | {labels[0]} | {labels[1]} | |diff| x4 | changed {changed} px | "
                + " vs ".join("–" if s is None else f"{s:.2f} s" for s in secs))
        strips.append(_caption(strip(tiles), text))
        table.append({"pair": name, f"status_{labels[0]}": ra.get("status"), f"status_{labels[1]}": rb.get("status"),
                      f"seconds_{labels[0]}": secs[0], f"seconds_{labels[1]}": secs[1], "changed_px": changed,
                      "box": f"{x0} {y0} {x1} {y1}", "judgement": ""})
    sheets = []
    for k in range(0, len(strips), rows_per_sheet):
        chunk = strips[k:k + rows_per_sheet]
        width = max(s.shape[1] for s in chunk)
        chunk = [np.pad(s, ((0, 4), (0, width - s.shape[1]), (0, 0)), constant_values=255) for s in chunk]
        path = out / f"compare_{k // rows_per_sheet}.png"
        save_image(path, np.concatenate(chunk, axis=0))
        sheets.append(path)
    csv_path = out / "compare.csv"
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    return {"pairs": len(names), "sheets": sheets, "csv": csv_path, "identical": identical,
            "failed_a": sum(rows_a[n].get("status") != "ok" for n in names),
            "failed_b": sum(rows_b[n].get("status") != "ok" for n in names)}
