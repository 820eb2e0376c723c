"""What a one-piece removes below the waist: the old lower garment, and the bare legs that replace it.

A dress or jumpsuit replaces the old top *and* the old trousers / skirt. The lower body is split exactly as for
bottoms (:mod:`tryon.teacher.agnostic_lower`, on the person's :class:`tryon.person.body.LegFrame`): feet and
shoes kept (a trouser cuff over the shoe, of the old bottoms' colours, is removed), the rest of the lower body
that is not skin is the old lower garment, and the legs under it are tapered capsules round the leg bones and
the pelvis (at most the body's mean breadth, and on from each ankle to its toe keypoint). The tops' composition (:func:`tryon.teacher.compose.compose` with ``category="dress"``) then
synthesises skin inside the legs (tryon.teacher.skin: the person's tone x the light on the old garment x a
cylinder falloff across each leg, a screened Poisson seam to the visible skin, the person's skin grain) and the
backdrop outside them, so where a knee-length dress ends believable legs continue, never the old trousers
nor a flat slab. Below an old hem the photographed bare legs are kept, and where the new dress is shorter than
the old skirt the legs synthesised between the two hems continue them (:func:`leg_continuation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tryon.person.body import LegFrame

__all__ = ["LowerBody", "lower_body", "old_hems", "bare_below_hem", "leg_continuation", "HEM_BIN", "HEM_RUN",
           "HEM_MIN_SKIN", "CONT_REF", "CONT_BINS", "CONT_FADE", "SEAM_GAP"]

HEM_BIN = 0.1
"""Length of the bands along each leg in which :func:`old_hems` measures the share of skin, in bone lengths
(:func:`tryon.teacher.agnostic_lower.leg_maps`' ``along``: 0 hip joint, 1 knee, 2 ankle)."""
HEM_RUN = 3
"""... how many bands in a row must be mostly skin for the old bottoms to have ended (a skin-hued patch of a
print or a slit is shorter) ..."""
HEM_MIN_SKIN = 0.5
"""... and the share of skin that makes a band bare leg."""
CONT_REF = 0.15
"""Length of the band of photographed bare leg just below an old hem that :func:`leg_continuation` measures (its
outline and colour across the leg), in bone lengths."""
CONT_BINS = 12
"""Bins across the leg in which :func:`leg_continuation` takes the band's median colour."""
CONT_FADE = 1.0
"""Bone lengths above the measured band over which the continued leg fades into the capsule and the skin model."""
SEAM_GAP = 0.03
"""Bone lengths below the last old-garment pixel on a leg's line where its measured band starts; the lower body
from :data:`SEAM_GAP` above that pixel to the band is old garment (the hem's edge and its shadow on the shin, a
dark line one or two pixels high that the old garment's mask loses to its opening), drawn over as continued leg."""


@dataclass
class LowerBody:
    """The lower body of a person about to wear a one-piece, at the composition's working resolution.

    Attributes:
        old: (h, w) bool the old trousers / skirt (and a trouser cuff over the shoe).
        legs: (h, w) bool the legs and pelvis under them (skin is synthesised there).
        limb_q: (h, w) float32 distance to the nearest leg bone over that leg's half-width (1 on the outline).
        cont_rgb: (h, w, 3) float32 RGB 0-255, the photographed bare leg below an old hem continued up the leg
            (:func:`leg_continuation`); meaningful where ``cont_w`` > 0.
        cont_w: (h, w) float32 in [0, 1], how much of ``cont_rgb`` the synthesised skin takes (0: the skin
            model's fill alone).
    """

    old: np.ndarray
    legs: np.ndarray
    limb_q: np.ndarray
    cont_rgb: np.ndarray
    cont_w: np.ndarray


def lower_body(image: np.ndarray, parse: np.ndarray, skin: np.ndarray, keypoints: np.ndarray,
               person_mask: np.ndarray | None = None) -> LowerBody:
    """Find the old lower garment, the feet and the legs under them (bottoms' rules, see the module text).

    Below an old hem the photographed bare legs are kept (:func:`bare_below_hem`), and the legs synthesised above
    it continue them (:func:`leg_continuation`): where a new dress ends above the old hem, the synthesised knees
    and thighs join the photographed shins without a step in breadth or colour.

    Args:
        image: (h, w, 3) uint8 RGB.
        parse: (h, w) uint8 PARSE_LABELS.
        skin: (h, w) bool visible skin (skin-hued fabric already dropped).
        keypoints: (33, 4) BlazePose keypoints in these pixels.
        person_mask: (h, w) float32 person probability (the selfie segmenter's), the bare legs' outline below an
            old hem; None: the skin mask's (which misses the legs' shaded sides).

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
    old &= ~bare_below_hem(parse, skin, lf)
    # A trouser hem over the shoe goes with the trousers; a shoe of the old garment's colours stays.
    old |= hem_cuffs(image, old, feet, skin, lf)
    dist, along = leg_maps((h, w), lf)
    dist, along = legs_to_toes(dist, along, lf)  # hidden ankles sit too high under a long old skirt
    legs = leg_silhouette(parse, lf, breadth, dist=dist, along=along)
    xp, fp = zip(*LEG_TAPER, strict=True)
    r_leg = np.interp(along, xp, fp).astype(np.float32) * breadth
    limb_q = (dist / np.maximum(r_leg, 1.0)).astype(np.float32)
    legs, cont_rgb, cont_w, bare, seam = leg_continuation(image, parse, skin, old, lf, legs, breadth, feet,
                                                         person_mask)
    old = (old & ~bare) | seam
    return LowerBody(old=old, legs=legs, limb_q=limb_q, cont_rgb=cont_rgb, cont_w=cont_w)


def _chain_coords(shape: tuple[int, int], chain: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One leg's coordinates per pixel: distance to its bones (pixels), position along it (0 hip joint, 1 knee,
    2 ankle) and the signed offset across its nearest bone (pixels, positive to the bone's left as it runs down)."""
    from tryon.teacher.agnostic_lower import segment_distance

    ys, xs = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    hip, knee, ankle = (c.astype(np.float32) for c in chain)
    d1, t1 = segment_distance(xs, ys, hip, knee)
    d2, t2 = segment_distance(xs, ys, knee, ankle)
    first = d1 <= d2

    def across(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        e = (b - a) / max(float(np.hypot(*(b - a))), 1e-6)
        return (xs - a[0]) * e[1] - (ys - a[1]) * e[0]

    return np.minimum(d1, d2), np.where(first, t1, 1.0 + t2), np.where(first, across(hip, knee), across(knee, ankle))


def _per_leg(shape: tuple[int, int], lf: LegFrame) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """side -> (pixels nearer that leg's bones than the other's (H, W) bool, along, across) (:func:`_chain_coords`)."""
    coords = {side: _chain_coords(shape, chain) for side, chain in lf.chains.items()}
    return {side: (np.all([d <= o[0] for other, o in coords.items() if other != side], axis=0), along, across)
            for side, (d, along, across) in coords.items()}


def old_hems(parse: np.ndarray, skin: np.ndarray, lf: LegFrame) -> dict[str, float]:
    """side -> where the old bottoms end on that leg, in bone lengths along it (0 hip joint, 1 knee, 2 ankle).

    Each leg's lower-body pixels are cut into bands of :data:`HEM_BIN` bone lengths from a fifth of the thigh
    (the crotch's height; above it the bands hold both legs' old garment) down; the old bottoms end in the first
    of :data:`HEM_RUN` bands in a row whose pixels are at least :data:`HEM_MIN_SKIN` skin (the start of that band
    is returned; it can still hold the old hem's last rows). A leg under trousers or a long skirt has no such run
    and no entry.

    Args:
        parse: (H, W) uint8 PARSE_LABELS.
        skin: (H, W) bool visible skin.
        lf: the person's :class:`tryon.person.body.LegFrame` in these pixels.
    """
    from tryon.person.labels import LABEL

    lower = parse == LABEL["lower_body"]
    edges = np.arange(0.2, 2.0 + 1e-6, HEM_BIN)
    hems = {}
    for side, (mine, along, _across) in _per_leg(parse.shape, lf).items():
        mine = mine & lower
        bare = []
        for a0 in edges:
            band = mine & (along >= a0) & (along < a0 + HEM_BIN)
            n = int(band.sum())
            bare.append(n > 0 and skin[band].sum() >= HEM_MIN_SKIN * n)
        for k in range(len(bare) - HEM_RUN + 1):
            if all(bare[k:k + HEM_RUN]):
                hems[side] = float(edges[k])
                break
    return hems


def bare_below_hem(parse: np.ndarray, skin: np.ndarray, lf: LegFrame) -> np.ndarray:
    """(H, W) bool: the lower body below the old bottoms' hem on each leg, where the photo shows bare legs.

    The skin mask is a colour band round the person's tone: on bare legs below shorts it misses the shaded side
    of each leg and the socks, which the bottoms' rule (the lower body that is not skin) took for old garment,
    and a one-piece then re-synthesised photographed legs (pale slabs) and erased socks. Everything of a leg from
    the band after its old hem (:func:`old_hems`; the hem's band can still hold its last rows, a dark line) down
    is bare leg, kept as photographed where the new garment does not cover it. Trousers and long skirts have no
    hem: nothing is returned.

    Args:
        parse: (H, W) uint8 PARSE_LABELS.
        skin: (H, W) bool visible skin.
        lf: the person's :class:`tryon.person.body.LegFrame` in these pixels.

    Returns:
        (H, W) bool, within the parse's lower body.
    """
    from tryon.person.labels import LABEL

    lower = parse == LABEL["lower_body"]
    hems = old_hems(parse, skin, lf)
    out = np.zeros(parse.shape, bool)
    for side, (mine, along, _across) in _per_leg(parse.shape, lf).items():
        if side in hems:
            out |= mine & lower & (along >= hems[side] + HEM_BIN)
    return out


def _leg_band(img: np.ndarray, px: np.ndarray, across: np.ndarray) -> tuple[float, float, np.ndarray] | None:
    """The outline (centre and half-width across the bone, pixels: 2nd-98th percentiles) and the median colour in
    :data:`CONT_BINS` bins across it ((CONT_BINS, 3) float32, empty bins from their neighbours, lightly smoothed)
    of the bare leg pixels ``px`` of one band; None when too few are seen."""
    if px.sum() < 20:
        return None
    lo_e, hi_e = np.percentile(across[px], [2, 98])
    c_m, r_m = 0.5 * float(lo_e + hi_e), 0.5 * float(hi_e - lo_e)
    if r_m < 1.0:
        return None
    centres = np.linspace(-1.0, 1.0, CONT_BINS)
    idx = np.clip(np.round(((across[px] - c_m) / r_m + 1.0) * 0.5 * (CONT_BINS - 1)).astype(int), 0, CONT_BINS - 1)
    col = img[px]
    prof = np.full((CONT_BINS, 3), np.nan, np.float32)
    for b in range(CONT_BINS):
        if (idx == b).sum() >= 2:
            prof[b] = np.median(col[idx == b], axis=0)
    ok = ~np.isnan(prof[:, 0])
    if ok.sum() < 3:
        return None
    prof = np.stack([np.interp(centres, centres[ok], prof[ok, k]) for k in range(3)], 1)
    prof = np.stack([np.convolve(np.pad(prof[:, k], 1, mode="edge"), [0.25, 0.5, 0.25], "valid") for k in range(3)], 1)
    return c_m, r_m, prof.astype(np.float32)


def leg_continuation(image: np.ndarray, parse: np.ndarray, skin: np.ndarray, old: np.ndarray, lf: LegFrame,
                     legs: np.ndarray, breadth: float, feet: np.ndarray, person_mask: np.ndarray | None = None,
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Continue each photographed bare leg up under its old hem: the synthesised leg's outline and colour.

    Where a new dress ends above the old skirt's hem, the knees and thighs between the two hems are synthesised
    and meet the photographed shins at the old hem. Drawn as capsules round BlazePose's leg bones (the body's
    mean breadth, placed where BlazePose guesses the hidden knees) in the skin model's colour, they met them in a
    visible step: narrower or wider, paler, offset from the real leg (Dress Code persons in midi skirts dressed
    in knee-length dresses). Here, on each leg with an old hem (:func:`old_hems`), the bare leg is measured in a
    band of :data:`CONT_REF` bone lengths just below where the old garment ends on it (its outline across the
    bone, from the person mask, else the skin; its median colour in :data:`CONT_BINS` bins across the leg: its
    cylinder shading and key light as photographed). Above it the leg's outline is the capsules' taper scaled to
    the measured breadth round the measured centre, its colour the measured profile extruded along the bone;
    both fade into the capsule and the skin model over :data:`CONT_FADE` bone lengths further up. Propagating a
    linear structure into the hole before anything else is the order of exemplar-based inpainting (Criminisi,
    Perez & Toyama, "Region filling and object removal by exemplar-based image inpainting", IEEE TIP 2004);
    the profile is the structure, the skin grain is added later by the composition.

    Args:
        image: (H, W, 3) uint8 RGB.
        parse: (H, W) uint8 PARSE_LABELS.
        skin: (H, W) bool visible skin.
        old: (H, W) bool the old bottoms found so far.
        lf: the person's :class:`tryon.person.body.LegFrame` in these pixels.
        legs: (H, W) bool the capsule legs and pelvis (:func:`tryon.teacher.agnostic_lower.leg_silhouette`).
        breadth: the hip breadth the capsules were drawn with, pixels.
        feet: (H, W) bool the feet and shoes (never measured as leg).
        person_mask: (H, W) float32 person probability, or None.

    Returns:
        ``(legs, rgb, weight, bare, seam)``: (H, W) bool the legs with each continued leg's outline; (H, W, 3)
        float32 the continued colour; (H, W) float32 in [0, 1] its weight (0 where no leg is continued); (H, W)
        bool the lower body from the measured band down on each continued leg (bare leg, kept as photographed);
        (H, W) bool the old hem's last rows on the leg just above the band (old garment, see :data:`SEAM_GAP`).
    """
    import cv2

    from tryon.person.labels import LABEL
    from tryon.teacher.agnostic_lower import LEG_TAPER

    H, W = parse.shape
    rgb = np.zeros((H, W, 3), np.float32)
    weight = np.zeros((H, W), np.float32)
    bare = np.zeros((H, W), bool)
    seam = np.zeros((H, W), bool)
    hems = old_hems(parse, skin, lf)
    if not hems:
        return legs, rgb, weight, bare, seam
    xp, fp = zip(*LEG_TAPER, strict=True)
    outline = skin
    if person_mask is not None:
        # The person mask holds the legs' shaded sides, which the skin's colour band misses, but the selfie
        # segmenter's low-resolution outline also spills onto a backdrop of the skin's lightness (grey concrete):
        # measured there, a leg came out wide with pale, grey edges. Its pixels count within a few of skin.
        k = max(3, int(round(0.08 * breadth)) | 1)
        outline = (person_mask > 0.5) & cv2.dilate(skin.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    lower = parse == LABEL["lower_body"]
    img = np.asarray(image, np.float32)
    centres = np.linspace(-1.0, 1.0, CONT_BINS)
    out = legs.copy()
    for side, (mine, along, across) in _per_leg((H, W), lf).items():
        if side not in hems:
            continue
        leg = mine & lower & ~feet & outline

        def band(a0: float, c: float, r: float) -> np.ndarray:
            return leg & (along >= a0) & (along < a0 + CONT_REF) & (np.abs(across - c) < r)  # noqa: B023

        # A first look where the leg is surely bare (the band after the hem's), then the band right below where
        # the old garment ends on the leg's own line (BlazePose's bone runs beside the real leg under a skirt).
        a0 = hems[side] + HEM_BIN
        r0 = float(np.interp(a0, xp, fp)) * breadth
        first = _leg_band(img, band(a0, 0.0, 2.5 * r0), across)
        if first is None:
            continue
        c0, r0m, _ = first
        on_line = old & mine & ~feet & (np.abs(across - c0) < 0.5 * r0m) & (along < a0)
        a_last = float(along[on_line].max()) if on_line.any() else a0 - SEAM_GAP
        a_seam = a_last + SEAM_GAP
        got = _leg_band(img, band(a_seam, c0, 1.5 * r0m), across) or first
        c_m, r_m, prof = got
        scale = float(np.clip(r_m / max(float(np.interp(a_seam + 0.5 * CONT_REF, xp, fp)) * breadth, 1.0), 0.6, 1.6))
        region = mine & (along < a_seam) & (along >= 0.25)   # below the crotch: the pelvis stays the capsules'
        wt = np.clip(1.0 - (a_seam - along) / CONT_FADE, 0.0, 1.0) * region
        r = np.interp(along, xp, fp).astype(np.float32) * breadth * (1.0 + (scale - 1.0) * wt)
        c = c_m * wt
        redraw = region & (wt > 0)
        out = (out & ~redraw) | (redraw & (np.abs(across - c) <= r))
        u = np.clip((across - c) / np.maximum(r, 1.0), -1.0, 1.0)
        col = np.stack([np.interp(u, centres, prof[:, k]) for k in range(3)], -1).astype(np.float32)
        rgb = np.where(redraw[..., None], col, rgb)
        weight = np.where(redraw, wt, weight).astype(np.float32)
        bare |= mine & lower & (along >= a_seam)
        seam |= mine & lower & ~feet & (along >= a_last - SEAM_GAP) & (along < a_seam) & (np.abs(across - c_m) <= r_m)
    if weight.any():
        # The capsules' smooth outline (leg_silhouette): no saw-tooth where the redrawn leg meets the rest.
        out = cv2.GaussianBlur(out.astype(np.float32), (0, 0), max(1.0, 0.02 * breadth)) > 0.5
    return out, rgb, weight, bare, seam
