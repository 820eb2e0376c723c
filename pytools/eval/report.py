"""Pictures and pages of an evaluation: the comparison grid, per-pair thumbnails, index.html, progress bar.

A grid row is person | garment | result | result zoomed on what it changed [| ground truth], each tile
letterboxed to ``TILE`` (height, width), with a caption band above (pair name and key metrics). A failed pair shows a failure tile naming the error
where the result would be.
"""

from __future__ import annotations

import contextlib
import html
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tryon.errors import DataError

__all__ = ["TILE", "DIFF_LEVEL", "GridRow", "make_row", "diff_box", "zoom_tile", "fit_tile", "failure_tile", "strip",
           "caption", "grid_image", "save_grid", "write_html", "progress_bar"]

TILE = (256, 192)
"""(height, width) of one grid tile, pixels."""
_CAPTION_H = 34
_HEADER_H = 22
_BG = (245, 245, 245)
_COLUMNS = ("person", "garment", "result", "result, zoomed", "ground truth")
DIFF_LEVEL = 10
"""Two pixels differ when a channel differs by more than this many levels (0-255): above JPEG noise in results/."""


def _font(size: int = 13) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the bitmap font
        return ImageFont.load_default()


def fit_tile(image: np.ndarray | None, tile: tuple[int, int] = TILE) -> np.ndarray:
    """Letterbox an (H, W, 3) uint8 image into a (tile_h, tile_w, 3) tile (light grey bars); blank if None."""
    th, tw = tile
    canvas = np.full((th, tw, 3), _BG, np.uint8)
    if image is None:
        return canvas
    h, w = image.shape[:2]
    s = min(th / h, tw / w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    small = np.asarray(Image.fromarray(image).resize((nw, nh), Image.BILINEAR, reducing_gap=2.0))
    y, x = (th - nh) // 2, (tw - nw) // 2
    canvas[y:y + nh, x:x + nw] = small
    return canvas


def failure_tile(text: str, tile: tuple[int, int] = TILE) -> np.ndarray:
    """A tile saying FAILED with the error name and message (wrapped), on a dark red background."""
    th, tw = tile
    img = Image.new("RGB", (tw, th), (110, 24, 24))
    d = ImageDraw.Draw(img)
    d.line([(0, 0), (tw - 1, th - 1)], fill=(150, 50, 50), width=3)
    d.line([(0, th - 1), (tw - 1, 0)], fill=(150, 50, 50), width=3)
    d.text((8, 8), "FAILED", fill=(255, 255, 255), font=_font(18))
    lines = textwrap.wrap(text, width=max(10, tw // 7))[:12]
    d.multiline_text((8, 36), "\n".join(lines), fill=(255, 235, 235), font=_font(11), spacing=3)
    return np.asarray(img)


def diff_box(a: np.ndarray, b: np.ndarray, *, level: int = DIFF_LEVEL, margin: float = 0.25,
             aspect: float = TILE[1] / TILE[0], min_share: float = 0.0) -> tuple[int, int, int, int] | None:
    """The box around the pixels where two images differ, widened to ``aspect`` and clipped to the image.

    The 1st-99th percentiles of the differing pixels' coordinates bound the box (a few stray pixels far away do
    not blow it up to the whole photo), then ``margin`` x its size is added on each side so the crop shows
    context.

    Args:
        a, b: (H, W, 3) uint8 images of the same size.
        level: a pixel differs when a channel differs by more than this (0-255).
        margin: context added on each side, as a fraction of the box's size.
        aspect: width / height of the returned box (before clipping at the image's edges).
        min_share: at least this share of the image's pixels must differ.

    Returns:
        (x0, y0, x1, y1) in pixels (exclusive ends), or None when fewer than 16 pixels (or ``min_share``) differ.

    Raises:
        DataError: the images differ in shape.
    """
    if a.shape != b.shape:
        raise DataError(f"cannot compare images of shapes {a.shape} and {b.shape}")
    d = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > level
    ys, xs = np.nonzero(d)
    if len(xs) < max(16, min_share * d.size):
        return None
    x0, x1 = np.percentile(xs, [1, 99])
    y0, y1 = np.percentile(ys, [1, 99])
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_h = max(y1 - y0 + 1, (x1 - x0 + 1) / aspect) * (0.5 + margin)
    half_w = half_h * aspect
    h, w = d.shape
    return (max(0, int(cx - half_w)), max(0, int(cy - half_h)), min(w, int(np.ceil(cx + half_w))),
            min(h, int(np.ceil(cy + half_h))))


def zoom_tile(person: np.ndarray | None, result: np.ndarray | None, tile: tuple[int, int] = TILE) -> np.ndarray:
    """The result cropped to where it differs from the person photo (:func:`diff_box`), letterboxed.

    On a full-body or landscape photo the garment is a small part of the frame; this tile shows it at a size a
    person can judge. Blank when nothing differs or the two are not the same size.
    """
    if person is None or result is None or person.shape != result.shape:
        return fit_tile(None, tile)
    box = diff_box(person, result)
    if box is None:
        return fit_tile(None, tile)
    x0, y0, x1, y1 = box
    return fit_tile(result[y0:y1, x0:x1], tile)


@dataclass
class GridRow:
    """One pair in the grid: its tiles (already letterboxed) and the caption."""

    name: str
    tiles: list[np.ndarray]
    caption: str
    failed: bool


def make_row(name: str, person: np.ndarray | None, garment: np.ndarray | None, result: np.ndarray | None,
             gt: np.ndarray | None, *, caption: str, error: str | None, with_gt: bool = True) -> GridRow:
    """Build a grid row; the images are shrunk to tiles at once (rows hold no full-size images)."""
    if error is not None:
        tiles = [fit_tile(person), fit_tile(garment), failure_tile(error), fit_tile(None)]
    else:
        tiles = [fit_tile(person), fit_tile(garment), fit_tile(result), zoom_tile(person, result)]
    if with_gt and gt is not None:
        tiles.append(fit_tile(gt))
    return GridRow(name, tiles, caption if error is None else f"{name}\nFAILED {error.split(':')[0]}",
                   error is not None)


def strip(tiles: list[np.ndarray]) -> np.ndarray:
    """Tiles side by side, 4 px apart -> (H, W, 3) uint8."""
    gap = np.full((tiles[0].shape[0], 4, 3), 255, np.uint8)
    parts: list[np.ndarray] = []
    for t in tiles:
        parts += [t, gap]
    return np.concatenate(parts[:-1], axis=1)


def _fmt(v: Any, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def caption(row: dict[str, Any]) -> str:
    """Two-line summary for the grid: the pair name, then its key metrics."""
    parts: list[str] = []
    if row.get("identity_ssim") is not None:
        parts.append(f"id SSIM {_fmt(row['identity_ssim'])} L1 {_fmt(row['identity_l1'])}")
    if row.get("garment_cosine") is not None:
        parts.append(f"garm cos {_fmt(row['garment_cosine'])}")
    if row.get("gt_ssim") is not None:
        parts.append(f"GT SSIM {_fmt(row['gt_ssim'])}")
    if row.get("confidence") is not None:
        parts.append(f"conf {_fmt(row['confidence'])}")
    if row.get("seconds") is not None:
        parts.append(f"{row['seconds']:.2f} s")
    return row["name"] + "\n" + " | ".join(parts)


def _fit_text(d: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont, width: int) -> str:
    """Shorten ``text`` with an ellipsis until it fits ``width`` pixels."""
    if d.textlength(text, font=font) <= width:
        return text
    while text and d.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def grid_image(rows: list[GridRow], *, has_gt: bool) -> np.ndarray:
    """Compose the grid: a header with column names, then per pair a caption band and its tiles."""
    ncol = 5 if has_gt else 4
    th, tw = TILE
    gap = 4
    width = ncol * tw + (ncol - 1) * gap
    height = _HEADER_H + len(rows) * (_CAPTION_H + th + gap)
    img = Image.new("RGB", (width, max(height, _HEADER_H + 1)), (255, 255, 255))
    d = ImageDraw.Draw(img)
    for c in range(ncol):
        d.text((c * (tw + gap) + 4, 4), _COLUMNS[c], fill=(60, 60, 60), font=_font(14))
    y = _HEADER_H
    font = _font(12)
    for r in rows:
        lines = [_fit_text(d, line, font, width - 8) for line in r.caption.split("\n")[:2]]
        d.multiline_text((4, y + 3), "\n".join(lines), fill=(170, 20, 20) if r.failed else (20, 20, 20),
                         font=font, spacing=2)
        y += _CAPTION_H
        for c, t in enumerate(r.tiles[:ncol]):
            img.paste(Image.fromarray(t), (c * (tw + gap), y))
        y += th + gap
    return np.asarray(img)


def save_grid(path: str | Path, rows: list[GridRow], *, has_gt: bool) -> None:
    """Write grid.png atomically (see :func:`grid_image`)."""
    from tryon.processing import save_image

    save_image(path, grid_image(rows, has_gt=has_gt))


_CSS = ("body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}"
        "td.l,th.l{text-align:left}tr.fail td{color:#a00}img.t{height:96px}.note{color:#666;max-width:60em}")


def write_html(path: str | Path, result: dict[str, Any]) -> None:
    """Write a small self-contained index.html: aggregate table, grid image, per-pair table with thumbnails.

    All text from the data (paths, names, error messages) is HTML-escaped; images are referenced as files
    relative to the page (grid.png, thumbs/, results/).
    """
    from tryon.processing import atomic_write_bytes

    e = html.escape
    agg = result["aggregate"]
    out: list[str] = ["<!doctype html><html><head><meta charset='utf-8'>",
                      f"<title>tryon eval {e(result.get('method') or '')}</title><style>{_CSS}</style></head><body>",
                      f"<h1>Try-on evaluation {e(result.get('method') or '')}</h1>",
                      f"<p>{e(result['created'])} · {result['counts']['pairs']} pairs, "
                      f"{result['counts']['ok']} ok, {result['counts']['failed']} failed, "
                      f"{result['counts']['real']} real photos · eval size "
                      f"{e('x'.join(str(v) for v in result['settings']['eval_size']))}</p>",
                      "<h2>Aggregates</h2><table><tr><th class=l>metric</th><th>value</th></tr>"]
    for key in ("fid", "kid_x1000", "kid_x1000_std"):
        out.append(f"<tr><td class=l>{e(key)}</td><td>{_fmt(agg.get(key))}</td></tr>")
    if agg.get("reason"):
        out.append(f"<tr><td class=l>FID/KID</td><td class=l>{e(agg['reason'])}</td></tr>")
    out.append("</table><table style='margin-top:1em'><tr><th class=l>per-pair metric</th><th>mean</th>"
               "<th>median</th><th>min</th><th>max</th><th>n</th></tr>")
    for key, st in agg.items():
        if isinstance(st, dict):
            out.append(f"<tr><td class=l>{e(key)}</td>" + "".join(
                f"<td>{_fmt(st[k], 4)}</td>" for k in ("mean", "median", "min", "max")) + f"<td>{st['n']}</td></tr>")
    out.append(f"</table><p class=note>{e(result['settings']['fid']['note'])} KID is reported ×1000.</p>")
    out.append("<h2>Grid</h2><p><img src='grid.png' alt='comparison grid' style='max-width:100%'></p>")
    out.append("<h2>Pairs</h2><table><tr><th class=l>pair</th><th class=l>person | garment | result | GT</th>"
               "<th>s</th><th>id SSIM</th><th>id L1</th><th>garm cos</th><th>GT SSIM</th><th>GT dist</th>"
               "<th class=l>error</th></tr>")
    for r in result["pairs"]:
        thumb = (f"<a href='{e(r['result'] or r['thumbnail'] or '')}'><img class=t src='{e(r['thumbnail'])}' "
                 f"alt='{e(r['name'])}'></a>" if r.get("thumbnail") else "")
        err = f"{r['error']['name']}: {r['error']['message']}" if r.get("error") else ""
        out.append(f"<tr class='{'fail' if r['status'] != 'ok' else 'ok'}'><td class=l>{e(r['name'])}</td>"
                   f"<td class=l>{thumb}</td><td>{_fmt(r['seconds'], 2)}</td><td>{_fmt(r['identity_ssim'])}</td>"
                   f"<td>{_fmt(r['identity_l1'], 4)}</td><td>{_fmt(r['garment_cosine'])}</td>"
                   f"<td>{_fmt(r['gt_ssim'])}</td><td>{_fmt(r['gt_feature_distance'])}</td>"
                   f"<td class=l>{e(err)}</td></tr>")
    out.append("</table></body></html>\n")
    atomic_write_bytes(path, "\n".join(out).encode("utf-8"))


@contextlib.contextmanager
def progress_bar(*, enabled: bool = True) -> Iterator[Any]:
    """A rich progress bar on stderr (spinner, bar, count, elapsed, remaining); silent when not enabled."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    progress = Progress(SpinnerColumn(), TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
                        disable=not enabled)
    with progress:
        yield progress
