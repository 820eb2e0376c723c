"""Garment-to-body warp: thin-plate spline for the garment's torso, per-part projective warps for the sleeves.

The warp is *backward*: for every pixel of the person photo it gives the location in the garment image to
sample, as a dense grid in the ``torch.nn.functional.grid_sample`` convention (align_corners=False, last axis
x then y, values in [-1, 1]). This is the representation of the geometric matching module of CP-VTON (Wang et
al., "Toward Characteristic-Preserving Image-based Virtual Try-On Network", ECCV 2018), whose TPS is fitted
here from landmark correspondences instead of being regressed.

Why per part: a single spline across torso and sleeves bends the sleeves with the torso and leaves "tabs" at
the sleeve roots (see docs/teacher-prototype.md). Here the garment is split into torso and two
sleeves by the shoulder–armpit lines; the torso gets a TPS with extra anchors along its sides (so it neither
bulges nor flares at a sleeveless hem) and a level hem along the hip line. Each sleeve is mapped through
curvilinear coordinates of the arm: s along the bone chain shoulder -> (rounded) elbow -> wrist, d across it.
The sleeve's root is the torso's shoulder–armpit seam (its cap pushed out over the deltoid), its edges run at
offsets set from the arm's width in the parse and the garment's own widths, and a person pixel's (u along,
v across) sleeve coordinates are sampled bilinearly in the garment's sleeve quad (shoulder, cuff outer, cuff
inner, armpit; its outer edge following the sleeve's outline where a sleeve laid hanging bulges beyond it).
Sleeves thus follow bent, raised or crossed arms without flaps, and fabric from just inside the garment's seam
overlaps the torso's seam so no gap opens at the root.

Left/right: the garment's ``left_*`` landmarks are the wearer's left (image right), matching BlazePose's
``left_shoulder`` etc. on a front-facing person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy import ndimage

from tryon.errors import DataError
from tryon.garment.landmarks import neck_collapsed, shaded_inside
from tryon.person.body import BodyFrame, body_frame
from tryon.person.labels import LABEL
from tryon.teacher.skin import soft_upsample

__all__ = [
    "TPS", "WarpResult", "tps_fit", "pixel_to_grid", "grid_to_pixel", "sample_with_grid",
    "garment_parts", "body_targets", "warp_garment", "arm_extents", "ArmExtent",
]

log = logging.getLogger(__name__)

PART_NONE, PART_TORSO, PART_LEFT_SLEEVE, PART_RIGHT_SLEEVE = 0, 1, 2, 3
REQUIRED_LANDMARKS = ("neck_left", "neck_right", "neck_front", "shoulder_left", "shoulder_right", "armpit_left",
                      "armpit_right", "hem_left", "hem_right", "hem_center")
SIDE_FRACTIONS = (0.25, 0.5, 0.75)
SOURCE_WEDGE, SOURCE_GAP = 3, 7
"""Labels of the map a pixel's garment coordinates come from (``warp_garment``'s ``source``, read by
:func:`upsample_grid`), besides the parts' own: a sleeve's clamped wedge map is its part + ``SOURCE_WEDGE``, the
thin gaps' copied coordinates are ``SOURCE_GAP`` (where the torso's spline takes them, ``PART_TORSO``)."""
SPLINE_INSET = 0.03
"""How far inside the garment's fabric (in the garment's shoulder widths) the torso's spline, continued past the
torso's outline, must land to fill a shoulder wedge or a gap between the parts: at the outline it samples the
photo's backdrop through the anti-aliased edge (a pale notch at the shoulder seam)."""
# How far down the arm a sleeve of a "long"-sleeved garment reaches, from its length: (ratio, reach) knots
# of a piecewise-linear map. ratio = the garment's longer sleeve (mean of its outer and underarm seams, scaled
# to the person by the shoulder widths) over the person's upper arm; reach as in ``WarpResult.sleeve_reach``
# (1 elbow, 2 wrist). Flat lays and ghost mannequins foreshorten sleeves: long sleeves measure 0.8-0.95 upper
# arms (a ghost-mannequin cardigan, a puffer on wild-dev) and three-quarter ones about as much, so lengths
# between SLEEVE_REACH[0] and [-1] draw a sleeve from above the elbow to the wrist, continuously; past the last
# knot the sleeve ends at the wrist; below the first a "long" sleeve is drawn to its own length as a short
# one (see docs/teacher-prototype.md, "Sleeve length").
SLEEVE_REACH = ((0.6, 0.85), (1.0, 1.85))
SLEEVE_WORN = 0.75
"""A long sleeve's width on the arm, front view, over its width laid flat. Laid flat a sleeve is half its girth
across; worn round the arm a tube of that girth is seen 2/pi = 0.64 as wide, and a sleeve that drapes or a
ghost-mannequin photo (already round) more: 0.75. Drawn at its flat width, a long sleeve on a hanging arm read as
a balloon (wild-dev: a cardigan, a bomber, a lace blouse; docs/teacher-prototype.md, "Long sleeves' width")."""
BARE_ARM = 0.1
"""Half-width of the arm, in shoulder widths, that a long sleeve must cover at the elbow and cuff whatever the garment
says: a bare forearm (0.06-0.08) and the parse's blur. The parse's arm reaching farther is an old sleeve (a boxy
short sleeve, a jacket's): covering it made the new sleeve as wide; the composition removes it instead."""
# A camisole's or slip dress's neck points (the neckline's top corners, where the straps meet the cups) lie this
# many of the garment's shoulder widths or more below its strap tops; a tee's, a tank's or a V-neck's lie at most
# 0.08 below their shoulder seams (every top and one-piece of wild-dev: the cami tops and slip dresses 0.27-0.57).
STRAP_NECK_DROP = 0.15
CREW_NECK = 0.8
"""A neckline no deeper than this many of its half-widths is a crew neck, whose front may rise to the old garment's
top edge (:func:`body_targets`). On the wild-dev tops' photos: tees and other crew necks 0.3-0.77, a polo, a
sweatshirt and a hoodie 0.87-0.91, V-necks, scoops and open collars 1.07 or more."""
NECK_RISE = 0.1
"""How far above its default (0.06 shoulder widths above the shoulder joints' line) the neckline's base may rise, in
shoulder widths, to meet the old garment's top edge beside the neck. Sloping shoulders put the neck's base higher
than the joints say: a new crew neck hung 0.09 shoulder widths below the old one's, and the gap was filled as a flat
block of chest skin."""


# --------------------------------------------------------------------------------------------- thin-plate spline
@dataclass
class TPS:
    """A 2-D thin-plate spline f: R^2 -> R^2 (Bookstein 1989), f(p) = A [1 x y]^T + sum_i w_i U(|p - c_i|).

    Attributes:
        centers: (N, 2) float64 control points (the spline's domain).
        weights: (N, 2) float64 radial-basis weights.
        affine: (3, 2) float64 affine part, rows for 1, x, y.
    """

    centers: np.ndarray
    weights: np.ndarray
    affine: np.ndarray

    def __call__(self, pts: np.ndarray) -> np.ndarray:
        """Evaluate at (M, 2) points; returns (M, 2) float64. Chunked so 1 M points stay within ~100 MB."""
        pts = np.asarray(pts, dtype=np.float64)
        out = np.empty((len(pts), 2), dtype=np.float64)
        c = self.centers
        c2 = (c * c).sum(1)[None, :]
        step = 65536
        for i in range(0, len(pts), step):
            p = pts[i:i + step]
            # |p - c|^2 by expansion: one matrix product instead of an (M, N, 2) difference array.
            d2 = np.maximum((p * p).sum(1)[:, None] + c2 - 2.0 * (p @ c.T), 0.0)
            u = d2 * np.log(np.maximum(d2, 1e-20))
            out[i:i + step] = self.affine[0] + p @ self.affine[1:] + u @ self.weights
        return out


def _tps_kernel(d2: np.ndarray) -> np.ndarray:
    """U(r) = r^2 log r^2 from squared distances, with U(0) = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        u = d2 * np.log(d2)
    return np.nan_to_num(u, nan=0.0, posinf=0.0, neginf=0.0)


def tps_fit(src: np.ndarray, dst: np.ndarray, regularization: float = 0.0) -> TPS:
    """Fit the thin-plate spline that maps ``src`` control points exactly onto ``dst`` (exact when reg = 0).

    Args:
        src: (N, 2) control points, N >= 3, not all collinear.
        dst: (N, 2) target values.
        regularization: Tikhonov term added to the kernel diagonal (0 = interpolating spline), in the same
            squared-pixel-log units as the kernel; small values (1e-3 × mean kernel) smooth noisy landmarks.

    Returns:
        the fitted :class:`TPS`.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    n = len(src)
    k = _tps_kernel(((src[:, None, :] - src[None, :, :]) ** 2).sum(-1))
    if regularization:
        k = k + regularization * np.eye(n)
    p = np.concatenate([np.ones((n, 1)), src], axis=1)
    a = np.zeros((n + 3, n + 3))
    a[:n, :n] = k
    a[:n, n:] = p
    a[n:, :n] = p.T
    b = np.zeros((n + 3, 2))
    b[:n] = dst
    sol = np.linalg.lstsq(a, b, rcond=None)[0]
    return TPS(centers=src, weights=sol[:n], affine=sol[n:])


# --------------------------------------------------------------------------------------------- grid convention
def pixel_to_grid(xy: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixel coordinates (pixel centres at integers) -> grid_sample coordinates, align_corners=False.

    x_norm = (2 x + 1) / W - 1, likewise y. Works on any (..., 2) array, x then y.
    """
    xy = np.asarray(xy, dtype=np.float32)
    scale = np.array([2.0 / width, 2.0 / height], dtype=np.float32)
    return xy * scale + (scale / 2 - 1.0)


def grid_to_pixel(grid: np.ndarray, width: int, height: int) -> np.ndarray:
    """Inverse of :func:`pixel_to_grid`: x_px = ((x_norm + 1) W - 1) / 2."""
    grid = np.asarray(grid, dtype=np.float32)
    size = np.array([width, height], dtype=np.float32)
    return ((grid + 1.0) * size - 1.0) / 2.0


def sample_with_grid(image: np.ndarray, grid: np.ndarray, *, nearest: bool = False) -> np.ndarray:
    """Sample ``image`` at ``grid`` exactly like ``torch.nn.functional.grid_sample(..., align_corners=False,
    padding_mode="zeros")`` (bilinear, or nearest), using cv2.remap.

    Args:
        image: (h, w) or (h, w, C) array (uint8 or float32).
        grid: (H, W, 2) float32 in the grid_sample convention; outside [-1, 1] reads zeros.
        nearest: nearest-neighbour instead of bilinear (for label maps).

    Returns:
        (H, W) or (H, W, C) array of ``image``'s dtype.
    """
    h, w = image.shape[:2]
    px = grid_to_pixel(grid, w, h)
    return cv2.remap(image, px[..., 0], px[..., 1], cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)


# --------------------------------------------------------------------------------------------- garment parts
def garment_parts(mask: np.ndarray, lm: dict[str, np.ndarray], *, torso: np.ndarray | None = None) -> np.ndarray:
    """Split the garment mask into torso and sleeves with the shoulder–armpit lines.

    A sleeve is the part of the garment on the outer side of the line shoulder->armpit and on the shoulder's
    side of the line armpit->sleeve inner end: a wedge with its apex at the armpit, bounded by the rays towards
    the shoulder and towards the sleeve's inner end, so a torso side that flares below the armpit stays torso.

    Args:
        mask: (H, W) float garment mask in [0, 1].
        lm: garment landmarks (see tryon.garment.landmarks), pixel coordinates.
        torso: optional (H, W) bool garment pixels that are torso whatever the sleeve cones say (a one-piece's
            skirt, which lies inside the cone of a long sleeve hanging beside it).

    Returns:
        (H, W) uint8 part labels: 0 none, 1 torso, 2 wearer's left sleeve (image right), 3 right sleeve.
    """
    h, w = mask.shape
    inside = mask > 0.5
    parts = np.where(inside, PART_TORSO, PART_NONE).astype(np.uint8)
    far = 4.0 * max(h, w)
    for side, label in (("left", PART_LEFT_SLEEVE), ("right", PART_RIGHT_SLEEVE)):
        if f"sleeve_{side}_outer" not in lm:
            continue
        sh, ap = lm[f"shoulder_{side}"], lm[f"armpit_{side}"]
        so, si = lm[f"sleeve_{side}_outer"], lm[f"sleeve_{side}_inner"]

        def ray(p: np.ndarray, ap: np.ndarray = ap) -> np.ndarray:
            d = np.asarray(p, np.float64) - ap
            n = float(np.hypot(*d))
            return ap + (d / n if n > 1e-6 else np.array([0.0, -1.0])) * far

        # Convex cone from the armpit through the shoulder, the sleeve's middle and its inner end.
        wedge = np.array([ap, ray(sh), ray(0.5 * (so + si)), ray(si)])
        m = np.zeros((h, w), np.uint8)
        cv2.fillPoly(m, [np.round(wedge * 4).astype(np.int64).astype(np.int32)], 1, shift=2)
        # Under the sleeve, outside the side seam (armpit -> hem corner) and above the sleeve's end: the
        # sleeve's curved underside, not torso (as torso, the spline would fling it out as a flap).
        hem = lm.get(f"hem_{side}")
        if hem is not None:
            d = hem - ap
            far_out = ap + np.array([d[1], -d[0]]) / max(float(np.hypot(*d)), 1e-6) * far
            if (far_out - ap) @ (so - ap) < 0:
                far_out = 2 * ap - far_out
            y_end = max(si[1], so[1], ap[1]) + 0.1 * abs(hem[1] - ap[1])
            under = np.array([[ap[0], ap[1]], [far_out[0], ap[1]], [far_out[0], y_end], [ap[0] + d[0] * (y_end - ap[1])
                              / max(d[1], 1e-6), y_end]])
            cv2.fillPoly(m, [np.round(under * 4).astype(np.int64).astype(np.int32)], 1, shift=2)
        if torso is not None:
            m[torso] = 0
        parts[inside & (m > 0)] = label
    return parts


OPENING_REACH = 1.0
"""Depth of the superellipse the neck opening may grow in, a share of the front neck's: at 1.0 it ends at the front
neck on the centre line and fills the opening's corners beside it (deeper, it took the dark gaps of a lace-up)."""
OPENING_WIDTH = 1.1
"""Half-width of the superellipse the neck opening may grow in, in the neck points' half-distance: the inside of the
back shows up to the neck points, the collar's top corners, and a superellipse through them left a dark wedge of it
in each corner (a royal-blue tee's navy inside, shown by the gate)."""
OPENING_PLAIN = 60.0
"""The opening grows only on a plain front: the grey levels beside the neck spread between their quartiles by at
most this (2-32 on plain tees with a logo or a stripe nearby, 180 on two striped ones); the dark stripes of a
striped tee are not the inside in shade."""


COLLAPSED_NECK_DEPTH = 0.22
"""Depth of the neck opening cut on the person for a garment whose neck points collapsed, in shoulder widths below
the neck targets (a crew neck's front: about one half neck width)."""


def _collapsed_neck(mask: np.ndarray, lm: dict[str, np.ndarray]) -> bool:
    """:func:`tryon.garment.landmarks.neck_collapsed` of the landmarks on the mask's width (photo pixels)."""
    cols = np.nonzero((np.asarray(mask) > 0.5).any(axis=0))[0]
    width = float(cols[-1] - cols[0] + 1) if len(cols) else 1.0
    return neck_collapsed(abs(float(lm["neck_left"][0] - lm["neck_right"][0])) / 2.0, width)


def _person_neck_opening(frame: BodyFrame, t: dict[str, np.ndarray], size: tuple[int, int],
                         full: tuple[int, int]) -> np.ndarray:
    """(h, w) bool at the working size: the half-ellipse through the neck targets and ``COLLAPSED_NECK_DEPTH``
    below them, and everything above it between them (person frame, so a tilted body tilts it)."""
    h, w = size
    H, W = full
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    ab = frame.to_frame(np.stack([(xs + 0.5) * (W / w) - 0.5, (ys + 0.5) * (H / h) - 0.5], axis=-1))
    nl, nr = frame.to_frame(t["neck_left"][None])[0], frame.to_frame(t["neck_right"][None])[0]
    half = max(0.5 * abs(nl[0] - nr[0]), 1.0)
    b0 = 0.5 * (nl[1] + nr[1])
    depth = COLLAPSED_NECK_DEPTH * frame.sw
    a, b = ab[..., 0], ab[..., 1]
    inside = (a / half) ** 2 + (np.maximum(b - b0, 0.0) / depth) ** 2 <= 1.0
    return inside & (b > b0 - 0.5 * frame.sw)


def _neck_opening(garment: np.ndarray | None, mask: np.ndarray, lm: dict[str, np.ndarray]) -> np.ndarray:
    """(H, W) bool: the garment's neck opening (half-ellipse neck_left–neck_front–neck_right and above), grown
    over the shaded inside of the back around it.

    In-shop photos show the inside of the back collar there; on a person the neck and chest show through. A crew
    neck's opening is squarer at its corners than the half-ellipse through its three points, and the inside of
    the back left in those corners showed as a dark crescent along the front rib: the pixels connected to the
    half-ellipse, within the box-like superellipse (exponent 4) through the neck points and ``OPENING_REACH``
    times the front neck's depth, and of the front's fabric in shade
    (:func:`tryon.garment.landmarks.shaded_inside`) are taken too.

    Args:
        garment: (H, W, 3) uint8 RGB garment photo, or None (the half-ellipse only).
        mask: (H, W) float32 [0, 1] garment mask.
        lm: garment landmarks, pixels.
    """
    h, w = mask.shape[:2]
    nl, nr, nf = lm["neck_left"], lm["neck_right"], lm["neck_front"]
    cx = 0.5 * (nl[0] + nr[0])
    cy = 0.5 * (nl[1] + nr[1])
    ax = max(abs(nl[0] - nr[0]) / 2.0, 1.0)
    ay = max(nf[1] - cy, 1.0)
    m = np.zeros((h, w), np.uint8)
    cv2.ellipse(m, (int(round(cx * 4)), int(round(cy * 4))), (int(round(ax * 4)), int(round(ay * 4))), 0, 0, 360,
                1, -1, shift=2)
    x0, x1 = int(round(cx - ax * 0.92)), int(round(cx + ax * 0.92))
    m[:max(0, int(np.floor(cy)) + 1), max(0, x0):max(0, x1 + 1)] = 1
    opening = m.astype(bool)
    if garment is None or ax < 4.0:
        return opening
    # Everything below lies within 1.3 neck half-widths of the centre line, from the neck points down to the front
    # sample (or the zone's depth): read that box, not the whole photo.
    y0 = max(0, int(np.floor(cy)) - 1)
    y1 = min(h, int(np.ceil(cy + max(2.2 * ax, OPENING_REACH * ay))) + 2)
    x0, x1 = max(0, int(np.floor(cx - 1.3 * ax)) - 1), min(w, int(np.ceil(cx + 1.3 * ax)) + 2)
    if y1 <= y0 or x1 <= x0:
        return opening
    box = (slice(y0, y1), slice(x0, x1))
    g_box, m_box = garment[box], mask[box] > 0.5
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    side = np.abs(xs - cx)
    band = m_box & (ys > cy + 1.5 * ax) & (ys < cy + 2.2 * ax) & (side > 0.9 * ax) & (side < 1.3 * ax)
    if band.sum() < 20:
        return opening
    front = np.median(g_box[band], axis=0)
    q25, q75 = np.percentile(g_box[band].astype(np.float32).mean(-1), [25, 75])
    if q75 - q25 > OPENING_PLAIN:
        return opening        # stripes or a print: their dark parts are not the inside in shade
    zone = ((side / (OPENING_WIDTH * ax)) ** 4 + (np.maximum(ys - cy, 0.0) / (OPENING_REACH * ay)) ** 4 <= 1.0) & \
        (ys >= cy) & m_box
    # Per pixel, by the share only: beside the cut, a navy inside 11-19 grey levels below the front is shaded.
    grow = np.zeros(zone.shape, np.uint8)
    grow[zone] = shaded_inside(g_box[zone], front)
    n, lab = cv2.connectedComponents(grow, connectivity=8)
    if n <= 1:
        return opening
    near = cv2.dilate(opening[box].astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    touch = np.unique(lab[near])
    grown = np.isin(lab, touch[touch > 0]).astype(np.uint8)
    # Bands, not slivers: the dark gaps of a lace-up or the shadows of a print's edge next to the opening stay.
    k = max(3, int(round(0.05 * ax)) | 1)
    grown = cv2.morphologyEx(grown, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    opening[box] |= grown.astype(bool)
    return opening


# --------------------------------------------------------------------------------------------- body geometry
class _LabelCoords:
    """Frame coordinates of the parse's pixels (subsampled to ~60k points), for extent queries."""

    def __init__(self, parse: np.ndarray, frame: BodyFrame):
        step = max(1, int(np.sqrt(parse.size / 60000)))
        sub = parse[::step, ::step]
        ys, xs = np.nonzero(sub > 0)
        self.lab = sub[ys, xs]
        self.ab = frame.to_frame(np.stack([xs * step + (step - 1) / 2, ys * step + (step - 1) / 2], axis=-1))
        self.sw = frame.sw

    def select(self, labels: tuple[int, ...]) -> np.ndarray:
        return self.ab[np.isin(self.lab, labels)]

    @staticmethod
    def extent(ab: np.ndarray, *, b: float | None = None, band: float = 0.0, a: float | None = None,
               aband: float = 0.0, axis: int = 0, q: float = 2.0) -> tuple[float, float] | None:
        sel = np.ones(len(ab), bool)
        if b is not None:
            sel &= np.abs(ab[:, 1] - b) < band
        if a is not None:
            sel &= np.abs(ab[:, 0] - a) < aband
        if sel.sum() < 4:
            return None
        v = ab[sel, axis]
        return float(np.percentile(v, q)), float(np.percentile(v, 100 - q))


def body_targets(frame: BodyFrame, parse: np.ndarray | None, lm: dict[str, np.ndarray],
                 category: str = "top") -> tuple[dict[str, np.ndarray], float]:
    """Where each garment landmark should land on the person, in image pixels.

    Rules (all in the person's shoulder frame, sw = distance between the shoulder joints):
      * shoulders: the garment's shoulder seams sit a little inside the outer edge of the shoulders and on
        their top surface (from the parse; keypoint rules without one); this also sets the garment's scale;
      * neckline: neck_left/right at the base of the neck (raised to the old garment's top edge beside the neck by up
        to :data:`NECK_RISE`), the garment's own neck depth (scaled) below it;
      * armpits and hem: the garment's proportions, armpits kept inside the arm roots, the hem clamped to fall
        around the hips (tops; lengthened to cover the old garment when that is longer) or above the knees
        (dresses), its width clamped to the body's width from the parse (at the hip joints and at the hem);
      * sides: between armpit and hem, pulled out to the trunk's edge, and under an arm hanging against the
        side (parse arm all the way from the trunk's edge to the bone) out to the arm's bone;
      * mid-shoulder: on the old garment's top edge, but never below the body's own top edge (bare shoulders);
      * sleeve landmarks are placed in :func:`warp_garment`.

    Args:
        frame: the person's :class:`BodyFrame`.
        parse: (H, W) uint8 PARSE_LABELS or None (keypoint-only rules).
        lm: garment landmarks, pixels.
        category: "top", or "dress" for a one-piece's bodice (``hem_*`` at the dress's waist: placed between
            the natural waist and the hip joints, never lengthened to cover the old top).

    Returns:
        (targets: landmark name -> (2,) pixel position, scale: person pixels per garment pixel).
    """
    sw = frame.sw
    g_sl, g_sr = lm["shoulder_left"], lm["shoulder_right"]
    g_sw = float(np.hypot(*(g_sl - g_sr)))
    g_u = (g_sl - g_sr) / max(g_sw, 1e-6)
    g_v = np.array([-g_u[1], g_u[0]])
    if g_v[1] < 0:
        g_v = -g_v
    g_o = 0.5 * (g_sl + g_sr)

    def gf(p: np.ndarray) -> np.ndarray:
        d = np.asarray(p, dtype=np.float64) - g_o
        return np.array([d @ g_u, d @ g_v])

    lc = _LabelCoords(parse, frame) if parse is not None else None
    upper = lc.select((3, 4, 5, 6)) if lc is not None else None          # neck, torso, arms
    trunk = lc.select((3, 4, 9)) if lc is not None else None             # the body without arms
    old = lc.select((4,)) if lc is not None else None

    t: dict[str, np.ndarray] = {}
    sh_a, sh_b = {}, {}
    for side, sgn in (("left", 1.0), ("right", -1.0)):
        a_sh, b_sh = 0.58 * sw, -0.06 * sw
        if upper is not None:
            ext = _LabelCoords.extent(upper, b=0.0, band=0.08 * sw)
            if ext is not None:
                edge = ext[1] if sgn > 0 else -ext[0]
                a_sh = float(np.clip(edge - 0.08 * sw, 0.5 * sw, 0.72 * sw))
            col = _LabelCoords.extent(upper, a=sgn * a_sh, aband=0.04 * sw, axis=1, q=1.0)
            if col is not None:
                b_sh = float(np.clip(col[0] - 0.01 * sw, -0.25 * sw, 0.05 * sw))
        sh_a[side], sh_b[side] = a_sh, b_sh
        t[f"shoulder_{side}"] = frame.to_img(sgn * a_sh, b_sh)
    t_half_sw = 0.5 * (sh_a["left"] + sh_a["right"])
    scale = 2 * t_half_sw / max(g_sw, 1e-6)
    if "sleeve_left_outer" not in lm:
        # Sleeveless: the straps sit inside the shoulders, so the scale comes from the chest (armpit to
        # armpit, with a little ease) and the shoulder points follow the garment's own proportions.
        g_half_chest = 0.5 * abs(gf(lm["armpit_left"])[0] - gf(lm["armpit_right"])[0])
        b_chest = float(np.clip(0.5 * (gf(lm["armpit_left"])[1] + gf(lm["armpit_right"])[1]) * scale,
                                0.3 * sw, 0.75 * sw))
        chest = 0.45 * sw
        ext = _LabelCoords.extent(trunk, b=b_chest, band=0.04 * sw) if trunk is not None else None
        if ext is not None:
            chest = float(np.clip(0.5 * (ext[1] - ext[0]), 0.33 * sw, 0.6 * sw))
        if g_half_chest > 1e-3:
            scale = float(np.clip(chest * 1.04 / g_half_chest, 0.7 * scale, scale))
        for side, sgn in (("left", 1.0), ("right", -1.0)):
            a = float(np.clip(abs(gf(lm[f"shoulder_{side}"])[0]) * scale, 0.3 * sw, sh_a[side]))
            b = sh_b[side]
            if upper is not None:
                col = _LabelCoords.extent(upper, a=sgn * a, aband=0.04 * sw, axis=1, q=1.0)
                if col is not None:
                    b = float(np.clip(col[0] - 0.01 * sw, -0.25 * sw, 0.05 * sw))
            sh_a[side], sh_b[side] = a, b
            t[f"shoulder_{side}"] = frame.to_img(sgn * a, b)

    hip_b = frame.hips()[0]
    hip_b = float(np.clip(hip_b, 0.9 * sw, 2.2 * sw))

    # Neck base: above the shoulder joints' line, between the joints; the garment's own neck width
    # (scaled) kept within anatomical limits.
    g_nl, g_nr, g_nf = gf(lm["neck_left"]), gf(lm["neck_right"]), gf(lm["neck_front"])
    neck_half = float(np.clip(0.5 * abs(g_nl[0] - g_nr[0]) * scale, 0.17 * sw, 0.34 * sw))
    neck_b = min(sh_b["left"], sh_b["right"]) - 0.06 * sw
    g_drop = 0.5 * (g_nl[1] + g_nr[1]) / max(g_sw, 1e-6)
    if "sleeve_left_outer" not in lm and g_drop >= STRAP_NECK_DROP:
        # Thin straps: the neck points are the neckline's corners on the chest, the strap tops' own drop below
        # them (scaled), not the base of the neck; lifted there, the cups stretch up over the collarbones and
        # the straps run on past the shoulders to the ears. Kept inside the strap tops and above the armpits.
        neck_b = float(np.clip(min(sh_b["left"], sh_b["right"]) + g_drop * g_sw * scale, 0.0, 0.6 * sw))
        neck_half = float(np.clip(0.5 * abs(g_nl[0] - g_nr[0]) * scale, 0.12 * sw,
                                  min(sh_a["left"], sh_a["right"]) - 0.02 * sw))
    elif old is not None:
        # The old garment's top edge where the new neckline's sides will be, if higher (a crew neck's rib on
        # sloping shoulders; a V-neck's or a scoop's edge there is lower and changes nothing).
        tops = [_LabelCoords.extent(old, a=sgn * neck_half, aband=0.04 * sw, axis=1, q=1.0) for sgn in (1.0, -1.0)]
        if all(c is not None for c in tops):
            top = max(c[0] for c in tops)
            neck_b = float(np.clip(top, neck_b - NECK_RISE * sw, neck_b))
    t["neck_left"] = frame.to_img(neck_half, neck_b)
    t["neck_right"] = frame.to_img(-neck_half, neck_b)
    depth = float(np.clip((g_nf[1] - 0.5 * (g_nl[1] + g_nr[1])) * scale, 0.04 * sw, 0.6 * sw))
    if old is not None and depth <= CREW_NECK * neck_half:
        # A crew neck's front no lower than the old garment's top edge on the centre line: the product photo's
        # view down into the back collar puts its neck points above a worn one's, and the chest between the old
        # front rib and the new was filled as a flat block of skin. (A V-neck or a scoop keeps its depth.)
        c = _LabelCoords.extent(old, a=0.0, aband=0.04 * sw, axis=1, q=1.0)
        if c is not None:
            depth = float(np.clip(c[0] - neck_b, 0.5 * depth, depth))
    t["neck_front"] = frame.to_img(0.0, neck_b + depth)
    # Mid-shoulder: on the old garment's top edge (so none of it shows above the new shoulder line), near
    # the straight neck–shoulder line.
    for side, sgn in (("left", 1.0), ("right", -1.0)):
        a_mid = 0.5 * (neck_half + sh_a[side])
        b_lin = 0.5 * (neck_b + sh_b[side])
        b_mid = b_lin
        if old is not None:
            col = _LabelCoords.extent(old, a=sgn * a_mid, aband=0.03 * sw, axis=1, q=1.0)
            if col is not None:
                b_mid = float(np.clip(col[0] - 0.015 * sw, b_lin - 0.07 * sw, b_lin + 0.04 * sw))
        if upper is not None:
            # Nor may bare skin show above it: a strapless or low old top leaves the shoulder's skin as the
            # body's top edge, and the seam must not hang below that.
            col = _LabelCoords.extent(upper, a=sgn * a_mid, aband=0.03 * sw, axis=1, q=1.0)
            if col is not None:
                b_mid = min(b_mid, float(np.clip(col[0] - 0.01 * sw, b_lin - 0.07 * sw, b_lin + 0.04 * sw)))
        t[f"shoulder_mid_{side}"] = frame.to_img(sgn * a_mid, b_mid)

    # Armpits: the garment's proportions, not below mid-torso nor above the shoulders.
    for side, sgn in (("left", 1.0), ("right", -1.0)):
        g_ap = gf(lm[f"armpit_{side}"])
        b = float(np.clip(g_ap[1] * scale, 0.3 * sw, 0.75 * sw))
        a = abs(g_ap[0]) * scale
        body_half = 0.42 * sw
        ext = _LabelCoords.extent(trunk, b=b, band=0.04 * sw) if trunk is not None else None
        if ext is not None:
            body_half = float(np.clip(ext[1] if sgn > 0 else -ext[0], 0.3 * sw, 0.6 * sw))
        a = float(np.clip(a, body_half * 1.0, body_half * 1.2))
        # The armpit must stay inside the arm's root, or the sleeve quad folds over (non-convex).
        a = float(np.clip(a, 0.34 * sw, sh_a[side] - 0.06 * sw))
        t[f"armpit_{side}"] = frame.to_img(sgn * a, b)

    # Hem: garment length by proportion, clamped around the hips; lengthened (up to 30 %) to cover the old
    # garment's hem so no strip of it is left to fill.
    g_hl, g_hr, g_hc = gf(lm["hem_left"]), gf(lm["hem_right"]), gf(lm["hem_center"])
    prop = g_hc[1] * scale
    hem_b = prop
    # A one-piece's bodice ends at its waist, whatever the old top covered (the skirt covers the rest).
    if old is not None and category != "dress":
        ob = _LabelCoords.extent(old, a=0.0, aband=0.45 * sw, axis=1, q=1.0)
        if ob is not None:
            hem_b = max(hem_b, min(ob[1] + 0.02 * sw, prop * 1.3))
    if category == "dress":
        # The bodice's hem is the dress's waist (tryon.teacher.warp_onepiece): between the natural waist
        # (about 0.6 shoulder widths above the hip joints) and just below the hip joints (a drop waist).
        hem_b = float(np.clip(hem_b, hip_b - 0.6 * sw, hip_b + 0.15 * sw))
    else:
        hem_b = float(np.clip(hem_b, hip_b - 0.35 * sw, hip_b + 0.55 * sw))
    len_scale = hem_b / max(prop, 1e-6)
    ext = _LabelCoords.extent(trunk, b=min(hem_b, hip_b), band=0.04 * sw) if trunk is not None else None
    # Hips widening below the hip joints (or wide trousers) would show beside a hem sized at the joints' height:
    # the hem is at least as wide as the body (without arms) at its own height too.
    ext_hem = _LabelCoords.extent(trunk, b=hem_b, band=0.04 * sw) if trunk is not None else None
    if ext is not None and ext_hem is not None:
        ext = (min(ext[0], ext_hem[0]), max(ext[1], ext_hem[1]))
    # A sleeveless body hangs from narrow straps: no more ease at the hem than a little (no skirt-like flare).
    flare = 1.3 if "sleeve_left_outer" in lm else 1.1
    # The hem hangs level: along the hip line (which follows the pelvis), within 10 degrees of the image
    # horizontal, not along the shoulder line (tilted shoulders would tilt it).
    h_dir = frame.kp["left_hip"] - frame.kp["right_hip"]
    if float(np.hypot(*h_dir)) < 1e-3:
        h_dir = frame.u.copy()
    ang = float(np.clip(np.arctan2(h_dir[1], h_dir[0]) if h_dir[0] >= 0 else
                        np.arctan2(-h_dir[1], -h_dir[0]), -np.radians(10), np.radians(10)))
    h_dir = np.array([np.cos(ang), np.sin(ang)])
    if h_dir @ frame.u < 0:
        h_dir = -h_dir
    hem_mid = frame.to_img(g_hc[0] * scale * 0.5, hem_b)
    for side, sgn, g in (("left", 1.0, g_hl), ("right", -1.0, g_hr)):
        a = abs(g[0]) * scale
        if ext is not None:
            half = ext[1] if sgn > 0 else -ext[0]
            half = float(np.clip(half, 0.3 * sw, 0.75 * sw))
            a = float(np.clip(a, half * 1.0, half * flare))
        else:
            a = float(np.clip(a, 0.35 * sw, 0.7 * sw))
        # The garment's own hem curve (corners a little higher than the centre on curved hems).
        dy = float(np.clip((g[1] - g_hc[1]) * scale * len_scale, -0.15 * sw, 0.05 * sw))
        base = frame.to_img(0.0, hem_b)
        corner = base + sgn * a * h_dir + np.array([0.0, dy])
        if old is not None and category != "dress":
            # A torso that leans tilts the old garment's hem against the level new one: lower this corner (a
            # little) where the old garment would otherwise show below it.
            ob = _LabelCoords.extent(old, a=sgn * 0.3 * sw, aband=0.15 * sw, axis=1, q=1.0)
            if ob is not None:
                short = ob[1] + 0.02 * sw - float(frame.to_frame(corner)[1])
                if short > 0:
                    corner = corner + np.array([0.0, min(short / max(frame.v[1], 0.5), 0.12 * sw)])
        t[f"hem_{side}"] = corner
    t["hem_center"] = hem_mid
    # Side anchors between armpit and hem corner: on the straight line between them, pulled towards the old
    # garment's side (the parse's torso edge) so the new garment covers it, within limits (no bulge, no flare).
    for side, sgn in (("left", 1.0), ("right", -1.0)):
        pa, ph = frame.to_frame(t[f"armpit_{side}"]), frame.to_frame(t[f"hem_{side}"])
        for f in SIDE_FRACTIONS:
            q = pa + f * (ph - pa)
            a_lin = abs(q[0])
            ext = _LabelCoords.extent(trunk, b=q[1], band=0.04 * sw) if trunk is not None else None
            a = a_lin
            if ext is not None:
                edge = ext[1] if sgn > 0 else -ext[0]
                a = float(np.clip(edge, 0.92 * a_lin, 1.2 * a_lin))
                # An arm hanging against the side hides the body's outline (the parse's trunk ends at the arm):
                # the side runs under the arm, up to its bone, so no strip of what was under the old sleeve
                # shows between the (slimmer) new arm and the garment.
                # Only where the arm covers all the way from the trunk's edge to its bone: a bent arm leaves
                # backdrop between it and the waist, and that must stay uncovered.
                bone = _bone_a(frame, side, q[1])
                if bone is not None and parse is not None and bone > a and _arm_covers(
                        parse, frame.to_img(sgn * edge, q[1]), frame.to_img(sgn * bone, q[1])):
                    a = float(min(bone, 1.2 * a_lin))
            t[f"side_{side}_{f:.2f}"] = frame.to_img(sgn * a, q[1])
    return t, scale


def _bone_a(frame: BodyFrame, side: str, b: float) -> float | None:
    """|a| (frame pixels from the centre line) where the arm's bone chain shoulder–elbow–wrist of ``side``
    crosses the frame height ``b`` while hanging (within about 27 degrees of the body's axis); the outermost
    such crossing, None when no hanging bone reaches that height (a bent arm, e.g. a hand on the hip, frames
    backdrop that the garment must not fill)."""
    pts = [frame.to_frame(frame.kp[f"{side}_{j}"]) for j in ("shoulder", "elbow", "wrist")]
    best = None
    for p, q in zip(pts[:-1], pts[1:], strict=True):
        lo, hi = sorted((p[1], q[1]))
        if not lo <= b <= hi or hi - lo < 1e-6 or abs(q[0] - p[0]) > 0.5 * (hi - lo):
            continue
        a = abs(p[0] + (b - p[1]) / (q[1] - p[1]) * (q[0] - p[0]))
        best = a if best is None else max(best, a)
    return best


def _arm_covers(parse: np.ndarray, p0: np.ndarray, p1: np.ndarray, n: int = 16) -> bool:
    """True when the parse is arm (or hand) along the segment p0 -> p1 (pixels), ignoring its first sixth
    (the trunk's coarse edge): the arm lies against the body there, with no backdrop between them."""
    h, w = parse.shape
    f = np.linspace(1.0 / 6.0, 1.0, n)[:, None]
    pts = np.round(np.asarray(p0) + f * (np.asarray(p1) - np.asarray(p0))).astype(int)
    if ((pts < 0) | (pts >= np.array([w, h]))).any():
        return False
    lab = parse[pts[:, 1], pts[:, 0]]
    return bool(np.isin(lab, (5, 6, 7, 8)).mean() >= 0.9)


# --------------------------------------------------------------------------------------------- warp
@dataclass
class WarpResult:
    """Output of :func:`warp_garment`.

    Attributes:
        grid: (H, W, 2) float32, grid_sample convention (align_corners=False), person pixel -> garment.
        warped_garment: (H, W, 3) uint8 garment sampled with ``grid`` (zeros outside the garment).
        warped_mask: (H, W) float32 [0, 1] garment mask sampled with ``grid`` (sleeve tabs and neck opening cut).
        warped_parts: (H, W) uint8 part labels (0 none, 1 torso, 2 left sleeve, 3 right sleeve).
        targets: landmark name -> (2,) person-pixel position used for the warp.
        sleeve_reach: arm side ("left"/"right") -> how far down the arm the new sleeve reaches, in arm
            coordinates (0 shoulder joint, 1 elbow, 2 wrist); 0 without a sleeve.
        torso_weight: (H, W) float32 [0, 1] anti-aliased share of the torso part in the garment's alpha (the
            sleeves have the rest), or None (then ``warped_parts`` decides per pixel).
    """

    grid: np.ndarray
    warped_garment: np.ndarray
    warped_mask: np.ndarray
    warped_parts: np.ndarray
    targets: dict[str, np.ndarray]
    sleeve_reach: dict[str, float] = field(default_factory=dict)
    torso_weight: np.ndarray | None = None


@dataclass
class ArmExtent:
    """How far the arm (parse arm label: skin or old sleeve) reaches on each side of its bone, pixels.

    Attributes:
        top_out: outer reach near the shoulder (first 30 % of the upper arm).
        up_out, up_in: outer / inner reach around the middle of the upper arm.
        fore_out, fore_in: the same around the middle of the forearm.
        elbow_out, elbow_in: the same around the elbow (the last quarter of the upper arm and the first of the
            forearm), where a long sleeve's width is set.
    """

    top_out: float = 0.0
    up_out: float = 0.0
    up_in: float = 0.0
    fore_out: float = 0.0
    fore_in: float = 0.0
    elbow_out: float = 0.0
    elbow_in: float = 0.0


def arm_extents(parse: np.ndarray, frame: BodyFrame) -> dict[str, ArmExtent]:
    """Measure each arm in the parse across its bones (robust percentiles of the perpendicular distances
    of the arm-label pixels, subsampled), so sleeves can be made to cover the arm and the old sleeve.

    Returns:
        {"left": ArmExtent, "right": ArmExtent}; zeros where the arm is not visible.
    """
    step = max(1, int(np.sqrt(parse.size / 60000)))
    sub = parse[::step, ::step]
    out = {}
    for side, lab, sgn in (("left", 5, 1.0), ("right", 6, -1.0)):
        ys, xs = np.nonzero(sub == lab)
        ext = ArmExtent()
        if len(xs) >= 8:
            pts = np.stack([xs * step + (step - 1) / 2, ys * step + (step - 1) / 2], axis=-1).astype(np.float64)
            kp = frame.kp
            for seg, (a, b) in (("up", ("shoulder", "elbow")), ("fore", ("elbow", "wrist"))):
                p, q = kp[f"{side}_{a}"], kp[f"{side}_{b}"]
                d = q - p
                length = float(np.hypot(*d))
                if length < 1:
                    continue
                d = d / length
                n = np.array([-d[1], d[0]])
                if n @ (sgn * frame.u) < 0:
                    n = -n
                along = (pts - p) @ d / length
                perp = (pts - p) @ n
                elbow = (0.75, 1.0) if seg == "up" else (0.0, 0.25)
                for name, lo, hi in ((f"{seg}", 0.35, 0.65), ("top", 0.05, 0.3), ("elbow", *elbow)):
                    if name == "top" and seg != "up":
                        continue
                    sel = (along > lo) & (along < hi) & (np.abs(perp) < 0.6 * frame.sw)
                    if sel.sum() < 4:
                        continue
                    o = max(0.0, float(np.percentile(perp[sel], 97)))
                    if name == "top":
                        ext.top_out = o
                    elif name == "elbow":
                        ext.elbow_out = max(ext.elbow_out, o)
                        ext.elbow_in = max(ext.elbow_in, -float(np.percentile(perp[sel], 3)))
                    else:
                        setattr(ext, f"{seg}_out", o)
                        setattr(ext, f"{seg}_in", max(0.0, -float(np.percentile(perp[sel], 3))))
        out[side] = ext
    return out


@dataclass
class SleeveSpec:
    """One sleeve's placement on the arm, in the arm's curvilinear coordinates (s along the bone chain from
    the shoulder joint, d across it, positive on the arm's outer side), pixels.

    Attributes:
        chain: (K, 2) the arm's bone chain as a smooth polyline (shoulder -> rounded elbow -> wrist), extended
            a little behind the shoulder and past the wrist.
        rot: +1 / -1, the side of the chain's direction the outer normal is on.
        root_out, root_in: (s, d) of the sleeve root's outer point (cap, garment shoulder) and inner point
            (garment armpit).
        end_out, end_in: (s, d) of the sleeve end's outer and inner points.
        out_knots, in_knots: (s, d) knots of the outer / inner edge's offset as a function of s.
        s_elbow: s of the elbow joint.
        fore: forearm length, pixels.
    """

    chain: np.ndarray
    rot: float
    root_out: tuple[float, float]
    root_in: tuple[float, float]
    end_out: tuple[float, float]
    end_in: tuple[float, float]
    out_knots: np.ndarray
    in_knots: np.ndarray
    s_elbow: float
    fore: float

    @property
    def reach(self) -> float:
        """How far down the arm the sleeve's end reaches: 0 shoulder joint, 1 elbow, 2 wrist."""
        s_end = 0.5 * (self.end_out[0] + self.end_in[0])
        if s_end <= self.s_elbow:
            return s_end / max(self.s_elbow, 1e-6)
        return 1.0 + (s_end - self.s_elbow) / max(self.fore, 1e-6)


def _arm_chain(sh: np.ndarray, el: np.ndarray, wr: np.ndarray, sw: float) -> tuple[np.ndarray, float]:
    """Smooth polyline along the arm bones: a quadratic Bezier round the elbow (so the coordinates stay
    continuous on the outside of a bend), extended 0.6 sw behind the shoulder and 0.4 sw past the wrist.

    Returns:
        (points (K, 2), arc length of the elbow joint from the shoulder joint).
    """
    def unit(d: np.ndarray, fb: np.ndarray) -> np.ndarray:
        n = float(np.hypot(*d))
        return d / n if n > 1e-6 else fb

    upper = float(np.hypot(*(el - sh)))
    fore = float(np.hypot(*(wr - el)))
    d1 = unit(el - sh, np.array([0.0, 1.0]))
    d2 = unit(wr - el, d1)
    r = min(0.15 * sw, 0.4 * upper, 0.4 * fore)
    a, b = el - d1 * r, el + d2 * r
    t = np.linspace(0.0, 1.0, 9)[:, None]
    bend = (1 - t) ** 2 * a + 2 * t * (1 - t) * el + t ** 2 * b
    pts = np.vstack([sh - d1 * 0.6 * sw, sh, bend, wr, wr + d2 * 0.4 * sw])
    keep = np.concatenate([[True], np.hypot(*np.diff(pts, axis=0).T) > 1e-6])
    return pts[keep], upper


def _chain_coords(chain: np.ndarray, rot: float, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Curvilinear coordinates of (M, 2) points on a polyline: (s arc length of the nearest point, d signed
    distance, positive on the ``rot`` side). The chain's first and last segments extend without bound."""
    seg = np.diff(chain, axis=0)
    ln = np.hypot(seg[:, 0], seg[:, 1])
    e = seg / ln[:, None]
    cum = np.concatenate([[0.0], np.cumsum(ln)])
    rel = p[:, None, :] - chain[None, :-1, :]                    # (M, S, 2)
    t = (rel * e[None]).sum(-1) / ln[None]
    lo = np.zeros(len(ln))
    hi = np.ones(len(ln))
    lo[0], hi[-1] = -np.inf, np.inf
    t = np.clip(t, lo[None], hi[None])
    proj = chain[None, :-1] + t[..., None] * seg[None]
    d2 = ((p[:, None, :] - proj) ** 2).sum(-1)
    i = np.argmin(d2, axis=1)
    m = np.arange(len(p))
    s = cum[i] + t[m, i] * ln[i]
    n = rot * np.stack([-e[i, 1], e[i, 0]], axis=-1)
    d = ((p - proj[m, i]) * n).sum(-1)
    # Behind the shoulder joint the chain's start stands for the shoulder: measure s from the joint.
    return s - cum[1], d


def _seg_dist(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances (M,) of (M, 2) points to the segment a-b."""
    d = np.asarray(b, np.float64) - a
    t = np.clip(((p - a) @ d) / max(float(d @ d), 1e-9), 0.0, 1.0)
    q = a + t[:, None] * d
    return np.hypot(p[:, 0] - q[:, 0], p[:, 1] - q[:, 1])


def _chain_point(chain: np.ndarray, rot: float, s: float, d: float) -> np.ndarray:
    """Inverse of :func:`_chain_coords` for one point: image pixels (2,) of curvilinear (s, d)."""
    seg = np.diff(chain, axis=0)
    ln = np.hypot(seg[:, 0], seg[:, 1])
    cum = np.concatenate([[0.0], np.cumsum(ln)]) - (ln[0] if len(ln) else 0.0)
    i = int(np.clip(np.searchsorted(cum, s) - 1, 0, len(ln) - 1))
    e = seg[i] / ln[i]
    return chain[i] + e * (s - cum[i]) + rot * np.array([-e[1], e[0]]) * d


def _sleeve_spec(frame: BodyFrame, side: str, t: dict[str, np.ndarray], lm: dict[str, np.ndarray],
                 scale: float, long_sleeve: bool, arm: ArmExtent | None = None,
                 g_len_max: float | None = None) -> SleeveSpec:
    """Where one sleeve lies on the arm (see :class:`SleeveSpec`).

    The sleeve's root is the torso's shoulder–armpit seam, its cap pushed out to the arm's outer edge at the
    shoulder (the cap covers the deltoid) and its armpit point to the arm's inner edge (the sleeve overlaps
    the torso a little rather than leaving the inside of the upper arm bare). Its edges run along the arm at
    offsets from the bone chain wide enough to cover the arm (for a short sleeve the old sleeve included, from
    the parse; at its elbow and cuff a long sleeve covers no more of the parse's arm than a bare arm,
    :data:`BARE_ARM`) and at least the garment's own (scaled) widths, a long sleeve's as worn
    (:data:`SLEEVE_WORN`); a short sleeve's underarm seam hangs from the armpit for the
    garment's seam length; a long sleeve reaches as far down the arm as :data:`SLEEVE_REACH` maps its length
    (``g_len_max``: the garment's longer sleeve, person pixels; one length for both arms, so a landmark miss
    on one sleeve does not shorten the other), from above the elbow to the wrist, bending with the elbow
    because its coordinates follow the bone chain.
    """
    sgn = 1.0 if side == "left" else -1.0
    sh_k, el_k, wr_k = frame.kp[f"{side}_shoulder"], frame.kp[f"{side}_elbow"], frame.kp[f"{side}_wrist"]
    g_sh, g_ap = lm[f"shoulder_{side}"], lm[f"armpit_{side}"]
    g_so, g_si = lm[f"sleeve_{side}_outer"], lm[f"sleeve_{side}_inner"]
    arm = arm or ArmExtent()
    sw = frame.sw
    # Collapsed joints (missed keypoints) would leave no chain to follow: assume a hanging, straight arm.
    if float(np.hypot(*(el_k - sh_k))) < 0.2 * sw:
        el_k = sh_k + frame.v * 0.9 * sw
    if float(np.hypot(*(wr_k - el_k))) < 0.15 * sw:
        d = el_k - sh_k
        wr_k = el_k + d / max(float(np.hypot(*d)), 1e-6) * 0.8 * sw
    chain, s_el = _arm_chain(sh_k, el_k, wr_k, sw)
    e0 = chain[2] - chain[1] if len(chain) > 2 else frame.v
    rot = 1.0 if np.array([-e0[1], e0[0]]) @ (sgn * frame.u) >= 0 else -1.0
    fore = float(np.hypot(*(wr_k - el_k)))

    def sd(p: np.ndarray) -> tuple[float, float]:
        s, d = _chain_coords(chain, rot, np.asarray(p, np.float64)[None])
        return float(s[0]), float(d[0])

    s_sh, d_sh = sd(t[f"shoulder_{side}"])
    s_ap, d_ap = sd(t[f"armpit_{side}"])
    # Caps on the parse's arm widths: an arm crossing the body or a hand on the hip inflates them, and a
    # sleeve twice as wide as the arm reads as a flap.
    up_out, up_in = min(arm.up_out, 0.22 * sw), min(arm.up_in, 0.22 * sw)
    fo_out, fo_in = min(arm.fore_out, 0.16 * sw), min(arm.fore_in, 0.16 * sw)
    # An arm hidden in the parse (old sleeve labelled torso) still has an upper arm ~0.25 sw thick.
    top_out = max(min(arm.top_out, 0.22 * sw) + 0.03 * sw, 0.12 * sw)
    if d_sh < top_out:
        # The cap moves down as it moves out (it is rounded), so it does not stick up as a horn.
        s_sh += 0.7 * (top_out - d_sh)
        d_sh = top_out
    d_sh = min(d_sh, 0.35 * sw)
    need_in = max(up_in * 1.15 + 0.03 * sw, 0.12 * sw)
    d_ap = float(np.clip(d_ap, -0.35 * sw, -need_in))
    s_ap = float(np.clip(s_ap, s_sh + 0.05 * sw, s_sh + 0.8 * sw))

    g_wend = float(np.hypot(*(g_so - g_si))) * scale
    l_out = float(np.hypot(*(g_so - g_sh))) * scale
    l_in = float(np.hypot(*(g_si - g_ap))) * scale
    g_len = 0.5 * (l_out + l_in)
    arm_w_min = 0.24 * sw
    upper = s_el
    ratio = max(g_len, g_len_max or 0.0) / max(upper, 1e-6)
    knots = np.array(SLEEVE_REACH)
    target = float(np.interp(ratio, knots[:, 0], knots[:, 1]))
    if not long_sleeve or ratio < knots[0, 0] or target <= 1.0 or fore < 1:
        # The opening's width is the garment's; it hangs with its outer edge close to the arm's outer side
        # (a sleeve standing far off the shoulder looks puffed) and the rest on the inner side.
        total = max(g_wend, arm_w_min * 1.25)
        w_o = float(np.clip(up_out * 1.15 + 0.03 * sw, 0.35 * total, 0.6 * total))
        w_i = max(total - w_o, up_in * 1.15 + 0.02 * sw)
        s_eo, s_ei = s_sh + l_out, s_ap + l_in
        mid = float(np.clip(0.5 * (s_eo + s_ei), 0.3 * upper, 0.85 * upper))
        if long_sleeve and ratio >= knots[0, 0]:
            mid = target * upper          # on the way from the first knot to the elbow
        # The opening lies roughly across the arm (a hanging sleeve's hem is not as slanted as in the flat).
        half_slant = float(np.clip(0.5 * (s_eo - s_ei), -0.08 * sw, 0.08 * sw))
        s_eo, s_ei = mid + half_slant, mid - half_slant
        s_eo = max(s_eo, s_sh + 0.15 * sw)
        s_ei = max(s_ei, s_ap + 0.08 * sw)
        out_knots = np.array([[s_sh, d_sh], [s_eo, w_o]])
        in_knots = np.array([[s_ap, d_ap], [s_ei, -w_i]])
    else:
        if ratio >= knots[-1, 0]:
            s_end = upper + float(np.clip(g_len - upper, 0.85 * fore, 1.05 * fore))
        else:
            s_end = upper + (target - 1.0) * fore
        # The garment's whole sleeve spans root to end: the elbow lies as far along it as along the drawn one.
        frac = float(np.clip(upper / max(upper + min(s_end - upper, fore), 1e-6), 0.35, 0.8))
        g_eo, g_ei = g_sh + frac * (g_so - g_sh), g_ap + frac * (g_si - g_ap)
        # A flat sleeve's width is half its girth; worn round the arm it is seen narrower (SLEEVE_WORN). It covers
        # the arm itself, not an old sleeve wider than a bare arm: that is removed by the composition.
        half_el = max(float(np.hypot(*(g_eo - g_ei))) * scale * SLEEVE_WORN, arm_w_min) / 2
        bare = BARE_ARM * sw
        el_o = max(half_el, 1.15 * min(arm.elbow_out, bare) + 0.03 * sw)
        el_i = max(half_el, 1.15 * min(arm.elbow_in, bare) + 0.03 * sw)
        half_end = max(g_wend * SLEEVE_WORN, arm_w_min * 0.8) / 2
        end_o = max(half_end, 1.15 * min(fo_out, bare) + 0.03 * sw)
        end_i = max(half_end, 1.15 * min(fo_in, bare) + 0.03 * sw)
        s_eo = s_ei = s_end
        out_knots = np.array([[s_sh, d_sh], [upper, el_o], [s_end, end_o]])
        in_knots = np.array([[s_ap, d_ap], [max(upper, s_ap + 1.0), -el_i], [max(s_end, s_ap + 2.0), -end_i]])
    return SleeveSpec(chain=chain, rot=rot, root_out=(s_sh, d_sh), root_in=(s_ap, d_ap),
                      end_out=(s_eo, float(out_knots[-1, 1])), end_in=(s_ei, float(in_knots[-1, 1])),
                      out_knots=out_knots, in_knots=in_knots, s_elbow=upper, fore=fore)


def _sleeve_uv(spec: SleeveSpec, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sleeve coordinates of (M, 2) person pixels: u along the sleeve (0 root seam, 1 end), v across
    (0 inner edge, 1 outer edge); extrapolated linearly outside the sleeve."""
    s, d = _chain_coords(spec.chain, spec.rot, p)
    d_out = np.interp(s, spec.out_knots[:, 0], spec.out_knots[:, 1])
    d_in = np.interp(s, spec.in_knots[:, 0], spec.in_knots[:, 1])
    v = (d - d_in) / np.maximum(d_out - d_in, 1e-3)
    vc = np.clip(v, -0.5, 1.5)
    s0 = spec.root_in[0] + vc * (spec.root_out[0] - spec.root_in[0])
    s1 = spec.end_in[0] + vc * (spec.end_out[0] - spec.end_in[0])
    u = (s - s0) / np.maximum(s1 - s0, 1e-3)
    return u, v


@dataclass
class SleeveBulge:
    """How far a flat-lay sleeve's outline stands out beyond the straight line from its shoulder point to its
    cuff's outer corner: ``d`` (garment pixels, >= 0) at positions ``t`` (0 shoulder, 1 cuff) along that line,
    outwards along ``normal`` (unit, (2,) x y)."""

    t: np.ndarray
    d: np.ndarray
    normal: np.ndarray


BULGE_MIN = 0.15
"""Least bulge of a sleeve's outline beyond its shoulder-to-cuff line, as a share of the quad's width at the root
(shoulder to armpit), for :func:`_sleeve_bulge` to widen the quad: below it the straight line is the outline."""


def _sleeve_to_garment(lm: dict[str, np.ndarray], side: str, u: np.ndarray, v: np.ndarray,
                       bulge: SleeveBulge | None = None) -> np.ndarray:
    """Garment pixels of sleeve coordinates: bilinear in the garment's sleeve quad (shoulder, sleeve outer
    end, sleeve inner end, armpit), its outer edge moved out to the sleeve's own outline where ``bulge``
    (:func:`_sleeve_bulge`) gives it."""
    g_sh, g_ap = lm[f"shoulder_{side}"], lm[f"armpit_{side}"]
    g_so, g_si = lm[f"sleeve_{side}_outer"], lm[f"sleeve_{side}_inner"]
    u, v = u[..., None], v[..., None]
    outer = (1 - u) * g_sh + u * g_so
    if bulge is not None:
        outer = outer + np.interp(np.clip(u[..., 0], 0.0, 1.0), bulge.t, bulge.d)[..., None] * bulge.normal
    return v * outer + (1 - v) * ((1 - u) * g_ap + u * g_si)


def _sleeve_bulge(mask: np.ndarray, lm: dict[str, np.ndarray], side: str) -> SleeveBulge | None:
    """The outline of a sleeve that bulges out beyond the line from its shoulder to its cuff (a long sleeve laid
    hanging along the body, a drop shoulder).

    The sleeve quad's outer edge is that straight line: such a sleeve's quad is then a narrow strip along its
    inner half, and mapped across the whole arm its fabric is stretched several times across it (streaks along
    the sleeve, the outer half never drawn). Here the garment outline's path between the two points (the shorter
    way round the contour) gives, per position along the line, how far the fabric reaches beyond it; the
    quad's outer edge follows it (:func:`_sleeve_to_garment`), so the sleeve's whole width is drawn across
    the arm.

    Args:
        mask: (h, w) garment mask (> 0.5 fabric), garment pixels as ``lm``.
        lm: garment landmarks, (2,) float arrays, with the sleeve's ``shoulder_*``, ``armpit_*``,
            ``sleeve_*_outer`` and ``sleeve_*_inner``.
        side: "left" or "right".

    Returns:
        :class:`SleeveBulge`, or None when the outline does not stand out by :data:`BULGE_MIN` of the root's
        width, or the points are not on it.
    """
    g_sh, g_so, g_ap, g_si = (lm[f"shoulder_{side}"], lm[f"sleeve_{side}_outer"], lm[f"armpit_{side}"],
                              lm[f"sleeve_{side}_inner"])
    d = g_so - g_sh
    length = float(np.hypot(*d))
    root = float(np.hypot(*(g_ap - g_sh)))
    if length < 4.0 or root < 2.0:
        return None
    normal = np.array([-d[1], d[0]]) / length
    if normal @ (0.5 * (g_ap + g_si) - 0.5 * (g_sh + g_so)) > 0:
        normal = -normal
    cs, _ = cv2.findContours((np.asarray(mask) > 0.5).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not cs:
        return None
    c = max(cs, key=cv2.contourArea)[:, 0, :].astype(np.float64)
    i0 = int(np.argmin(np.hypot(*(c - g_sh).T)))
    i1 = int(np.argmin(np.hypot(*(c - g_so).T)))
    if min(np.hypot(*(c[i0] - g_sh)), np.hypot(*(c[i1] - g_so))) > 0.1 * length:
        return None
    a, b = sorted((i0, i1))
    inner, outer = c[a:b + 1], np.concatenate([c[b:], c[:a + 1]])
    path = inner if len(inner) <= len(outer) else outer
    t = (path - g_sh) @ d / length ** 2
    e = (path - g_sh) @ normal
    knots = np.linspace(0.0, 1.0, 17)
    dk = np.zeros_like(knots)
    for k, tk in enumerate(knots):
        near = np.abs(t - tk) <= 0.5 / 16
        dk[k] = max(0.0, float(e[near].max())) if near.any() else 0.0
    dk = np.minimum(dk, root)
    if dk.max() < BULGE_MIN * root:
        return None
    return SleeveBulge(t=knots, d=dk, normal=normal)


def _side_points(mask: np.ndarray, top: np.ndarray, bottom: np.ndarray, fracs: np.ndarray,
                 outward: float) -> np.ndarray:
    """Points of the garment's outline between ``top`` and ``bottom`` (its side seam) at the given fractions.

    For each fraction, walks from the interpolated point outward (``outward`` = +1 image right, -1 left) along
    the row and returns the last mask pixel (or, when that point lies outside a side curving inwards, inward
    to the first mask pixel); falls back to the interpolated point.
    """
    h, w = mask.shape
    pts = []
    for f in fracs:
        p = top + f * (bottom - top)
        y = int(np.clip(round(p[1]), 0, h - 1))
        x0 = int(np.clip(round(p[0]), 0, w - 1))
        row = mask[y] > 0.5
        if not row[x0]:
            # A waisted side curves inside the straight armpit–hem line: the outline is the first garment
            # pixel inward (towards the centre), not the line's point (which would leave the person's waist
            # uncovered between the garment's edge and its side target).
            if outward > 0:
                idx = np.nonzero(row[:x0][::-1])[0]
                x = x0 - 1 - idx[0] if len(idx) else x0
            else:
                idx = np.nonzero(row[x0 + 1:])[0]
                x = x0 + 1 + idx[0] if len(idx) else x0
        elif outward > 0:
            seg = row[x0:]
            idx = np.nonzero(~seg)[0]
            x = x0 + (idx[0] - 1 if len(idx) else len(seg) - 1)
        else:
            seg = row[:x0 + 1][::-1]
            idx = np.nonzero(~seg)[0]
            x = x0 - (idx[0] - 1 if len(idx) else len(seg) - 1)
        if abs(x - p[0]) > 0.25 * abs(bottom[1] - top[1]) + 2:
            x = p[0]
        pts.append((float(x), float(p[1])))
    return np.array(pts)


def _symmetrize(lm: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Give paired landmarks (neck, shoulder, armpit, hem corners) a common height when the garment lies
    upright: in-shop photos are near-symmetric, so a height difference is mostly landmark noise, and an
    uneven armpit or shoulder tilts the whole warp."""
    sl, sr = lm["shoulder_left"], lm["shoulder_right"]
    if abs(sl[1] - sr[1]) > 0.15 * abs(sl[0] - sr[0]):
        return lm
    out = dict(lm)
    for name in ("neck", "shoulder", "armpit", "hem"):
        a, b = lm[f"{name}_left"].copy(), lm[f"{name}_right"].copy()
        y = 0.5 * (a[1] + b[1])
        a[1] = b[1] = y
        out[f"{name}_left"], out[f"{name}_right"] = a, b
    return out


OUTLINE_SMOOTH = 0.003
"""Blur of the garment's mask before it is warped, which smooths the outline's staircase and teeth. Sigma as a
share of the *person* photo's diagonal (3.8 px on a 768x1024 photo), carried back to the garment photo through the
warp's scale: a cut-out's teeth are a pixel or three of the garment photo whatever its size, and what a shopper
sees is their size once magnified onto the person (a 653-px product photo drawn 3x larger on a 2048-px photo made
a frayed shoulder line with a 1 px blur)."""


HOLE_MAX = 0.03
"""Largest hole (share of the warped garment's area) that :func:`warp_garment` closes with fabric."""


def _enclosed_holes(covered: np.ndarray, below: float) -> np.ndarray:
    """(h, w) bool: holes of ``covered`` (regions it encloses, not reaching the image border) of at most
    :data:`HOLE_MAX` of its area whose centroid lies below row ``below``. Higher up a hole is the neckline, which
    a collar arching over it may enclose."""
    inside = ndimage.binary_fill_holes(covered) & ~covered
    out = np.zeros(covered.shape, bool)
    if not inside.any():
        return out
    n, lbl, stats, cents = cv2.connectedComponentsWithStats(inside.astype(np.uint8), connectivity=4)
    limit = HOLE_MAX * max(1, int(covered.sum()))
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] <= limit and cents[i][1] > below:
            out |= lbl == i
    return out


def _torso_holes(covered: np.ndarray, t: dict[str, np.ndarray], size: tuple[int, int],
                 full: tuple[int, int]) -> np.ndarray:
    """(h, w) bool: pixels of the garment's torso outline on the person (the polygon through the armpit, side and
    hem targets of :func:`body_targets`) below the armpits that ``covered`` ((h, w) bool) leaves open.

    Args:
        covered: what the torso's and sleeves' maps cover, at the working size ``size`` (h, w).
        t: the targets, in pixels of the photo of size ``full`` (H, W).
    """
    (h, w), (H, W) = size, full
    names = ["armpit_left"] + [f"side_left_{f:.2f}" for f in SIDE_FRACTIONS] + ["hem_left", "hem_center", "hem_right"] \
        + [f"side_right_{f:.2f}" for f in reversed(SIDE_FRACTIONS)] + ["armpit_right"]
    if any(n not in t for n in names):
        return np.zeros((h, w), bool)
    poly = np.array([t[n] for n in names]) * np.array([w / W, h / H])
    inside = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inside, [np.round(poly * 16).astype(np.int32)], 1, shift=4)
    return inside.astype(bool) & ~covered


def _take_nearest(pixels: np.ndarray, grid_px: np.ndarray, parts: np.ndarray, source: np.ndarray) -> None:
    """Give ``pixels`` ((h, w) bool, uncovered) the garment coordinates and part of the nearest covered pixel
    (``parts`` > 0), in place; their ``source`` becomes :data:`SOURCE_GAP`."""
    covered = parts > 0
    _, near = cv2.distanceTransformWithLabels((~covered).astype(np.uint8), cv2.DIST_L2, 3,
                                              labelType=cv2.DIST_LABEL_PIXEL)
    vy, vx = np.nonzero(covered)  # row-major, the order in which the labels were given
    idx = near[pixels] - 1
    grid_px[pixels] = grid_px[vy[idx], vx[idx]]
    parts[pixels] = parts[vy[idx], vx[idx]]
    source[pixels] = SOURCE_GAP


def upsample_grid(grid: np.ndarray, parts: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Upsample a sampling grid made of several maps (the torso's spline, each sleeve's arm-following map) without
    interpolating between them.

    Plain bilinear upsampling mixes, in every output pixel between two working pixels of different parts, the
    garment coordinates of both maps, which lie far apart on the garment photo: each working pixel along the
    seam between torso and sleeve then samples a streak of garment between the two places, a saw-tooth band
    one working pixel per tooth (a 1482-px photo on a 256-px working grid: teeth of about 6 px along the
    whole sleeve seam). Here each part's coordinates are upsampled on their own (bilinear weights renormalised
    over that part's pixels, i.e. a normalised convolution, Knutsson & Westin, CVPR 1993) and each output pixel
    takes the part whose anti-aliased coverage (:func:`tryon.teacher.skin.soft_upsample`) is largest there, so
    the seam follows a smooth curve at the output resolution. Pixels of no part keep the plain interpolation.

    Args:
        grid: (h, w, 2) float32 sampling grid in [-1, 1] (``grid_sample`` convention) at the working resolution.
        parts: (h, w) uint8 map each working pixel's coordinates come from (e.g. ``PART_*``; 0 = none).
        size: (W, H) output size.

    Returns:
        (H, W, 2) float32 grid.
    """
    W, H = size
    out = cv2.resize(grid, (W, H), interpolation=cv2.INTER_LINEAR)
    labels = [int(v) for v in np.unique(parts) if v != PART_NONE]
    if len(labels) < 2:
        return out
    best = np.zeros((H, W), np.float32)
    for lab in labels:
        m = (parts == lab).astype(np.float32)
        den = cv2.resize(m, (W, H), interpolation=cv2.INTER_LINEAR)
        num = cv2.resize(grid * m[..., None], (W, H), interpolation=cv2.INTER_LINEAR)
        cover = soft_upsample(m, (W, H), sigma=0.8)
        take = (cover > best) & (den > 1e-3)
        out[take] = num[take] / den[take][:, None]
        best = np.where(take, cover, best)
    return out


SHOULDER_ROUND, SHOULDER_REACH = 0.12, 0.5
"""The rounding of the warped garment's outline at the shoulders (:func:`_round_shoulders`): the disk's radius (a
sleeve cap's curve over the deltoid) and how far from each shoulder joint it applies, in shoulder widths."""

ROUND_ISLAND = 0.03
"""Largest piece of garment (square shoulder widths) that :func:`_round_shoulders` drops when its cut leaves it
floating beside the shoulder."""

ROUND_MARGIN = 0.04
"""How far beyond the body (the parse's labels other than backdrop and hair) :func:`_round_shoulders` may cut, in
shoulder widths: the parse's stride-16 outline is that coarse."""


def _shoulder_zone(frame: BodyFrame, t: dict[str, np.ndarray], reach: dict[str, float], size: tuple[int, int],
                   full: tuple[int, int]) -> np.ndarray:
    """(h, w) bool on a (h, w) = ``size`` lattice over a (H, W) = ``full`` photo: within :data:`SHOULDER_REACH` of a
    shoulder joint whose side wears a sleeve (``reach`` > 0), more than 0.3 shoulder widths off the centre line (not
    the neck) and above the armpit targets ``t``."""
    (h, w), (H, W) = size, full
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    px = np.stack([(xs + 0.5) * (W / w) - 0.5, (ys + 0.5) * (H / h) - 0.5], axis=-1)      # photo pixels
    ab = frame.to_frame(px)
    b_pit = min(float(frame.to_frame(t["armpit_left"])[1]), float(frame.to_frame(t["armpit_right"])[1]))
    zone = np.zeros((h, w), bool)
    for side in ("left", "right"):
        if reach.get(side, 0.0) > 0:
            c = frame.kp[f"{side}_shoulder"]
            zone |= np.hypot(px[..., 0] - c[0], px[..., 1] - c[1]) < SHOULDER_REACH * frame.sw
    return zone & (np.abs(ab[..., 0]) > 0.3 * frame.sw) & (ab[..., 1] < b_pit)


def _round_shoulders(alpha: np.ndarray, frame: BodyFrame, t: dict[str, np.ndarray], reach: dict[str, float],
                     parse: np.ndarray | None, *, work_height: int = 512) -> np.ndarray:
    """``alpha`` with the warped garment's corners at the shoulders rounded off where they stand beside the body.

    A flat lay's shoulder is a corner: the torso's shoulder seam meets the sleeve's cap at an angle. With the sleeve
    turned down along the arm, the torso's corner or the cap's stands out beyond the shoulder as a square step or a
    flap (the tenth first user counted square or lumpy shoulders on 11 of 15 pictures); worn, the fabric drapes over
    the shoulder's curve. The outline is opened there (erosion then dilation by a disk of :data:`SHOULDER_ROUND`
    shoulder widths: what no such disk fits in goes, convex corners round off; Serra, Image Analysis and
    Mathematical Morphology, 1982), near each shoulder joint that wears a sleeve (within :data:`SHOULDER_REACH`),
    outside the neck (more than 0.3 shoulder widths off the centre line) and above the armpits, and only more than
    :data:`ROUND_MARGIN` beyond the body: over the person's own shoulder, what a cut uncovered would be filled with
    invented skin (a bump of it on a white blouse's shoulder). Hair counts as beyond (it is drawn in front).
    Small pieces of the garment that the cut leaves floating go too.

    Args:
        alpha: (H, W) float32 [0, 1] warped garment mask.
        frame: the person's :class:`BodyFrame`, same pixels.
        t: the warp's landmark targets (``armpit_left`` and ``armpit_right`` are read).
        reach: side -> the sleeve's reach (:attr:`WarpResult.sleeve_reach`); 0: no sleeve, no rounding.
        parse: (H, W) uint8 PARSE_LABELS, or None (then nothing is cut: the body is unknown).
        work_height: the opening runs at this height (the cut is upsampled anti-aliased).

    Returns:
        (H, W) float32, at most ``alpha``.
    """
    if parse is None:
        return alpha
    H, W = alpha.shape
    s = min(1.0, work_height / H)
    h, w = max(8, int(round(H * s))), max(8, int(round(W * s)))
    m = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_AREA) > 0.5
    sw = frame.sw * s
    r = int(round(SHOULDER_ROUND * sw))
    if r < 2 or not m.any():
        return alpha
    zone = _shoulder_zone(frame, t, reach, (h, w), (H, W))
    body = cv2.resize((~np.isin(parse, (LABEL["background"], LABEL["hair"]))).astype(np.uint8), (w, h),
                      interpolation=cv2.INTER_NEAREST)
    k = max(3, int(round(ROUND_MARGIN * sw)) | 1)
    zone &= ~cv2.dilate(body, np.ones((k, k), np.uint8)).astype(bool)
    opened = cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_OPEN,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))).astype(bool)
    cut = zone & ~opened
    if not (cut & m).any():
        return alpha
    n, cc, st, _ = cv2.connectedComponentsWithStats((m & ~cut).astype(np.uint8), connectivity=8)
    if n > 2:
        near = cv2.dilate(cut.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        main = 1 + int(np.argmax(st[1:, cv2.CC_STAT_AREA]))
        gone = np.zeros((h, w), bool)
        for i in range(1, n):
            if i != main and st[i, cv2.CC_STAT_AREA] < ROUND_ISLAND * sw * sw and near[cc == i].any():
                gone |= cc == i
        if gone.any():
            # With their anti-aliased rim (a dark hairline of their outline stayed).
            kept = m & ~cut & ~gone
            cut |= cv2.dilate(gone.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & ~kept
    return (alpha * soft_upsample(~cut, (W, H), ramp_px=2.0)).astype(np.float32)


SPUR_WIDTH, SPECK_AREA, SPUR_SLEEVE_SHARE = 0.08, 0.015, 0.5
"""What :func:`_drop_spurs` removes from the warped garment: sleeve fabric narrower than :data:`SPUR_WIDTH` shoulder
widths (a disk that wide does not fit in it), unless more than :data:`SPUR_SLEEVE_SHARE` of that sleeve is that thin
(a strap); and pieces apart from the garment (further than :data:`SPUR_WIDTH` from it) smaller than
:data:`SPECK_AREA` square shoulder widths or mostly beyond the body."""


def _near_body(parse: np.ndarray, size: tuple[int, int], sw: float) -> np.ndarray:
    """(h, w) bool at ``size`` = (w, h): the parse's labels other than backdrop, grown by :data:`ROUND_MARGIN`
    shoulder widths (``sw`` in pixels at that size)."""
    body = cv2.resize((parse != LABEL["background"]).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    k = max(3, int(round(ROUND_MARGIN * sw)) | 1)
    return cv2.dilate(body, np.ones((k, k), np.uint8)).astype(bool)


def _drop_spurs(alpha: np.ndarray, parts: np.ndarray, sw: float, parse: np.ndarray | None = None, *,
                sleeves: bool, work_height: int = 512) -> np.ndarray:
    """``alpha`` without the thin spurs of its sleeves and the specks apart from the garment.

    Where an arm hangs beside the body a flat lay's short sleeve is turned down, and the corner of its hem, mapped
    past the sleeve's quad, came out as a hairline of fabric a few pixels wide reaching into the backdrop (the
    fourteenth first user's "streaks shooting into the background" beside a short sleeve); the torso's spline also
    drops a speck of fabric off the body here and there, or, past a child's ruffle sleeve, a whole wedge of it out in
    the backdrop. The sleeves are opened (erosion then dilation by a disk :data:`SPUR_WIDTH` shoulder widths across:
    what no such disk fits in goes, as in :func:`_round_shoulders`; Serra, Image Analysis and Mathematical Morphology,
    1982) outside the torso's part and its edge where they lie on or near the body (out on the backdrop a hairline
    of the torso's part goes too). Pieces apart from the rest (further than :data:`SPUR_WIDTH` from it)
    go too when smaller than :data:`SPECK_AREA` or mostly beyond the body (more than :data:`ROUND_MARGIN` off the
    parse's labels other than backdrop): no part of a worn top floats beside the person. Not the torso, nor a
    "sleeve" mostly that thin: a camisole's straps are (and the garment analysis takes one for a sleeve now and then).
    Over the arm too: what it uncovers is the old sleeve's fill.

    Args:
        alpha: (H, W) float32 [0, 1] warped garment mask.
        parts: (H, W) uint8 warped parts (``PART_*``), same pixels.
        sw: the person's shoulder width, pixels of ``alpha``.
        parse: (H, W) uint8 PARSE_LABELS, or None (then only the small pieces apart go).
        sleeves: whether the garment has sleeves (the opening applies only then; the specks always go).
        work_height: the opening runs at this height (the cut is upsampled anti-aliased).

    Returns:
        (H, W) float32, at most ``alpha``.
    """
    H, W = alpha.shape
    s = min(1.0, work_height / H)
    h, w = max(8, int(round(H * s))), max(8, int(round(W * s)))
    a = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_AREA) if s < 1.0 else alpha
    m = a > 0.5
    if not m.any():
        return alpha
    sw_s = sw * s
    cut = np.zeros((h, w), bool)
    d = int(round(SPUR_WIDTH * sw_s)) | 1
    if sleeves and d >= 3:
        torso = cv2.resize((parts == PART_TORSO).astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        kept_zone = cv2.dilate(torso, np.ones((3, 3), np.uint8)).astype(bool)
        if parse is not None:
            # The torso's part is kept whole only on and near the body: out on the backdrop a hairline labelled
            # torso is a spur all the same (a tee's sleeve hem mapped past the arm beside a hand in a pocket).
            kept_zone &= _near_body(parse, (w, h), sw_s)
        opened = cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_OPEN,
                                  cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d))).astype(bool)
        # (With a working pixel of the kept fabric's rim: its ramp is not a spur.)
        rim = cv2.dilate(opened.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        cut = (a > 0.05) & ~rim & ~kept_zone
        parts_s = cv2.resize(parts, (w, h), interpolation=cv2.INTER_NEAREST)
        for label in (PART_LEFT_SLEEVE, PART_RIGHT_SLEEVE):
            sleeve = m & (parts_s == label)
            if (cut & sleeve).sum() > SPUR_SLEEVE_SHARE * sleeve.sum():     # a strap, not a spur of a sleeve
                cut &= ~cv2.dilate((parts_s == label).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    # Pieces are grouped with those within SPUR_WIDTH of them: a strap broken where its thin join fell under 0.5
    # stays with the neckline it hangs from.
    kept = m & ~cut
    g = max(3, d)
    near = cv2.dilate(kept.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (g, g)))
    n, cc = cv2.connectedComponents(near, connectivity=8)
    if n > 2:
        area = np.bincount(cc[kept], minlength=n)
        main = int(np.argmax(area[1:])) + 1
        off = np.zeros(n)
        if parse is not None:
            beyond = kept & ~_near_body(parse, (w, h), sw_s)
            off = np.bincount(cc[beyond], minlength=n) / np.maximum(area, 1)
        small = [i for i in range(1, n) if i != main and (area[i] < SPECK_AREA * sw_s * sw_s or off[i] > 0.5)]
        if small:
            cut |= kept & np.isin(cc, small)
    # Faint fabric that far off any solid fabric (a hairline's or a speck's ramp) too.
    solid = cv2.dilate((m & ~cut).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (g, g)))
    cut |= (a > 0.05) & ~solid.astype(bool)
    if not cut.any():
        return alpha
    # With the anti-aliased rim round what goes (its faint hairline stayed), not into what stays.
    cut = cv2.dilate(cut.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~(m & ~cut)
    return (alpha * soft_upsample(~cut, (W, H), sigma=0.5 if s >= 1.0 else 1.0, ramp_px=1.5)).astype(np.float32)


def _bleed_edges(garment: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The garment photo with its edge and outside pixels replaced by the nearby garment colour.

    Pixels at the mask's edge mix the garment with the photo's backdrop; drawn with a fractional alpha they
    would add the backdrop's colour twice (a light halo around a dark garment, white teeth along a magnified
    outline). As with premultiplied-alpha resampling, the colour there comes from the garment's interior
    (mask > 0.95, eroded by one pixel): a normalised convolution (σ = 2 px) of the interior's colours.
    """
    inner = cv2.erode((mask > 0.95).astype(np.uint8), np.ones((3, 3), np.uint8))
    if not inner.any():
        return garment
    m = inner.astype(np.float32)
    num = cv2.GaussianBlur(garment.astype(np.float32) * m[..., None], (0, 0), 2.0)
    den = cv2.GaussianBlur(m, (0, 0), 2.0)[..., None]
    ext = num / np.maximum(den, 1e-4)
    return np.where(inner[..., None] > 0, garment, np.clip(ext + 0.5, 0, 255).astype(np.uint8))


PREFILTER = 1.25
"""A garment photo drawn smaller than it is (``scale`` person pixels per garment pixel under 1) is first resized to
this times ``scale`` of its size (area filter) before it is sampled: bilinear sampling of a 3x larger photo skips
two pixels in three, and a heather knit came out as salt and pepper. Above 1 it keeps a little sharpness (a
slight alias) rather than blurring to the exact output rate."""


def _prefiltered(garment: np.ndarray, alpha: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The garment photo and its alpha resized for minification (mip-mapping's idea, Williams, "Pyramidal
    parametrics", SIGGRAPH 1983, with one level): the sampling grid is in normalised coordinates
    (``grid_sample``'s, align_corners=False), so it samples the resized photo at the same places."""
    f = PREFILTER * scale
    if f >= 1.0:
        return garment, alpha
    gh, gw = alpha.shape[:2]
    size = (max(8, int(round(gw * f))), max(8, int(round(gh * f))))
    return (cv2.resize(garment, size, interpolation=cv2.INTER_AREA),
            cv2.resize(alpha.astype(np.float32), size, interpolation=cv2.INTER_AREA))


def warp_garment(garment: np.ndarray, garment_mask: np.ndarray, landmarks: dict[str, tuple[float, float]],
                 keypoints: np.ndarray, out_shape: tuple[int, int], *, parse: np.ndarray | None = None,
                 sleeve: str | None = None, category: str = "top", work_height: int = 256,
                 extra_anchors: Callable[[BodyFrame, dict[str, np.ndarray], float],
                                         tuple[list[np.ndarray], list[np.ndarray]]] | None = None,
                 torso_mask: np.ndarray | None = None, alpha_mask: np.ndarray | None = None) -> WarpResult:
    """Warp an in-shop garment onto a person: TPS torso + per-sleeve arm-following maps, as a dense sampling grid.

    Args:
        garment: (h, w, 3) uint8 RGB in-shop garment photo.
        garment_mask: (h, w) float32 [0, 1] garment mask.
        landmarks: garment landmarks (tryon.garment.landmarks keys), pixels.
        keypoints: (33, 4) BlazePose keypoints of the person (x_px, y_px, z, visibility).
        out_shape: (H, W) of the person photo.
        parse: (H, W) uint8 PARSE_LABELS of the person (refines body widths), or None.
        sleeve: "none" | "short" | "long" (None: from the landmarks present).
        category: "top" or "dress" (a one-piece's bodice, see :func:`body_targets`).
        work_height: the grid is computed at this height and upsampled (speed); 0 = full resolution.
        extra_anchors: optional ``(frame, targets, scale) -> (person points, garment points)``: more control
            points of the torso spline (a one-piece's skirt or legs, tryon.teacher.warp_onepiece); it may add
            entries to ``targets`` (returned in :attr:`WarpResult.targets`).
        torso_mask: optional (h, w) bool garment pixels that are never sleeve (see :func:`garment_parts`).
        alpha_mask: optional (h, w) float32 [0, 1] mask of what is drawn, when it differs from the one the geometry
            reads (a cut-out with its backdrop fringe peeled: the landmarks keep their mask); None: ``garment_mask``.

    Returns:
        :class:`WarpResult` at ``out_shape``.

    Raises:
        DataError: a required landmark (``REQUIRED_LANDMARKS``) is missing.
    """
    H, W = out_shape
    missing = [k for k in REQUIRED_LANDMARKS if k not in landmarks]
    if missing:
        raise DataError(f"garment landmarks are missing {', '.join(missing)}: the garment outline could not be "
                        "analysed (is it a top or dress photographed flat, front view?)")
    lm = _symmetrize({k: np.asarray(v, dtype=np.float64) for k, v in landmarks.items()})
    has_sleeves = "sleeve_left_outer" in lm and "sleeve_right_outer" in lm and sleeve != "none"
    if not has_sleeves:
        for k in ("sleeve_left_outer", "sleeve_left_inner", "sleeve_right_outer", "sleeve_right_inner"):
            lm.pop(k, None)
    long_sleeve = sleeve == "long"
    gh, gw = garment_mask.shape

    frame = body_frame(keypoints)
    t, scale = body_targets(frame, parse, lm, category)

    # Working resolution for the heavy per-pixel maths.
    s = 1.0 if not work_height or H <= work_height else work_height / H
    h, w = max(int(round(H * s)), 8), max(int(round(W * s)), 8)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    # Pixel centres of the working grid in full-resolution pixels.
    fx = (xs + 0.5) * (W / w) - 0.5
    fy = (ys + 0.5) * (H / h) - 0.5

    # Torso TPS: person -> garment, with side and centre-line anchors.
    names = ["neck_left", "neck_right", "neck_front", "shoulder_left", "shoulder_right", "armpit_left",
             "armpit_right", "hem_left", "hem_right", "hem_center"]
    src = [t[n] for n in names]
    dst = [lm[n] for n in names]
    fr = np.array(SIDE_FRACTIONS)
    for side, sgn in (("left", 1.0), ("right", -1.0)):
        g_side = _side_points(garment_mask, lm[f"armpit_{side}"], lm[f"hem_{side}"], fr, sgn if
                              lm["shoulder_left"][0] > lm["shoulder_right"][0] else -sgn)
        for f, g in zip(fr, g_side, strict=True):
            src.append(t[f"side_{side}_{f:.2f}"])
            dst.append(g)
        # Mid shoulder line: keeps the shoulder slope straight between neck and shoulder seam.
        src.append(t[f"shoulder_mid_{side}"])
        dst.append(0.5 * (lm[f"neck_{side}"] + lm[f"shoulder_{side}"]))
    # Centre line (chest and waist): an affine interior so prints deform smoothly.
    g_chest = 0.5 * (lm["armpit_left"] + lm["armpit_right"])
    p_chest = 0.5 * (t["armpit_left"] + t["armpit_right"])
    src.append(p_chest)
    dst.append(g_chest)
    src.append(0.5 * (p_chest + t["hem_center"]))
    dst.append(0.5 * (g_chest + lm["hem_center"]))
    if extra_anchors is not None:
        more_src, more_dst = extra_anchors(frame, t, scale)
        src.extend(more_src)
        dst.extend(more_dst)
    src_a, dst_a = np.array(src), np.array(dst)
    tps = tps_fit(src_a, dst_a, regularization=0.0)
    pts = np.stack([fx.ravel(), fy.ravel()], axis=-1)
    # The spline is smooth: evaluate it on a 4x coarser lattice and interpolate (exact for its affine part).
    k = 4
    hc, wc = max(2, -(-h // k)), max(2, -(-w // k))
    yc, xc = np.mgrid[0:hc, 0:wc].astype(np.float64)
    cxw = (xc + 0.5) * (w / wc) - 0.5          # working-grid coordinates of the coarse pixel centres
    cyw = (yc + 0.5) * (h / hc) - 0.5
    cpts = np.stack([((cxw + 0.5) * (W / w) - 0.5).ravel(), ((cyw + 0.5) * (H / h) - 0.5).ravel()], axis=-1)
    g_torso = cv2.resize(tps(cpts).reshape(hc, wc, 2).astype(np.float32), (w, h),
                         interpolation=cv2.INTER_LINEAR).astype(np.float64)

    parts_g = garment_parts(garment_mask, lm, torso=torso_mask)
    parts_g[_neck_opening(garment, garment_mask, lm) & (parts_g == PART_TORSO)] = PART_NONE

    def lab_at(gpix: np.ndarray, labels: np.ndarray = parts_g) -> np.ndarray:
        return cv2.remap(labels, gpix[..., 0].astype(np.float32), gpix[..., 1].astype(np.float32),
                         cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    # The garment's fabric SPLINE_INSET inside its outline: where the torso's spline may stand in for a missing map.
    r_in = max(1, int(round(SPLINE_INSET * float(np.hypot(*(lm["shoulder_left"] - lm["shoulder_right"]))))))
    fabric_g = cv2.erode((parts_g != PART_NONE).astype(np.uint8),
                         cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r_in + 1, 2 * r_in + 1)))

    grid_px = g_torso.copy()
    lab = lab_at(g_torso)
    final_lab = np.where(lab == PART_TORSO, PART_TORSO, PART_NONE).astype(np.uint8)
    # The outline one working pixel past each part, where the part's own map lands outside the garment: what
    # the parts cover is decided per working pixel (nearest), a staircase 4-6 photo pixels a step once
    # upsampled; with this ring inside the coverage, the warped garment mask (smooth, at the photo's
    # resolution) draws the outline.
    ring3 = np.ones((3, 3), np.uint8)
    fringe = np.where(cv2.dilate((lab == PART_TORSO).astype(np.uint8), ring3).astype(bool) & (lab == PART_NONE),
                      PART_TORSO, PART_NONE).astype(np.uint8)
    # Which map each pixel's garment coordinates come from (the parts, plus the clamped wedge maps and the gap
    # copies): coordinates are never interpolated across a change of map (upsample_grid).
    source = final_lab.copy()

    reach = {"left": 0.0, "right": 0.0}
    parse_w = cv2.resize(parse, (w, h), interpolation=cv2.INTER_NEAREST) if parse is not None else None
    if has_sleeves:
        arms = arm_extents(parse, frame) if parse is not None else {}
        arm_px = arm_lab = None
        if parse_w is not None:
            arm_px = np.isin(parse_w, (5, 6))
            arm_lab = np.isin(parse_w, (5, 6, 7, 8))
        pix = pts.reshape(h, w, 2)
        g_len_max = max(0.5 * scale * (float(np.hypot(*(lm[f"sleeve_{sd}_outer"] - lm[f"shoulder_{sd}"])))
                                       + float(np.hypot(*(lm[f"sleeve_{sd}_inner"] - lm[f"armpit_{sd}"]))))
                        for sd in ("left", "right"))
        for side, label in (("left", PART_LEFT_SLEEVE), ("right", PART_RIGHT_SLEEVE)):
            spec = _sleeve_spec(frame, side, t, lm, scale, long_sleeve, arms.get(side), g_len_max)
            reach[side] = spec.reach
            # Only pixels near the arm can be sleeve: the chain's bounding box, grown by the sleeve's width.
            margin = 1.6 * float(max(np.abs(spec.out_knots[:, 1]).max(), np.abs(spec.in_knots[:, 1]).max()))
            lo = spec.chain.min(0) - margin
            hi = spec.chain.max(0) + margin
            x0, x1 = (np.clip(np.array([lo[0], hi[0]]) * (w / W), 0, w)).astype(int)
            y0, y1 = (np.clip(np.array([lo[1], hi[1]]) * (h / H), 0, h)).astype(int)
            if x1 <= x0 or y1 <= y0:
                continue
            sub = pix[y0:y1 + 1, x0:x1 + 1]
            u, v = _sleeve_uv(spec, sub.reshape(-1, 2))
            u, v = u.reshape(sub.shape[:2]), v.reshape(sub.shape[:2])
            bulge = _sleeve_bulge(garment_mask, lm, side) if long_sleeve else None
            g_s = _sleeve_to_garment(lm, side, u, v, bulge)
            lab_s = lab_at(g_s)
            cur = final_lab[y0:y1 + 1, x0:x1 + 1]
            # The garment's own sleeve outline gives the sleeve's silhouette; the coordinate limits keep it
            # on this arm (the bilinear map extrapolates far from the sleeve).
            # Across the arm the sleeve stops at its target edges (a flat-lay sleeve bulging past the line from
            # its shoulder to its cuff would otherwise hang off the arm as a flap).
            # Before the root seam nothing rises above the cap (the flat sleeve's corner would stand up as a
            # lobe over the shoulder).
            ok = (lab_s == label) & (u > -0.2) & (u < 1.08) & (v > -0.12) & (v < np.where(u < 0.1, 1.0, 1.1))
            # Root overlap: just inside the seam the sleeve's map lands on the garment's torso. That fabric
            # closes the wedge between the torso's seam and the sleeve's cap where the torso warp drew nothing,
            # and covers the arm's root where the arm (drawn in front of the torso) would show through.
            root = (lab_s == PART_TORSO) & (u > -0.25) & (u <= 0.02) & (v > -0.1) & (v < 1.1)
            over = cur == PART_NONE
            if arm_px is not None:
                over = over | arm_px[y0:y1 + 1, x0:x1 + 1]
            ok |= root & over
            # The wedge between the torso's shoulder corner and the sleeve's cap (pushed out over the deltoid)
            # belongs to neither map. It takes the torso's spline continued past the armhole where that lands on
            # the garment's fabric (the sleeve's root beside the seam in the flat lay): the fabric runs on from the
            # torso. Elsewhere the sleeve's map at the root seam, clamped: one line of the garment stretched across
            # the wedge, a streak (a print's stripes standing across the shoulder, a seam torn open).
            cap = _chain_point(spec.chain, spec.rot, *spec.root_out)
            pit = _chain_point(spec.chain, spec.rot, *spec.root_in)
            wedge = np.array([t[f"shoulder_{side}"], cap, pit, t[f"armpit_{side}"]])
            wz = np.zeros(sub.shape[:2], np.uint8)
            hull = cv2.convexHull(((wedge * np.array([w / W, h / H]) - np.array([x0, y0])) * 16).astype(np.int32))
            cv2.fillConvexPoly(wz, hull, 1, shift=4)
            fill = wz.astype(bool) & ~ok & (cur == PART_NONE)
            wedge_px = np.zeros(sub.shape[:2], bool)
            spline_px = np.zeros(sub.shape[:2], bool)
            if fill.any():
                idx = np.nonzero(fill)
                g_t = g_torso[y0:y1 + 1, x0:x1 + 1][fill]
                on_fabric = lab_at(g_t[:, None, :], fabric_g)[:, 0] > 0
                g_c = _sleeve_to_garment(lm, side, np.clip(u[fill], 0.03, 1.0), np.clip(v[fill], 0.0, 1.0), bulge)
                lab_c = lab_at(g_c[:, None, :])[:, 0]
                good = np.isin(lab_c, (label, PART_TORSO)) & ~on_fabric
                ok[idx[0][good | on_fabric], idx[1][good | on_fabric]] = True
                wedge_px[idx[0][good], idx[1][good]] = True
                spline_px[idx[0][on_fabric], idx[1][on_fabric]] = True
                g_s[idx[0][good], idx[1][good]] = g_c[good]
                g_s[idx[0][on_fabric], idx[1][on_fabric]] = g_t[on_fabric]
            if arm_lab is not None and spec.reach <= 1.0:
                # A short sleeve ends above the elbow: an arm pixel nearer a forearm (either arm's, e.g. arms
                # crossed over the body) than this upper arm is in front of the sleeve, not under it.
                px = sub.reshape(-1, 2)
                near_fore = _seg_dist(px, frame.kp["left_elbow"], frame.kp["left_wrist"])
                near_fore = np.minimum(near_fore, _seg_dist(px, frame.kp["right_elbow"], frame.kp["right_wrist"]))
                near_up = _seg_dist(px, frame.kp[f"{side}_shoulder"], frame.kp[f"{side}_elbow"])
                fore_px = (near_fore < near_up).reshape(sub.shape[:2]) & arm_lab[y0:y1 + 1, x0:x1 + 1]
                ok &= ~fore_px
            gp = grid_px[y0:y1 + 1, x0:x1 + 1]
            ring = cv2.dilate(ok.astype(np.uint8), ring3).astype(bool) & ~ok & (cur == PART_NONE) & \
                (lab_s == PART_NONE) & (u > -0.2) & (u < 1.08) & (v > -0.12) & (v < 1.1)
            if arm_lab is not None and spec.reach <= 1.0:
                ring &= ~fore_px
            gp[ring] = g_s[ring]
            fringe[y0:y1 + 1, x0:x1 + 1][ring] = label
            gp[ok] = g_s[ok]
            cur[ok] = label
            src = source[y0:y1 + 1, x0:x1 + 1]
            src[ok] = np.where(wedge_px[ok], label + SOURCE_WEDGE, label)
            src[ok & spline_px] = PART_TORSO        # the torso's own coordinates: upsampled with it, no seam

    # Thin gaps between the parts (where neither the torso's nor a sleeve's mapping lands on its own part,
    # e.g. the garment's armpit notch) take the mapping of the nearest covered pixel: the fabric closes over
    # them instead of letting the old garment or skin show through a slit. Where the torso's spline lands on the
    # garment's fabric, they take the spline instead: a copied coordinate is constant along the gap, a streak.
    covered = final_lab > 0
    k = max(3, int(round(0.07 * frame.sw * h / H)) | 1)
    closed = cv2.morphologyEx(covered.astype(np.uint8), cv2.MORPH_CLOSE,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))).astype(bool)
    gaps = closed & ~covered
    if gaps.any() and covered.any():
        _take_nearest(gaps, grid_px, final_lab, source)
        spline = gaps & (lab_at(g_torso, fabric_g) > 0)
        grid_px[spline] = g_torso[spline]
        source[spline] = PART_TORSO
    if parse_w is not None and has_sleeves:
        # Holes and bites in the torso below the armpits, where the torso's spline lands on a sleeve hanging against
        # it in the photo or on the backdrop between its cuff and the hem and the sleeve's map does not reach: the
        # old jacket or tank showed through at the waist (wild-dev: a cardigan, a lace blouse; a first user: a
        # long-sleeved tee). The fabric closes over them, as over the gaps: enclosed holes over the person (not the
        # backdrop between a hand on the hip and the waist), and whatever the torso's outline leaves open over the
        # old top only (not the skirt below a curved or pointed hem). Only with sleeves: a sleeveless garment's
        # openings are its own (a swimsuit's cut-outs at the waist).
        covered = final_lab > 0
        pits = max(t["armpit_left"][1], t["armpit_right"][1]) * h / H
        # (The torso's outline is a polygon through the targets: between its straight sides and the garment's own
        # hem or side seam it leaves slivers a pixel or two thick. Filled with copied coordinates, constant along
        # each step of the sliver's staircase, they drew the hem as a saw-tooth (a 224-px shop photo's tee,
        # magnified, sixteenth first user): an opening keeps only the bites.)
        bites = cv2.morphologyEx((_torso_holes(covered, t, (h, w), (H, W))
                                  & np.isin(parse_w, (LABEL["torso"], LABEL["left_arm"], LABEL["right_arm"])))
                                 .astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
        holes = (_enclosed_holes(covered, pits) & (parse_w != LABEL["background"])) | bites
        if holes.any():
            _take_nearest(holes, grid_px, final_lab, source)
    edge = (final_lab == PART_NONE) & (fringe != PART_NONE)
    final_lab[edge] = fringe[edge]
    source[edge] = fringe[edge]
    if _collapsed_neck(garment_mask, lm):
        # Neck points collapsed onto the centre line (a collar, a hood or a back neckline arching up): the
        # opening cut from the garment is a sliver, and the inside of the collar or hood, its label, was drawn on
        # the chest. The opening is cut on the person instead: the neck's base between the neck targets, down to
        # a crew neck's depth (the torso spline still anchors the garment's own neck points there).
        neck = _person_neck_opening(frame, t, (h, w), (H, W))
        final_lab[neck & (final_lab == PART_TORSO)] = PART_NONE

    grid = pixel_to_grid(grid_px.astype(np.float32), gw, gh)
    valid = (final_lab > 0).astype(np.float32)
    torso_w = (final_lab == PART_TORSO).astype(np.float32)
    # The coverage is upsampled anti-aliased: a nearest or plain bilinear upsampling of the working-resolution mask
    # leaves stair steps along hems and sleeves. Also on a photo no taller than the working grid, whose coverage is
    # the grid's own: a staircase of whole pixels where the sleeves' limits cut it (a 224-px shop photo's sleeve
    # ends, magnified on screen). (A strap can be 2 px wide at the grid's size: a small sigma.)
    valid = soft_upsample(valid, (W, H), sigma=0.8)
    if (h, w) != (H, W):
        grid = upsample_grid(grid, source, (W, H))
        # The torso / sleeve split likewise.
        torso_w = soft_upsample(torso_w, (W, H), ramp_px=2.0)
        final_lab = cv2.resize(final_lab, (W, H), interpolation=cv2.INTER_NEAREST)
    # Outside the garment photo there is nothing to sample; clipping alone would smear its border pixels.
    inside = (np.abs(grid) <= 1.0).all(-1)
    valid = valid * inside
    grid = np.clip(grid, -1.0, 1.0).astype(np.float32)
    alpha = garment_mask if alpha_mask is None else alpha_mask
    warped = sample_with_grid(_bleed_edges(*_prefiltered(garment, alpha, scale)), grid)
    gmask = alpha.astype(np.float32).copy()
    gmask[parts_g == PART_NONE] = 0.0
    # The garment's mask is near binary, and its outline carries the pixel staircase of a slanted edge and the
    # segmenter's teeth of a pixel or two; sampled as it is they become the jagged sleeve and hem edges a
    # shopper sees first (magnified, a saw-tooth). Smoothed at the garment's resolution (a curvature flow of the
    # outline: teeth shorter than ~3 sigma go, corners stay), sampled, and its 0.5 level re-sharpened to a ramp
    # of ~1.5 person pixels (as tryon.teacher.skin.soft_upsample does).
    sigma = max(1.0, OUTLINE_SMOOTH * float(np.hypot(H, W)) / max(scale, 1e-6))
    gmask = cv2.GaussianBlur(gmask, (0, 0), sigma)
    wmask = sample_with_grid(gmask, grid)
    wmask = (wmask - 0.5) * max(1.0, sigma * scale * np.sqrt(2 * np.pi) / 1.5) + 0.5
    wmask = np.clip(wmask, 0.0, 1.0) * np.clip(valid, 0, 1)
    wmask = wmask.astype(np.float32)
    if has_sleeves:
        wmask = _round_shoulders(wmask, frame, t, reach, parse)
    wmask = _drop_spurs(wmask, final_lab, frame.sw, parse, sleeves=has_sleeves)
    final_lab[wmask < 0.5] = PART_NONE
    return WarpResult(grid=grid, warped_garment=warped, warped_mask=wmask, warped_parts=final_lab, targets=t,
                      sleeve_reach=reach, torso_weight=np.clip(torso_w, 0.0, 1.0).astype(np.float32))
