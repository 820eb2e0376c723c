"""What a one-piece removes below the waist: the old lower garment, and the bare legs that replace it.

A dress or jumpsuit replaces the old top *and* the old trousers / skirt. The parse has one ``lower_body`` label
for trousers, skirts, legs and shoes (``tryon.person.labels``), so the old lower garment is told apart by
colour and place:

* old lower garment: ``lower_body`` pixels that are not skin (the composition's skin mask, which already drops
  skin-hued fabric) and not shoes;
* shoes: ``lower_body`` pixels not above the ankles and within 0.25 shoulder widths of a heel or toe keypoint,
  or well below the ankles (BlazePose 27-32): they stay as photographed, except a trouser cuff over the shoe
  (between the ankle and the feet keypoints, the trousers' colours and not the soles');
* legs: two tapered capsules along each leg's bone chain hip -> knee -> ankle (radius 0.22 -> 0.14 -> 0.085
  shoulder widths: thigh, knee and ankle half-widths of an adult measured in shoulder-joint widths, from the
  body proportions of the ANSUR II anthropometric survey, Gordon et al. 2014, rounded). Inside them the
  composition synthesises skin (tryon.teacher.skin: the person's tone, the photo's light, the cylinder falloff
  across the leg as across an arm, the person's skin grain), outside them the backdrop; so where a knee-length
  dress ends, believable legs continue, never the old trousers nor a flat slab.

Positions use the person's shoulder frame (:class:`tryon.person.body.BodyFrame`).
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.person.body import BodyFrame
from tryon.person.labels import LABEL

__all__ = ["LEG_RADII", "leg_maps", "shoes_mask", "old_lower_garment"]

LEG_RADII = (0.22, 0.14, 0.085)
"""Leg half-widths at the hip joint, the knee and the ankle, in shoulder widths (see the module docstring)."""

_FEET = ("left_heel", "right_heel", "left_foot_index", "right_foot_index")


def _segment_q(px: np.ndarray, p: np.ndarray, q: np.ndarray, r0: float, r1: float) -> np.ndarray:
    """Distance of points (N, 2) to the segment p -> q divided by the radius interpolated along it."""
    d = q - p
    n2 = float(d @ d)
    t = np.clip(((px - p) @ d) / n2, 0.0, 1.0) if n2 > 1e-9 else np.zeros(len(px))
    dist = np.hypot(*(px - (p + t[:, None] * d)).T)
    return dist / np.maximum(r0 + t * (r1 - r0), 1e-6)


def leg_maps(shape: tuple[int, int], frame: BodyFrame) -> np.ndarray:
    """Normalised distance to the nearest leg: (H, W) float32, 0 on a bone, 1 on the leg's outline.

    Args:
        shape: (H, W) of the image the frame's keypoints are in.
        frame: the person's :class:`BodyFrame` (its ``kp`` gives hips, knees and ankles).

    Returns:
        (H, W) float32 distance to the nearest leg bone over that leg's local radius (:data:`LEG_RADII`);
        ``< 1`` is inside a leg.
    """
    H, W = shape
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    px = np.stack([xs.ravel(), ys.ravel()], axis=-1)
    sw = frame.sw
    r_hip, r_knee, r_ankle = (r * sw for r in LEG_RADII)
    q = np.full(H * W, np.inf)
    for side in ("left", "right"):
        hip, knee, ankle = (frame.kp[f"{side}_{j}"] for j in ("hip", "knee", "ankle"))
        q = np.minimum(q, _segment_q(px, hip, knee, r_hip, r_knee))
        q = np.minimum(q, _segment_q(px, knee, ankle, r_knee, r_ankle))
    return q.reshape(H, W).astype(np.float32)


def shoes_mask(parse: np.ndarray, frame: BodyFrame, b: np.ndarray) -> np.ndarray:
    """(H, W) bool: ``lower_body`` pixels that are shoes (near a heel or toe keypoint and not above the ankles, or
    0.15 shoulder widths below them).

    Args:
        parse: (H, W) uint8 PARSE_LABELS.
        frame: the person's :class:`BodyFrame`.
        b: (H, W) frame coordinate along the body (``tryon.teacher.agnostic.BodyMaps.b``).
    """
    H, W = parse.shape
    lower = parse == LABEL["lower_body"]
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    near = np.zeros((H, W), bool)
    for name in _FEET:
        p = frame.kp[name]
        near |= np.hypot(xs - p[0], ys - p[1]) < 0.25 * frame.sw
    # Not above the ankles: a trouser hem just over the shoe is trousers.
    ankle_b = min(frame.to_frame(frame.kp["left_ankle"])[1], frame.to_frame(frame.kp["right_ankle"])[1])
    return lower & (b > ankle_b - 0.02 * frame.sw) & near | lower & (b > ankle_b + 0.15 * frame.sw)


def old_lower_garment(image: np.ndarray, parse: np.ndarray, skin: np.ndarray, frame: BodyFrame,
                      b: np.ndarray) -> np.ndarray:
    """(H, W) bool: the old trousers / skirt (``lower_body``, not skin, not shoes).

    Around the ankles (between the ankle keypoints and the feet's) a trouser cuff and a shoe's top meet: there a
    pixel is trousers when its CIELAB colour is within 12 units of the trousers' own colours (sampled on the
    thighs, 0.3-1.3 shoulder widths below the hip joints; nearest neighbour, scipy.spatial.cKDTree) and
    clearly nearer to them than to the shoes' (sampled below the feet keypoints' level).

    Args:
        image: (H, W, 3) uint8 RGB.
        parse: (H, W) uint8 PARSE_LABELS.
        skin: (H, W) bool visible skin (skin-hued fabric already dropped).
        frame: the person's :class:`BodyFrame`.
        b: (H, W) frame coordinate along the body.
    """
    from scipy.spatial import cKDTree

    lower = parse == LABEL["lower_body"]
    shoes = shoes_mask(parse, frame, b)
    old = lower & ~skin & ~shoes
    sw = frame.sw
    hip_b = 0.5 * (frame.to_frame(frame.kp["left_hip"])[1] + frame.to_frame(frame.kp["right_hip"])[1])
    ankle_b = min(frame.to_frame(frame.kp["left_ankle"])[1], frame.to_frame(frame.kp["right_ankle"])[1])
    feet_b = min(frame.to_frame(frame.kp[n])[1] for n in _FEET)
    thighs = old & (b > hip_b + 0.3 * sw) & (b < hip_b + 1.3 * sw)
    soles = shoes & ~skin & (b > feet_b)
    cuff = shoes & ~skin & (b < feet_b)
    if thighs.sum() < 50 or soles.sum() < 20 or not cuff.any() or feet_b <= ankle_b:
        return old
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    rng = np.random.default_rng(0)

    def palette(m: np.ndarray) -> cKDTree:
        px = lab[m]
        return cKDTree(px[rng.choice(len(px), size=min(len(px), 3000), replace=False)])

    q = lab[cuff]
    d_t = palette(thighs).query(q, k=1)[0]
    d_s = palette(soles).query(q, k=1)[0]
    tr = np.zeros_like(old)
    tr[cuff] = (d_t < 12.0) & (d_t < 0.5 * d_s)
    return old | tr

