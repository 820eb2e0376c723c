"""Garment category ("top" | "dress" | "lower", or "uncertain") and sleeve type from the mask shape.

Hand-set rules on the normalised mask (:func:`tryon.garment.landmarks.analyse_shape`), no network; what the
rules read is :class:`ShapeFeatures` and the order is in :func:`classify_garment`:

* lower (trousers): a background gap at the bottom centre between two legs over a good part of the height;
* lower (skirt, shorts, trousers with touching legs): a straight top edge (a waistband) with no sleeves, no
  armholes and no shoulders, widening downwards, with a short leg gap, or tall;
* dress: long relative to its torso (armpit-to-armpit or shoulder) width (a top part, then a long skirt part);
* uncertain: a straight top edge that is neither, or a length between a long top's and a dress's;
* top: shoulders (or sleeves, or armholes) and a top's length.

Tops are dressed everywhere, bottoms and one-pieces by the teacher (:func:`require_supported`'s ``supported``);
everything else
is refused, ``uncertain`` with a message asking for the category. The rules
and their measured confusion matrices are in ``docs/garment-category.md``.

Sleeves ("none" | "short" | "long") come from the landmarks (:func:`sleeve_type`): no sleeve past the armpit =
none; a sleeve whose length (armpit to inner sleeve end) exceeds about half the armpit-to-hem height = long,
unless its outer seam is no longer than the armhole or it flares away from the body and ends above the hem's
level (a boxy top's elbow-length sleeve).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from tryon.errors import UnsupportedCategoryError
from tryon.garment.landmarks import _landmarks_work, analyse_shape
from tryon.manifest import DEFAULT_CATEGORIES

log = logging.getLogger(__name__)

__all__ = ["GarmentInfo", "ShapeFeatures", "shape_features", "classify_garment", "require_supported",
           "require_laid_out", "also_folded",
           "normalise_category", "internal_category", "fashn_category", "CATEGORIES", "CATEGORY_NAMES",
           "FASHN_CATEGORIES", "SLEEVES", "UNCERTAIN", "DRESSED", "browser_rules", "sleeve_type"]

CATEGORIES = ("top", "dress", "lower")
"""The classifier's own names (the teacher's geometry is written in them)."""
FASHN_CATEGORIES = ("tops", "bottoms", "one-pieces")
"""The categories users name (FASHN's API vocabulary), in the CLI, pairs CSVs, the API and the widget."""
SLEEVES = ("none", "short", "long")
UNCERTAIN = "uncertain"
"""The classifier's outcome when it cannot tell the category: ``auto`` is refused, naming a category is asked for."""

_ALIASES = {
    "tops": "tops", "top": "tops", "upper_body": "tops",
    "bottoms": "bottoms", "bottom": "bottoms", "lower": "bottoms", "lower_body": "bottoms",
    "one-pieces": "one-pieces", "one-piece": "one-pieces", "dress": "one-pieces", "dresses": "one-pieces",
    "auto": "auto", "": "auto",
}
_INTERNAL = {"tops": "top", "bottoms": "lower", "one-pieces": "dress"}
CATEGORY_NAMES: tuple[str, ...] = tuple(k for k in _ALIASES if k)
"""Every spelling of a category that :func:`normalise_category` accepts (FASHN's, the classifier's, other hosted
APIs'), for the API's schema and the CLI's help."""


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


def fashn_category(info: GarmentInfo) -> str:
    """The classifier's outcome in the users' vocabulary: one of :data:`FASHN_CATEGORIES` or ``"uncertain"``."""
    return UNCERTAIN if info.category == UNCERTAIN else normalise_category(info.category)


@dataclass(frozen=True)
class GarmentInfo:
    """What kind of garment a photo shows.

    Attributes:
        category: "top" | "dress" | "lower", or "uncertain" (:data:`UNCERTAIN`) when the classifier cannot tell.
        sleeve: "none" | "short" | "long", read from the landmarks as if the garment were a top (meaningful for
            tops and dresses, and used when a user names a garment of another outcome a top).
        reason: what the classifier saw, for messages and logs (not compared).
    """

    category: str
    sleeve: str
    reason: str = field(default="", compare=False)


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


@dataclass(frozen=True)
class ShapeFeatures:
    """Silhouette measurements the category rules read (all relative, so independent of the photo's size).

    Widths are the row extent (leftmost to rightmost garment pixel) over the garment's bounding-box width;
    heights are fractions of the bounding-box height, from its top.

    Attributes:
        aspect: bounding-box height / width.
        top_width: median extent over rows 0.5-3 % (a waistband, or a collar / straps / hood).
        shoulder_width: largest extent over rows 4-25 % (shoulders and sleeves of a top).
        width_10: median extent over rows 8-12 %.
        width_90: median extent over rows 80-95 %.
        flat_top: fraction of the columns under the 8 % row whose top edge lies within 4 % of the height of
            the garment's top (20th percentile of the column tops): about 1 for a waistband, lower for a
            neckline, straps or sloping shoulders.
        armhole: deepest convexity defect beside the centre line (armpit, armhole), over the width.
        leg_gap: fraction of the height with a gap between two legs (:func:`_leg_gap`).
        edge_ratio: extent 3 % of the height below the top edge (the 20th percentile of the column tops) over
            the extent 15 % below it: about 1 under a waistband, lower under sloping shoulders.
        strap_rows: rows within the top quarter that are mostly background between their outermost garment
            pixels (straps of a cami or a tank top), over the height.
        box_fill: garment pixels over the bounding box's area: about 1 for a folded shirt's near-square block,
            lower for a garment laid out with sleeves, armholes, a neckline or a flared hem.
    """

    aspect: float
    top_width: float
    shoulder_width: float
    width_10: float
    width_90: float
    flat_top: float
    armhole: float
    leg_gap: float
    edge_ratio: float
    strap_rows: float
    box_fill: float = 0.0

    @property
    def has_shoulders(self) -> bool:
        """Sleeves or armholes cut into the sides, straps, or shoulders much wider than the top edge."""
        return (self.armhole >= _ARMHOLE_MIN or self.strap_rows >= _STRAPS_MIN or
                (self.shoulder_width >= _SHOULDER_MIN and self.top_width <= _NECK_MAX * self.shoulder_width))


_ARMHOLE_MIN = 0.07
"""Deepest side defect (over the width) that counts as a sleeve or an armhole."""
_STRAPS_MIN = 0.05
"""strap_rows from which the top edge carries straps (a waistband's first rows are at most a few percent)."""
_SHOULDER_MIN = 0.85
"""Extent within the top quarter that counts as shoulders reaching the garment's full width."""
_NECK_MAX = 0.75
"""Top-edge extent, relative to the shoulders, below which the top edge is a neck or collar, not a waistband."""
_WAISTBAND_FLAT = 0.85
"""flat_top at and above which the top edge is straight, as a waistband is."""
_WAISTBAND_EDGE = 0.75
"""edge_ratio at and above which the garment is as wide under its top edge as a little lower, as under a
waistband."""
_DRESS_LENGTH = 2.4
"""Neck-to-hem length over the torso width above which a garment with shoulders is a one-piece."""
_TOP_LENGTH = 2.1
"""... below which it is a top; in between the classifier is uncertain (a long top, a tunic or a short dress)."""
_TALL = 1.8
"""Bounding-box height / width from which a waistband garment without a leg gap is taken for trousers."""
_LEG_GAP_TROUSERS = 0.2
"""leg_gap above which the garment is trousers whatever its top edge."""
_LEG_GAP_SHORT = 0.05
"""leg_gap above which a waistband garment is a bottom (shorts, trousers with touching legs)."""
_WIDENING = 0.1
"""width_90 - width_10 from which a waistband garment widens downwards (a skirt)."""
_FOLDED_FILL = 0.9
"""box_fill at and above which a garment no taller than :data:`_FOLDED_ASPECT` is a folded block (folded shirts of
a shop's catalogue 0.90-0.95; the fullest garment laid out, a long-sleeved top with its sleeves along its sides,
0.874)."""
_FOLDED_ASPECT = 1.3
"""Bounding-box height / width up to which a filled garment is taken for folded (a straight dress or trousers are
taller)."""
_FOLDED_FILL_NO_SLEEVES = 0.835
"""box_fill from which a garment photo in which the landmarks read no sleeves, no taller than
:data:`_FOLDED_ASPECT_NO_SLEEVES` and with a narrow top edge (:data:`_FOLDED_TOP`), is a folded block too: folded
shop shirts less full than :data:`_FOLDED_FILL` read 0.839-0.894 and were dressed as sleeveless tops; on the 557
garment photos of ../shared and wild-dev no sleeveless top laid out that short is as full but a child's camisole
(0.861) whose straps stand at its edges (top edge 0.69 of the width). Not in the manifest's rules: the widget's
twin classifies the mask alone, without the sleeves' seams that keep a blouse laid out with its sleeves along its
sides (wild-dev ``anydoor__43``, 0.874) from reading as this fold."""
_FOLDED_ASPECT_NO_SLEEVES = 1.25
"""Height / width up to which :data:`_FOLDED_FILL_NO_SLEEVES` applies (those folded shirts 1.04-1.23; puffer vests, as
full, 1.31-1.37)."""
_FOLDED_TOP = 0.55
"""top_width (of the width) below which that block's top edge is a collar (folded shirts 0.05-0.47)."""
_FOLDED_BOTTOM = 0.9
"""width_90 (of the width) from which that block is as wide at its bottom as a fold is (folded shirts 0.95-1.0; a
knitted sleeveless vest's ribbed hem 0.75, a child's tee whose sleeves the landmarks miss 0.85)."""
FOLDED = "folded: a filled block with no sleeves, armholes or neckline laid out"
"""The classifier's reason for a garment photographed folded (:func:`classify_garment` says ``uncertain``)."""
FOLDED_ADVICE = ("this garment is photographed folded, so its sleeves and neckline cannot be read: photograph it "
                 "laid flat, front view, with its sleeves spread out (or on a hanger), on a plain background, or pick "
                 "a garment whose photo shows it laid out")
"""What :func:`require_supported` says of a folded garment: a photo laid flat, not a category (named ``tops``, it
would be dressed as the strip it reads as), or another garment (a shopper cannot photograph a shop's garment again:
9 of the fifteenth first user's 32 pairings were folded shop shirts). ``web/src/category.js`` repeats it word for
word (tested)."""


_HUNG_TOP = 0.75
"""top_width / width_10 below which a straight top edge with a hanger above it is a neckline the hanger's bar
was cut from (wild-dev blouses 0.65-0.66), not a waistband on a clip hanger (bottoms seen: 0.79-0.95)."""


def _hung_by_neckline(image: np.ndarray | None, mask: np.ndarray, f: ShapeFeatures) -> bool:
    """A top on a hanger: once the hanger is out of the mask (:func:`tryon.garment.mask.drop_hanger`) its top
    edge is straight like a waistband, but narrower than the garment just below it and with the hanger above."""
    if image is None or f.top_width >= _HUNG_TOP * f.width_10:
        return False
    from tryon.garment.mask import hanger_above

    return hanger_above(image, np.asarray(mask, np.float32))


def shape_features(sa) -> ShapeFeatures:
    """Measure the silhouette of a normalised garment mask.

    Args:
        sa: :class:`tryon.garment.landmarks.ShapeAnalysis` of the garment mask.

    Returns:
        :class:`ShapeFeatures`.
    """
    m = sa.mask[sa.top:sa.bottom + 1, sa.left:sa.right + 1]
    h, w = m.shape
    has = m.any(axis=1)
    left = np.where(has, m.argmax(axis=1), 0)
    right = np.where(has, w - 1 - m[:, ::-1].argmax(axis=1), 0)
    ext = (right - left + 1) / w
    fill = m.sum(axis=1) / np.maximum(1, right - left + 1)

    def rows(a: float, b: float) -> np.ndarray:
        i = int(a * h)
        return ext[i:max(i + 1, int(b * h))]

    y8 = int(0.08 * h)
    cols = np.nonzero(m[y8])[0]
    col_top = m[:, cols.min():cols.max() + 1].argmax(axis=0) / h
    edge = float(np.percentile(col_top, 20))
    flat = float((np.abs(col_top - edge) <= 0.04).mean())
    edge_ratio = ext[min(h - 1, int((edge + 0.03) * h))] / max(1e-6, ext[min(h - 1, int((edge + 0.15) * h))])
    return ShapeFeatures(
        aspect=h / w, top_width=float(np.median(rows(0.005, 0.03))), shoulder_width=float(rows(0.04, 0.25).max()),
        width_10=float(np.median(rows(0.08, 0.12))), width_90=float(np.median(rows(0.8, 0.95))), flat_top=flat,
        armhole=max(sa.defect_depth["left"], sa.defect_depth["right"]) / w,
        leg_gap=_leg_gap(sa.mask, sa.cx, sa.top, sa.bottom), edge_ratio=float(edge_ratio),
        strap_rows=float((fill[:int(0.25 * h)] < 0.4).sum() / h), box_fill=float(m.sum() / (h * w)))


_SLEEVE_UNDERARM = 0.5
"""Underarm length (armpit to the sleeve's inner end) over the armpit-to-hem height above which a sleeve is long."""
_SLEEVE_SEAM = 1.1
"""Outer seam (shoulder to the sleeve's outer end) over the armhole depth (shoulder to armpit) below which a
sleeve is short whatever its underarm says: a short sleeve laid out sideways on a wide, short top (children's
tees) has an underarm as long as half the short body below it, but its outer seam no longer than the armhole
(more-photos short tees 0.02-0.93, long sleeves from 1.24)."""
_FLARE_DEG = 14.0
"""Angle from the vertical (degrees) of the outer seam from which a sleeve flares away from the body rather than
hangs beside it (the long sleeves that end above the hem, on the development photos, hang at 1-12 degrees; boxy
elbow-length sleeves flare at 16-28)."""
_FLARE_END = 0.82
"""Inner sleeve end's height (from the neck, over the neck-to-hem length) below which a flared sleeve ends above
the hem's level: an elbow-length sleeve of a boxy top (0.47-0.79) rather than a long one (0.84 and lower)."""
_FLARE_SEAM = (0.5, 0.9)
"""Outer seam over the shoulder width within which a flared sleeve is read as elbow-length: below, the sleeve's
end was not found (its landmarks sit at the shoulder); above, it is long however it lies."""


def sleeve_type(pts: dict, top_length: bool = True) -> str:
    """Sleeve type ("none" | "short" | "long") of a garment from its landmarks.

    No sleeve landmarks: ``none``. Otherwise long when the underarm (armpit to the sleeve's inner end) exceeds
    half the armpit-to-hem height (median of the two sides), unless one of two cues says the sleeve is short:

    * the outer seam (shoulder to the outer end) is shorter than 1.1 armhole depths (shoulder to armpit), median
      of the two sides: a short sleeve laid out sideways on a wide, short top;
    * on a top's length (``top_length``), one side's sleeve flares away from the body (outer seam at 14 degrees
      or more from the vertical), is 0.5-0.9 shoulder widths long and ends above 0.82 of the neck-to-hem
      length: the elbow-length sleeve of a boxy top with dropped shoulders, whose armpit sits so low that the
      underarm rule reads it long. One side is enough: the other side's landmarks of such a top often run down
      the body to the hem.

    Hand-set on the tops of vton-samples, more-photos and wild-dev (see "Sleeve type" in
    ``docs/garment-category.md``); flat lays foreshorten long sleeves, so a sleeve hanging beside the body is
    never demoted.

    Args:
        pts: landmarks name -> (x, y), any pixel scale (:mod:`tryon.garment.landmarks` names; ``*_left`` is the
            wearer's left = image right).
        top_length: the garment is a top's length (neck-to-hem under :data:`_TOP_LENGTH` torso widths); the
            flare cue is skipped on one-pieces, whose hem is far below any sleeve.

    Returns:
        "none" | "short" | "long".
    """
    if "sleeve_left_inner" not in pts or "sleeve_right_inner" not in pts:
        return "none"
    p = {k: np.asarray(v, np.float64) for k, v in pts.items()}
    shoulder_w = max(1.0, float(np.linalg.norm(p["shoulder_left"] - p["shoulder_right"])))
    neck_y = min(p["neck_left"][1], p["neck_right"][1])
    height = max(1.0, p["hem_center"][1] - neck_y)
    under, body, seam, flared = [], [], [], False
    for side in ("left", "right"):
        sh, ap = p[f"shoulder_{side}"], p[f"armpit_{side}"]
        outer, inner = p[f"sleeve_{side}_outer"], p[f"sleeve_{side}_inner"]
        under.append(np.linalg.norm(inner - ap))
        body.append(max(1.0, p["hem_center"][1] - ap[1]))
        out = outer - sh
        seam.append(np.linalg.norm(out) / max(1.0, float(np.linalg.norm(sh - ap))))
        angle = np.degrees(np.arctan2(abs(out[0]), out[1]))
        flared |= (top_length and angle >= _FLARE_DEG and (inner[1] - neck_y) / height < _FLARE_END
                   and _FLARE_SEAM[0] <= np.linalg.norm(out) / shoulder_w < _FLARE_SEAM[1])
    if np.median(under) <= _SLEEVE_UNDERARM * np.median(body) or np.median(seam) < _SLEEVE_SEAM or flared:
        return "short"
    return "long"


def classify_garment(image: np.ndarray | None, mask: np.ndarray) -> GarmentInfo:
    """Classify a garment photo's category and sleeve type from its mask, saying ``uncertain`` when unsure.

    Hand-set rules on the silhouette (the thresholds are the module constants; they were set by looking at
    garment shapes and checked, not fitted, on the development photos, see ``docs/garment-category.md``):

    1. trousers: a gap between two legs over more than 20 % of the height -> ``lower``;
       a folded garment (the mask fills 90 % or more of a bounding box at most 1.3 times as tall as wide: a
       shop's folded shirt) -> ``uncertain`` with the reason :data:`FOLDED`;
    2. a straight top edge as wide as the garment under it (a waistband: ``flat_top`` >= 0.85, ``edge_ratio``
       >= 0.75) with neither sleeves, armholes, straps nor shoulders, and not a top's neckline left straight by
       the hanger removal (narrower than the garment below it with a hanger above it, needs ``image``) ->
       ``lower`` when it also has a leg gap, widens downwards (skirt, shorts) or is tall (trousers whose legs
       touch), else ``uncertain``;
    3. with ``image``: no sleeves read by the landmarks in a block filling 83.5 % or more of a box at most 1.25
       times as tall as wide, under a narrow top edge and as wide at its bottom (a folded shirt whose collar and
       shoulders are rounded) -> ``uncertain`` with the reason :data:`FOLDED`;
    4. otherwise the length from the neck to the hem over the torso width (from the landmarks): above 2.4 ->
       ``dress``; from 2.1 -> ``uncertain`` (a long top, a tunic or a short dress); below -> ``top``.

    The costs are asymmetric: a skirt dressed as a top is a visible failure, a top refused as ``uncertain``
    only asks the user to name the category, so every doubt goes to ``uncertain``.

    Args:
        image: (H, W, 3) uint8 RGB garment photo (used for the neckline), or None.
        mask: (H, W) float32 [0, 1] garment mask.

    Returns:
        GarmentInfo(category, sleeve, reason); category is one of :data:`CATEGORIES` or ``"uncertain"``.

    Raises:
        ValueError: the mask is empty.
    """
    sa = analyse_shape(mask)
    f = shape_features(sa)
    # Landmarks and sleeves as if it were a top, whatever it turns out to be: a user who names a garment the
    # rules refuse a top gets its sleeves all the same.
    pts = _landmarks_work(image, sa, None)
    torso_w = max(1.0, pts["armpit_left"][0] - pts["armpit_right"][0],
                  pts["shoulder_left"][0] - pts["shoulder_right"][0])
    length = (pts["hem_center"][1] - min(pts["neck_left"][1], pts["neck_right"][1])) / torso_w
    sleeve = sleeve_type(pts, top_length=length < _TOP_LENGTH)
    if f.leg_gap > _LEG_GAP_TROUSERS:
        return GarmentInfo("lower", sleeve, "two legs")
    if f.box_fill >= _FOLDED_FILL and f.aspect <= _FOLDED_ASPECT:
        # A folded shirt's outline is its folded block: read as a sleeveless strip, it was dressed as one.
        return GarmentInfo(UNCERTAIN, sleeve, FOLDED)
    if (f.flat_top >= _WAISTBAND_FLAT and f.edge_ratio >= _WAISTBAND_EDGE and not f.has_shoulders
            and not _hung_by_neckline(image, mask, f)):
        if f.leg_gap > _LEG_GAP_SHORT or f.width_90 >= f.width_10 + _WIDENING or f.aspect >= _TALL:
            return GarmentInfo("lower", sleeve, "a waistband and no shoulders")
        return GarmentInfo(UNCERTAIN, sleeve, "a straight top edge and no shoulders or sleeves")
    log.debug("shape %s, length / torso width %.2f", f, length)
    if (image is not None and sleeve == "none" and f.box_fill >= _FOLDED_FILL_NO_SLEEVES
            and f.aspect <= _FOLDED_ASPECT_NO_SLEEVES and f.top_width < _FOLDED_TOP
            and f.width_90 >= _FOLDED_BOTTOM):
        # A folded shirt less full than _FOLDED_FILL (its collar and shoulders rounded) read as a sleeveless top
        # and was drawn as a vest: with no sleeve read, a block this full and short is the fold. Only with the
        # photo: a top laid out with its sleeves along its sides has this outline too, and only the sleeves'
        # seams in the photo (_sleeve_seams) tell it from the fold.
        return GarmentInfo(UNCERTAIN, sleeve, FOLDED)
    if length > _DRESS_LENGTH:
        return GarmentInfo("dress", sleeve, f"long: {length:.1f} torso widths from neck to hem")
    if length >= _TOP_LENGTH:
        return GarmentInfo(UNCERTAIN, sleeve, "between a long top and a short dress")
    return GarmentInfo("top", sleeve, "shoulders and a top's length")


def require_laid_out(info: GarmentInfo) -> None:
    """Refuse a garment photographed folded, whatever category the caller named.

    A category names what the garment is; a fold hides what it looks like laid out (its sleeves, armholes and
    neckline), which no category restores: a shop's folded shirt named ``tops`` was dressed as the block it reads as
    (a sleeveless slab with its collar on the chest; six of 32 pairings a first user drew from ../shared). So the
    callers that take a named category over the classifier's (the teacher, the student runner, the widget) still
    ask this.

    Args:
        info: :func:`classify_garment`'s result for the photo.

    Raises:
        UnsupportedCategoryError: ``info`` is the folded block (reason :data:`FOLDED`); the message is
            :data:`FOLDED_ADVICE`.
    """
    if info.category == UNCERTAIN and info.reason == FOLDED:
        raise UnsupportedCategoryError(FOLDED_ADVICE)


def also_folded(pose_message: str) -> str:
    """A person photo's pose refusal that names the garment photo's fold too: ``"<pose_message>. Also, "`` and
    :data:`FOLDED_ADVICE`.

    The message of the ``PoseError`` raised when both photos are refused (the teacher's back and side views, the
    student runner's framing, the widget's worker): a shopper who took a new person photo was refused again for the
    folded garment. ``web/src/category.js`` (``alsoFolded``) writes the same words (tested).

    Args:
        pose_message: the ``PoseError``'s message (no full stop at its end, as every refusal's).
    """
    return f"{pose_message}. Also, {FOLDED_ADVICE}"


def require_supported(info: GarmentInfo | str, supported: tuple[str, ...] = ("tops",)) -> None:
    """Raise UnsupportedCategoryError unless the garment's category is one of ``supported``.

    Args:
        info: the classifier's result, or a category name in any accepted spelling.
        supported: the categories the caller dresses, in FASHN's vocabulary (:data:`FASHN_CATEGORIES`): tops
            only by default (the deployed student and the API), a student folder's ``Manifest.categories``, all
            three for the teacher.

    Raises:
        UnsupportedCategoryError: for the other categories (the message names the category in FASHN's
            vocabulary and what is dressed), for a garment the classifier could not tell (:data:`UNCERTAIN`:
            the message asks for the category to be named), and for a folded one (:data:`FOLDED`: the message
            asks for a photo laid flat, :data:`FOLDED_ADVICE`).
    """
    dressed = tuple(normalise_category(c) for c in supported)
    if isinstance(info, GarmentInfo):
        require_laid_out(info)
    if isinstance(info, GarmentInfo) and info.category == UNCERTAIN:
        seen = f" ({info.reason})" if info.reason else ""
        hints = {"tops": "if it is a top (t-shirt, shirt, blouse, sweater, tank top), name the category tops instead "
                         "of auto (--category tops, category=tops)",
                 "bottoms": "if it is trousers, jeans, shorts or a skirt, name the category bottoms",
                 "one-pieces": "if it is a dress or a jumpsuit, name the category one-pieces"}
        rest = [c for c in FASHN_CATEGORIES if c not in dressed]
        not_dressed = f"; {' and '.join(rest)} {'is' if len(rest) == 1 else 'are'} not dressed for now" if rest else ""
        what = "whether this garment is a top" if "tops" in dressed else "this garment's category"
        raise UnsupportedCategoryError(
            f"could not tell {what}{seen}: {'; '.join(hints[c] for c in FASHN_CATEGORIES if c in dressed)}"
            f"{not_dressed}")
    category = normalise_category(info.category if isinstance(info, GarmentInfo) else info)
    if category not in dressed:
        what = " and ".join(f"{c} ({_EXAMPLES[c]})" for c in FASHN_CATEGORIES if c in dressed)
        raise UnsupportedCategoryError(
            f"this garment looks like {category!r} ({_EXAMPLES[category]}); only {what} are dressed for now")


DRESSED = DEFAULT_CATEGORIES
"""The categories (:data:`FASHN_CATEGORIES`) the deployed student dresses (a manifest without ``categories``:
:data:`tryon.manifest.DEFAULT_CATEGORIES`); :func:`require_supported` refuses the rest."""


def browser_rules(dressed: tuple[str, ...] = DRESSED) -> dict:
    """The manifest's ``garment_category``: the thresholds :func:`classify_garment` uses and the categories the
    student dresses, for the widget's twin of the classifier (``web/src/category.js``), which repeats the
    geometry but reads every threshold from here.

    Args:
        dressed: the FASHN categories the student dresses.

    Returns:
        ``{"dressed": [...], "rules": {name: number}}`` (JSON-ready).

    Raises:
        UsageError: a name in ``dressed`` is not a category.
    """
    from tryon.garment.landmarks import _WORK_H, SEAM_STEADY, SEAM_STEP

    names = [normalise_category(c) for c in dressed]
    if "auto" in names or not names:
        from tryon.errors import UsageError

        raise UsageError(f"dressed categories must be among {', '.join(FASHN_CATEGORIES)}, got {dressed!r}")
    return {"dressed": names, "rules": {
        "work_height": _WORK_H, "armhole_min": _ARMHOLE_MIN, "straps_min": _STRAPS_MIN,
        "shoulder_min": _SHOULDER_MIN, "neck_max": _NECK_MAX, "waistband_flat": _WAISTBAND_FLAT,
        "waistband_edge": _WAISTBAND_EDGE, "dress_length": _DRESS_LENGTH, "top_length": _TOP_LENGTH, "tall": _TALL,
        "leg_gap_trousers": _LEG_GAP_TROUSERS, "leg_gap_short": _LEG_GAP_SHORT, "widening": _WIDENING,
        "folded_fill": _FOLDED_FILL, "folded_aspect": _FOLDED_ASPECT, "hung_top": _HUNG_TOP,
        "folded_fill_no_sleeves": _FOLDED_FILL_NO_SLEEVES, "folded_aspect_no_sleeves": _FOLDED_ASPECT_NO_SLEEVES,
        "folded_top": _FOLDED_TOP, "folded_bottom": _FOLDED_BOTTOM, "seam_steady": SEAM_STEADY, "seam_step": SEAM_STEP}}


_EXAMPLES = {"tops": "t-shirts, shirts, blouses, sweaters, tank tops", "bottoms": "trousers, jeans, shorts or a skirt",
             "one-pieces": "a dress or a jumpsuit", "auto": "not classified"}
