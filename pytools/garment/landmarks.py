"""Garment landmarks of a front-view in-shop top, from its mask (and the photo for the front neckline).

Method: contour geometry with fallbacks, designed around the failures of the teacher prototype
(``docs/teacher-prototype.md``: sleeves lying against the torso, long sleeves split badly).

* Centre line: the mask's column centroid of its upper third (the neckline region is the most symmetric).
* Neck points: the highest contour points either side of the neck dip (top profile around the centre line).
* Front neck: the first clear vertical intensity edge below the back neckline on the centre line, past the inside
  of the back (its rib, label and seams, seen through the neck opening darker than the front beside the centre
  line, or marked by a brand label much lighter than it).
* Armpits: the deepest convexity defect (Sklansky hull vs contour) on each side between shoulder and hem: the
  valley between a sleeve and the torso, whether the sleeve sticks out (tee) or hangs down with a slot (long
  sleeve). When there is no valley (sleeve pressed against the torso), the armpit comes from the torso's
  straight sides: the hem-to-waist side line extended upwards, at a height proportional to the shoulder width.
* Shoulders: the contour point farthest from the chord between the neck point and the sleeve end (or the
  armpit, for sleeveless tops): the corner where the shoulder line turns into the sleeve.
* Sleeve ends: the sleeve region (mask outside the torso polygon on that side) projected on its axis from the
  sleeve root; the farthest contour points, split into outer (shoulder side) and inner (armpit side).
* Long sleeves lying flat against the torso (no sleeve outside any side line, so the rules above see a
  sleeveless body): recognised when both sides' outlines run outwards without an armhole dip from the
  shoulder to a maximum in the lower part at least 1.7 times the shoulder half-width (one side for a garment
  laid askew, the other close: ``PRESSED_ASKEW``); the armpit then sits at
  the usual proportion below the shoulder corner and the cuff at the lowest part of the outline outside the
  shoulder line, its hidden inner edge one sleeve width in from its outer edge. Cuffs hanging beside the hem
  with a notch between them (a bomber) are read as such sleeves too, however straight the sides run, and so
  are sides along which the photo shows the sleeve's inner edge as a steady line (:func:`_sleeve_seams`).
* A sleeve whose cuff was not found (lying against the torso beside a free one, so its end fell back to the
  shoulder) takes the other side's cuff points and armpit, mirrored about the centre line
  (:func:`_mirror_lost_sleeve`).
* Hem: the bottom of the torso-only mask at the centre and at its two sides.
* Strings hanging below the garment (drawstrings, ties) are left out of the shape first: thin parts reaching
  below the body's bottom (:func:`_hanging_strings`).

All coordinates are image pixels (x, y) floats; ``*_left`` is the WEARER's left = image RIGHT.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["garment_landmarks", "LANDMARK_NAMES", "SLEEVE_LANDMARKS", "analyse_shape", "ShapeAnalysis", "cut_hood"]

log = logging.getLogger(__name__)

LANDMARK_NAMES: tuple[str, ...] = (
    "neck_left", "neck_right", "neck_front", "shoulder_left", "shoulder_right", "armpit_left", "armpit_right",
    "sleeve_left_outer", "sleeve_left_inner", "sleeve_right_outer", "sleeve_right_inner",
    "hem_left", "hem_right", "hem_center")
SLEEVE_LANDMARKS: tuple[str, ...] = (
    "sleeve_left_outer", "sleeve_left_inner", "sleeve_right_outer", "sleeve_right_inner")

_WORK_H = 384  # garment bbox height at the working scale

ARMPIT_DROP = 0.25
"""Least depth of an armpit below its shoulder corner, as a share of the shoulders' half-width (the usual armpit
lies about 0.8 of it below; a valley within a quarter is the dip between a hood and the shoulder of a hoodie)."""


@dataclass
class ShapeAnalysis:
    """Mask geometry shared by landmark detection and category classification (working-scale pixels).

    Attributes:
        mask: (h, w) bool main component, holes filled.
        scale: working pixels per image pixel.
        contour: (N, 2) int outer contour (x, y), OpenCV order.
        cx: centre line x.
        top, bottom: first and last mask rows.
        left, right: first and last mask columns.
        armpit: {"left"/"right": (x, y) or None}: valley found by convexity defects (None: no valley).
        defect_depth: {"left"/"right": depth in working px}.
    """

    mask: np.ndarray
    scale: float
    contour: np.ndarray
    cx: float
    top: int
    bottom: int
    left: int
    right: int
    armpit: dict
    defect_depth: dict

    @property
    def height(self) -> int:
        return self.bottom - self.top + 1

    @property
    def width(self) -> int:
        return self.right - self.left + 1


def _main_component(m: np.ndarray) -> np.ndarray:
    n, lbl, stats, _ = cv2.connectedComponentsWithStats(m.astype(np.uint8), connectivity=8)
    if n <= 1:
        raise ValueError("empty garment mask")
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    comp = (lbl == k).astype(np.uint8)
    cs, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros_like(comp)
    cv2.drawContours(filled, cs, -1, 1, -1)
    filled = filled.astype(bool)
    # Holes are filled (prints, neck openings) except the slots a long sleeve encloses when its cuff touches
    # the hem (tryon.garment.mask keeps those as background): tall, off-centre holes; filling them would
    # glue the sleeve to the torso and hide the armpit.
    holes = filled & ~comp.astype(bool)
    if holes.any():
        ys, xs = np.nonzero(filled)
        g_h, g_w, g_cx = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1, xs.mean()
        nh, hl, hs, _ = cv2.connectedComponentsWithStats(holes.astype(np.uint8), connectivity=4)
        for i in range(1, nh):
            x, y, w, h, _area = hs[i]
            if h >= 0.08 * g_h and abs(x + (w - 1) / 2 - g_cx) >= 0.25 * g_w and y >= ys.min() + 0.2 * g_h:
                filled[hl == i] = False
    return filled


def analyse_shape(mask: np.ndarray, strip: bool = True) -> ShapeAnalysis:
    """Normalise a garment mask and measure its shape (see :class:`ShapeAnalysis`).

    Args:
        mask: (H, W) float32 [0, 1] (or bool) garment mask.
        strip: leave out strings hanging below the garment (:func:`_hanging_strings`).

    Raises:
        ValueError: the mask is empty.
    """
    m = np.asarray(mask) > 0.5
    ys, xs = np.nonzero(m)
    if len(ys) == 0:
        raise ValueError("empty garment mask")
    bh = ys.max() - ys.min() + 1
    s = _WORK_H / bh
    H, W = m.shape
    small = cv2.resize(m.astype(np.uint8), (max(8, round(W * s)), max(8, round(H * s))),
                       interpolation=cv2.INTER_NEAREST if s > 1 else cv2.INTER_AREA) > 0
    small = _main_component(small)
    strings = _hanging_strings(small) if strip else None
    if strings is not None and strings.any():
        # Re-normalise without them (once): the garment's height is the body's, not down to a string's end.
        gone = cv2.resize(strings.astype(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST) > 0
        return analyse_shape(m & ~gone, strip=False)
    ys, xs = np.nonzero(small)
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    upper = ys < top + (bottom - top) / 3
    cx = float(xs[upper].mean()) if upper.any() else float(xs.mean())
    cs, _ = cv2.findContours(small.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(cs, key=cv2.contourArea)[:, 0, :]
    armpit, depth = _armpit_defects(contour, cx, top, bottom, right - left + 1)
    return ShapeAnalysis(small, s, contour, cx, int(top), int(bottom), int(left), int(right), armpit, depth)


STRING_WIDTH = 0.03
"""Widest part (share of the garment's width) that :func:`_hanging_strings` takes for a string."""


def _hanging_strings(m: np.ndarray) -> np.ndarray:
    """Drawstrings, tassels and ties hanging below the garment: thin parts (opened away by a disc
    :data:`STRING_WIDTH` of the width across) reaching more than 2 % of the height below the body's bottom.
    They are no hem, and counted as garment they stretch the height every proportion is read against.

    Args:
        m: (h, w) bool main component at the working scale.

    Returns:
        (h, w) bool, the strings (all False when there are none).
    """
    ys, xs = np.nonzero(m)
    k = max(3, int(round(STRING_WIDTH * (xs.max() - xs.min() + 1)))) | 1
    body = cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    out = np.zeros_like(m)
    rows = np.nonzero(body.any(axis=1))[0]
    if not len(rows):
        return out
    low = rows.max() + 0.02 * (ys.max() - ys.min() + 1)
    thin = (m & ~body.astype(bool)).astype(np.uint8)
    n, lbl, stats, _ = cv2.connectedComponentsWithStats(thin, connectivity=8)
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT] - 1 > low:
            out |= lbl == i
    return out


def _armpit_defects(contour, cx, top, bottom, width):
    hgt = bottom - top + 1
    out = {"left": None, "right": None}
    depth = {"left": 0.0, "right": 0.0}
    approx = contour
    try:
        hull = cv2.convexHull(approx.reshape(-1, 1, 2), returnPoints=False)
        defects = cv2.convexityDefects(approx.reshape(-1, 1, 2), hull)
    except cv2.error:
        defects = None
    if defects is None:
        return out, depth
    for _s, _e, f_i, d in defects.reshape(-1, 4):
        d = d / 256.0
        fx, fy = approx[f_i]
        if d < 0.03 * hgt:
            continue
        if not (top + 0.12 * hgt < fy < bottom - 0.08 * hgt):
            continue
        if abs(fx - cx) < 0.12 * width:
            continue
        side = "left" if fx > cx else "right"
        if d > depth[side]:
            depth[side] = float(d)
            out[side] = (float(fx), float(fy))
    return out, depth


def _top_profile(m: np.ndarray) -> np.ndarray:
    has = m.any(axis=0)
    top = np.where(has, m.argmax(axis=0), m.shape[0] + 1).astype(np.float32)
    return top


def _bottom_at(m: np.ndarray, x: float) -> float:
    x = int(np.clip(round(x), 0, m.shape[1] - 1))
    col = m[:, max(0, x - 1): x + 2].any(axis=1)
    ys = np.nonzero(col)[0]
    return float(ys.max()) if len(ys) else float(m.shape[0] - 1)


def _contour_path(contour: np.ndarray, a: int, b: int, via_top: bool) -> np.ndarray:
    """Contour points between indices a and b, taking the way round that passes higher (via_top) or lower."""
    n = len(contour)
    p1 = contour[np.arange(a, a + ((b - a) % n) + 1) % n]
    p2 = contour[np.arange(b, b + ((a - b) % n) + 1) % n][::-1]
    hi1, hi2 = p1[:, 1].mean(), p2[:, 1].mean()
    return (p1 if hi1 < hi2 else p2) if via_top else (p1 if hi1 >= hi2 else p2)


def _nearest_index(contour: np.ndarray, p) -> int:
    return int(np.argmin(((contour - np.asarray(p)) ** 2).sum(axis=1)))


def _farthest_from_chord(path: np.ndarray, a, b) -> np.ndarray:
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    n = np.array([d[1], -d[0]]) / (np.linalg.norm(d) + 1e-9)
    dist = (path - a) @ n
    # Keep the side of the chord that is upwards (away from the garment body, above the neck-to-sleeve line).
    if n[1] > 0:
        dist = -dist
    return path[int(np.argmax(dist))].astype(float)


def _front_neck(image: np.ndarray | None, sa: ShapeAnalysis, neck_y: float, neck_half: float) -> float:
    """y (working px) of the lowest point of the front neckline on the centre line."""
    fallback = neck_y + 0.9 * neck_half
    if image is None:
        return fallback
    H, W = sa.mask.shape
    img = cv2.resize(image, (W, H), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    x0 = int(round(sa.cx - max(2, 0.15 * neck_half)))
    x1 = int(round(sa.cx + max(2, 0.15 * neck_half))) + 1
    top_c = sa.mask[:, max(0, x0):x1].any(axis=1)
    ys = np.nonzero(top_c)[0]
    if not len(ys):
        return fallback
    y_start = ys.min() + 4  # past the soft background-to-fabric edge of the back neckline
    y_end = int(min(sa.bottom - 1, neck_y + max(2.2 * neck_half, 0.1 * sa.height)))
    if y_end <= y_start + 3:
        return fallback
    prof = cv2.GaussianBlur(np.median(gray[:, max(0, x0):x1], axis=1).reshape(-1, 1), (1, 5), 1.0).ravel()
    seg = prof[y_start:y_end + 1]
    g = np.abs(seg[2:] - seg[:-2]) / 2.0  # central difference: sharper peak at a soft neckline edge
    # Contrast relative to the fabric's brightness (Weber's law): on black fabric the collar's rib is a step
    # of 3-5 grey levels, as visible as 20-30 levels on white; the grain of JPEG noise stays below it.
    g = np.where(g >= 1.5, g * (128.0 / float(np.clip(np.median(seg), 32.0, 128.0))), g)
    if g.max() < 6.0:
        return fallback
    # Prefer the first clear edge below the back neckline: prints and plackets further down also make edges.
    strong = np.nonzero(g >= max(4.0, 0.25 * g.max()))[0]
    # Runs of strong gradient: the first is taken at its first row (as tuned), those past the inside of the back
    # at their peak (the blur and the central difference spread a step over 3-4 rows, and an opening cut at the
    # run's first row left a band of the shaded inside along the front rib).
    runs = np.split(strong, np.nonzero(np.diff(strong) > 2)[0] + 1)
    ys_edge = [float(y_start + (r[0] if i == 0 else r[int(np.argmax(g[r]))]) + 1) for i, r in enumerate(runs)]
    if neck_collapsed(neck_half, sa.width):
        return ys_edge[0]
    # ...but not an edge inside the neck opening: a ghost-mannequin or in-shop photo shows the inside of the
    # back there (its rib, its label, its seam) in the shadow of the front, and the front neckline is the
    # first edge below which the fabric beside the centre line is as light as the front's.
    front = _side_median(img, sa, neck_y + 1.5 * neck_half, neck_y + 2.2 * neck_half, 0.9 * neck_half,
                         1.3 * neck_half)
    if front is None:
        return ys_edge[0]
    label_end = None
    for k, y in enumerate(ys_edge):
        if y - neck_y > INSIDE_MAX_DEPTH * neck_half:
            break
        if label_end is not None and y <= label_end:
            continue
        if label_end is not None and y - label_end > LABEL_FRONT * neck_half:
            break      # an edge far below the label is the print's, not the front rib's
        y_next = ys_edge[k + 1] if k + 1 < len(ys_edge) else y + 0.25 * neck_half
        y1 = max(min(y_next, y + 0.25 * neck_half), y + 0.06 * neck_half)
        below = _side_median(img, sa, y + 0.02 * neck_half, y1, 0.25 * neck_half, 0.5 * neck_half)
        if below is not None and shaded_inside(below[None], front, margin=True)[0]:
            continue
        # The top of a brand label sewn on the inside of the back: a patch on the centre line much lighter than
        # the fabric beside it, which is the front's own colour (not a collar of another colour round a light
        # front); or, hanging from the back neckline, short, and much lighter or darker than the fabric beside it
        # (a black label on a white tee, a white one on the shaded inside of a navy tee; a collar of another colour
        # runs on beside the centre line, and its rows are its colour there too). The front lies below the
        # label's lower edge.
        centre = _side_median(img, sa, y + 0.02 * neck_half, y1, 0.0, LABEL_HALF * neck_half)
        if label_end is None and k + 1 < len(ys_edge) and below is not None and centre is not None:
            contrast = float(centre.mean()) - float(below.mean())
            lighter = contrast > LABEL_CONTRAST and float(np.abs(below - front).max()) < LABEL_CONTRAST / 2
            hanging = abs(contrast) > LABEL_CONTRAST and y - neck_y <= LABEL_TOP * neck_half and \
                ys_edge[k + 1] - y <= LABEL_HEIGHT * neck_half
            if lighter or hanging:
                label_end = ys_edge[k + 1]
                continue
        return y
    if label_end is not None:
        return float(label_end + LABEL_MARGIN * neck_half)
    return ys_edge[0]


INSIDE_MIN_NECK = 0.04
"""Half neck width (share of the garment's width) below which the neck points are taken as collapsed onto the
centre line (a collar or hood arching up), and the inside of the back is not looked for."""


def neck_collapsed(neck_half: float, width: float) -> bool:
    """Whether a garment's two neck points lie on its centre line: half their distance under ``INSIDE_MIN_NECK``
    of the garment's width (both in the same pixels). A collar, a hood or a back neckline arching up leaves no
    neck corner either side of the centre (108 of 411 tops of ../shared and wild-dev)."""
    return neck_half < INSIDE_MIN_NECK * width
LABEL_HALF = 0.12
"""Half width of the centre strip :func:`_front_neck` reads for a label, in half neck widths."""
LABEL_CONTRAST = 45.0
"""A label is at least this many grey levels lighter or darker than the fabric beside it (a white label on a lime
tee: 55; a black one on a white tee). At 60, and for lighter labels only, five front necklines of ../shared and
wild-dev were put at a label's top, and the label was drawn on the chest."""
LABEL_TOP = 0.65
"""A label hangs from the back neckline: its top edge lies at most this far below the neck points, in half neck
widths (0.15-0.6 on the tees of ../shared and wild-dev); further down a patch of contrast is a button or a print."""
LABEL_HEIGHT = 0.75
"""A label is at most this tall, in half neck widths (0.5-0.6 on the tees of ../shared); a taller patch of contrast on
the centre line is a print or a bow (1-1.4)."""
LABEL_FRONT = 0.4
"""The front neckline lies at most this far below a label's lower edge (half neck widths); further down the edges are
a print's (a Minnie Mouse tee's bow, a sheer blouse's flowers), and the front is put ``LABEL_MARGIN`` below the
label."""
LABEL_MARGIN = 0.1
"""With no edge found below a label, the front neck lies this far (half neck widths) below the label's lower
edge."""
INSIDE_MAX_DEPTH = 1.1
"""Deepest edge (in half neck widths below the neck points) that :func:`_front_neck` takes past the inside of the
back; a crew neck's front lies 0.6-1.1 half widths down, a V-neck's first edge is its front."""
INSIDE_SHADE = (0.15, 12.0)
"""The inside of the back is darker than the front by at least this share of the front's grey level, and (for a
whole region, :func:`_front_neck`) this many grey levels."""
INSIDE_CHROMA = 0.04
"""...and of the front's hue: its chromaticity (r, g, b over their sum) within this of the line from grey
through the front's (shade desaturates), so that a blue or red rib on a white tee is not taken for the inside in
shade. Not tested on near-black fronts (mean under 40), whose chromaticity is noise."""


def shaded_inside(rgb: np.ndarray, front: np.ndarray, *, margin: bool = False) -> np.ndarray:
    """Whether colours are the front's fabric in shade (the inside of the back seen through the neck opening).

    Args:
        rgb: (..., 3) RGB colours (0-255).
        front: (3,) RGB colour of the front beside the neck.
        margin: also require ``INSIDE_SHADE[1]`` grey levels of difference (for a region's median).

    Returns:
        (...) bool.
    """
    rgb = np.asarray(rgb, np.float32)
    front = np.asarray(front, np.float32)
    lum, f_lum = rgb.mean(-1), float(front.mean())
    drop = max(INSIDE_SHADE[0] * f_lum, INSIDE_SHADE[1] if margin else 0.0)
    out = lum < f_lum - drop
    if f_lum >= 40.0:
        # Shade desaturates a colour towards grey (or, on pinks and reds, deepens it): the inside's chromaticity
        # lies near the line from neutral grey through the front's, up to twice as far out.
        neutral = np.float32(1.0 / 3.0)
        chroma = rgb / np.maximum(rgb.sum(-1, keepdims=True), 1.0) - neutral
        v = front / max(float(front.sum()), 1.0) - neutral
        t = np.clip((chroma @ v) / max(float(v @ v), 1e-6), 0.0, 2.0)
        out &= np.abs(chroma - t[..., None] * v).max(-1) < INSIDE_CHROMA
    return out


def _side_median(img: np.ndarray, sa: ShapeAnalysis, y0: float, y1: float, a0: float,
                 a1: float) -> np.ndarray | None:
    """(3,) median colour of the garment in rows y0..y1, at distances a0..a1 either side of the centre line."""
    h, w = img.shape[:2]
    r0, r1 = int(np.clip(round(y0), 0, h - 1)), int(np.clip(round(y1), 1, h))
    vals = []
    for lo, hi in ((sa.cx + a0, sa.cx + a1), (sa.cx - a1, sa.cx - a0)):
        c0, c1 = int(np.clip(round(lo), 0, w - 1)), int(np.clip(round(hi), 1, w))
        if r1 > r0 and c1 > c0:
            vals.append(img[r0:r1, c0:c1][sa.mask[r0:r1, c0:c1]])
    v = np.concatenate(vals) if vals else np.zeros((0, 3))
    return np.median(v, axis=0).astype(np.float32) if len(v) >= 4 else None


HOOD_RISE = 0.26
"""Least height of a hood standing above a top's shoulders, as a share of the garment's height (:func:`cut_hood`).
On the shop photos of ``../shared`` the hoods rise 0.27-0.39; collars, hoods laid down and a stand collar's
jacket 0.12-0.24."""

HOOD_BASE = (0.22, 0.42)
"""Width of that central lobe where it is :data:`HOOD_RISE` / 2 above the shoulders, as shares of the garment's
width (hoods 0.24-0.40; a child's halter top's knotted straps 0.46)."""

HOOD_NECK_DIP = 0.5
"""Depth of the neckline :func:`cut_hood` cuts under a hood, below the line joining its base corners, as a share of
the half-width between them (a crew neck's front drop)."""


def _hood_base(sa: ShapeAnalysis) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The corners (x, y working px; image-left first) where a hood standing above the shoulders meets them, or None.

    The top outline's central lobe must rise :data:`HOOD_RISE` of the garment's height above the shoulders (the
    median top of the columns 18-32 % in from either side) and be :data:`HOOD_BASE` of its width across halfway up;
    its corners are found by walking down either flank from there to where the outline turns from steeper than 40°
    to the shoulder's gentler slope.
    """
    top = _top_profile(sa.mask).astype(np.float64)
    H, W = sa.height, sa.width
    if W < 20:
        return None
    shoulders = np.concatenate([top[sa.left + int(0.18 * W): sa.left + int(0.32 * W) + 1],
                                top[sa.right - int(0.32 * W): sa.right - int(0.18 * W) + 1]])
    y_sh = float(np.median(shoulders))
    lobe = top < y_sh - 0.5 * HOOD_RISE * H
    c = int(round(sa.cx))
    if not lobe[c]:
        return None
    lo = hi = c
    while lo > 0 and lobe[lo - 1]:
        lo -= 1
    while hi < len(lobe) - 1 and lobe[hi + 1]:
        hi += 1
    if not (HOOD_BASE[0] <= (hi - lo + 1) / W <= HOOD_BASE[1]) or y_sh - top[lo:hi + 1].min() < HOOD_RISE * H:
        return None
    sm = np.convolve(np.pad(top, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    steep = np.tan(np.radians(40.0))
    while lo > sa.left + 1 and sm[lo - 1] - sm[lo] > steep:
        lo -= 1
    while hi < sa.right - 1 and sm[hi + 1] - sm[hi] > steep:
        hi += 1
    return (float(lo), float(sm[lo])), (float(hi), float(sm[hi]))


def cut_hood(mask: np.ndarray) -> np.ndarray:
    """(H, W) float32: a top's mask with a hood standing above its shoulders cut away along a neckline.

    A hoodie or a hooded jacket photographed with its hood up has the hood as the top of its outline: the neck
    landmarks landed on the hood's crown and the warp drew the hood's inside on the person's chest as a bib under
    the chin (the fifteenth first user's puffer with a red-lined hood, a grey hoodie on a woman). Worn with the hood
    down, the hood hangs behind the neck and the front shows a neckline. Here the hood (:func:`_hood_base`) is cut
    away above an arc through its base corners, :data:`HOOD_NECK_DIP` of their half-width deep at the middle, so
    the landmarks find the neck at the corners and the front neckline at the arc; what lies below the arc (the
    hood's lining in its opening) stays. A mask without a hood is returned unchanged.

    Args:
        mask: (H, W) float32 [0, 1] (or bool) garment mask of a top.

    Returns:
        (H, W) float32 mask (a copy when a hood is cut).

    Raises:
        ValueError: the mask is empty.
    """
    m = np.asarray(mask, np.float32)
    sa = analyse_shape(m)
    base = _hood_base(sa)
    if base is None:
        return m
    inv = 1.0 / sa.scale
    (xl, yl), (xr, yr) = (((x + 0.5) * inv - 0.5, (y + 0.5) * inv - 0.5) for x, y in base)
    half = 0.5 * (xr - xl)
    xs = np.arange(m.shape[1], dtype=np.float64)
    t = np.clip((xs - xl) / max(xr - xl, 1.0), 0.0, 1.0)
    arc = yl + t * (yr - yl) + HOOD_NECK_DIP * half * (1.0 - ((xs - 0.5 * (xl + xr)) / max(half, 1.0)) ** 2)
    above = (np.arange(m.shape[0])[:, None] < arc[None, :]) & ((xs >= xl) & (xs <= xr))[None, :]
    out = m.copy()
    out[above] = 0.0
    log.debug("hood cut away above (%.0f, %.0f)-(%.0f, %.0f)", xl, yl, xr, yr)
    return out


def garment_landmarks(image: np.ndarray | None, mask: np.ndarray, info=None) -> dict[str, tuple[float, float]]:
    """Landmarks of a front-view top from its mask (and its photo, for the front neckline).

    Args:
        image: (H, W, 3) uint8 RGB garment photo, or None (then the front neckline depth is estimated).
        mask: (H, W) float32 [0, 1] garment mask (e.g. :func:`tryon.garment.mask.garment_mask`).
        info: optional :class:`tryon.garment.category.GarmentInfo`; ``info.sleeve == "none"`` drops the sleeve
            keys, otherwise sleeves are detected from the shape.

    Returns:
        dict name -> (x, y) image pixels (floats), names from :data:`LANDMARK_NAMES`; the four sleeve keys are
        absent for sleeveless tops. ``*_left`` is the wearer's left = image right.

    Raises:
        ValueError: the mask is empty.
    """
    sa = analyse_shape(mask)
    pts = _landmarks_work(image, sa, None if info is None else info.sleeve)
    inv = 1.0 / sa.scale
    return {k: (float((x + 0.5) * inv - 0.5), float((y + 0.5) * inv - 0.5)) for k, (x, y) in pts.items()}


def _landmarks_work(image, sa: ShapeAnalysis, sleeve: str | None) -> dict:
    m = sa.mask
    cx = sa.cx
    hgt, wid = sa.height, sa.width
    top = _top_profile(m)
    # Neck points: highest columns either side of the centre line, within the central band.
    band = int(max(3, 0.28 * wid))
    neck = {}
    for side, sgn in (("left", 1), ("right", -1)):
        xs = np.arange(int(round(cx)) + sgn * 2, int(round(cx)) + sgn * band, sgn)
        xs = xs[(xs >= 0) & (xs < m.shape[1])]
        t = top[xs]
        # Highest point; ties broken towards the centre (the collar corner, not the shoulder slope).
        i = int(np.argmin(t + 0.02 * np.abs(xs - cx)))
        neck[side] = (float(xs[i]), float(t[i]))
    neck_half = max(2.0, (neck["left"][0] - neck["right"][0]) / 2)
    neck_y = (neck["left"][1] + neck["right"][1]) / 2
    fy = _front_neck(image, sa, neck_y, neck_half)
    res: dict[str, tuple[float, float]] = {
        "neck_left": neck["left"], "neck_right": neck["right"], "neck_front": (cx, max(fy, neck_y + 1))}

    contour = sa.contour
    # Provisional shoulders: chord from the neck point to the outermost contour point on that side.
    shoulder, armpit, sleeve_end = {}, {}, {}
    for side, sgn in (("left", 1), ("right", -1)):
        ext = contour[np.argmax(sgn * contour[:, 0] - 0.05 * contour[:, 1])]
        ni = _nearest_index(contour, neck[side])
        ei = _nearest_index(contour, ext)
        path = _contour_path(contour, ni, ei, via_top=True)
        sp = _farthest_from_chord(path, neck[side], ext)
        shoulder[side] = (float(sp[0]), float(sp[1]))
    sh_half = max(3.0, (shoulder["left"][0] - shoulder["right"][0]) / 2)

    # Torso sides: the centre run's edges over the lower body, fitted as straight lines x = a + b*y.
    side_line = _torso_sides(m, cx, sa, sh_half, min(shoulder['left'][1], shoulder['right'][1]))
    for side, sgn in (("left", 1), ("right", -1)):
        a = _walk_up_side(m, cx, sa, side_line[side], sgn, shoulder[side][1])
        v = sa.armpit[side]
        if (a is None and v is not None and abs(v[0] - cx) <= 1.1 * sh_half
                and v[1] > shoulder[side][1] + ARMPIT_DROP * sh_half):
            # A valley farther out than the shoulders is a dent in a sleeve's outer edge, not the armpit; one
            # level with or above the shoulder corner is the dip between a hood or collar and the shoulder.
            a = v
        if a is None:
            y = min(shoulder[side][1] + 0.8 * sh_half, sa.top + 0.45 * hgt)
            x = side_line[side](y) if side_line[side] is not None else cx + sgn * 0.9 * sh_half
            # The torso cannot be wider than the garment at that height.
            cols = np.nonzero(m[int(np.clip(y, 0, m.shape[0] - 1))])[0]
            lim = (cols.max() - cx) if sgn > 0 else (cx - cols.min()) if len(cols) else sh_half
            x = cx + sgn * min(abs(x - cx), 0.98 * lim)
            a = (float(x), float(y))
        armpit[side] = a

    found = _has_sleeves(sa, shoulder, armpit, side_line)
    strap = {}
    for side in ("left", "right"):
        ni = _nearest_index(contour, neck[side])
        ai = _nearest_index(contour, armpit[side])
        path = _contour_path(contour, ni, ai, via_top=True)
        sp = _farthest_from_chord(path, neck[side], armpit[side])
        strap[side] = (float(sp[0]), float(sp[1]))
    # Long sleeves lying flat against the torso leave no sleeve outside any side line: recognised by the
    # outline running outwards, without an armhole dip, from the shoulder to cuffs far out near the bottom.
    pressed = not found and sleeve != "none" and (_pressed_sleeves(m, cx, sa, strap) or _cuff_notches(sa)
                                                  or _sleeve_seams(image, sa))
    has_sleeves = (found or pressed) if sleeve is None else sleeve != "none"
    if not has_sleeves:
        shoulder = strap
    elif pressed:
        for side, sgn in (("left", 1), ("right", -1)):
            armpit[side], sleeve_end[side] = _pressed_sleeve_points(sa, sgn, shoulder[side], sh_half)
    else:
        for side, sgn in (("left", 1), ("right", -1)):
            sleeve_end[side] = _sleeve_end(sa, side, sgn, shoulder[side], armpit[side], side_line[side])
            prop_y = shoulder[side][1] + 0.8 * sh_half
            slot = sleeve_end[side][1][1] > armpit[side][1] + 0.3 * hgt and armpit[side][1] > prop_y
            if slot or armpit[side][1] > prop_y + 0.1 * hgt:
                # A long sleeve lying against the torso closes the slot below the real armpit: the slot's top
                # is only an upper bound on depth, so cap it at the usual shoulder-to-armpit proportion.
                line = side_line[side]
                x = line(prop_y) if line is not None else armpit[side][0]
                armpit[side] = (float(cx + sgn * min(abs(x - cx), 0.98 * sh_half)), float(prop_y))
        _mirror_lost_sleeve(sleeve_end, armpit, shoulder, cx)
    for side in ("left", "right"):
        res[f"shoulder_{side}"] = shoulder[side]
        res[f"armpit_{side}"] = armpit[side]
        if has_sleeves:
            res[f"sleeve_{side}_outer"], res[f"sleeve_{side}_inner"] = sleeve_end[side]

    # Hem: the torso-only mask's bottom at the centre and at its sides.
    torso = _torso_mask(sa, res, has_sleeves)
    ys, xs = np.nonzero(torso)
    if len(ys) == 0:
        torso, ys, xs = m, *np.nonzero(m)
    bottom_c = _bottom_at(torso, cx)
    res["hem_center"] = (cx, bottom_c)
    low = ys > bottom_c - 0.06 * hgt
    for side, sgn in (("left", 1), ("right", -1)):
        sel = low & (sgn * (xs - cx) > 0)
        if sel.any():
            x = float(xs[sel][np.argmax(sgn * xs[sel])]) if sgn > 0 else float(xs[sel][np.argmin(xs[sel])])
        else:
            x = cx + sgn * sh_half
        res[f"hem_{side}"] = (x, _bottom_at(torso, x - sgn * 1))
    return res


def _torso_sides(m, cx, sa: ShapeAnalysis, sh_half, shoulder_y):
    """Straight torso side lines from the centre run's edges in the lower body (x as a function of y)."""
    out = {"left": None, "right": None}
    ys = np.arange(int(sa.top + 0.42 * sa.height), int(sa.bottom - 0.15 * sa.height))
    ci = int(round(cx))
    edges = {"left": [], "right": []}
    for y in ys:
        row = m[y]
        if not row[ci]:
            continue
        r = ci + np.argmin(row[ci:]) if not row[ci:].all() else len(row)
        lft = ci - np.argmin(row[:ci + 1][::-1]) if not row[:ci + 1].all() else -1
        edges["left"].append((y, r - 1))
        edges["right"].append((y, lft + 1))
    for side in ("left", "right"):
        e = np.array(edges[side], float)
        if len(e) < 5:
            continue
        half = np.abs(e[:, 1] - cx)
        # A run far wider than the shoulders includes a sleeve lying against the torso: do not trust it ...
        ok = half < 1.15 * sh_half
        if ok.sum() < 5 and _narrow_top(m, cx, sa, shoulder_y):
            # ... unless the shoulders are narrow straps (tank, cami): then the whole body is wider than them.
            ref = np.median(half[int(0.6 * len(half)):])
            ok = half < 1.12 * ref
        if ok.sum() < 5:
            continue
        b, a = np.polyfit(e[ok, 0], e[ok, 1], 1)
        out[side] = (lambda y, a=a, b=b: a + b * y)
    return out


def _narrow_top(m, cx, sa: ShapeAnalysis, shoulder_y: float) -> bool:
    """True when the garment just below the shoulders is much narrower than its body (straps), i.e. sleeveless;
    a sleeve lying against the torso makes the garment full width right from the shoulder down."""
    y0 = int(max(shoulder_y, sa.top))
    rows_top = m[y0: int(y0 + 0.04 * sa.height) + 1]
    rows_body = m[int(sa.top + 0.4 * sa.height): int(sa.top + 0.8 * sa.height)]

    def half(rows):
        out = []
        for r in rows:
            cols = np.nonzero(r)[0]
            if len(cols):
                out.append(max(cols.max() - cx, cx - cols.min()))
        return np.array(out, float)

    ht, hb = half(rows_top), half(rows_body)
    if len(ht) and len(hb) and ht.max() < 0.8 * np.median(hb):
        return True
    # Thin straps: just below the shoulder the rows are mostly empty between the garment's outer edges.
    fills = []
    for r in m[int(y0 + 0.01 * sa.height): int(y0 + 0.05 * sa.height) + 1]:
        cols = np.nonzero(r)[0]
        if len(cols) > 1:
            fills.append(len(cols) / (cols.max() - cols.min() + 1))
    return bool(fills) and float(np.median(fills)) < 0.55


def _side_edge_near(row: np.ndarray, sgn: int, x_ref: float) -> float | None:
    """The run end (right ends for sgn > 0, left ends otherwise) nearest to x_ref: robust to the neck opening
    splitting the centre run near the top."""
    d = np.diff(row.astype(np.int8), prepend=0, append=0)
    ends = (np.nonzero(d == -1)[0] - 1) if sgn > 0 else np.nonzero(d == 1)[0]
    if not len(ends):
        return None
    return float(ends[np.argmin(np.abs(ends - x_ref))])


def _walk_up_side(m, cx, sa: ShapeAnalysis, line, sgn: int, shoulder_y: float):
    """Armpit from the torso's straight side: walk up from the hem while the centre run's edge stays on the
    fitted side line; the armpit is where it leaves it (outwards into a sleeve, inwards into an armhole)."""
    if line is None:
        return None
    tol = max(2.0, 0.025 * sa.width)
    y_start = int(sa.top + 0.7 * sa.height)
    y_stop = int(max(shoulder_y + 2, sa.top + 0.12 * sa.height))
    last = None
    misses = 0
    for y in range(y_start, y_stop, -1):
        e = _side_edge_near(m[y], sgn, line(y))
        if e is None or abs(e - line(y)) > tol:
            misses += 1
            if misses >= 3:  # a few rows off the line: a real departure, not a jagged edge
                break
            continue
        misses = 0
        last = (float(e), float(y))
    if last is None or last[1] >= y_start - 2:
        return None
    return last


def _has_sleeves(sa, shoulder, armpit, side_line) -> bool:
    """Sleeves reach clearly past the torso's side line between the shoulder and just below the armpit
    (tee, long sleeve). A flaring sleeveless body follows its side line; an armhole is a valley too, so valleys
    alone do not count."""
    m = sa.mask
    votes = 0
    for side, sgn in (("left", 1), ("right", -1)):
        ax, ay = armpit[side]
        y0 = int(min(shoulder[side][1], ay))
        y1 = int(min(sa.bottom, ay + 0.2 * sa.height))
        worst = 0.0
        for y in range(y0, y1 + 1):
            cols = np.nonzero(m[y])[0]
            if not len(cols):
                continue
            ext = cols.max() if sgn > 0 else cols.min()
            ref = side_line[side](float(y)) if (side_line[side] is not None and y > ay) else ax
            worst = max(worst, sgn * (ext - ref))
        if worst > 0.07 * sa.width:
            votes += 1
    return votes >= 1


PRESSED_WIDENING = 1.7
"""Least widening, from the shoulder to the widest row in the lower 40 %, of each side of the outline for
:func:`_pressed_sleeves` (its half-width over the shoulder's). Flared sleeveless bodies widen less: 1.25-1.45 in
the in-shop photos seen, a white bubble-hem top whose shoulders the cut-out lost 1.62-1.69."""
PRESSED_ASKEW = (1.45, 1.6)
"""A garment laid a little askew moves the centre line off the middle, widening one side at the other's expense:
one side at least :data:`PRESSED_WIDENING` then suffices when the other reaches the first number and both sides
together (summed half-widths) the second (a sweatshirt: 1.83 and 1.52, 1.66 together)."""


def _pressed_sleeves(m: np.ndarray, cx: float, sa: ShapeAnalysis, strap: dict) -> bool:
    """True when both sides' outlines run outwards (no inward dip of more than 2 % of the width, which an
    armhole makes) from the shoulder down to a maximum in the lower 40 % at least :data:`PRESSED_WIDENING` times
    the shoulder's half-width (or, for a garment laid askew, as :data:`PRESSED_ASKEW` says): long sleeves hanging
    flat against the torso. Flared sleeveless bodies widen less or have an armhole dip."""
    ratios, half_sum, ext_sum = [], 0.0, 0.0
    for side, sgn in (("left", 1), ("right", -1)):
        sh = strap[side]
        half_sh = abs(sh[0] - cx)
        ext = []
        for y in range(int(max(sh[1], sa.top)), sa.bottom + 1):
            cols = np.nonzero(m[y])[0]
            ext.append(((cols.max() - cx) if sgn > 0 else (cx - cols.min())) if len(cols) else 0.0)
        ext = np.asarray(ext, float)
        if len(ext) < 8 or half_sh < 1.0:
            return False
        ym = int(np.argmax(ext))
        dip = float((np.maximum.accumulate(ext[:ym + 1]) - ext[:ym + 1]).max())
        if not (sh[1] + ym >= sa.top + 0.6 * sa.height and dip <= 0.02 * sa.width):
            return False
        ratios.append(ext[ym] / half_sh)
        half_sum += half_sh
        ext_sum += ext[ym]
    if min(ratios) >= PRESSED_WIDENING:
        return True
    return (max(ratios) >= PRESSED_WIDENING and min(ratios) >= PRESSED_ASKEW[0]
            and ext_sum >= PRESSED_ASKEW[1] * half_sum)


CUFF_NOTCH_DEPTH = 0.05
"""Depth of the notch between a hanging cuff and the hem, as a share of the garment's height (a bomber's cuffs
hang beside its hem band with a gap of 7-10 %; hems, shirt tails and flared bodies leave no such notch)."""


def _cuff_notches(sa: ShapeAnalysis) -> bool:
    """True when the bottom outline has, on both sides, a notch between a cuff and the hem: going outwards
    from the centre line, the outline rises by at least ``CUFF_NOTCH_DEPTH`` of the height above both the
    hem inside it and a cuff outside it that hangs in the lowest 15 % of the garment. Long sleeves lying
    against the torso with their cuffs beside the hem show it even when the side outline runs straight down
    (no widening for :func:`_pressed_sleeves`)."""
    m = sa.mask
    rows_any = m.any(axis=0)
    bottom = np.where(rows_any, m.shape[0] - 1 - np.argmax(m[::-1], axis=0), -1).astype(float)
    cx = int(round(sa.cx))
    depth = CUFF_NOTCH_DEPTH * sa.height
    for sgn in (1, -1):
        xs = np.arange(cx, sa.right + 1) if sgn > 0 else np.arange(cx, sa.left - 1, -1)
        p = bottom[xs]
        if len(p) < 8:
            return False
        inner = np.maximum.accumulate(p)
        outer = np.maximum.accumulate(p[::-1])[::-1]
        notch = np.minimum(inner, outer) - p
        cuff_low = outer >= sa.bottom - 0.15 * sa.height
        ok = (notch >= depth) & cuff_low & (np.arange(len(p)) >= 0.4 * len(p))
        if not ok.any():
            return False
    return True


SEAM_STEADY = 0.8
"""Share of the rows (40-85 % of the height) in which :func:`_sleeve_seams` must find the strongest edge at the
same distance (within 2 % of the width) from the side of the outline, on both sides. A sleeve lying on the body
draws one straight line; prints and folds of a sleeveless body wander (0.07-0.65 on the sleeveless tops seen)."""
SEAM_STEP = 15.0
"""Least median strength of that edge: a horizontal lightness step (8-bit CIELAB L, Sobel over 8) per working
pixel (sleeve edges seen: 22-57; plain sleeveless bodies 0.3-9, printed ones below :data:`SEAM_STEADY`)."""


def _sleeve_seams(image: np.ndarray | None, sa: ShapeAnalysis) -> bool:
    """True when the photo shows, on both sides, a line running down inside the outline at a steady distance
    from it (6-30 % of the width in): the inner edge of a long sleeve lying flat against the torso, which the
    silhouette alone cannot tell from a sleeveless body with straight sides (a blouse whose sleeves neither
    widen the outline nor leave a notch by the hem)."""
    if image is None:
        return False
    h, w = sa.mask.shape
    img = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    light = cv2.GaussianBlur(cv2.cvtColor(img, cv2.COLOR_RGB2LAB)[:, :, 0].astype(np.float32), (0, 0), 1.5)
    gx = np.abs(cv2.Sobel(light, cv2.CV_32F, 1, 0, ksize=3)) / 8.0
    d = np.arange(int(0.06 * sa.width), int(0.3 * sa.width))
    for sgn in (1, -1):
        offs, steps = [], []
        for y in range(int(sa.top + 0.4 * sa.height), int(sa.top + 0.85 * sa.height)):
            cols = np.nonzero(sa.mask[y])[0]
            if not len(cols):
                continue
            xs = (cols.max() if sgn > 0 else cols.min()) - sgn * d
            ok = (xs >= 0) & (xs < w)
            v = gx[y, xs[ok]] * sa.mask[y, xs[ok]]
            if not len(v):
                continue
            i = int(np.argmax(v))
            offs.append(d[ok][i])
            steps.append(v[i])
        if len(offs) < 8:
            return False
        offs = np.asarray(offs, float)
        steady = float((np.abs(offs - np.median(offs)) <= 0.02 * sa.width).mean())
        if steady < SEAM_STEADY or float(np.median(steps)) < SEAM_STEP:
            return False
    return True


def _pressed_sleeve_points(sa: ShapeAnalysis, sgn: int, shoulder, sh_half: float):
    """(armpit, (sleeve outer, sleeve inner)) for a long sleeve lying against the torso: the armpit at the
    usual proportion below the shoulder corner, just inside it; the cuff at the lowest part of the outline
    beyond the shoulder line, its inner edge (hidden against the torso) one sleeve width in from its outer
    edge."""
    c = sa.contour.astype(float)
    m = sa.mask
    cx = sa.cx
    armpit = (float(cx + sgn * 0.95 * sh_half), float(shoulder[1] + 0.8 * sh_half))
    side = c[sgn * (c[:, 0] - cx) > 1.05 * sh_half]
    if len(side) < 3:
        side = c[sgn * (c[:, 0] - cx) > 0]
    y_cuff = float(side[:, 1].max())
    band = side[side[:, 1] >= y_cuff - 0.04 * sa.height]
    outer = band[np.argmax(sgn * band[:, 0])]
    row = m[int(np.clip(round(outer[1]), 0, m.shape[0] - 1))]
    cols = np.nonzero(row)[0]
    reach = ((cols.max() - cx) if sgn > 0 else (cx - cols.min())) if len(cols) else abs(outer[0] - cx)
    w_cuff = float(np.clip(reach - 0.95 * sh_half, 0.3 * sh_half, 0.7 * sh_half))
    inner = (float(outer[0] - sgn * w_cuff), float(y_cuff))
    return armpit, ((float(outer[0]), float(outer[1])), inner)


def _sleeve_end(sa: ShapeAnalysis, side: str, sgn: int, shoulder, armpit, side_line=None):
    """(outer, inner) sleeve-end points: farthest sleeve contour points along the sleeve axis."""
    c = sa.contour
    sx, sy = shoulder
    ax, ay = armpit
    root = np.array([(sx + ax) / 2, (sy + ay) / 2])
    # Sleeve pixels: outside the torso line through shoulder and armpit (on the outward side).
    d = np.array([ax - sx, ay - sy], float)
    nrm = np.array([d[1], -d[0]]) / (np.linalg.norm(d) + 1e-9)
    if sgn * nrm[0] < 0:
        nrm = -nrm
    off = (c - np.array([sx, sy])) @ nrm
    below_sh = c[:, 1] >= sy - 2
    # Below the armpit only what lies clearly outside the torso's side line is sleeve (not the hem corners).
    side_x = np.full(len(c), ax, float) if side_line is None else side_line(c[:, 1].astype(float))
    side_x = np.where(c[:, 1] > ay, side_x, -np.inf * sgn)
    outside = sgn * (c[:, 0] - side_x) > max(2.0, 0.03 * sa.width)
    sel = (off > 1.0) & below_sh & outside
    ai = _nearest_index(c, armpit)
    if np.hypot(*(c[ai] - np.asarray(armpit))) < 3.0:
        # The armpit lies on the outline: the sleeve is the shorter contour path from shoulder to armpit (the
        # other way round passes the neck, the other sleeve and the hem), so a flared hem is never a sleeve.
        si = _nearest_index(c, shoulder)
        n = len(c)
        fwd = np.arange(si, si + ((ai - si) % n) + 1) % n
        bwd = np.arange(ai, ai + ((si - ai) % n) + 1) % n
        on_path = np.zeros(n, bool)
        on_path[fwd if len(fwd) <= len(bwd) else bwd] = True
        sel &= on_path
    cand = c[sel]
    if len(cand) < 3:
        return (float(sx + sgn * 2), float(sy + 4)), (float(ax + sgn * 2), float(ay))
    # Sleeve tip: far from the sleeve root AND far out from the armhole line. Distance alone picks points by
    # the shoulder on short sleeves (the root is mid-armhole); the armhole offset alone misses hanging cuffs.
    score = np.sqrt(((cand - root) ** 2).sum(axis=1)) + off[sel]
    far = cand[np.argmax(score)]
    axis = (far - root) / (np.linalg.norm(far - root) + 1e-9)
    proj = (cand - root) @ axis
    end = cand[proj >= proj.max() - 0.04 * sa.height]
    # Across the axis: outer edge is on the shoulder side, inner on the armpit side.
    perp = np.array([axis[1], -axis[0]])
    # Outer = away from the torso: outwards for a hanging sleeve, upwards for one sticking out sideways.
    if sgn * perp[0] - perp[1] < 0:
        perp = -perp
    q = (end - root) @ perp
    outer = end[np.argmax(q)].astype(float)
    inner = end[np.argmin(q)].astype(float)
    return (float(outer[0]), float(outer[1])), (float(inner[0]), float(inner[1]))


LOST_SLEEVE = 0.4
"""A sleeve whose outer seam (shoulder to cuff) is shorter than this share of the other sleeve's was lost by
:func:`_sleeve_end` (a sleeve hanging against the torso leaves too little outline outside the side line to find its
cuff, and its end falls back to the shoulder): :func:`_mirror_lost_sleeve` mirrors it from the other one."""


def _mirror_lost_sleeve(sleeve_end: dict, armpit: dict, shoulder: dict, cx: float) -> None:
    """Replace, in place, a lost sleeve's end points and armpit by the other side's, mirrored about the centre
    line ``cx``.

    In-shop photos lay a garment out near-symmetrically, so the sleeve that was found says where the lost one
    ends far better than the fallback beside the shoulder, which draws a sleeve of no length (its fabric then
    smeared down the arm). The armpit goes with it: the lost side's came from a "torso side" that was the
    sleeve's own outer edge, out past the shoulder, which would turn the sleeve's cone inwards over the torso
    (:func:`tryon.teacher.warp.garment_parts`). A sleeve that is short on both sides (a cap sleeve) is left
    alone.

    Args:
        sleeve_end: {"left" | "right": ((outer x, y), (inner x, y))}, pixels.
        armpit: {"left" | "right": (x, y)} armpits, pixels.
        shoulder: {"left" | "right": (x, y)} shoulder corners, pixels.
        cx: the garment's centre line, x in pixels.
    """
    length = {s: float(np.hypot(sleeve_end[s][0][0] - shoulder[s][0], sleeve_end[s][0][1] - shoulder[s][1]))
              for s in ("left", "right")}
    for lost, kept in (("left", "right"), ("right", "left")):
        if length[lost] < LOST_SLEEVE * length[kept]:
            (ox, oy), (ix, iy) = sleeve_end[kept]
            sleeve_end[lost] = ((float(2 * cx - ox), float(oy)), (float(2 * cx - ix), float(iy)))
            armpit[lost] = (float(2 * cx - armpit[kept][0]), float(armpit[kept][1]))
            log.info("sleeve_%s: its end was not found (%.0f px long against %.0f); mirrored from the %s one",
                     lost, length[lost], length[kept], kept)
            return


def _torso_mask(sa: ShapeAnalysis, res: dict, has_sleeves: bool) -> np.ndarray:
    """The mask minus the sleeves: cut along shoulder->armpit, then down the torso side."""
    m = sa.mask
    if not has_sleeves:
        return m
    H, W = m.shape
    poly = []
    for side in ("right", "left"):
        sh = res[f"shoulder_{side}"]
        ap = res[f"armpit_{side}"]
        sgn = 1 if side == "left" else -1
        inner_y = res[f"sleeve_{side}_inner"][1]
        # Short sleeves end above the armpit: below it everything is torso. Long sleeves hang beside it.
        bx = ap[0] + sgn * (0.04 * sa.height if inner_y > ap[1] + 0.1 * sa.height else W)
        pts = [(sh[0], -1.0), sh, ap, (bx, float(H))]
        si = res[f"sleeve_{side}_inner"]
        if inner_y > ap[1] + 0.1 * sa.height and sgn * (si[0] - bx) < 0.04 * sa.height:
            # A long sleeve hanging inwards (over a waisted body): cut along its inner edge, just inside it,
            # so the cuff does not count as torso (it would become the hem's corner).
            cut = ap[0] + sgn * max(0.0, sgn * (si[0] - sgn * 0.03 * sa.height - ap[0]))
            cut = min(cut, bx) if sgn > 0 else max(cut, bx)
            pts = [(sh[0], -1.0), sh, ap, (cut, float(si[1])), (cut, float(H))]
        poly.append(pts if side == "left" else pts[::-1])
    # Right (image-left) side goes bottom->top, left (image-right) top->bottom: one closed polygon.
    p = np.array(poly[0] + poly[1], np.float32)
    keep = np.zeros((H, W), np.uint8)
    cv2.fillPoly(keep, [np.round(p).astype(np.int32)], 1)
    return m & keep.astype(bool)
