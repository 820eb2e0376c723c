"""Garment category ("top" | "dress" | "lower") and sleeve type from the mask shape.

Rules on the normalised mask (:func:`tryon.garment.landmarks.analyse_shape`), no network:

* lower (trousers): a background gap at the bottom centre between two legs over a good part of the height;
* lower (trousers with touching legs): tall, with a flat full-width waistband and no neck dip;
* lower (skirt): no neck dip and no shoulders: a flat, full-width waistband at the top, widening downwards
  (trapezoid), and short;
* dress: long relative to its torso (armpit-to-armpit or shoulder) width (a top part, then a long skirt part);
* top: everything else.

Sleeves ("none" | "short" | "long") come from the landmarks: no sleeve past the armpit = none; a sleeve whose
length (armpit to inner sleeve end) exceeds about half the armpit-to-hem height = long.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from tryon.errors import UnsupportedCategoryError
from tryon.garment.landmarks import _landmarks_work, analyse_shape

log = logging.getLogger(__name__)

__all__ = ["GarmentInfo", "classify_garment", "require_supported", "normalise_category", "internal_category",
           "CATEGORIES", "FASHN_CATEGORIES", "SLEEVES"]

CATEGORIES = ("top", "dress", "lower")
"""The classifier's own names (the teacher's geometry is written in them)."""
FASHN_CATEGORIES = ("tops", "bottoms", "one-pieces")
"""The categories users name (FASHN's API vocabulary), in the CLI, pairs CSVs, the API and the widget."""
SLEEVES = ("none", "short", "long")

_ALIASES = {
    "tops": "tops", "top": "tops", "upper_body": "tops",
    "bottoms": "bottoms", "bottom": "bottoms", "lower": "bottoms", "lower_body": "bottoms",
    "one-pieces": "one-pieces", "one-piece": "one-pieces", "dress": "one-pieces", "dresses": "one-pieces",
    "auto": "auto", "": "auto",
}
_INTERNAL = {"tops": "top", "bottoms": "lower", "one-pieces": "dress"}


def normalise_category(name: str | None) -> str:
    """A category in any accepted spelling -> ``auto`` or one of :data:`FASHN_CATEGORIES`.

    Accepts FASHN's ``tops | bottoms | one-pieces | auto``, the classifier's ``top | dress | lower``, and
    ``upper_body | lower_body | dresses`` (other hosted APIs); case-insensitive; None means ``auto``.

    Raises:
        UsageError: an unknown name (the message lists the accepted ones).
    """
    from tryon.errors import UsageError

    key = (name or "").strip().lower()
    if key not in _ALIASES:
        raise UsageError(f"unknown garment category {name!r}: use auto, {', '.join(FASHN_CATEGORIES)} "
                         "(or top, dress, lower)")
    return _ALIASES[key]


def internal_category(name: str | None) -> str | None:
    """Any accepted category name -> the classifier's (``top | dress | lower``), None for ``auto``.

    Raises:
        UsageError: an unknown name.
    """
    return _INTERNAL.get(normalise_category(name))


@dataclass(frozen=True)
class GarmentInfo:
    """What kind of garment a photo shows.

    Attributes:
        category: "top" | "dress" | "lower".
        sleeve: "none" | "short" | "long" (meaningful for tops and dresses; "none" for lower-body garments).
    """

    category: str
    sleeve: str


def _leg_gap(m: np.ndarray, cx: float, top: int, bottom: int) -> float:
    """Fraction of the garment height, within its lower 65 %, whose row has a narrow background gap at the
    centre column with garment on both sides: the gap between two trouser legs (legs may touch again at the
    ankles). Wide gaps are not counted: those are sleeves hanging below a cropped top's hem."""
    h = bottom - top + 1
    ci = int(round(cx))
    band = max(1, int(0.015 * m.shape[1]))
    gap = 0
    for y in range(int(top + 0.35 * h), bottom + 1):
        row = m[y]
        if row[max(0, ci - band): ci + band + 1].any():
            continue
        cols = np.nonzero(row)[0]
        lft, rgt = cols[cols < ci], cols[cols > ci]
        if len(lft) and len(rgt) and (rgt.min() - lft.max()) < 0.45 * (rgt.max() - lft.min()):
            gap += 1
    return gap / h


def classify_garment(image: np.ndarray | None, mask: np.ndarray) -> GarmentInfo:
    """Classify a garment photo's category and sleeve type from its mask.

    Args:
        image: (H, W, 3) uint8 RGB garment photo (used for the neckline), or None.
        mask: (H, W) float32 [0, 1] garment mask.

    Returns:
        GarmentInfo(category, sleeve).

    Raises:
        ValueError: the mask is empty.
    """
    sa = analyse_shape(mask)
    m = sa.mask
    h = sa.height
    if _leg_gap(m, sa.cx, sa.top, sa.bottom) > 0.2:
        return GarmentInfo("lower", "none")
    rows = m[sa.top:sa.bottom + 1]
    widths = rows.sum(axis=1).astype(float)
    top_w = np.median(widths[: max(2, int(0.03 * h))])
    # Skirt / shorts: the top row is already a full waistband (no neck dip, no shoulders), then it widens.
    ci = int(round(sa.cx))
    neck_dip = rows[: int(0.04 * h) + 1, max(0, ci - 2): ci + 3].mean() < 0.5
    w10 = np.median(widths[int(0.08 * h): int(0.12 * h) + 1])
    no_valley = sa.armpit["left"] is None and sa.armpit["right"] is None
    if (not neck_dip and no_valley and top_w > 0.5 * widths.max() and top_w >= 0.9 * w10
            and np.median(widths[int(0.8 * h):]) > 1.1 * top_w):
        return GarmentInfo("lower", "none")
    if not neck_dip and top_w >= 0.9 * w10 and h > 1.8 * widths.max():
        # Tall, flat waistband on top, no neckline: trousers whose legs touch (no visible gap).
        return GarmentInfo("lower", "none")
    pts = _landmarks_work(image, sa, None)
    sleeve = "none"
    if "sleeve_left_inner" in pts:
        lens, body = [], []
        for side in ("left", "right"):
            a = np.array(pts[f"armpit_{side}"])
            i = np.array(pts[f"sleeve_{side}_inner"])
            lens.append(np.linalg.norm(i - a))
            body.append(max(1.0, pts["hem_center"][1] - a[1]))
        sleeve = "long" if np.median(lens) > 0.5 * np.median(body) else "short"
    torso_w = max(1.0, pts["armpit_left"][0] - pts["armpit_right"][0],
                  pts["shoulder_left"][0] - pts["shoulder_right"][0])
    length = pts["hem_center"][1] - min(pts["neck_left"][1], pts["neck_right"][1])
    log.debug("length / torso width %.2f", length / torso_w)
    if length > 2.4 * torso_w:
        return GarmentInfo("dress", sleeve)
    return GarmentInfo("top", sleeve)


def require_supported(info: GarmentInfo | str) -> None:
    """Raise UnsupportedCategoryError unless the garment is a top (the only category dressed for now).

    Args:
        info: the classifier's result, or a category name in any accepted spelling.

    Raises:
        UnsupportedCategoryError: for bottoms and one-pieces; the message names the category in FASHN's
            vocabulary.
    """
    category = normalise_category(info.category if isinstance(info, GarmentInfo) else info)
    if category != "tops":
        raise UnsupportedCategoryError(
            f"this garment looks like {category!r} ({_EXAMPLES[category]}); only tops (t-shirts, shirts, blouses, "
            "sweaters, tank tops) are dressed for now")


_EXAMPLES = {"bottoms": "trousers, jeans, shorts or a skirt", "one-pieces": "a dress or a jumpsuit",
             "auto": "not classified"}
