"""What a one-piece removes below the waist: the old lower garment, and the bare legs that replace it.

A dress or jumpsuit replaces the old top *and* the old trousers / skirt. The lower body is split exactly as for
bottoms (:mod:`tryon.teacher.agnostic_lower`, on the person's :class:`tryon.person.body.LegFrame`): feet and
shoes kept (a trouser cuff over the shoe, of the old bottoms' colours, is removed), the rest of the lower body
that is not skin is the old lower garment, and the legs under it are tapered capsules round the leg bones and
the pelvis (at most the body's mean breadth, and on from each ankle to its toe keypoint). The tops' composition (:func:`tryon.teacher.compose.compose` with ``category="dress"``) then
synthesises skin inside the legs (tryon.teacher.skin: the person's tone x the light on the old garment x a
cylinder falloff across each leg, a screened Poisson seam to the visible skin, the person's skin grain) and the
backdrop outside them, so where a knee-length dress ends believable legs continue, never the old trousers
nor a flat slab.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tryon.person.body import LegFrame

__all__ = ["LowerBody", "lower_body", "bare_below_hem", "HEM_BIN", "HEM_RUN", "HEM_MIN_SKIN"]

HEM_BIN = 0.1
"""Length of the bands along each leg in which :func:`bare_below_hem` measures the share of skin, in bone lengths
(:func:`tryon.teacher.agnostic_lower.leg_maps`' ``along``: 0 hip joint, 1 knee, 2 ankle)."""
HEM_RUN = 3
"""... how many bands in a row must be mostly skin for the old bottoms to have ended (a skin-hued patch of a
print or a slit is shorter) ..."""
HEM_MIN_SKIN = 0.5
"""... and the share of skin that makes a band bare leg."""


@dataclass
class LowerBody:
    """The lower body of a person about to wear a one-piece, at the composition's working resolution.

    Attributes:
        old: (h, w) bool the old trousers / skirt (and a trouser cuff over the shoe).
        legs: (h, w) bool the legs and pelvis under them (skin is synthesised there).
        limb_q: (h, w) float32 distance to the nearest leg bone over that leg's half-width (1 on the outline).
    """

    old: np.ndarray
    legs: np.ndarray
    limb_q: np.ndarray


def lower_body(image: np.ndarray, parse: np.ndarray, skin: np.ndarray, keypoints: np.ndarray,
               cover: np.ndarray | None = None) -> LowerBody:
    """Find the old lower garment, the feet and the legs under them (bottoms' rules, see the module text).

    Args:
        image: (h, w, 3) uint8 RGB.
        parse: (h, w) uint8 PARSE_LABELS.
        skin: (h, w) bool visible skin (skin-hued fabric already dropped).
        keypoints: (33, 4) BlazePose keypoints in these pixels.
        cover: (h, w) bool where the new garment is drawn; the bare legs below old shorts or a short skirt
            (:func:`bare_below_hem`) are kept as photographed only on a leg whose old hem it covers. None: never.

    Returns:
        :class:`LowerBody`.
    """
    from tryon.person.body import leg_frame
    from tryon.teacher.agnostic_lower import (LEG_TAPER, feet_mask, hem_cuffs, leg_maps, leg_silhouette,
                                              legs_to_toes, old_bottoms_mask)
    from tryon.teacher.warp_lower import HIP_BREADTH, hip_breadth

    h, w = parse.shape
    lf = leg_frame(keypoints)
    # The parse measures the clothes at the hips (a shirt's tail, a blazer, a wide skirt: nearly always the upper
    # clamp); the bare legs under them are no wider than the body's mean proportion.
    breadth = min(hip_breadth(parse, lf), HIP_BREADTH[2] * lf.hw)
    feet = feet_mask(parse, lf)
    old = old_bottoms_mask(parse, skin, feet)
    # Below shorts or a short skirt the legs are bare: their shaded sides and socks are no old garment.
    if cover is not None:
        old &= ~bare_below_hem(parse, skin, lf, cover)
    # A trouser hem over the shoe goes with the trousers; a shoe of the old garment's colours stays.
    old |= hem_cuffs(image, old, feet, skin, lf)
    dist, along = leg_maps((h, w), lf)
    dist, along = legs_to_toes(dist, along, lf)  # hidden ankles sit too high under a long old skirt
    legs = leg_silhouette(parse, lf, breadth, dist=dist, along=along)
    xp, fp = zip(*LEG_TAPER, strict=True)
    r_leg = np.interp(along, xp, fp).astype(np.float32) * breadth
    return LowerBody(old=old, legs=legs, limb_q=(dist / np.maximum(r_leg, 1.0)).astype(np.float32))


def bare_below_hem(parse: np.ndarray, skin: np.ndarray, lf: LegFrame, cover: np.ndarray | None = None) -> np.ndarray:
    """(H, W) bool: the lower body below the old bottoms' hem on each leg, where the photo shows bare legs.

    The skin mask is a colour band round the person's tone: on bare legs below shorts it misses the shaded side
    of each leg and the socks, which the bottoms' rule (the lower body that is not skin) took for old garment,
    and a one-piece then re-synthesised photographed legs (pale slabs) and erased socks. Here each leg (the
    lower-body pixels nearer to its bone chain than to the other's) is cut into bands of :data:`HEM_BIN` bone
    lengths from the crotch down; the old bottoms end in the first of :data:`HEM_RUN` bands in a row whose pixels
    are at least :data:`HEM_MIN_SKIN` skin, and everything of that leg from the next band down is bare leg (kept
    as photographed where the new garment does not cover it; the first band can still hold the old hem's last
    rows). Trousers and long skirts have no such run: nothing is returned. With ``cover``, only a leg whose old
    hem the new garment covers (over half of the two bands from the old hem down, where the photographed leg
    would start) is returned: where a new dress ends above the old hem, the
    legs synthesised under the old skirt (capsules of the body's mean breadth) would meet the photographed legs
    below it in a visible step, so that leg stays synthesised down to the feet.

    Args:
        parse: (H, W) uint8 PARSE_LABELS.
        skin: (H, W) bool visible skin.
        lf: the person's :class:`tryon.person.body.LegFrame` in these pixels.
        cover: (H, W) bool where the new garment is drawn, or None (every leg).

    Returns:
        (H, W) bool, within the parse's lower body.
    """
    from tryon.person.labels import LABEL
    from tryon.teacher.agnostic_lower import segment_distance

    H, W = parse.shape
    lower = parse == LABEL["lower_body"]
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    maps = []
    for chain in lf.chains.values():
        hip, knee, ankle = (c.astype(np.float32) for c in chain)
        d1, t1 = segment_distance(xs, ys, hip, knee)
        d2, t2 = segment_distance(xs, ys, knee, ankle)
        maps.append((np.minimum(d1, d2), np.where(d1 <= d2, t1, 1.0 + t2)))
    out = np.zeros((H, W), bool)
    for i, (d, along) in enumerate(maps):
        mine = lower & np.all([d <= o for j, (o, _) in enumerate(maps) if j != i], axis=0)
        # From a fifth of the thigh (the crotch's height; above it the bands hold both legs' old garment).
        edges = np.arange(0.2, 2.0 + 1e-6, HEM_BIN)
        bare = []
        for a0 in edges:
            band = mine & (along >= a0) & (along < a0 + HEM_BIN)
            n = int(band.sum())
            bare.append(n > 0 and skin[band].sum() >= HEM_MIN_SKIN * n)
        for k in range(len(bare) - HEM_RUN + 1):
            if all(bare[k:k + HEM_RUN]):
                hem = mine & (along >= edges[k]) & (along < edges[k] + 2 * HEM_BIN)
                if cover is None or cover[hem].mean() > 0.5:
                    # From the band after: the first bare band can hold the old hem's last rows (a dark line).
                    out |= mine & (along >= edges[k] + HEM_BIN)
                break
    return out
