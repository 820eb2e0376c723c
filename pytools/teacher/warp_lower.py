"""Lower-body garment warp: each trouser leg along its leg's bone chain, skirts and shorts hung from the waist.

Same output as :func:`tryon.teacher.warp.warp_garment` (a backward sampling grid in the ``grid_sample``
convention and the warped garment and mask, :class:`tryon.teacher.warp.WarpResult`), for bottoms
(``docs/teacher-bottoms.md``):

* scale: the garment's flat width over the hips (trousers) or at the waistband (skirts) against the person's hip
  breadth measured in the parse (:func:`hip_breadth`), with the flat-to-body ratio :data:`FLAT_TO_BODY`, so a
  garment keeps its own proportions and cut;
* placement: the waistband's centre :data:`WAIST_RISE` thigh lengths above the hip joints' midpoint, raised to
  meet the top's hem; garment x along the hip frame's u (:class:`tryon.person.body.LegFrame`);
* trouser legs: curvilinear coordinates of the person's leg, as for the sleeves in :mod:`tryon.teacher.warp` (s
  along the chain waist point -> hip -> knee -> ankle, d across it) sampled at (s / k_len, d / k) along the
  garment leg's axis (leg middle at the waistband -> middle of the hem), so a trouser leg follows bent knees and
  walking strides without shearing; full-length trousers are fitted to end just below the ankle (a flat-lay's
  proportions are not the wearer's); above the crotch the two legs' maps are blended across the centre line,
  below it the nearer leg's is taken;
* skirts and shorts (:data:`SHORT_LEGS`): one similarity from the waistband down, so the flare and the hem line
  stay as photographed.

The garment-to-body fit from landmark correspondences follows CP-VTON's geometric matching (Wang et al., ECCV
2018) and the lower-body setting of Dress Code (Morelli et al., ECCV 2022); the per-leg chain map replaces a
single TPS, which folds between spread legs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tryon.errors import DataError
from tryon.garment.landmarks_lower import LEG_LANDMARKS, SKIRT_LANDMARKS, is_skirt
from tryon.person.body import LegFrame, leg_frame
from tryon.person.labels import LABEL
from tryon.teacher.warp import PART_LEFT_SLEEVE, PART_RIGHT_SLEEVE, PART_TORSO, WarpResult, _bleed_edges, _chain_coords, pixel_to_grid, sample_with_grid

PART_LEFT_LEG, PART_RIGHT_LEG = PART_LEFT_SLEEVE, PART_RIGHT_SLEEVE
"""``warped_parts`` labels of the legs below the crotch (1 is the waist and hips; the tops' sleeve labels are
reused, so the part-aware measures of the gate apply as they are)."""

__all__ = ["PART_LEFT_LEG", "PART_RIGHT_LEG", "LowerFit", "hip_breadth", "lower_fit", "warp_lower", "CROTCH_DROP", "WAIST_RISE", "HIP_BREADTH"]

CROTCH_DROP = 0.12
"""The person's crotch below the hip joints' midpoint, in thigh lengths (BlazePose's hip joints sit near the
greater trochanters, a little above the crotch): below it each trouser leg follows its own leg."""
WAIST_RISE = 0.3
"""The waistband above the hip joints' midpoint, in thigh lengths (between the natural and the low waist)."""
HIP_BREADTH = (1.3, 1.9, 1.65)
"""(lowest, highest, fallback) visible hip breadth over the hip-joint distance: the parse's measure is clamped
to this range (arms or a bag beside the hips widen it) and the fallback is used where it finds no body."""
HEM_BELOW_ANKLE = 0.1
"""Where full-length trousers end: this far below the ankle joint, in shin lengths (over the shoe's top)."""
FULL_LENGTH = 1.7
"""Trousers whose leg (waistband to hem) is at least this many times their flat hip width are full-length:
their length is fitted to the person's leg, waist to ankle (a flat-lay photo's proportions are not the
wearer's); shorter ones (shorts, cropped trousers) keep their length at the across-scale."""
FLAT_TO_BODY = 0.83
"""A flat-lay garment's width over the front-view breadth of the body part it goes round: a flat garment is
half its circumference wide, a body's breadth about a third of its girth, less the garment's ease (set by eye
on the development pairs, between those two bounds)."""
SHORT_LEGS = 1.1
"""Shorts whose leg (waistband to hem) is under this many flat hip widths are hung from the waist by the
similarity alone, as a skirt is (their legs barely bend with the person's; a chain map straightens their splayed
flat-lay legs into a saw-tooth hem)."""
SKIRT_WAIST = 0.85
"""The waist's breadth over the hips' breadth, where a skirt's waistband sits."""


def hip_breadth(parse: np.ndarray | None, lf: LegFrame) -> float:
    """The visible breadth of the hips, pixels: the run of body labels (torso, lower body) through the hip line.

    Measured along u on five lines from 0.05 to 0.25 thigh lengths below the hip joints (the widest part of the
    hips, below the wrists of hanging arms), walking outwards from the centre while the label is torso or lower
    body (arms and hands stop the walk); the median, clamped to :data:`HIP_BREADTH` x the hip-joint distance.

    Args:
        parse: (H, W) uint8 PARSE_LABELS in the keypoints' pixels, or None (the fallback ratio).
        lf: the person's :class:`LegFrame`.
    """
    lo, hi, fb = HIP_BREADTH
    if parse is None:
        return fb * lf.hw
    H, W = parse.shape
    body = np.isin(parse, (LABEL["torso"], LABEL["lower_body"]))
    steps = np.arange(0.0, 1.6 * lf.hw, max(1.0, lf.hw / 60))
    widths = []
    for b in np.linspace(0.05 * lf.thigh, 0.25 * lf.thigh, 5):
        ends = []
        for sgn in (1.0, -1.0):
            p = lf.to_img(0.0, b)[None, :] + sgn * steps[:, None] * lf.u[None, :]
            xi, yi = np.round(p[:, 0]).astype(int), np.round(p[:, 1]).astype(int)
            ok = (xi >= 0) & (xi < W) & (yi >= 0) & (yi < H)
            inside = np.zeros(len(steps), bool)
            inside[ok] = body[yi[ok], xi[ok]]
            out = np.nonzero(~inside)[0]
            ends.append(steps[out[0]] if len(out) else steps[-1])
        widths.append(sum(ends))
    w = float(np.median(widths))
    if w < 0.5 * lf.hw:
        return fb * lf.hw
    return float(np.clip(w, lo * lf.hw, hi * lf.hw))


@dataclass
class LowerFit:
    """Where a lower-body garment goes on the person.

    Attributes:
        skirt: True for a skirt (one similarity), False for trousers / shorts (one chain map per leg).
        k: person pixels per garment pixel across the body.
        anchor_g: (2,) garment pixel put on ``anchor_p``: the waistband's centre.
        anchor_p: (2,) person pixel: :data:`WAIST_RISE` thigh lengths above the hip joints' midpoint, raised
            to meet the top's hem (at most :data:`WAIST_RAISE_MAX` higher).
        u, v: the person's hip frame axes (garment x goes to u, garment y to v).
        breadth: the person's hip breadth, pixels (:func:`hip_breadth`).
        crotch_b: the person's crotch on the hip frame's v axis, pixels.
        thigh: the person's thigh length, pixels.
        legs: side -> (person chain (6, 2), garment axis (2, 2), along-leg scale k_len), empty for skirts and
            shorts (:data:`SHORT_LEGS`: the similarity alone); the person chain is a
            point above the waist, the waist point on that leg's side, hip joint, knee, ankle and a point past
            the ankle; the garment axis runs from the leg's middle at the waistband to the middle of its hem.
        targets: landmark name -> (2,) person pixels (where the garment's landmarks land).
    """

    skirt: bool
    k: float
    anchor_g: np.ndarray
    anchor_p: np.ndarray
    u: np.ndarray
    v: np.ndarray
    breadth: float
    crotch_b: float
    thigh: float
    legs: dict
    targets: dict[str, np.ndarray]

    def pelvis_to_garment(self, p: np.ndarray) -> np.ndarray:
        """(M, 2) person pixels -> (M, 2) garment pixels under the similarity."""
        d = np.asarray(p, np.float64) - self.anchor_p
        return self.anchor_g + np.stack([d @ self.u, d @ self.v], axis=-1) / self.k

    def garment_to_person(self, g: np.ndarray) -> np.ndarray:
        """(M, 2) garment pixels -> (M, 2) person pixels under the similarity (inverse of the above)."""
        d = (np.asarray(g, np.float64) - self.anchor_g) * self.k
        return self.anchor_p + d[..., :1] * self.u + d[..., 1:] * self.v


WAIST_RAISE_MAX = 0.3
"""How far (thigh lengths) the waistband may rise above :data:`WAIST_RISE` to meet a top's hem."""


def _waist_b(parse: np.ndarray | None, lf: LegFrame, breadth: float) -> float:
    """Height of the waistband above the hip joints, thigh lengths x thigh: :data:`WAIST_RISE`, raised to just
    under the top's hem (the lowest torso-label pixel near the centre line) when that is higher, by at most
    :data:`WAIST_RAISE_MAX`, so no strip of midriff opens between a top and the new bottoms."""
    rise = WAIST_RISE * lf.thigh
    if parse is None:
        return rise
    H, W = parse.shape
    a = np.linspace(-0.2 * breadth, 0.2 * breadth, 9)
    b = np.arange(-(WAIST_RISE + WAIST_RAISE_MAX) * lf.thigh, 0.3 * lf.thigh, max(1.0, lf.thigh / 80))
    pts = lf.hip_center[None, None] + a[None, :, None] * lf.u + b[:, None, None] * lf.v
    xi, yi = np.round(pts[..., 0]).astype(int), np.round(pts[..., 1]).astype(int)
    ok = (xi >= 0) & (xi < W) & (yi >= 0) & (yi < H)
    torso = np.zeros(ok.shape, bool)
    torso[ok] = parse[yi[ok], xi[ok]] == LABEL["torso"]
    rows = np.nonzero(torso.mean(axis=1) >= 0.5)[0]
    if not len(rows):
        return rise
    hem_b = float(b[rows.max()])
    # The waistband's top edge goes a little under the hem (tucked under the top, no seam of skin).
    return float(np.clip(-(hem_b - 0.05 * lf.thigh), rise, rise + WAIST_RAISE_MAX * lf.thigh)) if hem_b < -rise \
        else rise


def _row_mid(mask: np.ndarray, y: float, x_from: float, x_to: float) -> float:
    """Middle of the garment's run on row y between x_from and x_to (the garment leg's middle there)."""
    h, w = mask.shape
    yi = int(np.clip(round(y), 0, h - 1))
    a, b = sorted((int(np.clip(round(x_from), 0, w - 1)), int(np.clip(round(x_to), 0, w - 1))))
    xs = np.nonzero(mask[yi, a:b + 1] > 0.5)[0]
    return 0.5 * (a + xs.min() + a + xs.max()) if len(xs) else 0.5 * (x_from + x_to)


def lower_fit(garment_mask: np.ndarray, landmarks: dict[str, tuple[float, float]], keypoints: np.ndarray,
              parse: np.ndarray | None = None) -> LowerFit:
    """Place a lower-body garment on the person (scale, anchor, leg chains): see the module's text.

    Args:
        garment_mask: (h, w) float32 [0, 1] garment mask.
        landmarks: :func:`tryon.garment.landmarks_lower.lower_landmarks`, garment pixels.
        keypoints: (33, 4) BlazePose keypoints, person pixels.
        parse: (H, W) uint8 PARSE_LABELS of the person (hip breadth), or None.

    Returns:
        :class:`LowerFit`.

    Raises:
        DataError: a landmark is missing.
    """
    skirt = is_skirt(landmarks)
    need = SKIRT_LANDMARKS if skirt else LEG_LANDMARKS
    missing = [n for n in need if n not in landmarks]
    if missing:
        raise DataError(f"lower-garment landmarks are missing {', '.join(missing)}: the garment outline could not "
                        "be read (is it trousers, shorts or a skirt photographed flat, front view, waistband up?)")
    lm = {k: np.asarray(v, np.float64) for k, v in landmarks.items()}
    lf = leg_frame(keypoints)
    breadth = hip_breadth(parse, lf)
    waist_w = float(lm["waist_left"][0] - lm["waist_right"][0])
    anchor_p = lf.to_img(0.0, -_waist_b(parse, lf, breadth))
    targets: dict[str, np.ndarray] = {}
    m = garment_mask > 0.5
    if skirt:
        k = SKIRT_WAIST * breadth / (FLAT_TO_BODY * max(waist_w, 1.0))
    else:
        # The flat width over the hips: the median row extent between the waistband and the crotch.
        y0, y1 = lm["waist_center"][1], lm["crotch"][1]
        rows = [np.nonzero(m[int(y)])[0] for y in np.linspace(y0 + 0.3 * (y1 - y0), y0 + 0.9 * (y1 - y0), 7)]
        widths = [r.max() - r.min() + 1 for r in rows if len(r)]
        hip_w = float(np.median(widths)) if widths else waist_w
        k = breadth / (FLAT_TO_BODY * max(hip_w, 1.0))
    fit = LowerFit(skirt, k, lm["waist_center"], anchor_p, lf.u, lf.v, breadth, CROTCH_DROP * lf.thigh, lf.thigh,
                   {}, targets)
    if skirt:
        for n in SKIRT_LANDMARKS:
            targets[n] = fit.garment_to_person(lm[n][None])[0]
        return fit
    legs, short = {}, []
    for side in ("left", "right"):
        g_w = np.array([_row_mid(garment_mask, lm["waist_center"][1] + 2, lm["waist_center"][0],
                                 lm[f"waist_{side}"][0]), lm["waist_center"][1]])
        g_h = 0.5 * (lm[f"hem_{side}_outer"] + lm[f"hem_{side}_inner"])
        hip, knee, ankle = lf.chains[side]
        p_w = fit.garment_to_person(g_w[None])[0]
        shin = float(np.hypot(*(ankle - knee)))
        l_p = float(np.hypot(*(hip - p_w)) + np.hypot(*(knee - hip))) + shin
        l_g = float(np.hypot(*(g_h - g_w)))
        k_len = k
        if l_g >= FULL_LENGTH * hip_w:
            k_len = (l_p + HEM_BELOW_ANKLE * shin) / max(l_g, 1.0)
        d_shin = (ankle - knee) / max(shin, 1e-6)
        chain_p = np.stack([p_w - lf.v * lf.thigh, p_w, hip, knee, ankle, ankle + d_shin * max(shin, lf.thigh)])
        legs[side] = (chain_p, np.stack([g_w, g_h]), k_len)
        targets[f"hem_{side}"] = _along(chain_p, l_g * k_len)
        short.append(l_g < SHORT_LEGS * hip_w)
        if short[-1]:
            targets[f"hem_{side}"] = fit.garment_to_person(g_h[None])[0]
    if not any(short):
        fit.legs.update(legs)
    targets["crotch"] = lf.to_img(0.0, fit.crotch_b)
    for n in ("waist_left", "waist_right", "waist_center"):
        targets[n] = fit.garment_to_person(lm[n][None])[0]
    return fit


def _along(chain: np.ndarray, s: float) -> np.ndarray:
    """The point at arc length s from chain[1] along the polyline chain[1:]."""
    p = chain[1:]
    seg = np.diff(p, axis=0)
    ln = np.hypot(seg[:, 0], seg[:, 1])
    cum = np.concatenate([[0.0], np.cumsum(ln)])
    i = int(np.clip(np.searchsorted(cum, s) - 1, 0, len(ln) - 1))
    return p[i] + seg[i] / max(ln[i], 1e-9) * (s - cum[i])


def _garment_leg(axis: np.ndarray, s: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Garment pixels (M, 2) at arc length s from axis[0] (the waistband; negative above it) along the straight
    garment leg axis, and signed distance d along (-e_y, e_x) (image left for a leg pointing down)."""
    a, b = axis
    e = (b - a) / max(float(np.hypot(*(b - a))), 1e-9)
    n = np.array([-e[1], e[0]])
    return a[None] + e[None] * s[:, None] + n[None] * d[:, None]


def _smooth(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


OUTLINE_SMOOTH = 1.6
"""Gaussian σ, in the garment mask's working pixels (:data:`tryon.garment.mask.WORK_SIDE` on the long side), of
the blur whose 0.5 level is the outline the warp draws (:func:`_straight_outline`)."""


def _straight_outline(mask: np.ndarray) -> np.ndarray:
    """The garment mask with its outline's staircase smoothed out, ramp width kept (about one working pixel).

    :func:`tryon.garment.mask.garment_mask` cuts at :data:`~tryon.garment.mask.WORK_SIDE` px and upsamples: a
    skirt's flaring side is a staircase of runs several working pixels long, which the warp magnifies into a
    jagged edge on the person. Blurred by :data:`OUTLINE_SMOOTH` working px, the staircase's 0.5 level follows
    the straight line it samples (corners round by about that radius); the ramp is steepened back by
    σ √(2π) (the slope at 0.5 of a blurred step is 1 / (σ √(2π))). Done here, not in the cut itself: the
    category and sleeve rules read the cut's exact corners.

    Args:
        mask: (h, w) float32 [0, 1] garment mask.

    Returns:
        (h, w) float32 [0, 1].
    """
    from tryon.garment.mask import WORK_SIDE

    sigma = OUTLINE_SMOOTH * max(mask.shape) / WORK_SIDE
    soft = cv2.GaussianBlur(mask, (0, 0), sigma)
    return np.clip((soft - 0.5) * (OUTLINE_SMOOTH * np.sqrt(2.0 * np.pi)) + 0.5, 0.0, 1.0).astype(np.float32)


def warp_lower(garment: np.ndarray, garment_mask: np.ndarray, landmarks: dict[str, tuple[float, float]],
               keypoints: np.ndarray, out_shape: tuple[int, int], *, parse: np.ndarray | None = None,
               work_height: int = 256) -> WarpResult:
    """Warp an in-shop lower-body garment onto a person (see the module's text).

    Args:
        garment: (h, w, 3) uint8 RGB in-shop photo (plain background).
        garment_mask: (h, w) float32 [0, 1] garment mask.
        landmarks: :func:`tryon.garment.landmarks_lower.lower_landmarks`, garment pixels.
        keypoints: (33, 4) BlazePose keypoints of the person (x_px, y_px, z, visibility).
        out_shape: (H, W) of the person photo.
        parse: (H, W) uint8 PARSE_LABELS of the person (the hip breadth), or None.
        work_height: the grid is computed at this height and upsampled (speed); 0 = full resolution.

    Returns:
        :class:`tryon.teacher.warp.WarpResult` at ``out_shape``: ``warped_parts`` is 1 over the waist and hips
        (and a whole skirt), :data:`PART_LEFT_LEG` / :data:`PART_RIGHT_LEG` on the legs below the crotch, 0
        outside the garment; ``sleeve_reach`` empty, ``targets`` the landmarks' person positions (waist corners and
        centre, crotch, ``hem_left`` / ``hem_right`` for trousers; a skirt's hem points).

    Raises:
        DataError: a landmark is missing.
    """
    H, W = out_shape
    gh, gw = garment_mask.shape
    fit = lower_fit(garment_mask, landmarks, keypoints, parse)
    s = 1.0 if not work_height or H <= work_height else work_height / H
    h, w = max(int(round(H * s)), 8), max(int(round(W * s)), 8)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    pts = np.stack([((xs + 0.5) * (W / w) - 0.5).ravel(), ((ys + 0.5) * (H / h) - 0.5).ravel()], axis=-1)
    g = fit.pelvis_to_garment(pts)
    if fit.legs:
        # Each leg's chain map; above the crotch the two are blended across the body's centre line, below it
        # the nearer leg's map is taken (the garment splits between the legs).
        g_leg, d_abs = {}, {}
        for side, (chain_p, axis_g, k_len) in fit.legs.items():
            # rot = +1: d along (-e_y, e_x), as _garment_leg's normal (garment x goes to the hip frame's u).
            sp, dp = _chain_coords(chain_p, 1.0, pts)
            g_leg[side] = _garment_leg(axis_g, sp / k_len, dp / fit.k)
            d_abs[side] = np.abs(dp)
        rel = pts - leg_frame(keypoints).hip_center
        a_u, b_v = rel @ fit.u, rel @ fit.v                               # hip frame, origin at the hip joints
        across = _smooth(0.5 + a_u / (0.4 * fit.breadth))
        nearer = (d_abs["left"] < d_abs["right"]).astype(np.float64)
        down = _smooth((b_v - fit.crotch_b + 0.2 * fit.thigh) / (0.3 * fit.thigh))
        wl = (1.0 - down) * across + down * nearer
        g = wl[:, None] * g_leg["left"] + (1.0 - wl[:, None]) * g_leg["right"]
        # Part labels: the legs have separate maps below the crotch (their seam is not a fold of the fabric).
        part = np.where(down < 0.5, PART_TORSO, np.where(nearer > 0.5, PART_LEFT_LEG, PART_RIGHT_LEG))
    else:
        part = np.full(len(pts), PART_TORSO)
    grid_px = g.reshape(h, w, 2).astype(np.float32)
    grid = pixel_to_grid(grid_px, gw, gh)
    if (h, w) != (H, W):
        grid = cv2.resize(grid, (W, H), interpolation=cv2.INTER_LINEAR)
    inside = (np.abs(grid) <= 1.0).all(-1)
    grid = np.clip(grid, -1.0, 1.0).astype(np.float32)
    # Minified garments are first reduced to about the size they are drawn at (area averaging: no aliasing of a
    # knit's or a print's fine texture, and less to bleed and sample); the grid's [-1, 1] coordinates hold at any
    # size (align_corners=False).
    f = min(1.0, 1.25 * fit.k)
    src, gmask = garment, _straight_outline(garment_mask.astype(np.float32))
    if f < 0.9:
        size = (max(8, int(round(gw * f))), max(8, int(round(gh * f))))
        src = cv2.resize(garment, size, interpolation=cv2.INTER_AREA)
        gmask = cv2.resize(gmask, size, interpolation=cv2.INTER_AREA)
    warped = sample_with_grid(_bleed_edges(src, gmask), grid)
    magnify = fit.k > 1.2
    if magnify:
        gmask = cv2.GaussianBlur(gmask, (0, 0), 1.0)
    wmask = sample_with_grid(gmask, grid)
    if magnify:
        wmask = (wmask - 0.5) * max(1.0, fit.k * np.sqrt(2 * np.pi) / 1.5) + 0.5
    wmask = (np.clip(wmask, 0.0, 1.0) * inside).astype(np.float32)
    parts = part.reshape(h, w).astype(np.uint8)
    if (h, w) != (H, W):
        parts = cv2.resize(parts, (W, H), interpolation=cv2.INTER_NEAREST)
    parts[wmask < 0.5] = 0
    return WarpResult(grid=grid, warped_garment=warped, warped_mask=wmask, warped_parts=parts,
                      targets=dict(fit.targets), sleeve_reach={}, torso_weight=None)

