"""The lower-body agnostic person: the old bottoms found and removed; legs, hips, feet and shoes located.

The parse (:mod:`tryon.person.parsing`) has one ``lower_body`` label for trousers, skirts, bare legs and shoes.
Here it is split with the body's geometry (:class:`tryon.person.body.LegFrame`) and the skin colour:

* feet (:func:`feet_mask`): the lower body near each foot's ankle, heel and toe keypoints below the ankle
  (shoes and bare feet are kept);
* old bottoms (:func:`old_bottoms_mask`): the rest of the lower body that is not skin-coloured;
* the legs under them (:func:`leg_silhouette`): tapered capsules around the hip-knee-ankle bones (thigh, knee,
  calf and ankle half-widths from anthropometric breadth ratios, as fractions of the hip breadth) and the
  pelvis, trimmed where the parse's lower body is clearly narrower, so the synthesised legs have a body's
  outline whether the old garment was skin-tight or wide.

:func:`lower_agnostic_image` greys the old bottoms out, VITON / Dress Code style (the lower-body agnostic image
of Dress Code, Morelli et al., ECCV 2022).
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.person.body import L_HIP, L_KNEE, R_HIP, R_KNEE, LegFrame
from tryon.person.labels import LABEL
from tryon.teacher.agnostic import AGNOSTIC_GREY

__all__ = ["LEG_TAPER", "segment_distance", "feet_mask", "ankle_band", "hem_cuffs", "old_bottoms_mask", "leg_silhouette",
           "leg_maps", "lower_agnostic_image", "SKIRT_ROWS", "skirt_flare"]

LEG_TAPER = ((0.0, 0.25), (0.5, 0.2), (1.0, 0.13), (1.35, 0.145), (2.0, 0.085))
"""Largest half-width of a bare leg along it (0 hip joint, 1 knee, 2 ankle) as a fraction of the hip breadth
(upper thigh, mid thigh, knee, calf and ankle breadths over the hip breadth, adult anthropometric tables)."""


def segment_distance(xs: np.ndarray, ys: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel (``xs``, ``ys`` float32 grids, pixels): the distance to the segment from ``a`` to ``b`` ((2,) x, y
    pixels) and the position along it of the nearest point (0 at ``a``, 1 at ``b``)."""
    d = b - a
    l2 = max(float(d @ d), 1e-6)
    t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / l2, 0.0, 1.0)
    return np.hypot(xs - a[0] - t * d[0], ys - a[1] - t * d[1]), t


def legs_to_toes(dist: np.ndarray, along: np.ndarray, lf) -> tuple[np.ndarray, np.ndarray]:
    """:func:`leg_maps`' ``(dist, along)`` with each leg going on, at the ankle's breadth, to its toe keypoint.

    Under long old bottoms (a maxi skirt, wide trousers) BlazePose puts hidden ankles too high (on a wild-dev
    maxi dress a third of the shin above the straps of the sandals): a leg ending at its ankle joint left a gap of
    backdrop, or a rounded stump, between the bare shins and the feet. Where the feet are seen they are kept as
    photographed, so this draws only into the old garment.

    Args:
        dist: (h, w) float32 distance to the nearest leg bone, pixels.
        along: (h, w) float32 position along the leg (0 hip, 1 knee, 2 ankle).
        lf: the person's :class:`tryon.person.body.LegFrame` (its ``feet``: ankle, heel, toe per side).

    Returns:
        ``(dist, along)``, (h, w) float32 each: nearer the ankle-to-toe segment, its distance and ``along`` = 2.
    """
    h, w = dist.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    for ankle, _heel, toe in lf.feet.values():
        d = segment_distance(xs, ys, np.asarray(ankle, np.float32), np.asarray(toe, np.float32))[0]
        closer = d < dist
        along = np.where(closer, 2.0, along)
        dist = np.where(closer, d, dist)
    return dist, along


def leg_maps(shape: tuple[int, int], lf: LegFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel: distance to the nearest leg bone (hip-knee, knee-ankle), pixels, and the position along that
    leg of the nearest bone point (0 hip joint, 1 knee, 2 ankle).

    Returns:
        (dist (H, W) float32, along (H, W) float32).
    """
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    dist = np.full(shape, np.inf, np.float32)
    along = np.zeros(shape, np.float32)
    for chain in lf.chains.values():
        hip, knee, ankle = (c.astype(np.float32) for c in chain)
        d1, t1 = segment_distance(xs, ys, hip, knee)
        d2, t2 = segment_distance(xs, ys, knee, ankle)
        d = np.minimum(d1, d2)
        a = np.where(d1 <= d2, t1, 1.0 + t2)
        closer = d < dist
        along = np.where(closer, a, along)
        dist = np.minimum(dist, d)
    return dist, along


def feet_mask(parse: np.ndarray, lf: LegFrame, *, above: float = 0.15) -> np.ndarray:
    """(H, W) bool: the feet and shoes (lower-body pixels near each foot, below the ankle's top).

    Near = within 0.3 shin lengths of the segments between the ankle, heel and toe keypoints; below = past
    the ankle joint minus ``above`` shin lengths along the shin's direction (0.15: a shoe's collar reaches
    above the ankle joint; a negative value keeps the shoe below the ankle only).
    """
    H, W = parse.shape
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    out = np.zeros((H, W), bool)
    lower = parse == LABEL["lower_body"]
    for side, chain in lf.chains.items():
        _, knee, ankle = chain
        ank, heel, toe = (p.astype(np.float32) for p in lf.feet[side])
        shin = max(float(np.hypot(*(ankle - knee))), 1.0)
        e = (ankle - knee) / shin
        near = np.minimum(np.minimum(segment_distance(xs, ys, ank, heel)[0], segment_distance(xs, ys, ank, toe)[0]),
                          segment_distance(xs, ys, heel, toe)[0]) < 0.3 * shin
        below = (xs - ankle[0]) * e[0] + (ys - ankle[1]) * e[1] > -above * shin
        out |= near & below
    return out & lower


def ankle_band(shape: tuple[int, int], lf: LegFrame, *, reach: float = 0.15) -> np.ndarray:
    """(H, W) bool: pixels within ``reach`` shin lengths of either ankle joint along the shin's direction (and
    within half a shin of the ankle): where trouser hems and shoe collars meet."""
    H, W = shape
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    out = np.zeros((H, W), bool)
    for chain in lf.chains.values():
        _, knee, ankle = chain
        shin = max(float(np.hypot(*(ankle - knee))), 1.0)
        e = (ankle - knee) / shin
        t = (xs - ankle[0]) * e[0] + (ys - ankle[1]) * e[1]
        out |= (np.abs(t) < reach * shin) & (np.hypot(xs - ankle[0], ys - ankle[1]) < 0.5 * shin)
    return out


def hem_cuffs(image: np.ndarray, old: np.ndarray, feet: np.ndarray, skin: np.ndarray, lf: LegFrame, *,
              tol: float = 6.0) -> np.ndarray:
    """(H, W) bool: the old bottoms' hems over the shoes, to be removed with them.

    A trouser hem falling over the shoe lies in the feet's reach (:func:`feet_mask`): the pixels of ``feet``
    near an ankle (:func:`ankle_band`), not skin, within ``tol`` CIELAB units of the old bottoms' palette
    (:func:`tryon.teacher.skin.old_garment_remnant`) are hem, but only the 8-connected patches of them that touch
    the old bottoms (continue a trouser leg): a patch touching none of them is the shoe itself in the old
    garment's colours (white sneakers under a white skirt ending at the thighs, black boots under black shorts),
    which stays as photographed. One rule for bottoms and one-pieces.

    Args:
        image: (H, W, 3) uint8 RGB.
        old: (H, W) bool the old bottoms (:func:`old_bottoms_mask`).
        feet: (H, W) bool from :func:`feet_mask`.
        skin: (H, W) bool skin-coloured pixels.
        lf: the person's :class:`tryon.person.body.LegFrame` in these pixels.
        tol: CIELAB distance to the palette.

    Returns:
        (H, W) bool, a subset of ``feet & ~skin``.
    """
    from tryon.teacher.skin import old_garment_remnant

    cuff = old_garment_remnant(image, old, feet & ankle_band(old.shape, lf) & ~skin, tol=tol)
    n, lbl = cv2.connectedComponents(cuff.astype(np.uint8), connectivity=8)
    if n <= 1:
        return cuff
    near_old = cv2.dilate(old.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return np.isin(lbl, np.setdiff1d(np.unique(lbl[near_old & cuff]), [0]))


SKIRT_ROWS = (0.85, 1.0)
"""Where :func:`skirt_flare` measures the clothing's width: these shares of the way from the hip joints' midpoint
down to the knees' (the knees' own height; above it a hand hanging against the thigh widens the run)."""


def skirt_flare(person_mask: np.ndarray, keypoints: np.ndarray) -> float:
    """How far the clothing flares at the knees: the person's width there over the hip joints' distance.

    Across the body (along the hip line) through the point between the knees (:data:`SKIRT_ROWS`), the run of the
    person mask that contains it, the widest of the rows measured, in hip-joint distances. Legs apart leave a gap
    there (0); trousers and fitted skirts or dresses read at most 2.1 on the development photos (trousers
    1.3-2.0, a bodycon dress 2.1); A-line, pleated, tiered and maxi skirts and dresses, long coats and wide-leg
    trousers 2.6-8 (a jump's bent legs too). Trousers drawn over such clothing leave it beside the legs, in
    flecks the parse calls backdrop or arm; what it hides, the backdrop and the legs, would be invented.

    Args:
        person_mask: (H, W) float32 person probability (or bool).
        keypoints: (33, 4) BlazePose keypoints in the mask's pixels.

    Returns:
        The ratio (0 when the hips are not apart or the point lies outside the mask).
    """
    kp = np.asarray(keypoints, np.float64)
    m = np.asarray(person_mask) > 0.5
    h, w = m.shape
    lh, rh = kp[L_HIP, :2], kp[R_HIP, :2]
    hip_w = float(np.hypot(*(lh - rh)))
    if hip_w < 2.0:
        return 0.0
    u = (lh - rh) / hip_w
    hip, knee = 0.5 * (lh + rh), 0.5 * (kp[L_KNEE, :2] + kp[R_KNEE, :2])
    steps = np.arange(-6 * hip_w, 6 * hip_w + 1.0)
    best = 0.0
    for f in SKIRT_ROWS:
        c = hip + f * (knee - hip)
        xs = np.round(c[0] + steps * u[0]).astype(int)
        ys = np.round(c[1] + steps * u[1]).astype(int)
        inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
        on = np.zeros(len(steps), bool)
        on[inside] = m[ys[inside], xs[inside]]
        mid = len(steps) // 2
        if not on[mid]:
            continue
        off = np.nonzero(~on)[0]
        left = off[off < mid].max() + 1 if (off < mid).any() else 0
        right = off[off > mid].min() - 1 if (off > mid).any() else len(steps) - 1
        best = max(best, float(right - left + 1) / hip_w)
    return best


def old_bottoms_mask(parse: np.ndarray, skin: np.ndarray, feet: np.ndarray) -> np.ndarray:
    """(H, W) bool: the old bottoms, the lower body that is neither skin nor feet, opened by 3 px (specks).

    Args:
        parse: (H, W) uint8 PARSE_LABELS.
        skin: (H, W) bool skin-coloured pixels (:func:`tryon.teacher.agnostic.skin_mask`).
        feet: (H, W) bool from :func:`feet_mask`.
    """
    old = (parse == LABEL["lower_body"]) & ~skin & ~feet
    return cv2.morphologyEx(old.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)


def leg_silhouette(parse: np.ndarray, lf: LegFrame, breadth: float, *, waist_rise: float = 0.35,
                   dist: np.ndarray | None = None, along: np.ndarray | None = None) -> np.ndarray:
    """(H, W) bool: where the legs and the pelvis are under the old bottoms (skin is drawn there).

    Each leg is a tapered capsule round its bones (:data:`LEG_TAPER` x ``breadth``); the pelvis is the band
    between the hip breadth's ends from ``waist_rise`` thigh lengths above the hip joints down to the crotch. The
    parse does not trim it (its stride-16 blocks would show as a saw-tooth outline on the synthesised legs): a
    slim leg under wide trousers gets the table's outline.

    Args:
        parse: (H, W) uint8 PARSE_LABELS (its size).
        lf: the person's :class:`LegFrame` in the same pixels.
        breadth: the hip breadth, pixels (:func:`tryon.teacher.warp_lower.hip_breadth`).
        waist_rise: top of the pelvis band above the hip joints, thigh lengths.
        dist, along: :func:`leg_maps` when already computed.
    """
    H, W = parse.shape
    if dist is None or along is None:
        dist, along = leg_maps((H, W), lf)
    xp, fp = zip(*LEG_TAPER, strict=True)
    r = np.interp(along, xp, fp).astype(np.float32) * breadth
    pelvis = np.zeros((H, W), np.uint8)
    poly = np.array([lf.to_img(-0.5 * breadth, -waist_rise * lf.thigh), lf.to_img(0.5 * breadth, -waist_rise * lf.thigh),
                     lf.to_img(0.45 * breadth, 0.15 * lf.thigh), lf.to_img(-0.45 * breadth, 0.15 * lf.thigh)])
    cv2.fillConvexPoly(pelvis, np.round(poly * 16).astype(np.int32), 1, shift=4)
    # The parse (stride 16) would cut its blocks into the outline: the capsules alone give a leg's smooth outline.
    sil = (dist < r) | pelvis.astype(bool)
    sil = cv2.GaussianBlur(sil.astype(np.float32), (0, 0), max(1.0, 0.02 * breadth)) > 0.5
    return sil


def lower_agnostic_image(image: np.ndarray, parse: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Dress Code style lower-body agnostic image: the old bottoms (slightly dilated) filled with grey.

    Hands, arms, the torso (the top), face, hair and the feet are kept where the dilation reaches them.

    Args:
        image: (H, W, 3) uint8 RGB.
        parse: (H, W) uint8 PARSE_LABELS.
        old: (H, W) bool old bottoms (:func:`old_bottoms_mask`).

    Returns:
        (H, W, 3) uint8 RGB.
    """
    k = max(3, int(round(min(image.shape[:2]) / 96)) | 1)
    hide = cv2.dilate(old.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    keep = np.isin(parse, (LABEL["face"], LABEL["hair"], LABEL["torso"], LABEL["left_arm"], LABEL["right_arm"],
                           LABEL["left_hand"], LABEL["right_hand"]))
    out = image.copy()
    out[hide & (~keep | old)] = AGNOSTIC_GREY
    return out
