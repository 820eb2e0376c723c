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

import numpy as np

__all__ = ["LowerBody", "lower_body"]


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


def lower_body(image: np.ndarray, parse: np.ndarray, skin: np.ndarray, keypoints: np.ndarray) -> LowerBody:
    """Find the old lower garment, the feet and the legs under them (bottoms' rules, see the module text).

    Args:
        image: (h, w, 3) uint8 RGB.
        parse: (h, w) uint8 PARSE_LABELS.
        skin: (h, w) bool visible skin (skin-hued fabric already dropped).
        keypoints: (33, 4) BlazePose keypoints in these pixels.

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
    # A trouser hem over the shoe goes with the trousers; a shoe of the old garment's colours stays.
    old |= hem_cuffs(image, old, feet, skin, lf)
    dist, along = leg_maps((h, w), lf)
    dist, along = legs_to_toes(dist, along, lf)  # hidden ankles sit too high under a long old skirt
    legs = leg_silhouette(parse, lf, breadth, dist=dist, along=along)
    xp, fp = zip(*LEG_TAPER, strict=True)
    r_leg = np.interp(along, xp, fp).astype(np.float32) * breadth
    return LowerBody(old=old, legs=legs, limb_q=(dist / np.maximum(r_leg, 1.0)).astype(np.float32))
