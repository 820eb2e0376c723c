"""Composition of a lower-body garment: the old bottoms removed, the new one drawn, the top and arms in front.

Layers, back to front (painter's algorithm, soft alphas, as :mod:`tryon.teacher.compose` for tops):

1. base: the photo with the old bottoms removed (:mod:`tryon.teacher.agnostic_lower`): synthesised leg skin
   inside the legs' silhouette (the same machinery as the tops' skin: the person's own skin colour x the light
   measured on the old garment x a cylinder falloff across each leg, joined to the visible skin by a screened
   Poisson seam, with the person's own skin grain; :func:`tryon.teacher.compose.fill_colors`), the backdrop
   continued outside it, with its own texture (:func:`tryon.teacher.compose.backdrop_texture`);
2. the new garment, shaded with the light measured on the old bottoms;
3. in front: the top (``tuck="out"``, the default: worn over the waistband) and the neck, the arms, the hands,
   the face and hair, what hangs beside the legs (a bag the parse calls lower body, away from the legs and not of
   the old bottoms' colours), and the shoes below the ankles (a trouser hem falls over the shoe's collar). With ``tuck="in"`` the garment's waistband is
   drawn over the top.

This is the composition stage of VITON / CP-VTON (a mask choosing warped garment or person) in Dress Code's
lower-body setting (the agnostic person keeps the upper body; Morelli et al., ECCV 2022).
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.person.body import body_frame, leg_frame
from tryon.person.labels import LABEL
from tryon.teacher.agnostic import skin_mask, skin_tone
from tryon.teacher.agnostic_lower import (LEG_TAPER, feet_mask, hem_cuffs, leg_maps, leg_silhouette, legs_to_toes,
                                          old_bottoms_mask)
from tryon.teacher.compose import ARM_RADIUS, ComposeResult, _backdrop_detail, fill_colors, paint_layers
from tryon.teacher.shading import shading_map
from tryon.teacher.skin import drop_textured, old_garment_remnant, old_garment_share, skin_texture, soft_upsample, synthesized_share
from tryon.teacher.warp import WarpResult
from tryon.teacher.warp_lower import hip_breadth

__all__ = ["TUCK", "compose_lower"]

TUCK = ("out", "in")
"""``out``: the top is worn over the bottoms' waistband (drawn in front); ``in``: tucked in (the bottoms'
waistband is drawn over the top)."""

_ARMS_TORSO = (LABEL["left_arm"], LABEL["right_arm"], LABEL["torso"])
_FRONT_ALWAYS = (LABEL["left_arm"], LABEL["right_arm"], LABEL["left_hand"], LABEL["right_hand"], LABEL["face"],
                 LABEL["hair"])


def compose_lower(image: np.ndarray, parse: np.ndarray, keypoints: np.ndarray, warp: WarpResult, *,
                  tuck: str = "out", shading_strength: float = 0.5, work_height: int = 512) -> ComposeResult:
    """Composite a warped lower-body garment onto the person (see the module's text).

    Args:
        image: (H, W, 3) uint8 RGB person photo.
        parse: (H, W) uint8 PARSE_LABELS.
        keypoints: (33, 4) BlazePose keypoints, image pixels.
        warp: :func:`tryon.teacher.warp_lower.warp_lower` at the photo's size.
        tuck: ``"out"`` (the top over the waistband) or ``"in"`` (:data:`TUCK`).
        shading_strength: strength of the shading transferred from the old bottoms (0 disables it).
        work_height: working height of the mask and fill computations (they are smooth or coarse).

    Returns:
        :class:`tryon.teacher.compose.ComposeResult`; ``old_garment`` is the old bottoms, ``skin_synthesized``
        the share of the visible legs' and body's skin that is synthesised, ``old_garment_visible`` the share
        of the old bottoms still shown (plus shown non-skin pixels of their colours).

    Raises:
        ValueError: ``tuck`` is not one of :data:`TUCK`.
    """
    if tuck not in TUCK:
        raise ValueError(f"tuck must be one of {TUCK}, not {tuck!r}")
    H, W = parse.shape
    s = min(1.0, work_height / H)
    h, w = max(8, int(round(H * s))), max(8, int(round(W * s)))
    kp_s = np.asarray(keypoints, np.float32).copy()
    if s < 1.0:
        img_s = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
        parse_s = cv2.resize(parse, (w, h), interpolation=cv2.INTER_NEAREST)
        kp_s[:, 0] = (kp_s[:, 0] + 0.5) * (w / W) - 0.5
        kp_s[:, 1] = (kp_s[:, 1] + 0.5) * (h / H) - 0.5
    else:
        img_s, parse_s = image, parse

    def up(m: np.ndarray) -> np.ndarray:
        m = m.astype(np.float32)
        return m if s >= 1.0 else cv2.resize(m, (W, H), interpolation=cv2.INTER_LINEAR)

    lf = leg_frame(kp_s)
    breadth = hip_breadth(parse_s, lf)
    tone = skin_tone(img_s, parse_s, kp_s)
    # Skin is looked for on the person only (a beige wall or a wooden floor is not the person's skin).
    skin = skin_mask(img_s, tone) & ~np.isin(parse_s, (LABEL["background"], LABEL["hair"]))
    # A knit of a skin-like hue (a pink-red jumper) is fabric, rougher than the face's skin: left in, it would lend
    # the synthesised legs its colours and weave. Dropped on the arms and torso only, as the tops' composition does.
    face_in = cv2.erode((parse_s == LABEL["face"]).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    sw = body_frame(kp_s).sw
    on_top = np.isin(parse_s, _ARMS_TORSO)
    skin &= ~(on_top & ~drop_textured(img_s, skin, face_in & skin, sw))
    # What the knit leaves between its rough stitches are specks and thin stripes; bare arms and a bare midriff
    # are solid, wider than a tenth of the shoulders.
    k_s = max(3, int(round(0.1 * sw)) | 1)
    solid = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, np.ones((k_s, k_s), np.uint8)).astype(bool)
    skin &= solid | ~on_top
    skin = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    feet = feet_mask(parse_s, lf)
    old = old_bottoms_mask(parse_s, skin, feet)
    # Hidden ankles sit too high under wide trousers: the shins below shorts or a skirt go on to the feet.
    dist, along = legs_to_toes(*leg_maps((h, w), lf), lf)
    xp, fp = zip(*LEG_TAPER, strict=True)
    r_leg = np.interp(along, xp, fp).astype(np.float32) * breadth
    # The parse's lower body also holds what hangs beside the legs (a bag, its shadow): old bottoms are what lies
    # round the legs and pelvis, and farther out only what has their colours (a wide skirt's flare and its trim);
    # the rest is kept and drawn in front of the new garment.
    hip_ab = (lf.to_frame(np.stack(np.mgrid[0:h, 0:w][::-1], -1).reshape(-1, 2).astype(np.float64))
                .reshape(h, w, 2))
    round_body = (dist < 1.15 * r_leg) | ((np.abs(hip_ab[..., 0]) < 0.6 * breadth)
                                         & (hip_ab[..., 1] < 0.2 * lf.thigh))
    core, far = old & round_body, old & ~round_body
    if core.sum() > 20 and far.any():
        # The core's palette without its darkest quarter: shaded bare legs the skin test missed put dark
        # colours in it, and a black bag would match them.
        lab = cv2.cvtColor(img_s.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
        lit = core & (lab[..., 0] >= np.percentile(lab[..., 0][core], 25))
        far = old_garment_remnant(img_s, lit, far, tol=8.0)
    old = core | far
    # In front only what is clearly beside the legs (between them lies the backdrop the parse calls lower body).
    beside = (parse_s == LABEL["lower_body"]) & ~old & ~skin & ~feet & ~(dist < 1.8 * r_leg) & \
        ~((np.abs(hip_ab[..., 0]) < 0.6 * breadth) & (hip_ab[..., 1] < 0.2 * lf.thigh))
    # A trouser hem over the shoe goes with the trousers; a shoe of the old garment's colours stays.
    cuff = hem_cuffs(img_s, old, feet, skin, lf)
    feet &= ~cuff
    old |= cuff
    # The parse's coarse torso (the top) swallows the old waistband where they meet: pixels there of the old
    # bottoms' colours are old bottoms, not the top drawn in front.
    k_w = max(3, int(round(0.06 * lf.thigh)) | 1)
    near_lower = cv2.dilate((parse_s == LABEL["lower_body"]).astype(np.uint8), np.ones((k_w, k_w), np.uint8))
    band = (parse_s == LABEL["torso"]) & near_lower.astype(bool) & ~skin
    old |= old_garment_remnant(img_s, old, band, tol=6.0)
    legs = leg_silhouette(parse_s, lf, breadth, dist=dist, along=along)
    # The parse's edges are coarse: the old garment's rim spills into what it calls background.
    k = max(3, int(round(h / 110)) | 1)
    rim = cv2.dilate(old.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    rim &= ((parse_s == LABEL["background"]) | ((parse_s == LABEL["lower_body"]) & ~skin & ~feet)) & ~beside
    front_s = np.isin(parse_s, _FRONT_ALWAYS)
    if tuck == "out":
        front_s |= np.isin(parse_s, (LABEL["torso"], LABEL["neck"]))
    front_s |= beside
    front_s &= ~old
    hole_all = (old | rim) & ~front_s & ~feet
    body = legs | (skin & (parse_s == LABEL["lower_body"]))
    # fill_colors shades a cylinder of radius ARM_RADIUS x sw round "arm_dist": give it the distance to the leg
    # bone rescaled so that the leg's own half-width plays that radius.
    leg_dist = (dist / np.maximum(r_leg, 1.0) * ARM_RADIUS * sw).astype(np.float32)
    # fill_colors solves the skin's seam at a coarse resolution and draws the outline at ``body``'s: its coarse
    # blocks would show as a saw-tooth along long leg outlines. The skin is therefore computed on a grown body
    # and the backdrop without one, and the outline drawn here, anti-aliased at the photo's resolution.
    k_g = max(3, int(round(0.06 * breadth)) | 1)
    grown = cv2.dilate(body.astype(np.uint8), np.ones((k_g, k_g), np.uint8)).astype(bool)
    skin_fill = fill_colors(img_s, hole_all, grown, skin & ~old, tone, leg_dist, parse_s, sw, sleeve=old & legs,
                            old=old)
    bg_fill = fill_colors(img_s, hole_all, body & ~hole_all, skin & ~old, tone, leg_dist, parse_s, sw)
    a_hole = soft_upsample(hole_all, (W, H), ramp_px=2.0)
    body_a = soft_upsample(body, (W, H), sigma=1.5, ramp_px=2.0)

    def full(x: np.ndarray) -> np.ndarray:
        return x if s >= 1.0 else cv2.resize(x, (W, H), interpolation=cv2.INTER_LINEAR)

    fill_full = body_a[..., None] * full(skin_fill) + (1.0 - body_a[..., None]) * full(bg_fill)
    face = parse == LABEL["face"]
    skin_full = soft_upsample(skin & ~hole_all, (W, H)) > 0.5
    tex = skin_texture(image, skin_full & ~face, a_hole > 0.5)
    lum_fill = np.maximum(fill_full.mean(axis=-1, keepdims=True), 8.0)
    # The refilled backdrop (wide old trousers, a long skirt) continues the photo's own backdrop texture.
    fill_full = fill_full * (1.0 + body_a[..., None] * tex[..., None] / lum_fill) \
        + (1.0 - body_a)[..., None] * _backdrop_detail(image, parse, a_hole, body_a, sw / s if s < 1.0 else sw)
    base = image.astype(np.float32) * (1 - a_hole[..., None]) + fill_full * a_hole[..., None]

    if shading_strength > 0 and old.sum() > 50:
        shade = up(shading_map(img_s, old & ~front_s, scale_px=0.5 * breadth, strength=shading_strength))
    else:
        shade = np.ones((H, W), np.float32)
    garment_rgb = warp.warped_garment.astype(np.float32) * shade[..., None]
    front_a = soft_upsample(front_s, (W, H))
    # Trousers' hems fall over the shoe's collar: only the shoe below the ankle is in front of the garment.
    feet_a = soft_upsample(feet & feet_mask(parse_s, lf, above=-0.1), (W, H))
    layers = [(garment_rgb, warp.warped_mask.astype(np.float32)),
              (image, np.maximum(front_a, feet_a))]
    out, vis = paint_layers(base, layers)
    comp = np.clip(vis[0], 0.0, 1.0)
    result = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    result[face] = image[face]

    covered = comp >= 0.5
    hole = (a_hole > 0.5) & ~covered
    body_full = body_a > 0.5
    synth = hole & body_full
    synth_share = synthesized_share(synth, synth | (skin_full & body_full), ~covered)
    old_full = up(old) > 0.5
    comp_s = cv2.resize(comp, (w, h), interpolation=cv2.INTER_AREA) if s < 1.0 else comp
    # What the detection missed but has the old bottoms' colours: lower-body pixels round the legs shown unchanged
    # (not a bag or the backdrop beside them).
    shown_s = (parse_s == LABEL["lower_body"]) & ~hole_all & (comp_s < 0.5) & ~skin & ~feet & ~old & round_body
    remnant = old_garment_remnant(img_s, old, shown_s)
    old_vis = old_garment_share(old_full, a_hole > 0.5, covered) + float(remnant.sum()) / max(float(old.sum()), 1.0)
    return ComposeResult(tryon=result, composition_mask=comp.astype(np.float32), hole=hole, old_garment=old_full,
                         base=np.clip(base + 0.5, 0, 255).astype(np.uint8), skin_synthesized=synth_share,
                         old_garment_visible=min(old_vis, 1.0))
