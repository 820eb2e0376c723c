"""Garment cut-out from an in-shop photo on a plain background (white, light grey, coloured studio paper).

Method (classical, no network): estimate the background as a smooth colour field fitted to the image border,
mark pixels that are both close to it in CIELAB and locally flat (low gradient), open that "background-like"
set a little so faint silhouette edges (white garment on white: only a soft shadow line) close up, flood it
from the border (only border-connected background counts), fill the holes of what remains and keep the large
components. Work happens at reduced resolution (long side ``WORK_SIDE``) and the result is upsampled with a
soft edge. This follows the border-flood-fill idea of the teacher prototype (see
``docs/teacher-prototype.md``) with added edge evidence for white on white.

Where that cut-out is unsure of itself (:func:`classical_mask`'s confidence) or the border is a smooth gradient
the colour plane cannot fit, :func:`garment_mask` returns the learned segmenter's mask instead
(``tryon.garment.segmenter``; method, data and figures in ``docs/garment-mask.md``). Either way a clothes hanger
seen above the neckline is taken out (:func:`drop_hanger`).
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from tryon.errors import BusyBackgroundError

__all__ = ["garment_mask", "classical_mask", "border_stats", "strip_frame", "drop_hanger", "hanger_above",
           "check_extent", "see_through_slots", "fill_see_through", "WORK_SIDE", "CONFIDENT", "CONFIDENCE_SCALES",
           "SMOOTH_BORDER_NOISE", "MAX_BORDER_COVER", "MIN_EXTENT", "HANGER_PEAK", "HANGER_CONTRAST", "SLOT_SIDE",
           "SLOT_MIN_WALL", "SLOT_ELONGATION", "SLOT_FABRIC", "armpit_notches", "fill_armpit_notches", "NOTCH_REACH",
           "NOTCH_TOL", "NOTCH_PALE", "NOTCH_MAX_AREA"]

log = logging.getLogger(__name__)

WORK_SIDE = 320
"""Long side (pixels) of the working resolution."""

CONFIDENCE_SCALES = (0.5, 2.0)
"""Factors on the background tolerances whose cut-outs :func:`classical_mask`'s confidence compares."""

CONFIDENT = 0.8
"""Confidence (worst IoU across :data:`CONFIDENCE_SCALES`) from which the classical cut-out is kept."""

SMOOTH_BORDER_NOISE = 0.75
"""High-pass noise (CIELAB units, MAD sigma) up to which a border that is not one plain colour still counts as
studio paper (a gradient or vignette) for the learned segmenter. Measured: a synthetic radial tint 0.53, jeans on
a wooden floor 0.94, rooms and walls 1.9-10, clean shop photos 0-0.2."""

MAX_BORDER_COVER = 0.1
"""Largest share of the image border the learned mask may cover before the photo counts as not a product shot."""

MIN_EXTENT = 0.15
"""Smallest share of the photo's height and of its width the garment's mask must span (:func:`check_extent`).
Measured: the garments of ``../shared`` span at least 0.27 of the height and 0.36 of the width; a white tee lost on
white paper leaves its print, 0.08 of the height. Also keeps the category classifier, which scales the mask to a
fixed height, from blowing a speck up to millions of pixels."""

HANGER_PEAK = 0.08
"""Height (share of the garment's height) by which the mask's top at the centre line must rise above the top
15 % of the width to either side for :func:`drop_hanger` to look for a hanger: a hanger's apex stands above the
neckline (measured on wild-dev: hangers 0.093-0.2; collars, labels, ruffles and a fur collar 0.06-0.067 at most)."""

HANGER_CONTRAST = 15.0
"""Least colour difference (CIELAB, chroma halved as in the cut-out) between the apex and the garment's body
for :func:`drop_hanger` (wooden and plastic hangers on wild-dev: 21-65; a ruffled collar of the body's fabric 4)."""

HANGER_HOOK = 0.08
"""Height (share of the garment's height) above the hanger's bar in which most rows (60 %) must show a line
near the centre line, the hook, for :func:`drop_hanger` to act (grey level 25 off the row's median)."""

_MIN_BG_BORDER_FRACTION = 0.55
_MAX_BORDER_NOISE = 2.0


def _lab(image: np.ndarray) -> np.ndarray:
    # Float CIELAB (8-bit Lab quantises a/b to whole units); chroma is weighted by half because JPEG chroma
    # noise is larger, while what separates white fabric from white paper is mostly lightness (shadows).
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return lab * np.array([1.0, 0.5, 0.5], np.float32)


def _border_ring(h: int, w: int, width: int) -> np.ndarray:
    ring = np.zeros((h, w), bool)
    ring[:width] = ring[-width:] = True
    ring[:, :width] = ring[:, -width:] = True
    return ring


def border_stats(lab: np.ndarray, ring_width: int = 3) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Fit the background colour field to the image border.

    Args:
        lab: (H, W, 3) float32 CIELAB (L in [0, 100]).
        ring_width: border ring width in pixels.

    Returns:
        ``(bg, ring_close, fraction, noise)``: bg (H, W, 3) float32 fitted background colour (a plane per
        channel, robustly fitted to the border pixels near the border median), ring_close (H, W) bool border
        pixels within tolerance of the fit, fraction of border pixels that look like background, and the
        robust noise level (MAD-based sigma, Lab units) of those pixels.
    """
    h, w = lab.shape[:2]
    ring = _border_ring(h, w, ring_width)
    ys, xs = np.nonzero(ring)
    vals = lab[ys, xs]
    med = np.median(vals, axis=0)
    d = np.linalg.norm(vals - med, axis=1)
    keep = d < max(6.0, np.percentile(d, 50) * 3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bg = np.empty_like(lab)
    if keep.sum() >= 20:
        a = np.stack([np.ones(keep.sum()), xs[keep] / w, ys[keep] / h], 1)
        for c in range(3):
            coef, *_ = np.linalg.lstsq(a, vals[keep, c], rcond=None)
            bg[..., c] = coef[0] + coef[1] * xx / w + coef[2] * yy / h
    else:
        bg[:] = med
    res = np.linalg.norm(vals - bg[ys, xs], axis=1)
    noise = float(1.4826 * np.median(res[res < np.percentile(res, 60) + 1e-6])) if len(res) else 0.0
    tol = max(4.0, 4 * noise)
    close = res < tol
    ring_close = np.zeros((h, w), bool)
    ring_close[ys[close], xs[close]] = True
    return bg, ring_close, float(close.mean()), noise


def strip_frame(image: np.ndarray, depth: int = 4) -> np.ndarray:
    """Replace thin frame lines (a dark or grey 1-3 px rule many shop images carry) by the next inner line.

    Returns the image itself when it has no frame, else a corrected copy.
    """
    h, w = image.shape[:2]
    d = min(depth, h // 8, w // 8)
    if d < 2:
        return image
    img = None
    for side in range(4):
        src = image if img is None else img
        view = src if side < 2 else src.transpose(1, 0, 2)
        if side % 2:
            view = view[::-1]
        ref = np.median(view[d].astype(np.float32), axis=0)
        for i in range(d - 1, -1, -1):
            if np.abs(np.median(view[i].astype(np.float32), axis=0) - ref).max() > 8:
                if img is None:
                    img = image.copy()
                    view = img if side < 2 else img.transpose(1, 0, 2)
                    if side % 2:
                        view = view[::-1]
                view[: i + 1] = view[i + 1]
                break
    return image if img is None else img


def _grabcut_refine(small: np.ndarray, fg: np.ndarray, bg_flood: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """GrabCut (Rother et al., SIGGRAPH 2004) seeded from the flood fill: drops background-coloured specks
    (JPEG noise, dust, dithering) that the flood could not reach, keeps the garment core fixed."""
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    fg8 = fg.astype(np.uint8)
    # Only a band along the silhouette is up for relabelling: inside, a white garment on white paper has the
    # background's colour and GrabCut's colour models would eat it.
    core = cv2.erode(fg8, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (15, 15))).astype(bool)
    gc = np.full(fg.shape, cv2.GC_PR_BGD, np.uint8)
    gc[fg] = cv2.GC_PR_FGD
    gc[core] = cv2.GC_FGD
    gc[cv2.erode(bg_flood.astype(np.uint8), k).astype(bool) & ~fg] = cv2.GC_BGD
    if not (gc == cv2.GC_BGD).any() or not core.any():
        return fg
    # Crop to the garment's box plus a margin: GrabCut's cost grows with the pixel count (time budget).
    ys, xs = np.nonzero(fg)
    pad = 12
    y0, y1 = max(0, ys.min() - pad), min(fg.shape[0], ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(fg.shape[1], xs.max() + pad + 1)
    sub = gc[y0:y1, x0:x1]
    if not (sub == cv2.GC_BGD).any():
        return fg
    # ... and run it at 60 % of the working scale: specks are a few pixels, the garment core stays fixed.
    sh, sw = sub.shape
    lw, lh = max(8, round(sw * 0.6)), max(8, round(sh * 0.6))
    lo = cv2.resize(sub, (lw, lh), interpolation=cv2.INTER_NEAREST)
    img = cv2.resize(np.ascontiguousarray(small[y0:y1, x0:x1]), (lw, lh), interpolation=cv2.INTER_AREA)
    if not (lo == cv2.GC_BGD).any():
        return fg
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)
    cv2.grabCut(img, lo, None, bgd, fgd, 2, cv2.GC_INIT_WITH_MASK)
    hi = cv2.resize(((lo == cv2.GC_FGD) | (lo == cv2.GC_PR_FGD)).astype(np.uint8), (sw, sh),
                    interpolation=cv2.INTER_LINEAR).astype(bool)
    # Pixels far from the background colour (a dark inside-back through the neck opening) are never dropped.
    sure = dist[y0:y1, x0:x1] > 30.0
    keep_sub = (sub == cv2.GC_FGD) | ((sub == cv2.GC_PR_FGD) & (hi | sure))
    gc[y0:y1, x0:x1] = np.where(keep_sub, cv2.GC_FGD, cv2.GC_BGD).astype(np.uint8)
    out = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
    n, lbl, stats, _ = cv2.connectedComponentsWithStats(out.astype(np.uint8), connectivity=8)
    if n <= 1:
        return fg
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= 0.03 * areas.max()) + 1
    out = _fill_holes(np.isin(lbl, keep)) & fg
    if out.sum() < 0.85 * fg.sum():
        return fg
    return out


def _see_through_holes(fg: np.ndarray, enclosed: np.ndarray, bg_like: np.ndarray, dist: np.ndarray,
                       tol_c: float) -> np.ndarray:
    """Background seen through the garment's outline, e.g. the slot between a long sleeve and the torso when
    the cuff touches the hem (the border flood cannot reach it): enclosed background-like regions that are
    large, tall (at least 8 % of the garment's height), starting below the top fifth, off-centre with at most
    a sleeve's width of garment outside it, flat and background-coloured, and walled by garment pixels
    clearly unlike the background. A white
    garment's flat inside on white paper is walled by near-background pixels and stays garment, as do prints
    (small, or walled by colours close to the background's).

    Args:
        fg: (h, w) bool garment so far; enclosed: (h, w) int32 labels of the opened background-like set that
            the border flood did not reach (0 = none); bg_like: (h, w) bool; dist: (h, w) float32 CIELAB
            distance to the background field; tol_c: the colour tolerance used for ``bg_like``.

    Returns:
        (h, w) bool, the pixels to give back to the background.
    """
    out = np.zeros(fg.shape, bool)
    if not fg.any():
        return out
    box = _garment_box(fg)
    min_area = 0.001 * fg.size
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    for i in np.unique(enclosed[enclosed > 0]):
        comp = enclosed == i
        if comp.sum() < min_area:
            continue
        # Grow back over the band the opening removed, through background-like pixels only.
        comp = comp | (cv2.dilate(comp.astype(np.uint8), k).astype(bool) & bg_like)
        if float(np.median(dist[comp])) > tol_c:
            continue
        if _slot_shaped(comp, fg, box) and _walled(comp, fg, dist, 13, max(12.0, 6.0 * tol_c)):
            out |= comp
    return out


def _garment_box(fg: np.ndarray) -> tuple[int, int, int, float]:
    """(top row, height, width, centre column (mean x)) of a non-empty (h, w) bool garment."""
    gy = np.nonzero(fg.any(axis=1))[0]
    gx = np.nonzero(fg.any(axis=0))[0]
    return int(gy[0]), int(gy[-1] - gy[0] + 1), int(gx[-1] - gx[0] + 1), float(np.nonzero(fg)[1].mean())


def _slot_shaped(comp: np.ndarray, fg: np.ndarray, box: tuple[int, int, int, float], min_wall: float = 0.0) -> bool:
    """Whether a patch of backdrop colour inside a garment lies where the slot between a hanging sleeve and the
    torso does: tall (at least 8 % of the garment's height), starting below its top fifth (a white patch on the
    chest or a collar is left alone), off-centre (a quarter of its width) with at most a sleeve's width (22 %) of
    garment between it and the outside, and at least ``min_wall`` of its width (a sleeve, not the outline's own
    backdrop fringe). ``box`` is :func:`_garment_box` of ``fg``."""
    g_top, g_h, g_w, g_cx = box
    ys = np.nonzero(comp.any(axis=1))[0]
    if ys[-1] - ys[0] + 1 < 0.08 * g_h or ys[0] < g_top + 0.2 * g_h:
        return False
    hx = np.nonzero(comp.any(axis=0))[0]
    mid = (hx[0] + hx[-1]) / 2
    if abs(mid - g_cx) < 0.25 * g_w:
        return False
    return min_wall * g_w <= _outer_wall(comp, fg, ys, 1 if mid > g_cx else -1) <= 0.22 * g_w


def _walled(comp: np.ndarray, fg: np.ndarray, dist: np.ndarray, reach: int, unlike: float) -> bool:
    """Whether the garment a few pixels out of a patch (``reach`` px, past the soft shadow line that borders any
    cut-out) is mostly (35 %) clearly unlike the backdrop (CIELAB distance over ``unlike``): a white garment's
    flat inside on white paper is walled by near-backdrop pixels and stays garment, as do prints."""
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach))
    ring = cv2.dilate(comp.astype(np.uint8), k).astype(bool) & ~comp & fg
    return bool(ring.any()) and float((dist[ring] > unlike).mean()) > 0.35


SLOT_SIDE = 1024
"""Long side (pixels) at which :func:`see_through_slots` looks for slots narrower than the cut-out's working
pixel (at most the photo's own size)."""

SLOT_MIN_WALL = 0.04
"""Least width of garment (share of its width) between a slot and the outside: a sleeve. Backdrop pixels along the
outline itself (the upsampled cut-out's fringe, 0 wide) are not slots."""

SLOT_ELONGATION = 4.0
"""Least ratio of a slot's height to its median width (:func:`_flanked`)."""

SLOT_FABRIC = 12.0
"""CIELAB distance (chroma halved) from the backdrop beyond which a pixel next to a slot counts as fabric that
:func:`fill_see_through` paints from (the outline's blend of fabric and backdrop lies nearer)."""


def see_through_slots(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(h, w) bool: backdrop seen through a garment mask in slots narrower than the cut-out resolves.

    The cut-out works at :data:`WORK_SIDE` (320 px), where a long sleeve hanging 5-8 photo pixels from the
    torso touches it: the slot of backdrop between them stays garment, and the teacher drew it on the person as
    a white crescent between sleeve and body (wild-dev: a red cardigan on light grey). Here the photo is read at
    up to :data:`SLOT_SIDE`: pixels of the mask within the backdrop's colour (its plane fit,
    :func:`border_stats`, a tolerance from its noise) form patches, and a patch is a slot when it has the shape
    and place :func:`_see_through_holes` asks of one (:func:`_slot_shaped`) and fabric unlike the backdrop on
    both sides (:func:`_flanked`; a white garment's own side on white paper is not a slot). A photo whose
    border is not one plain colour gives none (the learned segmenter's masks resolve the photo's own pixels).

    Args:
        image: (h, w, 3) uint8 RGB garment photo.
        mask: (h, w) float32 [0, 1] or bool garment mask of ``image``.

    Returns:
        (h, w) bool slot pixels (all False when none); callers fill them with the fabric around them or drop
        them from the mask.
    """
    m0 = np.asarray(mask) > 0.5
    h0, w0 = m0.shape
    out = np.zeros((h0, w0), bool)
    if not m0.any() or image.shape[:2] != (h0, w0):
        return out
    s = min(1.0, SLOT_SIDE / max(h0, w0))
    size = (max(16, round(w0 * s)), max(16, round(h0 * s)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if s < 1.0 else image
    fg = cv2.resize(m0.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool) if s < 1.0 else m0
    lab = _lab(cv2.GaussianBlur(small, (3, 3), 0.8))
    bg, _, frac, noise = border_stats(lab)
    if frac < _MIN_BG_BORDER_FRACTION or noise > _MAX_BORDER_NOISE or not fg.any():
        return out
    dist = np.linalg.norm(lab - bg, axis=2)
    tol = max(2.0, 3.5 * noise + 0.4)
    cand = (fg & (dist < tol)).astype(np.uint8)
    cand = cv2.morphologyEx(cand, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    n, lbl, stats, _ = cv2.connectedComponentsWithStats(cand, connectivity=8)
    box = _garment_box(fg)
    min_area = 0.0005 * fg.sum()
    reach = max(5, int(round(0.01 * max(size))) | 1)
    unlike = max(12.0, 6.0 * tol)
    found = np.zeros(fg.shape, bool)
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < min_area:
            continue
        comp = lbl == i
        if _slot_shaped(comp, fg, box, SLOT_MIN_WALL) and _flanked(comp, dist, reach, unlike):
            found |= comp
    if not found.any():
        return out
    # The slot's anti-aliased rim (backdrop mixed with fabric, and the fabric's shade beside it) goes with it.
    found = cv2.dilate(found.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & fg
    if s < 1.0:
        found = cv2.resize(found.astype(np.uint8), (w0, h0), interpolation=cv2.INTER_NEAREST).astype(bool)
    return found & m0


def fill_see_through(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The garment photo with its :func:`see_through_slots` painted over by the fabric around them.

    What the teacher draws from: the slot's pixels stay inside the mask (the sleeve lies against the torso on the
    person as well), their backdrop colour is replaced by the neighbouring fabric's (OpenCV's inpainting, Telea,
    "An image inpainting technique based on the fast marching method", J. Graphics Tools 2004).

    Args:
        image: (h, w, 3) uint8 RGB garment photo.
        mask: (h, w) float32 [0, 1] or bool garment mask of ``image``.

    Returns:
        (h, w, 3) uint8 RGB: ``image`` itself when it has no slot, else a filled copy.
    """
    return _paint_over(image, mask, see_through_slots(image, mask))


def _paint_over(image: np.ndarray, mask: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """``image`` with the backdrop-coloured ``slots`` ((h, w) bool, inside ``mask``) painted by the fabric around
    them (:func:`fill_see_through`); ``image`` itself when there are none."""
    if not slots.any():
        return image
    radius = max(3, int(round(0.006 * max(image.shape[:2]))))
    # Only fabric clearly unlike the backdrop (the slot's own colour) is known around the hole: the backdrop
    # beside it and the outline's blend of the two are painted too (and only the slot is copied back), so no
    # backdrop colour flows in.
    near = cv2.dilate(slots.astype(np.uint8), np.ones((6 * radius + 1,) * 2, np.uint8)).astype(bool)
    lab = _lab(image)
    backdrop = np.median(lab[slots], axis=0)
    fabric = (np.asarray(mask) > 0.5) & (np.linalg.norm(lab - backdrop, axis=-1) > SLOT_FABRIC) & ~slots
    unknown = near & ~fabric
    filled = cv2.inpaint(np.ascontiguousarray(image), unknown.astype(np.uint8), radius, cv2.INPAINT_TELEA)
    return np.where(slots[..., None], filled, image)


NOTCH_REACH = 0.12
"""How far from an armpit landmark (share of the garment's width) :func:`armpit_notches` looks for backdrop in the
mask."""
NOTCH_TOL = 8.0
"""CIELAB distance (chroma halved) from the backdrop's fit within which a mask pixel near an armpit counts as
backdrop for :func:`armpit_notches` (at least; more on a noisy backdrop)."""
NOTCH_PALE = 0.1
"""Largest share of a garment's mask within :data:`NOTCH_TOL` of the backdrop for :func:`armpit_notches` to look at
it: a white-bodied tee with coloured sleeves, or a white tee with a print, has its own side's fabric there."""
NOTCH_MAX_AREA = 0.02
"""Largest armpit notch (share of the mask's area) :func:`armpit_notches` takes: more is a garment of the backdrop's
own colour there (the wedges seen on 224-pixel shop photos: 0.5-1.1 %)."""


def armpit_notches(image: np.ndarray, mask: np.ndarray, armpits: list[np.ndarray]) -> np.ndarray:
    """(h, w) bool: backdrop the cut-out took into the garment at its armpits.

    On a small shop photo (the Myntra catalogue's 224 pixels) the cut-out closes the concave corner between a short
    sleeve's underside and the torso's side: a wedge of white paper a few pixels across stays garment, and the warp
    drew it at the person's underarm as a white streak between sleeve and torso (first users counted holes or white
    slivers on half their pictures). Here pixels of the mask within :data:`NOTCH_TOL` of the backdrop's colour (its
    plane fit, :func:`border_stats`) form patches; a patch is a notch when it
    touches the mask's outline, lies within :data:`NOTCH_REACH` of an armpit, covers at most
    :data:`NOTCH_MAX_AREA` of the mask, and the fabric around it is clearly unlike the backdrop; a garment more
    than :data:`NOTCH_PALE` of which is the backdrop's colour is left alone (a white tee on white paper, a white
    body under coloured raglan sleeves: their own side at the armpit is the backdrop's colour).

    Args:
        image: (h, w, 3) uint8 RGB garment photo.
        mask: (h, w) float32 [0, 1] or bool garment mask of ``image``.
        armpits: the garment's armpit landmarks, (2,) x y garment pixels each.

    Returns:
        (h, w) bool notch pixels (all False when none or when the photo's border is not one plain colour).
    """
    m = np.asarray(mask) > 0.5
    out = np.zeros(m.shape, bool)
    if not m.any() or image.shape[:2] != m.shape or not armpits:
        return out
    lab = _lab(cv2.GaussianBlur(image, (3, 3), 0.8))
    bg, _, frac, noise = border_stats(lab)
    if frac < _MIN_BG_BORDER_FRACTION or noise > _MAX_BORDER_NOISE:
        return out
    dist = np.linalg.norm(lab - bg, axis=2)
    base = max(2.0, 3.5 * noise + 0.4)
    # Wider than the slots' tolerance: the wedge is JPEG-blurred with the fabric round it on a small photo.
    tol, unlike = max(NOTCH_TOL, base), max(12.0, 6.0 * base)
    cand = m & (dist < tol)
    if cand.sum() > NOTCH_PALE * m.sum():
        # Much of the garment is the backdrop's colour (a white body, a white print): its own fabric at the armpit
        # cannot be told from paper.
        return out
    xs = np.nonzero(m.any(axis=0))[0]
    reach = NOTCH_REACH * float(xs.max() - xs.min() + 1)
    yy, xx = np.mgrid[0:m.shape[0], 0:m.shape[1]]
    near = np.zeros(m.shape, bool)
    for a in armpits:
        near |= np.hypot(xx - float(a[0]), yy - float(a[1])) <= reach
    rim = m & ~cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    _, lbl, stats, _ = cv2.connectedComponentsWithStats(cand.astype(np.uint8), connectivity=8)
    k = np.ones((7, 7), np.uint8)
    # Only patches touching both the outline and an armpit's reach (a print's pale dots elsewhere are not looked at).
    for i in np.intersect1d(lbl[cand & rim], lbl[cand & near]):
        if stats[i, cv2.CC_STAT_AREA] > NOTCH_MAX_AREA * m.sum():
            continue
        comp = lbl == i
        around = cv2.dilate(comp.astype(np.uint8), k).astype(bool) & m & ~cand
        if around.sum() >= 4 and float(np.median(dist[around])) > unlike:
            out |= comp & near     # (not a backdrop fringe running on down the side from there)
    if not out.any():
        return out
    # Its anti-aliased rim (backdrop mixed with fabric) goes with it.
    return cv2.dilate(out.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & m


def fill_armpit_notches(image: np.ndarray, mask: np.ndarray, armpits: list[np.ndarray],
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The garment photo with its :func:`armpit_notches` painted by the fabric around them (as
    :func:`fill_see_through` paints its slots; the mask keeps them: worn, the sleeve meets the torso there).

    Args:
        image: (h, w, 3) uint8 RGB garment photo; mask: its (h, w) garment mask; armpits: armpit landmarks.

    Returns:
        ``(image, notches)``: (h, w, 3) uint8 RGB, ``image`` itself when there is no notch, else a filled copy;
        (h, w) bool the notches painted (a drawn mask that peeled them as backdrop fringe gives them back).
    """
    notches = armpit_notches(image, mask, armpits)
    return _paint_over(image, mask, notches), notches


def _flanked(comp: np.ndarray, dist: np.ndarray, reach: int, unlike: float) -> bool:
    """Whether a patch is a slot between a sleeve and the torso: at least :data:`SLOT_ELONGATION` times taller than
    its median width, with fabric clearly unlike the backdrop (CIELAB distance over ``unlike``) within ``reach``
    pixels on both sides in most (60 %) of its rows. A white garment's own side on white paper next to a dark
    sleeve (a raglan tee) or beside a print is flanked on one side only."""
    ys = np.nonzero(comp.any(axis=1))[0]
    # A slot runs along the arm: far taller than wide (a white patch of a print is as wide as tall).
    if len(ys) < SLOT_ELONGATION * float(np.median(comp[ys].sum(axis=1))):
        return False
    w = comp.shape[1]
    both = 0
    for y in ys:
        xs = np.nonzero(comp[y])[0]
        left = dist[y, max(0, xs[0] - reach):xs[0]]
        right = dist[y, xs[-1] + 1:min(w, xs[-1] + 1 + reach)]
        both += bool(left.size and right.size and left.max() > unlike and right.max() > unlike)
    return both >= 0.6 * len(ys)


def _outer_wall(comp: np.ndarray, fg: np.ndarray, rows, sgn: int) -> float:
    """Median width (pixels) of the garment between an enclosed patch and the outside, row by row.

    Args:
        comp: (h, w) bool the patch; fg: (h, w) bool the garment; rows: the patch's rows; sgn: +1 to measure
            towards the right edge, -1 towards the left.

    Returns:
        The median over ``rows`` of the run of ``fg`` from the patch's outermost pixel to the first background
        pixel (the image edge when there is none).
    """
    walls = []
    for y in rows:
        xs = np.nonzero(comp[y])[0]
        x = xs.max() if sgn > 0 else xs.min()
        run = fg[y, x + 1:] if sgn > 0 else fg[y, :x][::-1]
        walls.append(np.argmin(run) if not run.all() else len(run))
    return float(np.median(walls))


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    h, w = mask.shape
    pad = np.zeros((h + 2, w + 2), np.uint8)
    pad[1:-1, 1:-1] = mask.astype(np.uint8)
    ff = pad.copy()
    cv2.floodFill(ff, None, (0, 0), 2)
    return (ff[1:-1, 1:-1] != 2)


def _busy_message(frac: float, noise: float) -> str:
    # Name the test that failed: a border of one colour can still be too textured (wood, fabric, a wall).
    why = (f"only {frac:.0%} of the border is one colour, at least {_MIN_BG_BORDER_FRACTION:.0%} is needed"
           if frac < _MIN_BG_BORDER_FRACTION else
           f"the border is textured: noise {noise:.1f}, at most {_MAX_BORDER_NOISE:.1f} for a plain background")
    return (f"the garment photo's background is not plain ({why}): use an in-shop photo of the garment alone on a "
            "plain white, grey or coloured background, not a photo of a person or a garment in a room")


def _analyse(image: np.ndarray, check_background: bool, allow_smooth: bool = False) -> dict:
    """Working-resolution image, background field and the per-pixel evidence every tolerance setting shares.

    With ``allow_smooth`` a border that fails the plain-background test but is smooth (a radial gradient or
    vignette the colour plane cannot fit, yet no texture: :data:`SMOOTH_BORDER_NOISE`) does not raise; the
    result's ``"plain"`` is then False.
    """
    h0, w0 = image.shape[:2]
    s = WORK_SIDE / max(h0, w0)
    w, h = max(16, round(w0 * s)), max(16, round(h0 * s))
    image = strip_frame(image)
    small = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    lab = _lab(cv2.GaussianBlur(small, (3, 3), 0.8))
    bg, _, frac, noise = border_stats(lab)
    plain = frac >= _MIN_BG_BORDER_FRACTION and noise <= _MAX_BORDER_NOISE
    if check_background and not plain:
        # High-pass residual on the border: texture (wood, concrete, a room) keeps it, a smooth gradient does not.
        hp = np.linalg.norm((lab - cv2.GaussianBlur(lab, (0, 0), 4))[_border_ring(h, w, 3)], axis=1)
        if not (allow_smooth and 1.4826 * float(np.median(hp)) <= SMOOTH_BORDER_NOISE):
            raise BusyBackgroundError(_busy_message(frac, noise))
    dist = np.linalg.norm(lab - bg, axis=2)
    gx = cv2.Sobel(lab, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lab, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.sqrt((gx ** 2 + gy ** 2).sum(axis=2)) / 8.0
    return {"small": small, "dist": dist, "grad": grad, "noise": noise, "shape": (h0, w0), "plain": plain,
            "why": _busy_message(frac, noise)}


def _segment(an: dict, *, refine: bool, tol_scale: float = 1.0) -> np.ndarray | None:
    """The classical cut-out at working resolution ((h, w) bool), or None when nothing but background is left."""
    small, dist, grad, noise = an["small"], an["dist"], an["grad"], an["noise"]
    h, w = dist.shape
    # Tight tolerances: a white garment on white differs from the paper by a few L units at most, so the colour
    # test alone leaks; the gradient test catches the soft shadow line along its silhouette.
    tol_c = max(1.2, 3.5 * noise + 0.4) * tol_scale
    tol_g = max(0.6, 2.5 * noise + 0.2) * tol_scale
    bg_like = ((dist < tol_c) & (grad < tol_g)).astype(np.uint8)
    # Open the background-like set so 1-2 px gaps in a faint silhouette edge do not let the flood leak inside.
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    bg_open = cv2.morphologyEx(bg_like, cv2.MORPH_OPEN, k)
    n, lbl_bg = cv2.connectedComponents(bg_open, connectivity=4)
    # Seed from a 4 px ring, not the outermost line only, so a leftover frame rule cannot wall the flood off.
    border_labels = np.unique(lbl_bg[_border_ring(h, w, 4)])
    border_labels = border_labels[border_labels > 0]
    bg_region = np.isin(lbl_bg, border_labels).astype(np.uint8)
    # Grow the flooded background back over the thin band the opening removed, but only through bg-like pixels.
    bg_region = (cv2.dilate(bg_region, k) & bg_like) | bg_region
    fg = (bg_region == 0).astype(np.uint8)
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    n, lbl, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if n <= 1:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = areas.max()
    keep = np.flatnonzero((areas >= 0.03 * big) & (areas >= 0.0005 * h * w)) + 1
    fg = np.isin(lbl, keep)
    enclosed = np.where(np.isin(lbl_bg, border_labels), 0, lbl_bg)
    see_through = _see_through_holes(fg, enclosed, bg_like.astype(bool), dist, tol_c)
    fg = _fill_holes(fg) & ~see_through
    if refine:
        fg = _grabcut_refine(small, fg, bg_region.astype(bool), dist)
    if fg.mean() < 0.005:
        return None
    return fg


def drop_hanger(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Take a clothes hanger (and the backdrop it encloses above the neckline) out of a garment mask.

    A top photographed on a hanger has the hanger's apex standing above its neckline at the centre line, in a
    colour of its own: when the mask's top at the centre rises :data:`HANGER_PEAK` of the height above the top
    to either side and its colour differs from the body's by :data:`HANGER_CONTRAST`, the pixels of the apex's
    colour connected to it within the top 30 % are removed (the hook and bar), then the backdrop-coloured
    pixels they had walled off (the patch between the bar and the back neckline). Otherwise the mask is
    returned unchanged. The bar is looked for without the backdrop-coloured pixels the mask holds near the top (a
    segmenter's halo round the hanger, a hook's loop it filled), and a second pass follows one that removed
    something (a hook the mask kept whole can go first, then the bar its stem hid). Hand-set rules, checked on
    the wild-dev hangers (``docs/garment-mask.md``).

    Args:
        image: (H, W, 3) uint8 RGB garment photo.
        mask: (H, W) float32 [0, 1] garment mask of that photo.

    Returns:
        (H, W) float32 [0, 1] mask: the input itself when no hanger is seen, else a copy with the hanger at 0.
    """
    # A hook the mask kept whole (its loop filled) hides the bar's colour under its stem: once the hook is gone,
    # a second look finds the bar.
    out = _drop_hanger_once(image, mask)
    return _drop_hanger_once(image, out) if out is not mask else out


def _drop_hanger_once(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """One pass of :func:`drop_hanger`: the mask itself when no hanger is seen."""
    h0, w0 = mask.shape
    s = WORK_SIDE / max(h0, w0)
    w, h = max(16, round(w0 * s)), max(16, round(h0 * s))
    m = cv2.resize(mask.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0.5
    ys, xs = np.nonzero(m)
    if len(ys) < 64:
        return mask
    top, gh, gw = ys.min(), ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    cx = int(round(xs[ys < top + gh / 3].mean()))
    lo, hi = max(0, cx - int(0.15 * gw)), min(w, cx + int(0.15 * gw) + 1)
    lab = _lab(cv2.GaussianBlur(cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA), (3, 3), 0.8))
    bg, _, _, noise = border_stats(lab)
    backdrop_like = np.linalg.norm(lab - bg, axis=2) < max(3.0, 4.0 * noise + 1.5)
    # The hanger's bar: the top of the mask at the centre line once thin parts (a hook it kept) are opened away,
    # and the backdrop it holds near the top (a segmenter's halo round the hanger, a hook's loop it filled: a
    # blob as wide as a tenth of the garment that the opening kept and took for the bar).
    m_bar = m & ~(backdrop_like & (np.arange(h)[:, None] < top + 0.3 * gh))
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (max(3, int(0.04 * gw)) | 1,) * 2)
    thick = cv2.morphologyEx(m_bar.astype(np.uint8), cv2.MORPH_OPEN, k).astype(bool)
    rows = np.nonzero(thick[:, lo:hi].any(axis=1))[0]
    if not len(rows):
        return mask
    bar_y = int(rows[0])
    col_top = np.where(thick.any(axis=0), thick.argmax(axis=0), h)
    beside = min(col_top[max(0, cx - int(0.15 * gw))], col_top[min(w - 1, cx + int(0.15 * gw))])
    if beside - bar_y < HANGER_PEAK * gh:
        return mask
    # The hook: a line (in the mask or not: a wire is often lost to the backdrop) above the bar near the centre
    # line. A collar or a hood standing above the neckline has nothing above it.
    if _above_share(image, mask, bar_y / s, cx / s, gh / s, gw / s) < 0.6:
        return mask
    band = np.arange(max(0, cx - int(0.05 * gw)), min(w, cx + int(0.05 * gw) + 1))
    body = m.copy()
    body[:int(top + 0.4 * gh)] = False
    body[int(top + 0.75 * gh):] = False
    body_col = np.median(lab[body], axis=0)
    seed = np.zeros_like(m)
    for x in band:
        if col_top[x] < h:
            seed[col_top[x]:col_top[x] + 4, x] = True
    seed &= m
    apex_col = np.median(lab[seed], axis=0)
    contrast = float(np.linalg.norm(apex_col - body_col))
    if contrast < HANGER_CONTRAST:
        return mask
    # The hanger: pixels nearer the apex's colour than the body's, connected to the apex, in the top 30 %.
    near = np.linalg.norm(lab - apex_col, axis=2) < min(0.5 * contrast, 20.0)
    near &= np.linalg.norm(lab - apex_col, axis=2) < np.linalg.norm(lab - body_col, axis=2)
    near &= m
    near[int(top + 0.3 * gh):] = False
    _, lbl = cv2.connectedComponents(near.astype(np.uint8), connectivity=8)
    hanger = np.isin(lbl, np.unique(lbl[seed & near])) & near
    if not hanger.any():
        return mask
    hanger[:bar_y + 1, lo:hi] |= m[:bar_y + 1, lo:hi]  # the hook, where the mask kept it
    hanger = cv2.dilate(hanger.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))) > 0
    # The backdrop it walled off: backdrop-coloured mask pixels above the body reached from outside the mask.
    backdrop = backdrop_like & m & ~hanger
    backdrop[int(top + 0.3 * gh):] = False
    open_ = (~m | hanger).astype(np.uint8)
    n, lbl = cv2.connectedComponents((open_ | backdrop).astype(np.uint8), connectivity=4)
    outside = np.unique(lbl[~m])
    walled = backdrop & np.isin(lbl, outside[outside > 0])
    drop = hanger | walled
    keep = m & ~drop
    # The body must stay whole: the hanger is small next to it.
    if drop.sum() > 0.15 * m.sum():
        log.debug("hanger-like region too large (%.0f %% of the mask): kept", 100 * drop.sum() / m.sum())
        return mask
    full = cv2.resize(keep.astype(np.float32), (w0, h0), interpolation=cv2.INTER_LINEAR) > 0.5
    gone = cv2.resize(drop.astype(np.float32), (w0, h0), interpolation=cv2.INTER_LINEAR) > 0.5
    out = mask.astype(np.float32).copy()
    out[gone & ~full] = 0.0
    return out


def _above_share(image: np.ndarray, mask: np.ndarray, y: float, cx: float, gh: float, gw: float) -> float:
    """Share of the rows within :data:`HANGER_HOOK` of the garment's height above image row ``y`` in which
    something other than backdrop (grey level 25 off the row's median, or the mask) lies within 8 % of the
    garment's width ``gw`` of column ``cx`` (full-resolution pixels)."""
    y1, y0 = int(y), max(0, int(y - HANGER_HOOK * gh))
    x0, x1 = max(0, int(cx - 0.08 * gw)), min(image.shape[1], int(cx + 0.08 * gw) + 1)
    if y1 - y0 < 3 or x1 <= x0:
        return 0.0
    gray = cv2.cvtColor(image[y0:y1], cv2.COLOR_RGB2GRAY).astype(np.float32)
    seen = np.abs(gray[:, x0:x1] - np.median(gray, axis=1, keepdims=True)) > 25.0
    return float((seen | (mask[y0:y1, x0:x1] > 0.5)).any(axis=1).mean())


def hanger_above(image: np.ndarray, mask: np.ndarray) -> bool:
    """True when a hanger stands above the garment: most rows just above the mask's top at its centre line show
    something (the bar and hook :func:`drop_hanger` took out of the mask, or left in). A garment laid flat has
    only backdrop there.

    Args:
        image: (H, W, 3) uint8 RGB garment photo.
        mask: (H, W) float32 [0, 1] garment mask of that photo.
    """
    m = mask > 0.5
    ys, xs = np.nonzero(m)
    if len(ys) < 64:
        return False
    top, gh, gw = ys.min(), ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    cx = float(xs[ys < top + gh / 3].mean())
    col = m[:, int(max(0, cx - 0.05 * gw)):int(cx + 0.05 * gw) + 1].any(axis=1)
    return _above_share(image, mask, float(np.argmax(col)), cx, gh, gw) >= 0.6


def _to_full(fg: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    soft = cv2.GaussianBlur(fg.astype(np.float32), (3, 3), 0.7)
    out = cv2.resize(soft, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _stability(an: dict, fg: np.ndarray) -> float:
    """How little the cut-out moves when the background tolerances halve or double (IoU, worst of the two).

    A mask whose silhouette sits on a clear colour step stays put; one that depends on a faint shadow line
    (white on white), on a background the plane fit does not model (a radial gradient, a vignette) or on a
    print that looks like the paper grows or shrinks a lot. GrabCut is left out: it only cleans specks.
    """
    # A band of 2 working pixels either side of the outline is left out: a tolerance change always moves an
    # anti-aliased edge or a soft shadow line by a pixel, which says nothing about the cut-out being right.
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    f8 = fg.astype(np.uint8)
    away = ~(cv2.dilate(f8, k).astype(bool) & ~cv2.erode(f8, k).astype(bool))
    worst = 1.0
    for scale in CONFIDENCE_SCALES:
        other = _segment(an, refine=False, tol_scale=scale)
        if other is None:
            return 0.0
        a, b = fg & away, other & away
        worst = min(worst, float((a & b).sum() / max(1, (a | b).sum())))
    return worst


def classical_mask(image: np.ndarray, *, check_background: bool = True, refine: bool = True
                   ) -> tuple[np.ndarray, float]:
    """The classical cut-out and its own confidence.

    Args:
        image: (H, W, 3) uint8 RGB garment photo.
        check_background: raise when the border is not a plain background.
        refine: GrabCut clean-up of background-coloured specks along the silhouette.

    Returns:
        ``(mask, confidence)``: (H, W) float32 soft mask in [0, 1] and the stability of the cut-out in [0, 1]
        (the IoU between the mask and the masks found with the background tolerances scaled by
        :data:`CONFIDENCE_SCALES`, worst of them; at least :data:`CONFIDENT` = sure).

    Raises:
        BusyBackgroundError: the border is not a plain background, or nothing but background was found.
    """
    an = _analyse(image, check_background)
    fg = _segment(an, refine=refine)
    if fg is None:
        raise BusyBackgroundError("no garment found: the photo seems to show only a plain background")
    return _to_full(fg, an["shape"]), _stability(an, fg)


def garment_mask(image: np.ndarray, *, check_background: bool = True, refine: bool = True,
                 learned: bool | None = None, drop_hangers: bool = True) -> np.ndarray:
    """Soft garment mask of an in-shop garment photo on a plain background.

    The classical cut-out (module docstring) is kept where it is sure of itself (:func:`classical_mask`'s
    confidence at least :data:`CONFIDENT`); elsewhere the learned segmenter
    (:class:`tryon.garment.segmenter.GarmentSegmenter`, ``docs/garment-mask.md``) gives the mask. A border
    that is not one plain colour but smooth (a radial gradient, a vignette: :data:`SMOOTH_BORDER_NOISE`) goes to
    the learned segmenter too, and is refused after all when its mask covers more than :data:`MAX_BORDER_COVER`
    of the image border (a wall or a floor).

    Args:
        image: (H, W, 3) uint8 RGB garment photo (any size; a few hundred pixels per side or more).
        check_background: raise when the border is not a plain background (default True).
        refine: GrabCut clean-up of the classical cut-out.
        learned: None = the learned segmenter where the classical cut-out is unsure (when its weights are
            installed); True = always the learned one; False = classical only.
        drop_hangers: take a clothes hanger out of the mask (:func:`drop_hanger`).

    Returns:
        (H, W) float32 mask in [0, 1], 1 on the garment, with a soft (about 1 working pixel) edge.

    Raises:
        BusyBackgroundError: the image border is not a plain background (textured or multi-coloured border,
            e.g. a room, a street or a cropped photo of a person), or nothing but background was found.
        MissingModelError: ``learned=True`` and the segmenter's weights are not installed.
    """
    an = _analyse(image, check_background, allow_smooth=learned is not False)
    fg = _segment(an, refine=refine)
    plain = an["plain"] or not check_background
    if fg is None and plain:
        # Nothing but one plain colour: the network would make a garment of paper grain or a vignette.
        raise BusyBackgroundError("no garment found: the photo seems to show only a plain background")
    # The classical cut-out when it is sure: checked before the network is loaded (torch costs seconds to import).
    if learned is False or (learned is None and plain and _stability(an, fg) >= CONFIDENT):
        return _finish(image, _to_full(fg, an["shape"]), drop_hangers)
    from tryon.garment.segmenter import default_segmenter

    seg = default_segmenter(required=bool(learned))
    if seg is None:  # no weights installed: the classical answer, as before the segmenter existed
        if not plain:
            raise BusyBackgroundError(an["why"])
        return _finish(image, _to_full(fg, an["shape"]), drop_hangers)
    out = seg(image)
    hard = out > 0.5
    if hard.mean() < 0.005:
        raise BusyBackgroundError("no garment found: the photo seems to show only a plain background")
    if not plain and hard[_border_ring(*hard.shape, 2)].mean() > MAX_BORDER_COVER:
        # A smooth border that the network fills: a wall or a floor, not studio paper.
        raise BusyBackgroundError(an["why"])
    return _finish(image, out, drop_hangers)


def _finish(image: np.ndarray, mask: np.ndarray, drop_hangers: bool) -> np.ndarray:
    mask = drop_strap_loops(image, mask)
    mask = drop_hanger(image, mask) if drop_hangers else mask
    check_extent(mask)
    return mask


def check_extent(mask: np.ndarray) -> None:
    """Refuse a mask whose garment spans less than :data:`MIN_EXTENT` of the photo's height or width.

    Args:
        mask: (H, W) float32 garment mask in [0, 1].

    Raises:
        BusyBackgroundError: what stands apart from the backdrop is a print, a logo or a speck, not a garment
            filling the frame (a white tee invisible on white paper leaves only its print).
    """
    ys, xs = np.nonzero(mask > 0.5)
    h, w = mask.shape
    dy = (ys.max() - ys.min() + 1) / h if len(ys) else 0.0
    dx = (xs.max() - xs.min() + 1) / w if len(xs) else 0.0
    if min(dy, dx) < MIN_EXTENT:
        raise BusyBackgroundError(
            f"no garment found: what stands apart from the background spans only {dy:.0%} of the photo's height and "
            f"{dx:.0%} of its width (at least {MIN_EXTENT:.0%} each): use a photo in which the garment fills most of "
            "the frame, on a background of another colour or shade than the garment")


STRAP_TOL = 3.0
"""Largest CIELAB distance (chroma halved) to the fitted backdrop of a strap loop's pixels (:func:`drop_strap_loops`)."""

STRAP_WALL = 0.06
"""Widest garment wall (share of the garment's width) outside a backdrop patch near the garment's top that still
reads as a strap's loop: a camisole's thin straps are 1-3 % of its width; a chest print is walled by half of it."""


def drop_strap_loops(image: np.ndarray, mask: np.ndarray, *, tol: float = STRAP_TOL) -> np.ndarray:
    """Give back to the background the loops a camisole's or slip dress's straps hang in beside the cups.

    A strap that leaves the cup and comes back to it (or to the armhole) encloses a narrow wedge of backdrop
    that the border flood cannot reach and hole filling makes garment: warped onto the person, it shows as a
    white (or grey, beige) triangle on each shoulder. At the working resolution of the cut-out the wedge is a
    few pixels wide and every pixel of it touches an edge, so this runs at the photo's resolution: pieces of
    the mask in its top fifth with garment all round them, off the centre line, within ``tol`` (CIELAB, chroma
    halved) of the fitted backdrop colour and as smooth as the border (lightness spread within 1.6 times its
    noise), at least 5 % of the garment's height tall, with at most :data:`STRAP_WALL` of the garment's width of
    garment between them and the outside, and walled by pixels clearly unlike the backdrop (a white garment's
    flat inside on white paper is not). The same rules as the sleeve slot of
    :func:`_see_through_holes`, with a strap's wall.

    Args:
        image: (H, W, 3) uint8 RGB garment photo.
        mask: (H, W) float32 [0, 1] garment mask.

    Returns:
        (H, W) float32 mask, the loops set to 0 (a copy; the input is returned unchanged when none is found).
    """
    hard = mask > 0.5
    gy = np.nonzero(hard.any(axis=1))[0]
    gx = np.nonzero(hard.any(axis=0))[0]
    if len(gy) < 20 or len(gx) < 20:
        return mask
    g_top, g_h, g_w = int(gy[0]), int(gy[-1] - gy[0] + 1), int(gx[-1] - gx[0] + 1)
    y1 = g_top + int(0.3 * g_h)
    lab = _lab(image)
    bg, _, _, noise = border_stats(lab)
    dist = np.linalg.norm(lab[:y1] - bg[:y1], axis=-1)
    band = hard[:y1]
    n, lbl, stats, _ = cv2.connectedComponentsWithStats((band & (dist < tol)).astype(np.uint8), connectivity=4)
    g_cx = float(np.nonzero(hard)[1].mean())
    k_wall = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    drop = np.zeros(band.shape, bool)
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if y >= g_top + 0.2 * g_h or h < 0.05 * g_h or area < 2e-4 * g_h * g_w:
            continue
        cx = x + 0.5 * w
        if abs(cx - g_cx) < 0.25 * g_w:
            continue
        comp = lbl == i
        # A hole: garment on every side (a fringe of backdrop left along the outline touches the outside).
        rim = cv2.dilate(comp.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~comp
        if float((~band[rim]).mean()) > 0.02:
            continue
        if _outer_wall(comp, band, range(y, y + h), 1 if cx > g_cx else -1) > STRAP_WALL * g_w:
            continue
        ring = cv2.dilate(comp.astype(np.uint8), k_wall).astype(bool) & ~comp & band
        # Backdrop seen through is as smooth as the border's paper; a white stripe of the fabric has its weave.
        if float(np.std(lab[:y1][comp][:, 0])) > max(0.6, 1.6 * noise):
            continue
        if ring.any() and float((dist[ring] > 12.0).mean()) > 0.35:
            drop |= comp
    if not drop.any():
        return mask
    out = np.array(mask, np.float32, copy=True)
    # The soft edge round the wedge goes too (it is the backdrop's anti-aliased rim).
    out[:y1][cv2.dilate(drop.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)] = 0.0
    return out
