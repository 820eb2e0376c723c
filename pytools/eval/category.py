"""Measure the garment category classifier on labelled garment photos: a confusion matrix and a picture of the
garments it got wrong.

Each photo goes through what ``category=auto`` does in ``tryon run``, the server and the student runner: the
classical garment mask (:func:`tryon.garment.mask.garment_mask`; a photo it refuses counts as ``refused``),
then :func:`tryon.garment.category.classify_garment`. Rows of the matrix are the labels, columns the outcomes:
the three categories, ``uncertain`` and ``refused``. A garment of another category in the ``tops`` column is
the failure that matters (it would be dressed as a top); ``uncertain`` and ``refused`` are refusals.

The labels CSV has the columns ``file`` (relative to the photo folder) and ``category`` (any accepted spelling;
rows with an empty category are skipped, so a manifest listing persons too can be given as it is).
"""

from __future__ import annotations

import csv
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tryon.errors import DataError

__all__ = ["LabelledGarment", "Outcome", "CategoryReport", "OUTCOMES", "read_labels", "classify_photo",
           "evaluate_categories", "format_confusion", "mistakes_sheet"]

log = logging.getLogger(__name__)

OUTCOMES = ("tops", "bottoms", "one-pieces", "uncertain", "refused")
"""Columns of the confusion matrix: the categories, the classifier's ``uncertain``, and a refused photo."""


@dataclass(frozen=True)
class LabelledGarment:
    """One row of a labels CSV.

    Attributes:
        file: photo path relative to the photo folder.
        category: the label, one of :data:`tryon.garment.category.FASHN_CATEGORIES`.
    """

    file: str
    category: str


@dataclass(frozen=True)
class Outcome:
    """What the classifier made of one photo.

    Attributes:
        file, truth: from the labels; predicted: one of :data:`OUTCOMES`; reason: the classifier's reason or
        the refusal's message; seconds: mask plus classification time.
    """

    file: str
    truth: str
    predicted: str
    reason: str
    seconds: float


@dataclass
class CategoryReport:
    """All outcomes of one run and their confusion matrix (``confusion[(truth, predicted)] = count``)."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def confusion(self) -> Counter:
        return Counter((o.truth, o.predicted) for o in self.outcomes)

    @property
    def dressed_as_tops(self) -> list[Outcome]:
        """Garments of another category that ``auto`` would dress as a top (the failure to avoid)."""
        return [o for o in self.outcomes if o.truth != "tops" and o.predicted == "tops"]

    def as_dict(self) -> dict:
        """JSON-ready: the matrix as ``{truth: {outcome: count}}`` and every outcome."""
        from tryon.garment.category import FASHN_CATEGORIES

        cm = self.confusion
        return {"confusion": {t: {p: cm[(t, p)] for p in OUTCOMES} for t in FASHN_CATEGORIES},
                "outcomes": [o.__dict__ for o in self.outcomes]}


def read_labels(path: str | Path) -> list[LabelledGarment]:
    """Read a labels CSV (see the module docstring).

    Raises:
        DataError: no ``file`` or ``category`` column, an unknown category, or no labelled row.
    """
    from tryon.errors import UsageError
    from tryon.garment.category import normalise_category

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"cannot read the labels CSV {path}: {exc.strerror or exc}") from None
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames or not {"file", "category"} <= set(reader.fieldnames):
        raise DataError(f"{path}: needs the columns file,category; has "
                        f"{','.join(reader.fieldnames or []) or 'none'}")
    rows = []
    for i, r in enumerate(reader, start=2):
        if not (r.get("category") or "").strip():
            continue
        try:
            cat = normalise_category(r["category"])
        except UsageError as exc:
            raise DataError(f"{path}:{i}: {exc.message}") from None
        if cat == "auto":
            raise DataError(f"{path}:{i}: a label must name the category, not auto")
        rows.append(LabelledGarment(r["file"], cat))
    if not rows:
        raise DataError(f"{path}: no row has a category")
    return rows


def classify_photo(image: np.ndarray) -> tuple[str, str]:
    """What ``category=auto`` makes of a garment photo: ``(outcome, reason)``, outcome one of :data:`OUTCOMES`.

    Args:
        image: (H, W, 3) uint8 RGB garment photo.
    """
    from tryon.errors import TryonError
    from tryon.garment.category import classify_garment, fashn_category
    from tryon.garment.mask import garment_mask

    try:
        mask = garment_mask(image)
    except TryonError as exc:
        return "refused", f"{exc.name}: {exc.message}"
    info = classify_garment(image, mask)
    return fashn_category(info), info.reason


def evaluate_categories(folder: str | Path, labels: list[LabelledGarment], *, progress: bool = True,
                        ) -> CategoryReport:
    """Classify every labelled photo (see :func:`classify_photo`).

    Args:
        folder: the folder the labels' paths are relative to.
        labels: from :func:`read_labels`.
        progress: show a progress bar on stderr.

    Raises:
        DataError: a labelled photo is missing.
        UnreadableImageError and the other image errors of :func:`tryon.processing.load_image`.
    """
    from tryon.eval.report import progress_bar
    from tryon.processing import load_image

    folder = Path(folder)
    missing = [g.file for g in labels if not (folder / g.file).is_file()]
    if missing:
        raise DataError(f"{len(missing)} labelled photo(s) not found under {folder}, e.g. {missing[0]}")
    report = CategoryReport()
    with progress_bar(enabled=progress) as bar:
        task = bar.add_task("classifying garments", total=len(labels))
        for g in labels:
            image = load_image(folder / g.file)
            t = time.perf_counter()
            predicted, reason = classify_photo(image)
            report.outcomes.append(Outcome(g.file, g.category, predicted, reason, time.perf_counter() - t))
            bar.advance(task)
    return report


def format_confusion(report: CategoryReport, *, title: str = "") -> str:
    """The confusion matrix as plain text: rows truth, columns outcome, with row totals and a summary line."""
    from tryon.garment.category import FASHN_CATEGORIES

    cm = report.confusion
    width = max(len(c) for c in OUTCOMES) + 2
    lines = [title] if title else []
    lines.append("truth \\ outcome".ljust(16) + "".join(c.rjust(width) for c in OUTCOMES) + "total".rjust(width))
    for t in FASHN_CATEGORIES:
        n = sum(cm[(t, p)] for p in OUTCOMES)
        lines.append(t.ljust(16) + "".join(str(cm[(t, p)]).rjust(width) for p in OUTCOMES) + str(n).rjust(width))
    wrong = report.dressed_as_tops
    tops = sum(cm[("tops", p)] for p in OUTCOMES)
    lines.append(f"dressed as a top although not a top: {len(wrong)}"
                 + (f" ({', '.join(o.file for o in wrong)})" if wrong else ""))
    if tops:
        lines.append(f"tops dressed: {cm[('tops', 'tops')]} of {tops} ({cm[('tops', 'tops')] / tops:.0%})")
    return "\n".join(lines)


def mistakes_sheet(report: CategoryReport, folder: str | Path, path: str | Path, *, columns: int = 8) -> int:
    """Write a picture of every photo whose outcome is not its label, captioned ``truth -> outcome``.

    Returns:
        the number of photos on the sheet (nothing is written when it is 0).
    """
    from PIL import Image, ImageDraw

    from tryon.eval.report import _font, fit_tile
    from tryon.processing import load_image, save_image

    wrong = [o for o in report.outcomes if o.predicted != o.truth]
    if not wrong:
        return 0
    th, tw = 192, 144
    cap = 30
    rows = (len(wrong) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * (tw + 4), rows * (th + cap + 4)), (255, 255, 255))
    d = ImageDraw.Draw(sheet)
    font = _font(11)
    for i, o in enumerate(wrong):
        x, y = (i % columns) * (tw + 4), (i // columns) * (th + cap + 4)
        sheet.paste(Image.fromarray(fit_tile(load_image(Path(folder) / o.file), (th, tw))), (x, y + cap))
        colour = (170, 0, 0) if o.predicted == "tops" else (60, 60, 60)
        d.text((x + 2, y + 2), f"{o.truth} -> {o.predicted}", fill=colour, font=font)
        d.text((x + 2, y + 15), Path(o.file).name[:24], fill=(90, 90, 90), font=font)
    save_image(path, np.asarray(sheet))
    return len(wrong)
