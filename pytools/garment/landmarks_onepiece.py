"""Garment landmarks of a front-view in-shop one-piece (dress or jumpsuit), from its mask (and photo).

A one-piece is a bodice (a top ending at the waist) and a skirt or a pair of legs below it. Method:

* Waist: the narrowest row of the mask's centre run (the run of mask pixels through the centre line, so
  sleeves beside the body do not count) between 22 % and 62 % of the garment's height, the widths smoothed over
  3 % of the height. When that row is at the top of the range (the body only widens below the armpits: an
  A-line or shift dress), the waist is put 1.5 upper-body widths below the top (at most a third of the height);
  it is only where the bodice's control points end and the skirt's start, so nothing depends on a seam.
* Bodice: the mask without the skirt (:func:`skirt_mask`: below the waist, the runs on the centre line and the
  legs continuing them; long sleeves hanging beside the skirt stay with the bodice) is a top: :func:`tryon.garment.landmarks.garment_landmarks` (neckline,
  shoulders, armpits, sleeve ends) runs on it; its hem points are the waist (``waist_left``, ``waist_right``,
  ``waist_center``).
* Hanger: a dress photographed on a hanger has its hook and bar removed first (:func:`drop_hook_hanger`), and a
  fringe of backdrop along the mask's outline is peeled (:func:`trim_backdrop_fringe`).
* Skirt hem: the lowest point of the centre run (``hem_center``) and the outermost points of the centre run in
  the lowest 6 % of the garment (``hem_left``, ``hem_right``), as for a top's hem.
* Jumpsuit: both sides reach at least 15 % of the height below the end of the centre line (the gap between
  the legs): ``crotch`` is the top of that gap, and each leg's hem is the outer and inner end of its lowest row
  (``leg_left_outer``, ``leg_left_inner``, ...); ``hem_*`` are then the legs' outer hem corners and the crotch.

All coordinates are image pixels (x, y) floats; ``*_left`` is the WEARER's left = image RIGHT (as in
:mod:`tryon.garment.landmarks`).
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.errors import DataError
from tryon.garment.landmarks import LANDMARK_NAMES, SLEEVE_LANDMARKS, analyse_shape, garment_landmarks

__all__ = ["ONEPIECE_LANDMARKS", "JUMPSUIT_LANDMARKS", "onepiece_landmarks", "onepiece_sleeve", "is_jumpsuit",
           "skirt_mask", "garment_pieces", "drop_hook_hanger", "trim_backdrop_fringe", "onepiece_mask"]

ONEPIECE_LANDMARKS: tuple[str, ...] = LANDMARK_NAMES + ("waist_left", "waist_right", "waist_center")
"""Keys of a dress's landmarks (the tops' names, with ``hem_*`` at the skirt's hem, plus the waist)."""
JUMPSUIT_LANDMARKS: tuple[str, ...] = ("crotch", "leg_left_outer", "leg_left_inner", "leg_right_outer",
                                       "leg_right_inner")
"""Extra keys of a jumpsuit's landmarks."""

_WAIST_RANGE = (0.22, 0.62)   # share of the garment's height searched for the waist
_LEG_GAP = 0.15               # an empty centre line over this share of the height at the bottom: two legs
_SLEEVE_DROP = 0.25           # the centre run narrowing by this share within 3 % of the height: a sleeve's end
_CUFF_REACH = 0.35            # long sleeves end at most this share of the garment's height below its waist
_CUFF_LOW = 0.4               # ... and at least this share below its top (short and puff sleeves end higher)
_HOOK_ROWS = 0.01             # a hanger's hook: the mask's top rows over this share of its height ...
_HOOK_WIDTH = 0.12            # ... narrower than this share of its widest row, one run per row
_HANGER_DE = 20.0             # CIELAB distance to the hook's colour within which the hanger is followed
_FRINGE_DEPTH = 0.025         # a backdrop fringe of the mask is peeled at most this share of its widest row deep
_FRINGE_DE = 2.5              # ... its pixels within this CIELAB distance of the backdrop just outside
_BLEED_L = 2.0                # ... or the garment's colour bled into it (JPEG's halved chroma): within this L* of it,
_BLEED_SHARE = 0.5            # ... its a*b* less than this share of the way to the garment's colour inside,
_BLEED_MIN_CHROMA = 8.0       # ... where that colour is at least this a*b* distance from the backdrop,
_BLEED_RINGS = 3              # ... at most this many pixels deeper (JPEG's 2x2 chroma blocks and their ringing)
_SHADOW_CHROMA = 4.0          # ... or its shadow on the backdrop: within this a*b* distance of the backdrop,
_SHADOW_L = (2.0, 40.0)       # ... darker than it by this many L* units,
_SHADOW_APART = 20.0          # ... and this CIELAB distance or more from the garment's colour inside the outline,
_SHADOW_BELOW = 0.2           # ... below this share of its height (a collar's rib in shade stays; shadows fall low)
_SHADOW_COLOURS = 6           # colours of the garment just inside its outline that a shadow must be unlike


def _centre_runs(m: np.ndarray, cx: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the first and last column of the run of mask pixels through column ``cx`` (-1, -1 when the
    centre pixel is empty)."""
    ci = int(np.clip(round(cx), 0, m.shape[1] - 1))
    lo = np.full(m.shape[0], -1)
    hi = np.full(m.shape[0], -1)
    for y in np.nonzero(m[:, ci])[0]:
        row = m[y]
        r = row[ci:]
        hi[y] = ci + (int(np.argmin(r)) - 1 if not r.all() else len(r) - 1)
        left = row[:ci + 1][::-1]
        lo[y] = ci - (int(np.argmin(left)) - 1 if not left.all() else len(left) - 1)
    return lo, hi


def _not_a_waist(lo: np.ndarray, hi: np.ndarray, wy: int, y1: int, top: float, hgt: float) -> bool:
    """True when row ``wy``, the narrowest of the centre run in the waist's range (ending at row ``y1``), is no
    waist: the run still narrows at the range's end (within 5 % of the height of it: a pencil or bodycon skirt
    tapering to its hem), or it lies within 3 % of the height below a sleeve's cuff (:func:`_sleeve_cuff`).

    Args:
        lo, hi: (H,) :func:`_centre_runs` of the working mask; wy: the candidate waist row; y1: the last row
            searched; top: the garment's top row; hgt: the garment's height, pixels.
    """
    if wy >= y1 - 0.05 * hgt:
        return True
    return _sleeve_cuff(lo, hi, wy - max(2, int(round(0.03 * hgt))), wy, top, hgt) is not None


def _sleeve_cuff(lo: np.ndarray, hi: np.ndarray, start: int, stop: int, top: float, hgt: float) -> int | None:
    """The first row in [start, stop] where the centre run has narrowed, over the 3 % of the height above it, by
    more than :data:`_SLEEVE_DROP` of its width, from both sides (each by a tenth of it) and goes on below: long
    sleeves lying against the body, merged with it in the mask, ending at their cuffs (a hem or a one-sided
    cut narrows the run from one side, or ends it), at least :data:`_CUFF_LOW` of the garment's height below
    its top (short and puff sleeves end by the armpits). None when there is none.

    Args:
        lo, hi: (H,) :func:`_centre_runs` (-1 off the centre line); start, stop: rows; top: the garment's top
            row; hgt: the garment's height, pixels.
    """
    d = max(2, int(round(0.03 * hgt)))
    n = len(lo)
    for r in range(max(d, start, int(np.ceil(top + _CUFF_LOW * hgt))), min(stop, n - 1 - d) + 1):
        a, b = r - d, r
        if lo[a] < 0 or lo[b] < 0 or lo[r + d] < 0:
            continue
        wa, wb = hi[a] - lo[a] + 1, hi[b] - lo[b] + 1
        if wb < (1.0 - _SLEEVE_DROP) * wa and lo[b] - lo[a] > 0.1 * wa and hi[a] - hi[b] > 0.1 * wa:
            return r
    return None


def _hanging_cuffs(m: np.ndarray, body_lo: int, body_hi: int, cuff: int, hgt: float, to_img) -> dict:
    """Sleeve ends of long sleeves hanging beside a one-piece's body down to row ``cuff`` (working mask ``m``,
    body run ``body_lo``..``body_hi`` just under the cuffs): on each side of the body, the lowest row of the
    mask above ``cuff`` plus 3 % of the height; ``sleeve_*_outer`` / ``sleeve_*_inner`` are that row's ends
    of the sleeve's run (``*_left`` = image right, as everywhere). Empty when a side has no such sleeve.
    ``to_img`` maps working pixels to image pixels."""
    d = max(2, int(round(0.03 * hgt)))
    out = {}
    for side, part, off in (("left", m[:cuff + d, body_hi + 1:], body_hi + 1), ("right", m[:cuff + d, :body_lo], 0)):
        rows = np.nonzero(part.any(axis=1))[0]
        if not len(rows):
            return {}
        yb = int(rows.max())
        xs = np.nonzero(part[max(0, yb - 1): yb + 1].any(axis=0))[0] + off
        outer, inner = (xs.max(), xs.min()) if side == "left" else (xs.min(), xs.max())
        out[f"sleeve_{side}_outer"] = to_img(outer, yb)
        out[f"sleeve_{side}_inner"] = to_img(inner, yb)
    return out


def _hidden_shoulders(m: np.ndarray, body_lo: int, body_hi: int, cuff: int, top: float, lm: dict, to_img) -> dict:
    """Shoulders and armpits of a bodice whose long sleeves lie merged with its body down to row ``cuff``
    (working mask ``m``; the body's run there ``body_lo``..``body_hi``; ``lm`` the tops detector's points).

    * Shoulders: kept unless their width is under 0.8 of the body's under the cuffs (a standing collar or a
      bow read as the shoulder line); then, on each side, the first row from the top where the mask reaches
      past the body's side, at its outermost pixel there (the top of the sleeve's seam).
    * Armpits: hidden under the sleeves, at the body's sides under the cuffs (inside the shoulders), a third of
      the way from the shoulders down to the cuffs (an arm's upper third: the tops detector's 0.4 shoulder
      widths below the shoulders on a straight long-sleeved top).
    """
    out = {}
    xl, xr = to_img(body_hi, 0)[0], to_img(body_lo, 0)[0]
    if abs(lm["shoulder_left"][0] - lm["shoulder_right"][0]) < 0.8 * abs(xl - xr):
        for side, part, off in (("left", m[int(top):cuff, body_hi + 1:], body_hi + 1),
                                ("right", m[int(top):cuff, :body_lo], 0)):
            rows = np.nonzero(part.any(axis=1))[0]
            if not len(rows):
                return {}
            xs = np.nonzero(part[rows[0]])[0] + off
            out[f"shoulder_{side}"] = to_img(xs.max() if side == "left" else xs.min(), int(top) + rows[0])
    sh = {k: out.get(k, lm[k]) for k in ("shoulder_left", "shoulder_right")}
    sh_y = 0.5 * (sh["shoulder_left"][1] + sh["shoulder_right"][1])
    ay = sh_y + (to_img(0, cuff)[1] - sh_y) / 3.0
    out["armpit_left"] = (float(min(xl, sh["shoulder_left"][0])), float(ay))
    out["armpit_right"] = (float(max(xr, sh["shoulder_right"][0])), float(ay))
    return out


def garment_pieces(mask: np.ndarray) -> np.ndarray:
    """(h, w) float32: the garment mask without what lies beside the garment: its largest connected piece and
    the pieces whose centre is inside that piece's bounding box (a detached strap, a bow). Everything else is
    not the garment: a phone screenshot's status bar and thumbnails, a logo, a hanger's hook; warped with the
    dress they would be drawn on the person, and they shift the bodice's landmarks.

    Args:
        mask: (h, w) float32 [0, 1] garment mask; an empty one comes back as it is (the landmarks refuse it).
    """
    m = np.asarray(mask, np.float32)
    n, lbl, stats, cent = cv2.connectedComponentsWithStats((m > 0.5).astype(np.uint8), connectivity=8)
    if n <= 1:
        return m
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h = stats[k, :4]
    keep = [i for i in range(1, n) if x <= cent[i][0] < x + w and y <= cent[i][1] < y + h]
    # Soft edges (below 0.5) stay with the piece they border.
    near = cv2.dilate(np.isin(lbl, keep).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return np.where(near, m, 0.0).astype(np.float32)


def _lab(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32 CIELAB (L in 0-100, a and b signed) of a uint8 RGB image."""
    lab = cv2.cvtColor(np.ascontiguousarray(image, np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)
    return lab * np.array([100.0 / 255.0, 1.0, 1.0], np.float32) - np.array([0.0, 128.0, 128.0], np.float32)


def drop_hook_hanger(image: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
    """(h, w) float32: the garment mask without the hanger a dress was photographed on, found by its hook.

    :func:`tryon.garment.mask.drop_hanger` (applied by ``garment_mask`` to every garment) finds a hanger by its bar
    standing above a top's neckline; a dress hangs lower on its hanger, with only the hook above the straps, which
    that rule does not see (wild-dev's tulle dress), so the one-piece mask adds this second rule.

    A dress on a hanger: the garment mask takes the hook and the bar with it (one piece with the dress, so
    :func:`garment_pieces` keeps them); the neck points were then read at the top of the hook and the bar was
    drawn across the wearer's collarbones. A hanger is recognised by its hook: the mask's top
    :data:`_HOOK_ROWS` of the garment's height one run each, narrower than :data:`_HOOK_WIDTH` of its widest
    row, near its centre line (two straps are two runs), of another colour than the garment (over twice :data:`_HANGER_DE` in CIELAB from the middle
    third's median: a halter strap of the dress's own fabric is no hook). The hanger is then the pixels of the
    hook's colour (within :data:`_HANGER_DE`) connected to it above the shoulders (the first row wider than 40 %
    of the widest, plus 5 % of the height), grown by 2 px over the mask's soft edge.

    Args:
        image: (h, w, 3) uint8 RGB garment photo, or None (nothing is dropped: the colour decides).
        mask: (h, w) float32 [0, 1] garment mask.

    Returns:
        The mask with the hanger's pixels set to 0 (the same values elsewhere; unchanged without a hook).
    """
    m = np.asarray(mask, np.float32)
    solid = m > 0.5
    rows = np.nonzero(solid.any(axis=1))[0]
    if image is None or len(rows) < 20 or image.shape[:2] != m.shape:
        return m
    top, hgt = int(rows[0]), int(rows[-1] - rows[0] + 1)
    widths = solid.sum(axis=1)
    wmax = float(widths.max())
    n_apex = max(2, int(round(_HOOK_ROWS * hgt)))
    apex = np.zeros_like(solid)
    apex[top: top + n_apex] = solid[top: top + n_apex]
    cols = np.nonzero(solid.any(axis=0))[0]
    centre = 0.5 * (cols[0] + cols[-1])
    runs = (np.diff(solid[top: top + n_apex].astype(np.int8), axis=1) == 1).sum(axis=1) + solid[top: top + n_apex, 0]
    if widths[top: top + n_apex].max() > _HOOK_WIDTH * wmax or runs.max() > 1 or \
            abs(float(np.nonzero(apex.any(axis=0))[0].mean()) - centre) > 0.06 * wmax:
        return m
    lab = _lab(image)
    hook = np.median(lab[apex], axis=0)
    middle = solid.copy()
    middle[: top + hgt // 3] = False
    middle[top + 2 * hgt // 3:] = False
    if not middle.any() or np.linalg.norm(hook - np.median(lab[middle], axis=0)) < 2 * _HANGER_DE:
        return m
    shoulders = top + int(np.argmax(widths[top:] > 0.4 * wmax))
    band = np.zeros_like(solid)
    band[: shoulders + int(round(0.08 * hgt))] = True
    hanger = solid & band & (np.linalg.norm(lab - hook, axis=-1) < _HANGER_DE)
    # The mask's soft outline spans the gaps between the hook's wire and the bar: backdrop-coloured pixels
    # above the shoulders go with it (the backdrop: the photo's border outside the mask).
    border = np.zeros_like(solid)
    border[[0, -1], :] = True
    border[:, [0, -1]] = True
    backdrop = np.median(lab[border & ~solid], axis=0) if (border & ~solid).any() else None
    if backdrop is not None:
        hanger |= solid & band & (np.linalg.norm(lab - backdrop, axis=-1) < _HANGER_DE)
    hanger = cv2.dilate(hanger.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & ~(solid & ~hanger)
    # What this leaves enclosed by the garment is the garment's (a white label inside the neckline): kept.
    n, lbl = cv2.connectedComponents((~(solid & ~hanger)).astype(np.uint8), connectivity=4)
    outside = np.unique(np.concatenate([lbl[0], lbl[-1], lbl[:, 0], lbl[:, -1]]))
    hanger &= np.isin(lbl, outside)
    return garment_pieces(np.where(hanger, 0.0, m).astype(np.float32))


def _garment_shadow(lab: np.ndarray, ext: np.ndarray, solid: np.ndarray, depth: int) -> np.ndarray:
    """(h, w) bool: pixels of the outline's band ``depth`` deep that are the garment's shadow on the backdrop.

    Of the backdrop's hue (:data:`_SHADOW_CHROMA` from ``ext``, the backdrop just outside), darker than it
    (:data:`_SHADOW_L`), below the top :data:`_SHADOW_BELOW` of the garment (a collar's rib in shade is as
    grey; shadows fall low), and at least :data:`_SHADOW_APART` from every colour of the garment seen within 6
    depths (:data:`_SHADOW_COLOURS` k-means centres of its pixels 2-6 depths in, deeper than a blurry mask's
    shadow reaches): a black tee's soft grey shadow under its hem goes, a striped tee's white stripes in shade at
    its side (white is one of its colours there) stay, and so does all where none of the garment is seen that
    deep (an off-white cuff in shade at the end of a narrow sleeve).
    """
    h, w = solid.shape
    band = solid & ~cv2.erode(solid.astype(np.uint8), np.ones((2 * depth + 1,) * 2, np.uint8)).astype(bool)
    rows = np.nonzero(solid.any(axis=1))[0]
    darker = ext[..., 0] - lab[..., 0]
    cand = band & (np.linalg.norm(lab[..., 1:] - ext[..., 1:], axis=-1) < _SHADOW_CHROMA) & \
        (darker >= _SHADOW_L[0]) & (darker <= _SHADOW_L[1]) & \
        (np.arange(h)[:, None] > rows[0] + _SHADOW_BELOW * (rows[-1] - rows[0]))
    if not cand.any():
        return np.zeros((h, w), bool)
    # (Sampled from twice the band's depth in: a blurry mask holds shadow as deep as the band.)
    inner = cv2.erode(solid.astype(np.uint8), np.ones((4 * depth + 1,) * 2, np.uint8)).astype(bool)
    near = inner & ~cv2.erode(solid.astype(np.uint8), np.ones((12 * depth + 1,) * 2, np.uint8)).astype(bool)
    if near.sum() < _SHADOW_COLOURS:
        return np.zeros((h, w), bool)
    # The garment's colours just inside: k-means centres of those pixels; each counts where it is seen within
    # the window (a dilation of its pixels), and a candidate is shadow when no colour seen near it is close.
    px = lab[near].astype(np.float32)
    px = px[:: max(1, len(px) // 20000)]
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    # k-means++ draws from OpenCV's shared generator: unseeded, the same photo lost 118 pixels on one call and 169 on
    # the next. Seeded, the peel is reproducible, and the widget's port (seeded alike) draws the same centres.
    cv2.setRNGSeed(0)
    _, _, centres = cv2.kmeans(px, _SHADOW_COLOURS, None, crit, 2, cv2.KMEANS_PP_CENTERS)
    label = np.full((h, w), -1, np.int8)
    label[near] = np.argmin(np.linalg.norm(lab[near][:, None] - centres[None], axis=-1), axis=-1)
    win = np.ones((12 * depth + 1,) * 2, np.uint8)
    cy, cx = np.nonzero(cand)
    close = np.linalg.norm(lab[cy, cx][:, None] - centres[None], axis=-1) <= _SHADOW_APART
    unlike = np.ones(len(cy), bool)
    for c in range(_SHADOW_COLOURS):
        if close[:, c].any():
            seen = cv2.dilate((label == c).astype(np.uint8), win)[cy, cx].astype(bool)
            unlike &= ~(seen & close[:, c])
    # Where none of the garment is seen that deep (a narrow sleeve's cuff), nothing is known: nothing goes.
    unlike &= cv2.dilate(near.astype(np.uint8), win)[cy, cx].astype(bool)
    out = np.zeros((h, w), bool)
    out[cy[unlike], cx[unlike]] = True
    return out


def trim_backdrop_fringe(image: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
    """(h, w) float32: the garment mask without a fringe of backdrop along its outline.

    On a phone screenshot the segmenter's mask reaches up to 2.5 % of the garment's width past the dress into
    the page's light grey; warped with the dress, that fringe was drawn on the person as a white outline. The
    fringe is peeled from the outside in, one pixel ring at a time for at most :data:`_FRINGE_DEPTH` of the
    mask's widest row: pixels of the ring within :data:`_FRINGE_DE` CIELAB units of the backdrop just outside
    the mask there (a normalised convolution of the pixels beyond the outline) go, until a ring has none. So do
    the garment's shadow on the backdrop: pixels of the backdrop's hue (:data:`_SHADOW_CHROMA`), darker than it
    (:data:`_SHADOW_L`), below the top of the garment and unlike every colour of the garment near it
    (:func:`_garment_shadow`), up to twice the fringe's depth: a black tee's soft grey shadow under its hem was
    drawn as a grey band; a white rib on a black tee, a striped tee's white stripes and a grey sweatshirt's own
    edge stay.

    Args:
        image: (h, w, 3) uint8 RGB garment photo, or None (nothing is trimmed).
        mask: (h, w) float32 [0, 1] garment mask.

    Returns:
        The mask with the fringe set to 0 (the same elsewhere).
    """
    m = np.asarray(mask, np.float32)
    solid = m > 0.5
    if image is None or image.shape[:2] != m.shape or not solid.any():
        return m
    wmax = float(solid.sum(axis=1).max())
    depth = max(1, int(round(_FRINGE_DEPTH * wmax)))
    k = 2 * depth + 1
    outside = cv2.dilate(solid.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool) & (m < 0.05)
    if not outside.any():
        return m
    lab = _lab(image)
    sig = max(1.0, float(depth))
    w_out = cv2.GaussianBlur(outside.astype(np.float32), (0, 0), sig)
    ext = cv2.GaussianBlur(lab * outside[..., None], (0, 0), sig) / np.maximum(w_out, 1e-6)[..., None]
    near_ext = (np.linalg.norm(lab - ext, axis=-1) < _FRINGE_DE) & (w_out > 1e-3)
    bleed = _chroma_bleed(lab, ext, solid, depth) & (w_out > 1e-3)
    # A shadow reaches further out than a fringe: up to twice as deep, against the backdrop beyond it.
    sdepth = 2 * depth
    around = cv2.dilate(solid.astype(np.uint8), np.ones((2 * sdepth + 1,) * 2, np.uint8)).astype(bool) & (m < 0.05)
    # (A smooth field: blurred at a quarter of the photo's size or less, where a blur this wide is cheap.)
    f = min(1.0, 4.0 / sig)
    small = (max(1, round(m.shape[1] * f)), max(1, round(m.shape[0] * f)))
    a_s = cv2.resize(around.astype(np.float32), small, interpolation=cv2.INTER_AREA)
    full = (m.shape[1], m.shape[0])
    w_far = cv2.GaussianBlur(a_s, (0, 0), 2.0 * sig * f)
    far = cv2.GaussianBlur(cv2.resize(lab, small, interpolation=cv2.INTER_AREA) * a_s[..., None], (0, 0),
                           2.0 * sig * f)
    far = cv2.resize(far / np.maximum(w_far, 1e-6)[..., None], full, interpolation=cv2.INTER_LINEAR)
    w_far = cv2.resize(w_far, full, interpolation=cv2.INTER_LINEAR)
    shadow = _garment_shadow(lab, far, solid, sdepth) & (w_far > 1e-3)
    cur = solid.copy()
    for i in range(sdepth):
        ring = cur & ~cv2.erode(cur.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        peel = ring & (shadow | (near_ext if i < depth else False))
        if not peel.any():
            break
        cur &= ~peel
    # Then the paper tinted by the garment's colour, a few rings more from wherever the peel stopped.
    for _ in range(min(depth, _BLEED_RINGS)):
        ring = cur & ~cv2.erode(cur.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        peel = ring & bleed
        if not peel.any():
            break
        cur &= ~peel
    gone = solid & ~cur
    if not gone.any():
        return m
    # The soft edge beyond the peeled pixels goes with them.
    soft = cv2.dilate(gone.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~solid
    return np.where(gone | soft, 0.0, m).astype(np.float32)


def _chroma_bleed(lab: np.ndarray, ext: np.ndarray, solid: np.ndarray, depth: int) -> np.ndarray:
    """(h, w) bool: pixels of the backdrop's lightness tinted towards the garment's colour just inside the outline.

    A JPEG stores colour at half the resolution: round a yellow tee on white paper the paper is tinted yellow for
    2-4 px (255, 253, 221 beside 248, 220, 50), beyond what :data:`_FRINGE_DE` takes, and drawn on a person that
    ring read as a white line round the tee and a white band under its hem (the fifteenth first user's yellow tee
    and blue jersey, 224-px shop photos). Such a pixel has the backdrop's L* (within :data:`_BLEED_L`) and its
    a*b* offset from the backdrop's reaches less than :data:`_BLEED_SHARE` of the way to the garment's own colour
    (its pixels ``depth`` or more inside the outline, a normalised convolution over twice that), where that colour
    is :data:`_BLEED_MIN_CHROMA` or more from the backdrop's. A white rib on a black tee (no chroma to bleed), a
    pale garment (its edge is its own colour) and a grey edge (darker than the paper) are not taken.

    Args:
        lab: (h, w, 3) CIELAB of the garment photo (:func:`_lab`).
        ext: (h, w, 3) CIELAB of the backdrop just outside the mask.
        solid: (h, w) bool garment mask.
        depth: the fringe's greatest depth, pixels.
    """
    k = 2 * depth + 1
    core = cv2.erode(solid.astype(np.uint8), np.ones((k, k), np.uint8)).astype(np.float32)
    sig = max(1.0, 2.0 * depth)
    w_in = cv2.GaussianBlur(core, (0, 0), sig)
    inner = cv2.GaussianBlur(lab * core[..., None], (0, 0), sig) / np.maximum(w_in, 1e-6)[..., None]
    to_garment = inner[..., 1:] - ext[..., 1:]
    reach2 = (to_garment ** 2).sum(-1)
    along = ((lab[..., 1:] - ext[..., 1:]) * to_garment).sum(-1)
    return ((np.abs(lab[..., 0] - ext[..., 0]) < _BLEED_L) & (reach2 > _BLEED_MIN_CHROMA ** 2)
            & (along < _BLEED_SHARE * reach2) & (w_in > 1e-3) & solid)


def onepiece_mask(image: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
    """(h, w) float32: the garment mask as the one-piece landmarks and warp read it: its own pieces
    (:func:`garment_pieces`), no hanger (:func:`drop_hook_hanger`), no backdrop fringe (:func:`trim_backdrop_fringe`).

    Args:
        image: (h, w, 3) uint8 RGB garment photo, or None (only the pieces are kept).
        mask: (h, w) float32 [0, 1] garment mask.
    """
    return trim_backdrop_fringe(image, drop_hook_hanger(image, garment_pieces(mask)))


def skirt_mask(mask: np.ndarray, waist_center: tuple[float, float]) -> np.ndarray:
    """(H, W) bool: the garment below the waist that is its skirt or legs, not a sleeve hanging beside it: in
    each row below the waist, the runs of mask pixels that touch the run through the centre line or, below a
    jumpsuit's crotch, the runs overlapping the row above's skirt (a leg continues the leg above it).

    Args:
        mask: (H, W) float32 [0, 1] or bool garment mask.
        waist_center: (x, y) of the waist on the centre line, pixels (``waist_center`` landmark).
    """
    m = np.asarray(mask) > 0.5
    H, W = m.shape
    cx, wy = int(np.clip(round(waist_center[0]), 0, W - 1)), int(np.clip(round(waist_center[1]), 0, H - 1))
    out = np.zeros((H, W), bool)
    prev = None
    # Long sleeves lying against the body merge with it in the mask down to their cuffs: from the waist to the
    # cuffs, the skirt is the body's run just below them (its x range), the rest stays with the bodice.
    lo, hi = _centre_runs(m, cx)
    ys = np.nonzero(lo >= 0)[0]
    hgt = float(ys.max() - ys.min() + 1) if len(ys) else 1.0
    cuff = _sleeve_cuff(lo, hi, wy + 1, int(wy + _CUFF_REACH * hgt), float(ys.min()) if len(ys) else 0.0, hgt)
    for y in range(wy + 1, H):
        row = m[y]
        if not row.any():
            break
        if cuff is not None and y < cuff:
            row = row.copy()
            row[:lo[cuff]] = False
            row[hi[cuff] + 1:] = False
        d = np.diff(np.concatenate([[0], row.astype(np.int8), [0]]))
        starts, ends = np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]
        keep = np.zeros(W, bool)
        for a, b in zip(starts, ends, strict=True):
            if a <= cx < b or (prev is not None and prev[a:b].any()):
                keep[a:b] = True
        if not keep.any():
            break
        out[y] = keep
        prev = keep
    return out


def onepiece_sleeve(lm: dict) -> str:
    """The sleeve type of a one-piece from its landmarks: "none" without sleeve landmarks; "long" when the
    sleeves (armpit to inner sleeve end, the median of both) are longer than 0.6 of the armpit-to-waist height,
    "short" otherwise. The classifier reads sleeves as if the garment were a top (armpit to hem, a skirt's
    length), which is meaningless for a dress; this is its rule with the waist as the bodice's hem (a bodice is
    shorter than a top, hence 0.6 rather than 0.5).

    Args:
        lm: :func:`onepiece_landmarks` output.
    """
    if "sleeve_left_inner" not in lm or "sleeve_right_inner" not in lm:
        return "none"
    lens = [float(np.hypot(*(np.subtract(lm[f"sleeve_{s}_inner"], lm[f"armpit_{s}"])))) for s in ("left", "right")]
    body = float(lm["waist_center"][1]) - 0.5 * (float(lm["armpit_left"][1]) + float(lm["armpit_right"][1]))
    return "long" if np.median(lens) > 0.6 * max(body, 1.0) else "short"


def _mirror_outliers(lm: dict, cx: float) -> None:
    """Make the shoulder and armpit pairs mirror images about the centre line when they are clearly not (mirror
    distance over 8 % of the shoulder width): the side whose point sits nearer its expected height (shoulder:
    the neckline's base, 0.15 shoulder widths below the neck points; armpit: 0.4 shoulder widths below the
    shoulders, the tops detector's proportion) is kept and mirrored onto the other. A flat-lay one-piece is
    symmetric; on the bodice cut from it the outline detector often finds one side's corner on a ruffle, a
    strap or a fold. In place."""
    width = abs(lm["shoulder_left"][0] - lm["shoulder_right"][0])
    if width < 1e-3:
        return
    nl, nr = np.asarray(lm["neck_left"], float), np.asarray(lm["neck_right"], float)
    if np.hypot(2 * cx - nl[0] - nr[0], nl[1] - nr[1]) > 0.08 * width:
        # A V or scoop neckline: one neck point slid down its edge; the higher one is the strap's or collar's top.
        k = nl if nl[1] <= nr[1] else nr
        half = abs(k[0] - cx)
        if half < 0.5 * width:   # (a halter's strap tops: only while the neck stays inside the shoulders)
            lm["neck_left"] = (float(cx + half), float(k[1]))
            lm["neck_right"] = (float(cx - half), float(k[1]))
    neck_y = 0.5 * (lm["neck_left"][1] + lm["neck_right"][1])
    for part in ("shoulder", "armpit"):
        a, b = np.asarray(lm[f"{part}_left"], float), np.asarray(lm[f"{part}_right"], float)
        if np.hypot(2 * cx - a[0] - b[0], a[1] - b[1]) <= 0.08 * width:
            continue
        sh_y = 0.5 * (lm["shoulder_left"][1] + lm["shoulder_right"][1])
        want = neck_y + 0.15 * width if part == "shoulder" else sh_y + 0.4 * width
        keep, other = ("left", "right") if abs(a[1] - want) <= abs(b[1] - want) else ("right", "left")
        k = np.asarray(lm[f"{part}_{keep}"], float)
        lm[f"{part}_{other}"] = (float(2 * cx - k[0]), float(k[1]))


def _plausible_sleeves(lm: dict, cx: float, width: float, bodice_h: float) -> bool:
    """A bodice's sleeves are kept when each sleeve's outer end reaches out past its armpit (3 % of the
    garment's width) or hangs below it (10 % of the bodice's height), each is at least 15 % of the shoulder
    width long (shoulder to outer end) and neither is three times the other; puffed or gathered shoulders and a
    sleeveless sheath's corners otherwise give sleeve ends whose cones would take the bodice away from the torso's
    warp."""
    if "sleeve_left_outer" not in lm or "sleeve_right_outer" not in lm:
        return True
    lens = []
    for side in ("left", "right"):
        so, ap = np.asarray(lm[f"sleeve_{side}_outer"]), np.asarray(lm[f"armpit_{side}"])
        if not (abs(so[0] - cx) > abs(ap[0] - cx) + 0.03 * width or so[1] > ap[1] + 0.1 * bodice_h):
            return False
        lens.append(float(np.hypot(*(so - np.asarray(lm[f"shoulder_{side}"])))))
    # A sleeve is longer than a shoulder's corner (15 % of the shoulder width), and both are alike (a flat lay
    # is symmetric: one "sleeve" three times the other's length is a misread corner or side).
    sw = abs(lm["shoulder_left"][0] - lm["shoulder_right"][0])
    return min(lens) >= 0.15 * sw and max(lens) <= 3.0 * max(min(lens), 1e-6)


def _bottoms(m: np.ndarray, cx: float) -> tuple[int, dict[str, int]]:
    """(lowest row of the centre column, {"left"/"right": lowest row of the mask on that side of it})."""
    ci = int(round(cx))
    ys = np.nonzero(m[:, ci])[0]
    out = {}
    for side, half in (("left", m[:, ci + 1:]), ("right", m[:, :ci])):
        rows = np.nonzero(half.any(axis=1))[0]
        out[side] = int(rows.max()) if len(rows) else 0
    return (int(ys.max()) if len(ys) else max(out.values())), out


def is_jumpsuit(mask: np.ndarray) -> bool:
    """True when both sides of the garment reach 15 % of its height or more below the end of its centre line
    (the gap between two legs).

    Args:
        mask: (H, W) float32 [0, 1] or bool garment mask.

    Raises:
        ValueError: the mask is empty.
    """
    sa = analyse_shape(mask)
    c_bottom, bottoms = _bottoms(sa.mask, sa.cx)
    return min(bottoms.values()) - c_bottom >= _LEG_GAP * sa.height


def onepiece_landmarks(image: np.ndarray | None, mask: np.ndarray, info=None) -> dict[str, tuple[float, float]]:
    """Landmarks of a front-view dress or jumpsuit (see the module docstring for the method).

    Args:
        image: (H, W, 3) uint8 RGB garment photo, or None (the front neckline depth is then estimated).
        mask: (H, W) float32 [0, 1] garment mask (e.g. :func:`tryon.garment.mask.garment_mask`).
        info: optional :class:`tryon.garment.category.GarmentInfo`; ``info.sleeve == "none"`` drops the sleeve
            ends, otherwise the bodice's outline decides.

    Returns:
        dict name -> (x, y) image pixels: :data:`ONEPIECE_LANDMARKS` (the four sleeve keys absent when
        sleeveless) plus :data:`JUMPSUIT_LANDMARKS` for a jumpsuit.

    Raises:
        ValueError: the mask is empty.
        DataError: the outline has no body below the bodice (not a one-piece).
    """
    mask = onepiece_mask(image, mask)
    sa = analyse_shape(mask)
    m, cx, s = sa.mask, sa.cx, sa.scale
    hgt = sa.height
    lo, hi = _centre_runs(m, cx)
    width = np.where(lo >= 0, hi - lo + 1, 0).astype(np.float64)
    y0, y1 = int(sa.top + _WAIST_RANGE[0] * hgt), int(sa.top + _WAIST_RANGE[1] * hgt)
    k = max(3, int(round(0.03 * hgt)) | 1)
    # Rows off the centre line (an empty centre pixel) never win: a large width before smoothing.
    sm = cv2.blur(np.where(width > 0, width, 1e6).reshape(-1, 1).astype(np.float32), (1, k)).ravel()
    seg = np.where(width[y0:y1] > 0, sm[y0:y1], np.inf)
    if not np.isfinite(seg).any():
        raise DataError("the garment's outline has no body between its top and its hem: is it a dress or a "
                        "jumpsuit photographed flat, front view?")
    wy = y0 + int(np.argmin(seg))
    if _not_a_waist(lo, hi, wy, y1, sa.top, hgt):
        # The narrowest row is the end of a narrowing (a pencil skirt tapering to its hem) or just under a drop
        # (long sleeves lying against the body leave the centre run at their cuffs, by the hips): either way no
        # waist was seen, and the bodice ends at the torso's proportion below, from the body's width there.
        wy = int(min(sa.top + 1.5 * float(sm[wy]), sa.top + hgt / 3))
        wy = wy if lo[wy] >= 0 else y0 + int(np.argmin(seg))
    elif wy - y0 < 0.05 * (y1 - y0):
        # Narrowest at the top of the range: the body only widens below the armpits (an A-line or shift dress,
        # no waist). The bodice then ends at a torso's proportion: 1.5 upper-body widths (the centre run's
        # median width at 10-20 % of the height) below the top, at most a third of the garment's height.
        upper = width[int(sa.top + 0.1 * hgt): int(sa.top + 0.2 * hgt) + 1]
        upper = upper[upper > 0]
        if len(upper):
            wy = int(min(sa.top + 1.5 * float(np.median(upper)), sa.top + hgt / 3))
            wy = wy if lo[wy] >= 0 else y0 + int(np.argmin(seg))

    def to_img(x: float, y: float) -> tuple[float, float]:
        return float((x + 0.5) / s - 0.5), float((y + 0.5) / s - 0.5)

    # The bodice: the garment without its skirt (long sleeves hanging below the waist stay), analysed as a top.
    full = np.asarray(mask, np.float32)
    bodice = np.where(skirt_mask(full, to_img(cx, wy)), 0.0, full).astype(np.float32)
    # The classifier's sleeve type was read on the whole one-piece (a skirt's flare reads as sleeves): the
    # bodice's own outline decides its corners; a caller's "none" only drops the sleeve ends afterwards (the
    # tops' sleeveless rules put a halter's armpits at its strap tops).
    lm = dict(garment_landmarks(image, bodice, None))
    # Long sleeves merged with the body down to cuffs below the waist: the tops' outline rules look for a
    # sleeve's end off the body and find a shoulder's corner instead; each cuff is the lowest row of the mask
    # beside the body's run under the cuffs, its outer and inner ends the sleeve's.
    cuff = _sleeve_cuff(lo, hi, wy + 1, int(wy + _CUFF_REACH * hgt), sa.top, hgt)
    if cuff is not None:
        lm.update(_hanging_cuffs(m, lo[cuff], hi[cuff], cuff, hgt, to_img))
        lm.update(_hidden_shoulders(m, lo[cuff], hi[cuff], cuff, sa.top, lm, to_img))
    if info is not None and getattr(info, "sleeve", None) == "none":
        for k in SLEEVE_LANDMARKS:
            lm.pop(k, None)
    cx_img = (cx + 0.5) / s - 0.5
    if not _plausible_sleeves(lm, cx_img, sa.width / s, (wy - sa.top) / s):
        for k in SLEEVE_LANDMARKS:
            lm.pop(k, None)
    _mirror_outliers(lm, cx_img)
    wl, wr = lm.pop("hem_left"), lm.pop("hem_right")
    lm.pop("hem_center")
    # Long sleeves merged with the body at the waist row: the body's sides are those of its run below the cuffs.
    side = cuff if cuff is not None else wy
    lm["waist_left"] = to_img(hi[side], wy)
    lm["waist_right"] = to_img(lo[side], wy)
    lm["waist_center"] = to_img(cx, wy)
    # The bodice's own hem corners can sit on a hanging sleeve; the centre run's ends are the body's sides.
    del wl, wr

    c_bottom, bottoms = _bottoms(m, cx)
    if min(bottoms.values()) - c_bottom >= _LEG_GAP * hgt:
        # Jumpsuit: the centre line ends at the crotch; each leg's hem is its lowest row's outer / inner end.
        lm["crotch"] = to_img(cx, c_bottom)
        for side, sgn in (("left", 1), ("right", -1)):
            half = m[:, int(round(cx)) + 1:] if sgn > 0 else m[:, :int(round(cx))]
            yb = bottoms[side]
            band = half[max(0, yb - max(2, int(0.02 * hgt))): yb + 1].any(axis=0)
            xs = np.nonzero(band)[0]
            if sgn > 0:
                xs = xs + int(round(cx)) + 1
            outer, inner = (xs.max(), xs.min()) if sgn > 0 else (xs.min(), xs.max())
            lm[f"leg_{side}_outer"] = to_img(outer, yb)
            lm[f"leg_{side}_inner"] = to_img(inner, yb)
            lm[f"hem_{side}"] = lm[f"leg_{side}_outer"]
        lm["hem_center"] = lm["crotch"]
        return lm

    # Dress: the centre run's lowest point and its outermost ends near the bottom.
    lm["hem_center"] = to_img(cx, c_bottom)
    rows = np.arange(max(wy, int(c_bottom - 0.06 * hgt)), c_bottom + 1)
    rows = rows[lo[rows] >= 0]
    if not len(rows):
        rows = np.array([c_bottom])
    for side, sgn in (("left", 1), ("right", -1)):
        ends = hi[rows] if sgn > 0 else lo[rows]
        i = int(np.argmax(sgn * ends))
        lm[f"hem_{side}"] = to_img(ends[i], rows[i])
    return lm
