"""Composition: the layers a shopper sees, back to front, and the removal of the old garment.

Layers (painter's algorithm, each with a soft alpha):

1. base: the person photo with the old garment removed (skin inside the body, background outside);
2. the new garment's torso part (shaded with the photo's lighting);
3. the arms (bare skin as photographed; old sleeves replaced by skin), in front of the torso;
4. the new garment's sleeves, on the arms;
5. hands (only near the wrists), hair (a soft matte connected to the head, see :func:`hair_matte`), face and
   the neck above the neckline.

Where the old garment is not covered by the new one (old long sleeves under a new short sleeve, old collars
above the new neckline, slivers at the edges) the base shows through: inside a tapered arm / torso silhouette
it is synthesised skin (tryon.teacher.skin: the person's skin colour x the light measured on the old garment
x a falloff across arms and torso, the key light's side and the chin's shadow, their gains fitted on the
person's visible skin, x the old sleeve's normalised low-frequency luminance x the contact shadow of the new
garment's edges, joined to the visible skin by a screened Poisson seam, with the person's own skin grain),
below the hips the lower
garment continued, outside the backdrop (normalised convolution, with the backdrop's own texture copied from
beside it: :func:`backdrop_texture`); on request the skin
part by the learned refiner (tryon.teacher.refine). The old garment includes collars the parse calls face or
hair (:func:`_collar`), sleeves of skin-hued knits (texture and majority tests), their cuffs the parse calls
hand (:func:`_old_cuffs`), rib cuffs round the wrist the parse calls trousers (:func:`_wrist_cuffs`), an open
outer layer's parts the parse calls backdrop or hair (a parka's flap beside the hip, a jacket draped over the
shoulders: :func:`_outer_layer`) and the patches the old garment, or the hole with its rim, encloses
(:func:`_enclosed_patches`). Below the new top's hem, the old garment that is the garment worn on the thighs (a
dress or kurta under the top, the trousers' waistband under a long old top) stays as photographed
(:func:`_kept_below_hem`). The bare skin's anti-aliased outline against the backdrop, and the parse's slack of
backdrop colour beyond it, are not old garment (:func:`_skin_outline`): they stay as photographed. Masks computed
at the working resolution are upsampled anti-aliased
(tryon.teacher.skin.soft_upsample). This follows the composition stage of VITON / CP-VTON (a mask selecting
warped garment vs rendered person), made explicit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from tryon.person.labels import LABEL
from tryon.teacher.agnostic import (BodyMaps, arm_front_mask, arm_labels, arm_marks, body_maps,
                                    drop_garment_coloured, old_garment_mask, skin_mask, skin_tone)
from tryon.teacher.shading import shading_map
from tryon.teacher.skin import (contact_shadow, drop_textured, fit_skin_shading, garment_light, old_garment_remnant,
                                old_garment_share, screened_poisson, skin_albedo, skin_texture, skin_tone_gap,
                                soft_upsample, synthesized_share)
from tryon.person.body import KP, BodyFrame, body_frame
from tryon.teacher.warp import PART_TORSO, WarpResult

__all__ = ["paint_layers", "body_region", "neck_column", "neck_profile", "NECK_FACE", "arm_silhouette", "arm_radius",
           "centred_arm_keypoints", "fill_colors", "backdrop_texture", "hair_matte", "compose", "ComposeResult"]

log = logging.getLogger(__name__)

_ARMS = (LABEL["left_arm"], LABEL["right_arm"])
_HANDS = (LABEL["left_hand"], LABEL["right_hand"])

ARM_RADIUS = 0.125
"""Typical half-width of a bare arm, as a fraction of the shoulder width (for the cylinder shading)."""

WIDE_SKIN = 1.5
"""How far from an arm's bones, in :data:`ARM_RADIUS`, "skin" on the parse's arm lies beyond a bare arm (the gate's
``wide_arm_skin``, :attr:`ComposeResult.wide_arm_skin`)."""

SKIN_SHADING_PRIOR = {"arm": (-0.55, -0.9, -0.15), "torso": (-0.16, -0.4, -0.05), "side": (0.0, -0.25, 0.25),
                      "chin": (-0.12, -0.35, 0.0), "neck": (-0.22, -0.45, -0.05)}
"""Synthesised skin's shading gains (log luminance where the feature is 1: the arm's outline, the torso's sides,
the body's left edge in the image against its right, right under the chin, the neck's sides) as (prior, lowest,
highest), for :func:`tryon.teacher.skin.fit_skin_shading`. The arm's is a lit cylinder's (its feature is
Lambertian, 1 - sqrt(1 - q²) across it: x0.93 halfway out, x0.8 at 0.8 of the way, x0.58 at the outline); the
torso's is the fixed falloff used before the fit (x0.85); the chin's is a mild shadow; the side's is none (a light
from the front); the neck's is x0.8 at its sides."""

CHEST_BOX = (0.3, 0.0, 0.8)
"""The chest in the body frame, in shoulder widths: half-width across the centre line, then its top and bottom
down from the shoulder line (the neckline's reach: collarbones to below the bust)."""

GARMENT_SHADOW = (0.035, 0.22)
"""Contact shadow the new garment's edges cast on synthesised skin (:func:`tryon.teacher.skin.contact_shadow`):
decay length in shoulder widths, darkening at the edge."""

ARM_TAPER = ((0.0, 0.135), (1.0, 0.105), (2.0, 0.075))
"""Largest half-width of a bare arm along it (position 0 shoulder joint, 1 elbow, 2 wrist) as a fraction of the
shoulder width (anthropometric upper-arm, elbow and wrist half-widths): old sleeve fabric farther from the bone
(loose and puffy sleeves) is refilled as background."""


def arm_silhouette(parse: np.ndarray, skin: np.ndarray, maps: BodyMaps) -> np.ndarray:
    """(H, W) bool: the bare arms under the old sleeves.

    A tapered capsule around the arm bones (upper arm wider than the wrist, table :data:`ARM_TAPER`), trimmed
    where the parse's (slightly grown) arm outline is clearly narrower (a tight sleeve's outline is the arm's);
    the capsule's inner 70 % is always arm (coarse parses lose thin forearms); the outline is smoothed.

    Args:
        parse: (H, W) uint8 PARSE_LABELS.
        skin: (H, W) bool visible skin.
        maps: :class:`tryon.teacher.agnostic.BodyMaps` with ``arm_coord``.
    """
    sw = maps.sw
    r = arm_radius(parse, skin, maps)
    outer = maps.arm_dist < r
    inner = maps.arm_dist < 0.7 * r
    # The parse is coarse (stride 16): it only trims the capsule where it is clearly narrower.
    k = max(3, int(round(0.05 * sw)) | 1)
    parse_arm = cv2.dilate((arm_labels(parse) | skin | np.isin(parse, _HANDS)).astype(np.uint8),
                           np.ones((k, k), np.uint8)).astype(bool)
    sil = (inner | (outer & parse_arm)).astype(np.float32)
    # Smooth outline: no stair steps from the parse's blocks.
    return cv2.GaussianBlur(sil, (0, 0), max(1.0, 0.02 * sw)) > 0.5


ARM_CENTRE_SHIFT = 0.08
"""Largest move of an elbow or wrist keypoint onto the middle of the bare arm photographed around it, in shoulder
widths (:func:`centred_arm_keypoints`)."""


def centred_arm_keypoints(parse: np.ndarray, skin: np.ndarray, keypoints: np.ndarray, sw: float) -> np.ndarray:
    """(33, 4) float32: ``keypoints`` with each elbow and wrist moved across its limb onto the middle of the bare
    arm photographed there, for the arm refilled under a removed sleeve.

    BlazePose puts an elbow or wrist anywhere within the limb's breadth (the joint's centre is hidden; on a
    hanging arm it often sits at the inner edge). The refilled arm is a capsule round the bones, so an off-centre
    bone left a step where the bare forearm below an old short sleeve met the refilled upper arm: the fill a
    fifth of the arm's breadth narrower on the outside, wider on the inside (the fifteenth first user's blonde in
    a red tee). Across a band just above each joint on its incoming bone (shoulder to elbow, elbow to wrist), the
    run of the parse's bare arm skin round the bone is taken as the limb when both its edges are seen (neither
    reaching 0.3 shoulder widths from the bone, where a bare torso or the other arm would join it) and its
    breadth is an arm's (0.1-0.32 shoulder widths); the joint moves to the run's middle, by at most
    :data:`ARM_CENTRE_SHIFT`. Nothing moves where the arm is clothed, hidden or joined to other skin.

    Args:
        parse: (H, W) uint8 PARSE_LABELS.
        skin: (H, W) bool visible skin.
        keypoints: (33, 4) BlazePose keypoints (x_px, y_px, z, visibility) in the same pixels.
        sw: shoulder width, pixels.
    """
    kp = np.asarray(keypoints, np.float32).copy()
    bare = skin & arm_labels(parse)
    ys, xs = np.nonzero(bare)
    if len(xs) < 20:
        return kp
    pts = np.stack([xs, ys], 1).astype(np.float32)
    reach, band = 0.3 * sw, 0.06 * sw
    for side in ("left", "right"):
        for prev, joint in (("shoulder", "elbow"), ("elbow", "wrist")):
            p, j = kp[KP[f"{side}_{prev}"], :2], kp[KP[f"{side}_{joint}"], :2]
            d = j - p
            n_d = float(np.hypot(*d))
            if n_d < 0.2 * sw:
                continue
            d = d / n_d
            along = (pts - j) @ d
            across = (pts - j) @ np.array([-d[1], d[0]], np.float32)
            sel = (along > -band) & (along <= 0.0) & (np.abs(across) < reach)
            if sel.sum() < 10:
                continue
            # Columns across the limb (1-px bins) where most of the band's rows are bare skin.
            edges = np.arange(-reach, reach + 1.0)
            counts, _ = np.histogram(across[sel], bins=edges)
            run = counts >= 0.5 * band
            centre = int(np.argmin(np.abs(edges[:-1] + 0.5)))
            hits = np.nonzero(run)[0]
            if not len(hits):
                continue
            start = hits[np.argmin(np.abs(hits - centre))]
            if abs(start - centre) > 0.1 * sw:
                continue
            lo, hi = start, start
            while lo > 0 and run[lo - 1]:
                lo -= 1
            while hi < len(run) - 1 and run[hi + 1]:
                hi += 1
            if lo == 0 or hi == len(run) - 1 or not (0.1 * sw <= hi - lo + 1 <= 0.32 * sw):
                continue
            mid = 0.5 * (edges[lo] + edges[hi + 1])
            shift = float(np.clip(mid, -ARM_CENTRE_SHIFT * sw, ARM_CENTRE_SHIFT * sw))
            kp[KP[f"{side}_{joint}"], :2] = j + shift * np.array([-d[1], d[0]], np.float32)
    return kp


def arm_radius(parse: np.ndarray, skin: np.ndarray, maps: BodyMaps) -> np.ndarray:
    """(H, W) float32 pixels: the bare arm's half-width at the nearest arm bone point, :data:`ARM_TAPER` along
    the arm times this person's measured width (:func:`_arm_width_scale`); :data:`ARM_RADIUS` shoulder widths
    without arm coordinates. Arguments as :func:`arm_silhouette`."""
    sw = maps.sw
    if maps.arm_coord is None:
        return np.full(parse.shape, ARM_RADIUS * sw, np.float32)
    xp, fp = zip(*ARM_TAPER, strict=True)
    r = np.interp(maps.arm_coord["nearest"], xp, fp).astype(np.float32) * sw
    return r * _arm_width_scale(parse, skin, maps, r)


def _arm_width_scale(parse: np.ndarray, skin: np.ndarray, maps: BodyMaps, r: np.ndarray) -> np.ndarray:
    """(H, W) float32: per arm, how much wider or narrower this person's bare arm is than :data:`ARM_TAPER`.

    Measured on the arm's visible bare skin (a forearm below a short sleeve): its pixels' distances to the
    bone, relative to the table's half-width there, have their 90th percentile at about 0.9 for an arm of the
    table's width (distances across a limb are roughly uniform). Clipped to [0.7, 1.05] (keypoints off the
    bone's centre widen the measure); 1 where too little skin is seen. A slim arm under a boxy sleeve is thus
    refilled at its own width, without a step where the sleeve's hem met the photographed forearm.
    """
    scale = np.ones(parse.shape, np.float32)
    is_right = maps.arm_coord["nearest_is_right"] > 0.5
    bare = skin & arm_labels(parse) & (maps.arm_dist < 0.25 * maps.sw) & (maps.arm_coord["nearest"] > 0.4)
    for mine in (~is_right, is_right):
        q = maps.arm_dist[bare & mine] / np.maximum(r[bare & mine], 1e-3)
        if q.size < max(30, 0.01 * maps.sw ** 2):
            continue
        scale[mine] = float(np.clip(np.percentile(q, 90) / 0.9, 0.7, 1.05))
    return scale


def _arm_crease(arm_sil: np.ndarray, body: np.ndarray, sw: float) -> np.ndarray:
    """(H, W) float32 multiplier <= 1: a soft contact shadow where a refilled arm meets the refilled torso.

    Without it a bare arm held against the body and the torso's side merge into one flat block of skin (it
    reads as painted); the arm occludes the ambient light there, as in ambient-occlusion shading. Gaussian in
    the distance to the arm / body boundary (0.025 shoulder widths), at most 22 % darker, stronger on the
    torso's side; nothing where the arm borders the backdrop.
    """
    rest = body & ~arm_sil
    if not arm_sil.any() or not rest.any():
        return np.ones(body.shape, np.float32)
    k = np.ones((3, 3), np.uint8)
    bnd = (arm_sil & cv2.dilate(rest.astype(np.uint8), k).astype(bool)) | \
        (rest & cv2.dilate(arm_sil.astype(np.uint8), k).astype(bool))
    if not bnd.any():
        return np.ones(body.shape, np.float32)
    d = cv2.distanceTransform((~bnd).astype(np.uint8), cv2.DIST_L2, 3)
    sig = max(1.0, 0.025 * sw)
    depth = np.where(arm_sil, 0.12, 0.22).astype(np.float32)
    return (1.0 - depth * np.exp(-(d / sig) ** 2) * body).astype(np.float32)


def paint_layers(base: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Painter's algorithm: composite ``layers`` (back to front) over ``base``.

    Args:
        base: (H, W, 3) image (uint8 or float).
        layers: list of (rgb (H, W, 3), alpha (H, W) float in [0, 1]), back to front.

    Returns:
        (image (H, W, 3) float32, visibility): visibility[i] (H, W) float32 is how much of layer i shows in
        the result, alpha_i × Π_{j > i} (1 - alpha_j).
    """
    out = base.astype(np.float32)  # a copy
    for rgb, a in layers:
        # Only the layer's bounding box is touched (layers are small parts of the photo).
        x, y, w, h = cv2.boundingRect((a > 0).astype(np.uint8))
        if w == 0 or h == 0:
            continue
        sl = (slice(y, y + h), slice(x, x + w))
        a3 = a[sl].astype(np.float32)[..., None]
        o = out[sl]
        o += (rgb[sl].astype(np.float32) - o) * a3
    vis = []
    cover = np.zeros(base.shape[:2], np.float32)
    for _, a in reversed(layers):
        a = a.astype(np.float32)
        vis.append(a * (1.0 - cover))
        cover += a * (1.0 - cover)
    return out, vis[::-1]


def body_region(parse: np.ndarray, frame: BodyFrame, skin: np.ndarray, maps: BodyMaps,
                keypoints: np.ndarray | None = None) -> np.ndarray:
    """(H, W) bool: where the body is under the clothes, for deciding skin vs background fill.

    The torso is a polygon through points just inside the shoulders and around the hips; arms are
    :func:`arm_silhouette`; the neck is a band above the shoulder line, as wide as the visible bare neck
    and at most 0.3 shoulder widths (anthropometric neck / biacromial breadth); visible skin (not what the parse
    calls backdrop), neck, face, hands and lower body are added.

    Args:
        parse: (H, W) uint8 PARSE_LABELS.
        frame: the person's :class:`BodyFrame` in the same pixels.
        skin: (H, W) bool visible-skin mask.
        maps: :class:`tryon.teacher.agnostic.BodyMaps` of the same size.
        keypoints: optional (33, 4) BlazePose keypoints in the same pixels: the wrist is continued to the
            hand's centre (between the index and pinky knuckles), so a cuff removed at the wrist is refilled
            with skin, not backdrop, even when the wrist keypoint sits a little high.
    """
    H, W = parse.shape
    sw = frame.sw
    kp = frame.kp
    poly = np.array([frame.to_img(-0.44 * sw, -0.05 * sw), frame.to_img(0.44 * sw, -0.05 * sw),
                     kp["left_hip"] + frame.u * 0.18 * sw, kp["right_hip"] - frame.u * 0.18 * sw])
    body = np.zeros((H, W), np.uint8)
    cv2.fillConvexPoly(body, np.round(poly * 16).astype(np.int32), 1, shift=4)
    # Shoulder caps: the shoulder's top rises from the joint (about 0.1 shoulder widths below the skin's
    # outline) to the neck's base; the polygon's flat top would leave backdrop between a bare arm and a strap.
    for name in ("left_shoulder", "right_shoulder"):
        p = np.asarray(kp[name], np.float64)
        a_p, b_p = frame.to_frame(p)
        q = frame.to_img(np.sign(a_p) * 0.15 * sw, b_p - 0.12 * sw)
        cv2.line(body, tuple(int(round(v)) for v in q), tuple(int(round(v)) for v in p), 1,
                 thickness=max(1, int(round(0.2 * sw))))
    body = body.astype(bool) | arm_silhouette(parse, skin, maps)
    # The neck (a high collar hides it).
    body |= neck_column(parse, frame, skin, maps, keypoints)
    # (Skin-coloured pixels the parse calls backdrop are a peach or beige wall, not the body: a strip of it
    # at the old sleeve's outline would be refilled as skin, a ghost of the old sleeve beside the arm.)
    body |= (skin & (parse != LABEL["background"])) | \
        np.isin(parse, (LABEL["neck"], LABEL["face"], LABEL["lower_body"]) + _HANDS)
    if keypoints is not None:
        kp = np.asarray(keypoints, np.float32)
        wrists = np.zeros((H, W), np.uint8)
        th = max(1, int(round(2 * ARM_TAPER[-1][1] * sw)))
        for wi, pi, ii in ((15, 17, 19), (16, 18, 20)):     # BlazePose wrist, pinky, index (left, right)
            hand = 0.5 * (kp[pi, :2] + kp[ii, :2])
            cv2.line(wrists, tuple(int(round(v)) for v in kp[wi, :2]), tuple(int(round(v)) for v in hand), 1,
                     thickness=th)
        body |= wrists.astype(bool)
    return body


NECK_FACE = 0.75
"""Largest neck breadth over the face's breadth at the mouth's height (the parse's face label across the cheeks),
for :func:`neck_column`. On wild-dev persons the face's half-breadth there is 0.20-0.23 shoulder widths and the
neck's 0.15 at most (the anthropometric cap), a ratio of about 0.75. A neck as wide as the face reads as a block
under the chin."""


def _neck_axis(parse: np.ndarray, frame: BodyFrame, skin: np.ndarray, maps: BodyMaps,
               keypoints: np.ndarray | None) -> tuple[np.ndarray, float, float]:
    """The neck column's axis (H, W) float32 (its ``a`` at each pixel's ``b``), half-width and top ``b``
    (pixels; see :func:`neck_column`)."""
    sw = frame.sw
    half = 0.15 * sw
    neck_px = skin & (parse == LABEL["neck"]) & (maps.b > -0.3 * sw) & (maps.b < 0.0)
    if neck_px.sum() > 20:
        half = float(np.clip(1.05 * np.percentile(np.abs(maps.a[neck_px]), 95), 0.1 * sw, 0.15 * sw))
    top, a_top = -0.45 * sw, 0.0
    face = parse == LABEL["face"]
    if keypoints is not None and face.sum() >= 30:
        kp = np.asarray(keypoints, np.float32)
        _, b_m = frame.to_frame(0.5 * (kp[KP["mouth_left"], :2] + kp[KP["mouth_right"], :2]))
        row = face & (np.abs(maps.b - b_m) < 0.03 * sw)
        if row.sum() >= 3 and -0.8 * sw < b_m < -0.2 * sw:
            fa = maps.a[row]
            half = min(half, NECK_FACE * 0.5 * float(fa.max() - fa.min()))
            top, a_top = float(b_m), 0.5 * float(fa.max() + fa.min())
    return (a_top * np.clip(maps.b / top, 0.0, 1.0)).astype(np.float32), half, top


def neck_column(parse: np.ndarray, frame: BodyFrame, skin: np.ndarray, maps: BodyMaps,
                keypoints: np.ndarray | None = None) -> np.ndarray:
    """(H, W) bool: the neck under a high collar, a column from the shoulder line up under the face.

    The column's half-width is the visible neck's where the parse sees bare neck (a collar on one side leaves
    the other: 95th percentile of its distance from the centre line), between 0.1 and 0.15 shoulder widths
    (anthropometric neck breadth over biacromial breadth, about 0.3), and at most :data:`NECK_FACE` of the
    face's half-width at the mouth. Its axis runs from between the shoulders to the face's centre at the
    mouth's height (a head turned or tilted carries the neck with it), and it ends there, under the face: a
    column reaching above the jaw's corners, or wider than the jaw, left square skin corners beside the chin
    where the old collar stood. Without a face (or mouth keypoints) the column is upright and ends 0.45
    shoulder widths above the shoulder line, as before.

    Args:
        parse: (H, W) uint8 PARSE_LABELS.
        frame: the person's :class:`BodyFrame` in the same pixels.
        skin: (H, W) bool visible-skin mask.
        maps: :class:`tryon.teacher.agnostic.BodyMaps` of the same size.
        keypoints: (33, 4) BlazePose keypoints in the same pixels, or None.

    Returns:
        (H, W) bool column, in frame coordinates ``|a - axis(b)| < half`` for ``top < b < 0.1 sw``.
    """
    axis, half, top = _neck_axis(parse, frame, skin, maps, keypoints)
    return (np.abs(maps.a - axis) < half) & (maps.b > top) & (maps.b < 0.1 * frame.sw)


def neck_profile(parse: np.ndarray, frame: BodyFrame, skin: np.ndarray, maps: BodyMaps,
                 keypoints: np.ndarray | None = None) -> np.ndarray:
    """(H, W) float32 in [0, 1]: the neck's cylinder falloff, for shading synthesised skin.

    0 on the axis of :func:`neck_column` and up to 0.3 of its half-width out, rising by a smoothstep to 1 at
    its sides (the arm cylinder's profile) and back to 0 over the next 0.3 half-widths (no step where the
    neck's skin meets the shoulders' beside it); from 0.2 shoulder widths above the shoulder line, fading to 0
    at 0.1 above it, where the neck widens into the shoulders. A filled neck without it was one flat tone from
    side to side.

    Args: as :func:`neck_column`.
    """
    axis, half, top = _neck_axis(parse, frame, skin, maps, keypoints)
    q = np.abs(maps.a - axis) / max(half, 1.0)
    t = np.clip((q - 0.3) / 0.7, 0.0, 1.0)
    prof = np.where(q < 1.0, t * t * (3.0 - 2.0 * t), np.clip(1.0 - (q - 1.0) / 0.3, 0.0, 1.0))
    fade = np.clip((-maps.b - 0.1 * frame.sw) / (0.1 * frame.sw), 0.0, 1.0) * (maps.b > top)
    return (prof * fade).astype(np.float32)


def fill_colors(image: np.ndarray, hole: np.ndarray, body: np.ndarray, skin: np.ndarray, tone: np.ndarray,
                arm_dist: np.ndarray, parse: np.ndarray, sw: float, sleeve: np.ndarray | None = None,
                lower: np.ndarray | None = None, old: np.ndarray | None = None,
                across: np.ndarray | None = None, neck: np.ndarray | None = None,
                arm_r: np.ndarray | None = None) -> np.ndarray:
    """Classical fill colours for the old garment: synthesised skin inside the body, local background outside.

    Skin is the person's own skin colour (:func:`tryon.teacher.skin.skin_albedo`) times the photo's lighting
    measured on the old garment (:func:`tryon.teacher.skin.garment_light`) times the body's form (a cylinder
    across each arm and across the neck, a milder falloff across the torso, the key light's side, the chin's
    shadow; each gain fitted on the person's visible skin by :func:`tryon.teacher.skin.fit_skin_shading` with
    :data:`SKIN_SHADING_PRIOR` as its prior), matched seamlessly to the visible skin around the hole by
    a screened Poisson correction (:func:`tryon.teacher.skin.screened_poisson`); never one flat tone. The
    background is a normalised convolution of the nearby backdrop. Meant to run at a reduced resolution (the
    result is smooth) and be upsampled; texture is added at full resolution by :func:`compose`.

    Args:
        image: (h, w, 3) uint8 RGB.
        hole: (h, w) bool pixels to replace (excluded from the colour sources).
        body: (h, w) bool body region (skin inside, background outside).
        skin: (h, w) bool visible skin (the skin colour source).
        tone: (3,) RGB skin tone, used where no skin is nearby.
        arm_dist: (h, w) distance to the nearest arm bone, pixels.
        parse: (h, w) PARSE_LABELS (background source = label 0).
        sw: shoulder width, pixels (at this resolution).
        sleeve: (h, w) bool the old sleeves (their low-frequency relative luminance shades the bare arm that
            replaces them: the light and the arm's roundness as photographed), or None.
        lower: (h, w) bool where the body under the old garment is the lower garment's waist (a long top
            over trousers or a skirt): filled with the lower garment's local colour instead of skin, or None.
        old: (h, w) bool the old garment (its luminance gives the light on the skin), or None (no lighting).
        across: (h, w) float32 coordinate across the body, pixels, 0 on the body's centre line (torso
            roundness), or None.
        neck: (h, w) float32 the neck's cylinder falloff in [0, 1] (:func:`neck_profile`), or None.
        arm_r: (h, w) float32 the bare arm's half-width at the nearest bone point, pixels (:func:`arm_radius`), or
            None (:data:`ARM_RADIUS` shoulder widths everywhere).

    Returns:
        (h, w, 3) float32 RGB fill colour for every pixel.
    """
    H, W = hole.shape
    body_full, sw_full = body, sw
    # Everything here is smooth: work at <= 192 px height, upsample at the end.
    f = min(1.0, 192.0 / H)
    if f < 1.0:
        h, w = max(8, int(round(H * f))), max(8, int(round(W * f)))

        def dn(m: np.ndarray) -> np.ndarray:
            return cv2.resize(m.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)

        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
        hole = cv2.resize(hole.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0.01
        body, skin, parse = dn(body).astype(bool), dn(skin).astype(bool), dn(parse)
        if sleeve is not None:
            sleeve = cv2.resize(sleeve.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0.5
        if lower is not None:
            lower = cv2.resize(lower.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        if old is not None:
            old = cv2.resize(old.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0.5
        if across is not None:
            across = cv2.resize(across, (w, h), interpolation=cv2.INTER_LINEAR) * f
        if neck is not None:
            neck = cv2.resize(neck, (w, h), interpolation=cv2.INTER_LINEAR)
        arm_dist = cv2.resize(arm_dist, (w, h), interpolation=cv2.INTER_LINEAR) * f
        if arm_r is not None:
            arm_r = cv2.resize(arm_r, (w, h), interpolation=cv2.INTER_LINEAR) * f
        sw = sw * f
    img = image.astype(np.float32)

    def nconv(m: np.ndarray, sigma: float, fallback: np.ndarray) -> np.ndarray:
        m = m.astype(np.float32)
        num = cv2.GaussianBlur(img * m[..., None], (0, 0), sigma)
        den = cv2.GaussianBlur(m, (0, 0), sigma)[..., None]
        eps = 1e-3
        return (num + fallback * eps) / (den + eps)

    tone = np.asarray(tone, np.float32)
    # Skin-coloured pixels the parse calls backdrop (a peach or beige wall, a wooden fence) are not the
    # person's skin: as colour source or Poisson boundary they paint the arms the backdrop's pale colour.
    skin_src = skin & ~hole & ~np.isin(parse, (LABEL["hair"], LABEL["background"]))
    albedo = skin_albedo(img, skin_src, parse == LABEL["face"], tone)
    bg_src = (parse == LABEL["background"]) & ~hole & ~body
    light = np.full(3, 235.0, np.float32)
    bg_near = nconv(bg_src, max(2.0, 0.1 * sw), light)
    bg_far = nconv(bg_src, max(4.0, 0.6 * sw), light)
    wb = np.clip(cv2.GaussianBlur(bg_src.astype(np.float32), (0, 0), max(2.0, 0.1 * sw)) * 6, 0, 1)[..., None]
    bg_col = wb * bg_near + (1 - wb) * bg_far
    # Seamless backdrop: the smooth estimate is matched to the backdrop around the hole by a (nearly unscreened)
    # Poisson membrane, which continues gradients (a lit wall, a vignette) without a seam at the old outline.
    near_hole_bg = bg_src & cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if near_hole_bg.any():
        bg_corr = screened_poisson(np.where(near_hole_bg[..., None], img - bg_col, 0.0).astype(np.float32), hole,
                                   near_hole_bg, decay_px=max(4.0, 1.0 * sw))
        bg_col = bg_col + bg_corr
    # Cylinder shading across the arm: darker towards the silhouette edges.
    r = np.maximum(arm_r, 1.0) if arm_r is not None else ARM_RADIUS * sw
    # (An arm filled wider than its model, at a cuff, is arm up to its outline; the torso is wider still.)
    d_edge = cv2.distanceTransform(body.astype(np.uint8), cv2.DIST_L2, 3)
    on_arm = (arm_dist < 1.6 * r) | (body & (arm_dist + d_edge < 2.0 * r))
    sl_w = np.zeros(hole.shape, np.float32)
    sl_shade = np.ones(hole.shape, np.float32)
    if sleeve is not None and sleeve.sum() > 20:
        # The old sleeve's relative luminance at a low frequency (its light falloff and big folds, not its
        # weave), normalised by its own mean at the arm's scale; the offset keeps dark fabrics' noise down.
        lum = cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
        lum3 = lum[..., None]
        small = _nconv(lum3, sleeve, max(1.0, 0.04 * sw), np.array([0.5], np.float32))[..., 0]
        large = _nconv(lum3, sleeve, max(2.0, 0.3 * sw), np.array([0.5], np.float32))[..., 0]
        ratio = (small + 0.12) / (large + 0.12)
        # (Highlights are clamped harder: a brightened arm next to a light backdrop reads as faded.)
        # Dark fabrics' luminance is mostly sheen and weave, not the arm's shading: trust it less.
        k_sl = 0.7 * float(np.clip((np.median(lum[sleeve]) - 0.06) / 0.2, 0.2, 1.0))
        sl_shade = np.clip(1.0 + k_sl * (ratio - 1.0), 0.82, 1.05)
        sl_w = np.clip(cv2.GaussianBlur(sleeve.astype(np.float32), (0, 0), max(1.0, 0.04 * sw)) * 3, 0, 1)
    # Where the arm is: 0 on the bone, 1 at the outline it is filled to (a cuff's fill joins the hand and the
    # wrist is wider than any capsule there: measured against a radius, its sides were darkened as a ring);
    # beyond it, back to neutral over the next 0.6 radii (no step where the parse's arm meets its torso: the
    # crease between arm and body keeps a soft shadow).
    q = np.where(body, arm_dist / np.maximum(arm_dist + d_edge, 1.0), arm_dist / r)
    # Lambertian: a cylinder lit from the front darkens as the cosine of its surface's slope, 1 - sqrt(1 - q²) the
    # feature (before, a smoothstep from half the radius: a flat middle and a thin dark rim read as a slab).
    prof = np.where(q < 1.0, 1.0 - np.sqrt(np.clip(1.0 - q * q, 0.0, 1.0)), np.clip(1.0 - (q - 1.0) / 0.6, 0.0, 1.0))
    # The gains of the body's shading are the person's own, fitted on their visible skin (arms, neck, chest)
    # as functions of the same geometry; the priors hold where little skin is seen (SKIN_SHADING_PRIOR).
    feats = {"arm": np.where(on_arm, prof, 0.0).astype(np.float32)}
    if across is not None:
        feats["torso"] = np.where(on_arm, 0.0, np.clip(np.abs(across) / (0.55 * sw), 0.0, 1.0) ** 2
                                  ).astype(np.float32)
        # The key light's side: one side of the body brighter than the other (read on both arms' skin).
        feats["side"] = (0.5 + 0.5 * np.clip(across / (0.55 * sw), -1.0, 1.0)).astype(np.float32)
    face_px = parse == LABEL["face"]
    if face_px.sum() >= 10:
        # The chin's shadow on the neck and the top of the chest: below the face, fading over ~0.12 sw.
        d_face = cv2.distanceTransform((~face_px).astype(np.uint8), cv2.DIST_L2, 5)
        below = np.arange(hole.shape[0])[:, None] > np.nonzero(face_px)[0].mean()
        feats["chin"] = np.where(below & ~on_arm, np.exp(-d_face / max(1.0, 0.12 * sw)), 0.0).astype(np.float32)
    if neck is not None and np.any(neck > 0):
        # The neck's own cylinder: darker towards its sides (a filled neck was one flat tone across).
        feats["neck"] = np.where(on_arm, 0.0, neck).astype(np.float32)
    fit_px = skin_src & ~face_px & ~np.isin(parse, _HANDS)
    gains = fit_skin_shading(img, albedo, fit_px, feats, SKIN_SHADING_PRIOR)
    cyl = np.exp(gains["arm"] * (1.0 - 0.3 * sl_w) * prof)
    cyl = cyl * (1.0 + (sl_shade - 1.0) * sl_w)
    shade = np.where(on_arm, cyl, 1.0)
    if "torso" in feats:
        # The torso's roundness: light falls off towards its sides.
        shade = shade * np.exp(gains["torso"] * feats["torso"])
    if "side" in feats:
        # Centred: the albedo is the skin's lit colour on either side, the gradient is what matters.
        shade = shade * np.exp(gains["side"] * (feats["side"] - 0.5))
    if "chin" in feats:
        shade = shade * np.exp(gains["chin"] * feats["chin"])
    if "neck" in feats:
        shade = shade * np.exp(gains["neck"] * feats["neck"])
    if old is not None:
        shade = shade * garment_light(np.clip(image, 0, 255).astype(np.uint8), old & ~skin, sw)
    model = albedo * shade[..., None]
    # Seamless: the model is matched to the visible skin around the hole (screened Poisson), the match fading
    # a quarter shoulder width into the hole. Only skin next to the hole is a boundary condition.
    # The boundary is the skin one pixel off the hole: the ring touching it mixes the skin with the old
    # garment's edge and the shadow it casts, and a collar's dark rim on the chin pulled a whole neck dark.
    # (Skin far darker than the model is still a boundary: a neck in shadow beside the hole must not get a
    # lighter patch.)
    k3 = np.ones((3, 3), np.uint8)
    near_hole = cv2.dilate(hole.astype(np.uint8), k3).astype(bool)
    ring = near_hole & ~hole & skin_src
    known = skin_src & cv2.dilate(near_hole.astype(np.uint8), k3).astype(bool) & ~near_hole
    corr = screened_poisson(np.where(known[..., None], img - model, 0.0).astype(np.float32), (hole | ring) & body,
                            known, decay_px=max(2.0, 0.25 * sw))
    corr = np.where(known[..., None], img - model, corr)
    skin_col = (model + corr).astype(np.float32)
    if lower is not None and np.any(lower > 0):
        lo_src = (parse == LABEL["lower_body"]) & ~hole
        if lo_src.sum() > 20:
            lo_col = nconv(lo_src, max(2.0, 0.1 * sw), nconv(lo_src, max(4.0, 0.5 * sw), tone))
            wl = np.clip(np.asarray(lower, np.float32), 0, 1)[..., None]
            skin_col = wl * lo_col + (1 - wl) * skin_col
    bg_col = bg_col.astype(np.float32)
    if f < 1.0:
        skin_col = cv2.resize(skin_col, (W, H), interpolation=cv2.INTER_LINEAR)
        bg_col = cv2.resize(bg_col, (W, H), interpolation=cv2.INTER_LINEAR)
    # The silhouette between skin and background is drawn at the input's resolution (the colours are smooth,
    # the outline must not be): a slightly soft edge, as a photographed arm has.
    soft = cv2.GaussianBlur(body_full.astype(np.float32), (0, 0), max(0.6, 0.004 * sw_full))[..., None]
    return (soft * skin_col + (1.0 - soft) * bg_col).astype(np.float32)


BODY_SPECK = 0.01
"""Largest island of the body region lying wholly inside the hole that :func:`_drop_body_specks` removes, in
squared shoulder widths."""


LOWER_TAIL = 0.1
"""How far below the hip line, in shoulder widths, the old top's hem must reach on the body's centre for the hole
under it to continue the trousers or skirt (:func:`_covers_the_waist`)."""


def _covers_the_waist(old: np.ndarray, maps: BodyMaps, hip_b: float, half_hips: float) -> bool:
    """True when the old top hangs over the lower garment's waist: its hem on the body's centre (the 98th
    percentile of the body-frame coordinate down the body over the old garment within the hips) lies at least
    :data:`LOWER_TAIL` below the hip line. A top ending at the waistband (a tee over jeans) shows where the
    trousers begin: under a shorter new top that is the midriff, and continuing the jeans' colour up from their
    waistband painted a dark blurred band on it (the fifteenth first user's blonde in a red tee under a
    child's tank top)."""
    centre = old & (np.abs(maps.a) < half_hips)
    if not centre.any():
        return False
    return float(np.percentile(maps.b[centre], 98)) >= hip_b + LOWER_TAIL * maps.sw


def _drop_body_specks(body: np.ndarray, hole: np.ndarray, sw: float) -> np.ndarray:
    """``body`` without its islands smaller than :data:`BODY_SPECK` sw² that lie wholly inside ``hole``.

    A few skin-coloured pixels on an old skirt's hem (its sheen, its edge against a pale backdrop) join the body
    region as islands beside the legs; filled as skin they were brown dots on the refilled backdrop. A body part
    is never that small and cut off from the rest. (h, w) bool masks at the composition's working resolution,
    ``sw`` in its pixels.
    """
    n, lab, stats, _ = cv2.connectedComponentsWithStats(body.astype(np.uint8), connectivity=8)
    if n <= 2:
        return body
    small = np.nonzero(stats[1:, cv2.CC_STAT_AREA] < BODY_SPECK * sw * sw)[0] + 1
    if small.size == 0:
        return body
    outside = np.bincount(lab[~hole].ravel(), minlength=n)   # each island's pixels outside the hole
    drop = small[outside[small] == 0]
    return body & ~np.isin(lab, drop) if drop.size else body


def _nconv(x: np.ndarray, m: np.ndarray, sigma: float, fallback: np.ndarray) -> np.ndarray:
    """Normalised convolution: Gaussian-weighted mean of ``x`` (H, W, C) over the pixels of mask ``m``,
    ``fallback`` (C,) where no such pixel is near."""
    m = m.astype(np.float32)
    num = cv2.GaussianBlur(x * m[..., None], (0, 0), sigma).reshape(x.shape)   # (OpenCV drops a C of 1)
    den = cv2.GaussianBlur(m, (0, 0), sigma)[..., None]
    eps = 1e-3
    return (num + np.asarray(fallback, np.float32) * eps) / (den + eps)


HAIR_SPECK = 0.0015
"""Smallest piece of the hair matte kept, in square shoulder widths (39 px at a 161-px shoulder width): a strand
drawn over the shoulders is a few pixels wide and tens long."""


def hair_matte(image: np.ndarray, parse: np.ndarray, old: np.ndarray, skin: np.ndarray, maps: BodyMaps,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Soft alpha matte of the hair drawn in front of the new garment, and the hair's unmixed colour.

    The parse's hair label is coarse (stride-16 network): it swallows old garment between strands, and on
    blond hair it also swallows skin. Pasting it as a hard layer leaves fragments of the old garment over the
    new one. Here each pixel of the (slightly grown) hair region is explained as a mix of the local hair colour
    H and the local colour X of what lies behind it (old garment, background, and below the shoulders the skin),
    alpha = the projection of the pixel on the segment X→H (the colour-line model of linear matting, Levin et
    al., "A Closed-Form Solution to Natural Image Matting", PAMI 2008, reduced to two known colours), the
    smallest alpha over the candidate backgrounds. Only components connected to the head are kept, and the
    foreground colour is unmixed, F = (c - (1 - alpha) X) / alpha, so that no old garment tint is carried over.

    Args:
        image: (H, W, 3) uint8 RGB.
        parse: (H, W) uint8 PARSE_LABELS.
        old: (H, W) bool old garment.
        skin: (H, W) bool skin-coloured pixels.
        maps: :class:`BodyMaps` of the same size.

    Returns:
        (alpha (H, W) float32 in [0, 1], colour correction (H, W, 3) float32 to add to the image under the
        matte: F - image).
    """
    hair = parse == LABEL["hair"]
    alpha_full, corr_full = np.zeros(parse.shape, np.float32), np.zeros(image.shape, np.float32)
    if hair.sum() < 30:
        return alpha_full, corr_full
    # Everything below is local to the hair: work on its bounding box plus the filters' reach.
    m = int(round(0.45 * maps.sw))
    x, y, bw, bh = cv2.boundingRect(hair.astype(np.uint8))
    y0, y1 = max(0, y - m), min(parse.shape[0], y + bh + m)
    x0, x1 = max(0, x - m), min(parse.shape[1], x + bw + m)
    sl = (slice(y0, y1), slice(x0, x1))
    a, c = _hair_matte_local(image[sl], parse[sl], old[sl], skin[sl], maps.b[sl], maps.sw)
    alpha_full[sl], corr_full[sl] = a, c
    return alpha_full, corr_full


def _hair_matte_local(image: np.ndarray, parse: np.ndarray, old: np.ndarray, skin: np.ndarray, b: np.ndarray,
                      sw: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`hair_matte` on a crop around the hair (``b``: the body-frame coordinate down the body)."""
    hair = parse == LABEL["hair"]
    img = image.astype(np.float32)
    k = max(3, int(round(0.03 * sw)) | 1)
    cand = cv2.dilate(hair.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    cand &= ~np.isin(parse, (LABEL["face"],) + _HANDS)
    hair_c = np.median(img[hair], axis=0)
    backs: list[tuple[np.ndarray, np.ndarray]] = []      # (candidate background colour field, confident mask)
    torso_old = old & ~hair
    bg = (parse == LABEL["background"]) & ~hair
    below = b > 0.05 * sw
    skin_src = skin & ~hair & np.isin(parse, (LABEL["neck"], LABEL["torso"]) + _ARMS) & below
    for src in (torso_old, bg, skin_src):
        if src.sum() < 30:
            continue
        c = np.median(img[src], axis=0)
        backs.append((c, src))
    # Hair pixels confidently hair: closer to the hair colour than to every background colour.
    d_h = np.linalg.norm(img - hair_c, axis=-1)
    if len(backs) and torso_old.any():
        # Strands on the shoulders that the parse gave to the garment: near the hair, of the hair's colour and
        # clearly not of the old garment's.
        k2 = max(3, int(round(0.1 * sw)) | 1)
        near = cv2.dilate(hair.astype(np.uint8), np.ones((k2, k2), np.uint8)).astype(bool)
        d_o = np.linalg.norm(img - backs[0][0], axis=-1)
        cand |= near & torso_old & (d_h < 0.5 * d_o)
    conf_h = hair.copy()
    for c, _ in backs:
        conf_h &= d_h < np.linalg.norm(img - c, axis=-1)
    if conf_h.sum() < 30:
        conf_h = hair
    sig = max(2.0, 0.08 * sw)
    H_loc = _nconv(img, conf_h, sig, hair_c)
    alpha = np.where(cand, 1.0, 0.0).astype(np.float32)
    X_best = H_loc.copy()
    # Only what lies near a pixel can be behind it: each background candidate is tested where it is (one of)
    # the locally dominant ones (blond hair over a navy top must not be called "light backdrop").
    dens = [cv2.GaussianBlur(src.astype(np.float32), (0, 0), max(2.0, 0.15 * sw)) for _, src in backs]
    dmax = np.maximum.reduce(dens) if dens else None
    for (c, src), den in zip(backs, dens, strict=True):
        X = _nconv(img, src, sig, c)
        d = H_loc - X
        n2 = (d * d).sum(-1)
        a = ((img - X) * d).sum(-1) / np.maximum(n2, 1.0)
        tested = den >= 0.5 * dmax
        if src is torso_old:
            # A pixel of the old garment's colour, twice as near it as the hair's, is garment even where the
            # backdrop dominates around it (a white collar's tip beside dark hair against a dark street).
            tested |= np.linalg.norm(img - X, axis=-1) < 0.5 * np.linalg.norm(img - H_loc, axis=-1)
        # Colours too close to tell apart (blond hair on skin): no evidence, the parse decides.
        a = np.where((n2 > 20.0 ** 2) & (den > 0.02) & tested, np.clip(a, 0.0, 1.0), 1.0)
        better = a < alpha
        X_best = np.where(better[..., None], X, X_best)
        alpha = np.minimum(alpha, a)
    # Low alphas are mostly colour noise of the background: cut them, keep a smooth ramp.
    alpha = np.clip((alpha - 0.15) / 0.8, 0.0, 1.0) * cand
    # Only hair connected to the head: fragments on the chest are the parse's errors. So are specks of a few
    # pixels where the coarse hair label spills over a high collar: its dark seams passed the colour test and were
    # drawn on the new neck as dark ticks (wild-dev, a puffer's quilting).
    n, cc, stats, _ = cv2.connectedComponentsWithStats((alpha > 0.3).astype(np.uint8))
    head = hair & (b < -0.15 * sw)
    keep = np.unique(cc[head & (cc > 0)])
    keep = keep[stats[keep, cv2.CC_STAT_AREA] >= HAIR_SPECK * sw * sw]
    if len(keep):
        kept = cv2.dilate(np.isin(cc, keep).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        alpha = alpha * kept
    else:
        alpha = alpha * 0
    # Soften outwards only: the hair's core stays fully in front.
    alpha = np.maximum(alpha, cv2.GaussianBlur(alpha.astype(np.float32), (0, 0), 0.8))
    # Unmixed foreground: what the hair looks like without the old garment showing between the strands.
    a3 = np.maximum(alpha, 1e-3)[..., None]
    F = np.clip((img - (1.0 - a3) * X_best) / a3, 0, 255)
    w = np.clip((alpha - 0.15) / 0.5, 0.0, 1.0)[..., None]
    F = w * F + (1 - w) * H_loc
    return alpha.astype(np.float32), ((F - img) * (alpha > 0)[..., None]).astype(np.float32)


def _near_wrists(hands: np.ndarray, kp: np.ndarray, sw: float) -> np.ndarray:
    """Keep only the hand-labelled components that reach within 0.3 shoulder widths of a wrist or finger
    keypoint (BlazePose 15-22): stride-16 parses scatter "hand" blobs over the arms and the torso, and a hand
    layer drawn there pastes old sleeve or skin patches over the new garment."""
    if not hands.any():
        return hands
    pts = np.asarray(kp, np.float32)[15:23, :2]
    n, cc = cv2.connectedComponents(hands.astype(np.uint8))
    ys, xs = np.nonzero(hands)
    d = np.min(np.hypot(xs[:, None] - pts[None, :, 0], ys[:, None] - pts[None, :, 1]), axis=1)
    keep = np.unique(cc[ys[d < 0.3 * sw], xs[d < 0.3 * sw]])
    return np.isin(cc, keep[keep > 0])


def _grain(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """(H, W) float32 luminance grain for the filled pixels, at the photo's own robust high-frequency level
    (MAD of the luminance minus its 1.5 px blur, outside the hole, at most 3 levels): a fill smoother than
    the photo around it reads as plastic. A fixed pattern (seeded), so results are reproducible."""
    H, W = hole.shape
    if not hole.any():
        return np.zeros((H, W), np.float32)
    step = max(1, int(np.sqrt(H * W / 250_000)))
    lum = cv2.cvtColor(image[::step, ::step], cv2.COLOR_RGB2GRAY).astype(np.float32)
    hf = lum - cv2.GaussianBlur(lum, (0, 0), 1.5)
    known = ~hole[::step, ::step]
    amp = min(1.4826 * float(np.median(np.abs(hf[known]))) if known.any() else 0.0, 3.0) * 0.8
    if amp < 0.3:
        return np.zeros((H, W), np.float32)
    noise = np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 0.6)
    noise /= noise.std()
    tile = np.tile(noise, (H // 256 + 1, W // 256 + 1))[:H, :W]
    return (amp * tile * hole).astype(np.float32)


TEXTURE_MIN_SKIN = 0.1
"""Least bare skin besides the face, in square shoulder widths (a few of :func:`tryon.teacher.skin.skin_texture`'s
patches), from which the grain of synthesised skin is copied; below it the face's skin is used too."""


BACKDROP_PATCH = 0.25
"""Side of the backdrop patches :func:`backdrop_texture` copies, in shoulder widths (a few blades of grass, a few
stones of a wall at the person's distance)."""


def backdrop_texture(image: np.ndarray, backdrop: np.ndarray, region: np.ndarray, sw: float, *, seed: int = 0,
                     neighbours: int = 32) -> np.ndarray | None:
    """(H, W, 3) float32 RGB detail for refilled backdrop: the photo's own backdrop copied from nearby, in patches.

    Where the old garment was wider than the new one (a long dress under a short one, a coat under a tee) the
    backdrop behind it is refilled with a smooth colour (:func:`fill_colors`); on grass, stone or a patterned wall
    that smooth fill reads as a smear in the shape of the old garment. Here the backdrop's detail (its RGB minus
    its normalised-convolution mean at a third of the patch side, clipped at 3 local RMS per channel) is copied in
    square patches of :data:`BACKDROP_PATCH` shoulder widths that lie wholly on the visible backdrop and are no
    busier than 1.5 x the backdrop around them (a glass, a pole's or a car's edge is not repeated), each tile of ``region`` taking one of the
    ``neighbours`` patch positions nearest to it (on a grid a third of a patch apart; grass is continued with
    grass, a wall with the wall), laid at
    half-patch strides with overlapping sin² windows normalised to keep one patch's variance: random overlap-add
    patch synthesis (Efros & Freeman, "Image Quilting for Texture Synthesis and Transfer", SIGGRAPH 2001, its
    non-optimised baseline) with the locality of exemplar-based inpainting (Criminisi et al., "Region Filling
    and Object Removal by Exemplar-Based Image Inpainting", IEEE TIP 2004). Seeded: reproducible.

    Args:
        image: (H, W, 3) uint8 RGB photo.
        backdrop: (H, W) bool visible backdrop, away from the person's outline.
        region: (H, W) bool refilled backdrop pixels.
        sw: shoulder width, pixels.
        seed: random seed (patch choice).
        neighbours: nearest patch positions each tile picks from.

    Returns:
        (H, W, 3) float32 detail to add to the smooth fill (zero outside ``region``), or None when the backdrop
        holds fewer than 8 whole patches (the caller keeps its plain grain).
    """
    from scipy.spatial import cKDTree

    H, W = region.shape
    if not region.any():
        return None
    patch = max(8, int(round(BACKDROP_PATCH * sw)))
    half = patch // 2
    src = backdrop.astype(np.float32)
    inside = cv2.boxFilter(src, -1, (patch, patch), normalize=True) > 0.999
    inside[:half] = inside[H - half:] = False
    inside[:, :half] = inside[:, W - half:] = False
    # Patch positions on a grid a third of a patch apart: the nearest ones are then distinct patches (adjacent
    # pixels' patches are one patch, repeated as a lattice).
    grid = max(1, patch // 3)
    inside_grid = np.zeros_like(inside)
    inside_grid[::grid, ::grid] = inside[::grid, ::grid]
    cy, cx = np.nonzero(inside_grid)
    if len(cy) < 8:
        return None
    img = image.astype(np.float32)
    res = np.where(backdrop[..., None], img - _masked_mean(img, src, max(1.0, patch / 3.0)), 0.0).astype(np.float32)
    # Clipped at 3 local RMS (over two patches): an edge's outliers go, the texture of each part of the backdrop
    # stays (one robust σ over grass and sky together would flatten the grass to the sky's).
    local = np.sqrt(_masked_mean(res * res, src, 2.0 * patch))
    res = np.clip(res, -3.0 * local, 3.0 * local)
    # A patch much busier than the backdrop around it holds an object or an edge (a glass on a table, a pole), not
    # the texture: only patches at most 1.5 x their surroundings' energy (over three patches) are copied.
    energy = cv2.boxFilter((res * res).sum(-1), -1, (patch, patch), normalize=True)
    around = _masked_mean(energy[..., None], src, 3.0 * patch)[..., 0]
    calm = energy[cy, cx] <= 1.5 * around[cy, cx] + 1e-3
    if calm.sum() < 8:
        return None
    cy, cx = cy[calm], cx[calm]
    x, y, w, h = cv2.boundingRect(region.astype(np.uint8))
    step = max(1, half)
    tiles = [(ty, tx) for ty in range(y - half, y + h, step) for tx in range(x - half, x + w, step)]
    cnt = cv2.integral(region.astype(np.uint8))

    def wanted(ty: int, tx: int) -> bool:
        y0, y1, x0, x1 = max(0, ty), min(H, ty + patch), max(0, tx), min(W, tx + patch)
        return y1 > y0 and x1 > x0 and cnt[y1, x1] - cnt[y0, x1] - cnt[y1, x0] + cnt[y0, x0] > 0

    tiles = [t for t in tiles if wanted(*t)]
    k = min(neighbours, len(cy))
    _, near = cKDTree(np.stack([cy, cx], 1)).query(np.asarray(tiles, np.float64) + half, k=k)
    near = near.reshape(len(tiles), k)
    rng = np.random.default_rng(seed)
    pick = near[np.arange(len(tiles)), rng.integers(0, k, len(tiles))]
    flip = rng.random(len(tiles)) < 0.5
    win1 = np.sin(np.pi * (np.arange(patch) + 0.5) / patch) ** 2
    win = np.outer(win1, win1).astype(np.float32)
    acc = np.zeros((H + 2 * patch, W + 2 * patch, 3), np.float32)    # padded: tiles may start above or left
    wsq = np.zeros((H + 2 * patch, W + 2 * patch), np.float32)
    for (ty, tx), i, f in zip(tiles, pick, flip, strict=True):
        q = res[cy[i] - half:cy[i] - half + patch, cx[i] - half:cx[i] - half + patch]
        oy, ox = ty + patch, tx + patch
        acc[oy:oy + patch, ox:ox + patch] += win[..., None] * (q[:, ::-1] if f else q)
        wsq[oy:oy + patch, ox:ox + patch] += win * win
    out = acc[patch:patch + H, patch:patch + W] / np.sqrt(np.maximum(wsq[patch:patch + H, patch:patch + W], 1e-6))[..., None]
    return (out * region[..., None]).astype(np.float32)


def _masked_mean(x: np.ndarray, m: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W, C) Gaussian-weighted mean of ``x`` over the pixels where ``m`` (normalised convolution), 0 where none
    is near; computed at a resolution of about sigma / 4 px and upsampled (the mean is smooth at that scale, and
    a full-resolution blur of a 100-px sigma took seconds)."""
    H, W = m.shape
    d = max(1, int(sigma / 4.0))
    if d > 1:
        size = (max(1, W // d), max(1, H // d))
        xs, ms = cv2.resize(x * m[..., None], size, interpolation=cv2.INTER_AREA), cv2.resize(m, size, interpolation=cv2.INTER_AREA)
        xs = xs.reshape(size[1], size[0], -1)
        sx, sy = size[0] / W, size[1] / H
        num = cv2.GaussianBlur(xs, (0, 0), sigma * sx, sigmaY=sigma * sy).reshape(xs.shape)
        den = cv2.GaussianBlur(ms, (0, 0), sigma * sx, sigmaY=sigma * sy)
        out = num / np.maximum(den, 1e-6)[..., None]
        return cv2.resize(out, (W, H), interpolation=cv2.INTER_LINEAR).reshape(H, W, -1)
    num = cv2.GaussianBlur(x * m[..., None], (0, 0), sigma).reshape(x.shape)
    return num / np.maximum(cv2.GaussianBlur(m, (0, 0), sigma), 1e-6)[..., None]


def _backdrop_detail(image: np.ndarray, parse: np.ndarray, a_hole: np.ndarray, body_a: np.ndarray, sw: float
                     ) -> np.ndarray:
    """(H, W, 3) detail for the refilled backdrop of a full-resolution composite: :func:`backdrop_texture` copied
    from the backdrop the parse sees, 0.06 shoulder widths clear of the person (its coarse outline) and of the
    hole, else :func:`_grain`."""
    region = (a_hole > 0.5) & (body_a < 0.5)
    k = max(3, int(round(0.06 * sw)) | 1)
    near_person = cv2.dilate((parse != LABEL["background"]).astype(np.uint8) | (a_hole > 0).astype(np.uint8),
                             cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))).astype(bool)
    detail = backdrop_texture(image, ~near_person, region, sw)
    if detail is None:
        return np.repeat(_grain(image, a_hole > 0.5)[..., None], 3, axis=-1)
    return detail


OUTLINE_MIX = (0.03, 12.0, 20.0)
"""The skin's anti-aliased outline against the backdrop (:func:`_skin_outline`): its greatest depth from both the
skin and the backdrop, in shoulder widths (at least 3 pixels); the largest RGB distance from the skin-backdrop mix;
the least RGB distance between the local skin and backdrop colours to tell them apart."""


SLACK_SKIN_SHARE = 0.2
"""Most skin in a pixel of the parse's slack (its body labels beyond the skin's outline) for :func:`_skin_outline` to
take it for backdrop."""


def _mix_share(img: np.ndarray, fg: np.ndarray, bg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pixel as a mix ``a·fg + (1 - a)·bg`` of two local colours: the mixed-pixel model of alpha matting
    (Porter & Duff, SIGGRAPH 1984; the linear colour-line test of Levin et al., PAMI 2008).

    Args:
        img, fg, bg: (h, w, 3) float32 RGB: the image and the two colour fields.

    Returns:
        (a (h, w) in [0, 1], the RGB distance of the pixel from its mix (h, w), the squared RGB distance between the
        two colours (h, w): below a few units squared the share says nothing).
    """
    e = fg - bg
    e2 = (e * e).sum(-1)
    a = np.clip(((img - bg) * e).sum(-1) / np.maximum(e2, 1.0), 0.0, 1.0)
    res = np.linalg.norm(img - (bg + a[..., None] * e), axis=-1)
    return a, res, e2


def _skin_outline(image: np.ndarray, parse: np.ndarray, skin: np.ndarray, old: np.ndarray, sw: float) -> np.ndarray:
    """(h, w) bool: the outline of bare skin against the backdrop, pixels that mix the two colours.

    A bare arm's or shoulder's edge pixels are partly skin, partly backdrop (the lens and the photo's scaling
    blend them); pale ones fail the skin-colour test, and the parse calls them arm, so they were taken for a
    sleeve: removed, refilled, and the arm's photographed outline came back as a ghost line a few pixels inside
    a paler refilled strip (a sleeveless dress given a tee; 10 of 24 results of the second first user showed
    halos or ghost contours). Here a pixel is outline when it lies within :data:`OUTLINE_MIX`'s depth of both
    visible skin and the parse's backdrop and its colour is a mix ``a·skin + (1 - a)·backdrop`` of the local
    skin and backdrop colours (normalised convolutions), ``a`` in [0, 1], with a small residual: the
    mixed-pixel model of alpha matting (Porter & Duff, "Compositing digital images", SIGGRAPH 1984; the linear
    colour-line test of Levin et al., "A closed-form solution to natural image matting", PAMI 2008). A
    garment's edge has its own colour, not such a mix; one of the backdrop's own colour (``a`` near 0) shown as
    photographed looks as the refilled backdrop would. Not within that depth of the old garment's body (its
    pixels more than twice as deep from the backdrop): where a white sleeve ends on a white backdrop, its cuff's
    pixels are such a mix too, and kept beside the refilled arm they were flecks. Up to three depths from both,
    the parse's slack (its arm label a few pixels past the skin) is taken too where it has the backdrop's own
    colour (at most :data:`SLACK_SKIN_SHARE` skin): refilled inside the arm's silhouette, it was flecks of skin
    beside a slim forearm.

    Args:
        image: (h, w, 3) uint8 RGB. parse: (h, w) PARSE_LABELS. skin: (h, w) bool visible skin.
        old: (h, w) bool the old garment as detected. sw: shoulder width, pixels.
    """
    depth, tol, contrast = OUTLINE_MIX
    bg = parse == LABEL["background"]
    # (Backdrop pixels are candidates only where taken for the old garment: a white sleeve's "lost" forearm
    # pixels on a white backdrop, tryon.teacher.agnostic.old_garment_mask.)
    cand = ~skin & (np.isin(parse, _ARMS + _HANDS + (LABEL["torso"], LABEL["neck"])) | (bg & old))
    if not cand.any() or not skin.any() or not bg.any():
        return np.zeros(parse.shape, bool)
    d = max(3.0, depth * sw)
    d_skin = cv2.distanceTransform((~skin).astype(np.uint8), cv2.DIST_L2, 3)
    d_bg = cv2.distanceTransform((~bg).astype(np.uint8), cv2.DIST_L2, 3)
    cand &= (d_skin <= 3.0 * d) & (d_bg <= 3.0 * d)
    # The old garment's body (deeper than the outline's blend and the parse's slack) keeps its edge.
    body = old & ~cand & (d_bg > 2.0 * d)
    cand &= cv2.distanceTransform((~body).astype(np.uint8), cv2.DIST_L2, 3) > d
    if not cand.any():
        return cand
    img = image.astype(np.float32)
    sig = max(1.0, 2.0 * d)
    # The skin's own outermost ring (the arm's edge is its shaded side, darker than its middle), the backdrop
    # next to it.
    ring = skin & np.isin(parse, _ARMS + _HANDS + (LABEL["torso"], LABEL["neck"])) & \
        (cv2.distanceTransform(skin.astype(np.uint8), cv2.DIST_L2, 3) <= 2.0)
    sk = _nconv(img, ring, sig, np.zeros(3, np.float32))
    bk = _nconv(img, bg & ~skin, sig, np.zeros(3, np.float32))
    a, res, e2 = _mix_share(img, sk, bk)
    # The blend itself lies within the depth of both; farther out, the parse's slack beyond the skin, only
    # pixels of the backdrop's own colour.
    blend = (d_skin <= d) & (d_bg <= d)
    outline = cand & (res <= tol) & (e2 >= contrast ** 2) & (blend | (a <= SLACK_SKIN_SHARE))
    # Specks of the band the colour test missed (noise, a JPEG block), enclosed by outline: left in the old
    # garment, the rim grown round them was refilled as dots of skin beside the arm.
    rest = cand & ~outline
    n, lab, stats, _ = cv2.connectedComponentsWithStats(rest.astype(np.uint8), connectivity=8)
    if n > 1:
        touch = np.bincount(lab[cv2.dilate(outline.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0], minlength=n)
        small = (stats[:, cv2.CC_STAT_AREA] <= d * d) & (touch > 0)
        small[0] = False
        outline |= small[lab]
    return outline


def _grow_old(image: np.ndarray, parse: np.ndarray, old: np.ndarray, skin: np.ndarray, sw: float) -> np.ndarray:
    """Grow the old-garment mask into the neighbouring pixels of its own local colour.

    The parse's outline is coarse (stride 16): a strip of a dark sleeve along the arm, or of the garment at the
    waist, is called background and would stay visible as a sliver next to the new garment. Pixels within
    0.04 shoulder widths (at least 2 px) of the old garment that are not skin, carry a background / torso / arm / neck / hand
    label (a cuff over the wrist),
    and are closer in CIELAB to the old garment's local colour (normalised convolution) than to the local
    backdrop, within 18 units, join it.
    """
    if old.sum() < 30:
        return old
    k = max(5, int(round(0.08 * sw)) | 1)
    ring = cv2.dilate(old.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool) & ~old & ~skin
    ring &= np.isin(parse, (LABEL["background"], LABEL["torso"], LABEL["neck"]) + _ARMS + _HANDS)
    if not ring.any():
        return old
    sig = max(1.5, 0.05 * sw)
    # Local: the ring's bounding box plus the filters' reach.
    mg = int(round(3 * sig)) + 1
    x, y, bw, bh = cv2.boundingRect(ring.astype(np.uint8))
    sl = (slice(max(0, y - mg), y + bh + mg), slice(max(0, x - mg), x + bw + mg))
    o, r = old[sl], ring[sl]
    lab = cv2.cvtColor(image[sl].astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    fallback = np.median(lab[o], axis=0) if o.any() else np.array([50.0, 0.0, 0.0], np.float32)
    old_c = _nconv(lab, o, sig, fallback)
    bg = (parse[sl] == LABEL["background"]) & ~o & ~r
    bg_c = _nconv(lab, bg, sig, np.array([95.0, 0.0, 0.0], np.float32))
    d_o = np.linalg.norm(lab - old_c, axis=-1)
    d_b = np.linalg.norm(lab - bg_c, axis=-1)
    out = old.copy()
    out[sl] |= r & (d_o < 18.0) & (d_o < d_b)
    return out


OLD_RIM = (0.02, 20.0, 30.0, 0.75)
"""The old garment's anti-aliased edge against bare skin (:func:`_old_skin_rim`): its greatest depth into the skin,
in shoulder widths (at least 2 pixels); the largest RGB distance from the skin-garment mix; the least RGB distance
between the local skin and garment colours to tell them apart; the most skin in a rim pixel."""


def _old_skin_rim(image: np.ndarray, parse: np.ndarray, skin: np.ndarray, old: np.ndarray, maps: BodyMaps
                  ) -> np.ndarray:
    """(h, w) bool: skin pixels of the neck along the old garment's collar that mix skin with the garment's colour.

    Where a white collar meets a pale neck the edge pixels are a blend of both, pale enough to pass the skin test;
    kept as skin, they drew a white line down the neck beside the refilled collar (a white denim jacket under a fur
    one). A pixel within :data:`OLD_RIM`'s depth of the old garment is rim when its colour is a mix
    ``a·skin + (1 - a)·garment`` of the local skin and old-garment colours (normalised convolutions, the skin's
    taken outside the rim) with ``a`` at most the rim's share and a small residual: the mixed-pixel model of
    :func:`_skin_outline` with the garment in place of the backdrop. Such pixels are refilled with the skin or
    the backdrop next to them. Only round the neck (labelled neck, face or torso, above the shoulder line and
    within half a shoulder width of the centre line): along a sleeve's end the refilled strip moved the arm's
    outline and drew it as a staircase.

    Args:
        image: (h, w, 3) uint8 RGB. parse: (h, w) PARSE_LABELS. skin: (h, w) bool visible skin.
        old: (h, w) bool old garment. maps: :class:`BodyMaps` of the same size.
    """
    depth, tol, contrast, share = OLD_RIM
    if old.sum() < 30 or not skin.any():
        return np.zeros(skin.shape, bool)
    sw = maps.sw
    d = max(2.0, depth * sw)
    zone = skin & (cv2.distanceTransform((~old).astype(np.uint8), cv2.DIST_L2, 3) <= d) & \
        np.isin(parse, (LABEL["neck"], LABEL["face"], LABEL["torso"])) & (maps.b < 0.1 * sw) & \
        (np.abs(maps.a) < 0.5 * sw)
    if not zone.any():
        return zone
    img = image.astype(np.float32)
    sig = max(1.5, 2.0 * d)
    sk = _nconv(img, skin & ~zone, sig, np.zeros(3, np.float32))
    ga = _nconv(img, old, sig, np.zeros(3, np.float32))
    a, res, e2 = _mix_share(img, sk, ga)
    return zone & (e2 >= contrast ** 2) & (a <= share) & (res <= tol)


CUFF_REACH = 0.15
"""How far an old sleeve's cuff reaches past the parse's arm into what it labels hand, in shoulder widths (a
knit rib or puffer cuff over the wrist, about the hand's length / 1.5)."""


def _old_cuffs(parse: np.ndarray, old: np.ndarray, skin: np.ndarray, rough: np.ndarray, sw: float,
               *, reach: float = CUFF_REACH) -> np.ndarray:
    """(H, W) bool: the old sleeves' cuffs that the parse calls hand.

    The parse labels the end of a long sleeve as hand (its stride-16 blocks reach back over the cuff), so the
    hand layer would paste the old knit or puffer cuff below a new short sleeve. Hand-labelled pixels that are
    not smooth skin (not skin, or skin-hued but textured: ``rough``, see
    :func:`tryon.teacher.skin.drop_textured`) and connected to the old sleeves (old garment the parse calls
    arm) through such pixels, within a geodesic distance of ``reach`` shoulder widths, are the cuff
    (morphological reconstruction by geodesic dilation, Soille, Morphological Image Analysis, 2003, ch. 6).
    The hand's own smooth skin stops the growth, so the hand itself, and objects held in it apart from the
    sleeve, stay; the growth starts from the sleeves only, so a tablet held against the old top's front stays.
    Not from old garment the parse calls hand: with the hands on the hips, the dress between the fingers is such
    garment, and the fingers beside its dark gaps look textured, so whole fingers went as a "cuff" and stubs of
    them floated on the new top.

    Args:
        parse: (H, W) uint8 PARSE_LABELS.
        old: (H, W) bool the old garment.
        skin: (H, W) bool visible skin.
        rough: (H, W) bool skin candidates textured like fabric.
        sw: shoulder width, pixels.
        reach: the cuff's largest extent into the hand label, shoulder widths.

    Returns:
        (H, W) bool, disjoint from ``old``.
    """
    cand = np.isin(parse, _HANDS) & (~skin | rough) & ~old
    # Grown from the old sleeves only: a phone or tablet held against the old top's front is not a cuff, nor
    # fingers spread on the hips over the old garment.
    sleeves = old & np.isin(parse, _ARMS)
    if not cand.any() or not sleeves.any():
        return np.zeros(old.shape, bool)
    cand_u8 = cand.astype(np.uint8)
    k = np.ones((3, 3), np.uint8)
    grown = cv2.dilate(sleeves.astype(np.uint8), k) & cand_u8
    for _ in range(max(1, int(round(reach * sw)))):
        nxt = cv2.dilate(grown, k) & cand_u8
        if np.array_equal(nxt, grown):
            break
        grown = nxt
    return grown.astype(bool)


WRIST_BAND = 0.12
"""Half-width of the wrist capsule where a long old sleeve's rib cuff lies, in shoulder widths (the wrist's
half-width, :data:`ARM_TAPER`, plus a margin for the keypoints' error)."""


def _wrist_cuffs(parse: np.ndarray, old: np.ndarray, skin: np.ndarray, rough: np.ndarray, maps: BodyMaps,
                 keypoints: np.ndarray, *, half: float = WRIST_BAND) -> np.ndarray:
    """(H, W) bool: the rib cuff of a long old sleeve, round the wrist, whatever the parse calls it.

    A knit's black rib cuff has not the sleeve's colour, so the old-garment mask's colour rule does not take it, and
    where the knit above it passes as skin it is not connected to the old sleeve within the hand label, so
    :func:`_old_cuffs` does not either: it stays as a dark band round the wrist below a new short sleeve. BlazePose
    puts the wrist of a baggy sleeve up the forearm, so the cuff lies between the wrist keypoint and the hand's
    centre (between the index and pinky knuckles). On each arm whose old sleeve reaches that wrist (old garment
    labelled arm or hand within the capsule: not the old top's hem beside a hand in a pocket), the capsule's pixels
    (segment from the wrist a quarter of the forearm back towards the elbow to the hand's centre, :data:`WRIST_BAND`
    wide) that are not smooth skin (not skin, or skin-hued but ``rough``; on the hand label only non-skin), that the
    parse calls arm or hand, and that are connected to that old sleeve through such pixels are the cuff. Trousers
    and backdrop beside the hand lie outside the capsule or apart from the sleeve, and stay. This project's own
    rule, from the BlazePose arm and hand keypoints.

    Args:
        parse: (H, W) uint8 PARSE_LABELS.
        old: (H, W) bool the old garment.
        skin: (H, W) bool visible skin.
        rough: (H, W) bool skin candidates textured like fabric.
        maps: :class:`tryon.teacher.agnostic.BodyMaps` of the same size.
        keypoints: (33, 4) BlazePose keypoints in the same pixels.
        half: the capsule's half-width, shoulder widths.

    Returns:
        (H, W) bool, disjoint from ``old``.
    """
    out = np.zeros(old.shape, bool)
    if not old.any():
        return out
    kp = np.asarray(keypoints, np.float32)
    th = max(3, int(round(2 * half * maps.sw)))
    # Not the backdrop (through it the growth would reach whatever the hand holds; the rim of the hole takes the
    # cuff's fringe there), nor the lower body (a hand in a pocket lies on the trousers, and they have the colour
    # of a dark cuff).
    not_hand = np.isin(parse, _ARMS)
    # On the hand label only what is not skin-hued at all: the hand's own skin (rough beside a knit) stops the
    # growth, so an object held in the hand stays.
    ok = ~old & ((~skin & (not_hand | np.isin(parse, _HANDS))) | (rough & not_hand))
    k = np.ones((3, 3), np.uint8)
    for e, wr, pi, ii in ((13, 15, 17, 19), (14, 16, 18, 20)):   # BlazePose elbow, wrist, pinky, index
        start = kp[wr, :2] + 0.25 * (kp[e, :2] - kp[wr, :2])
        hand = 0.5 * (kp[pi, :2] + kp[ii, :2])
        fore = kp[wr, :2] - kp[e, :2]
        if np.linalg.norm(hand - kp[wr, :2]) > 0.4 * maps.sw:
            # Knuckles not found (or far off the wrist): the hand continues the forearm.
            hand = kp[wr, :2] + fore / max(float(np.linalg.norm(fore)), 1e-6) * 0.15 * maps.sw
        cap = np.zeros(old.shape, np.uint8)
        cv2.line(cap, tuple(int(round(v)) for v in start), tuple(int(round(v)) for v in hand), 1, thickness=th)
        # The sleeve itself (arm label), not the old top's hem beside a hand in a pocket.
        seed = old & cap.astype(bool) & np.isin(parse, _ARMS + _HANDS)
        if seed.sum() < max(4, 0.002 * maps.sw ** 2):
            continue      # no long sleeve at this wrist
        cand = (ok & cap.astype(bool)).astype(np.uint8)
        grown = cv2.dilate(seed.astype(np.uint8), k) & cand
        for _ in range(th * 2):
            nxt = cv2.dilate(grown, k) & cand
            if np.array_equal(nxt, grown):
                break
            grown = nxt
        out |= grown.astype(bool)
    return out


ENCLOSED_MAX = 0.06
"""Largest patch enclosed by the old garment that is taken as part of it, in squared shoulder widths (a
forearm-sized blob of a skin-hued knit; a cut-out or keyhole is rarer and larger than the blobs seen)."""


def _enclosed_patches(parse: np.ndarray, old: np.ndarray, sw: float, *, max_area: float = ENCLOSED_MAX) -> np.ndarray:
    """(H, W) bool: the arm / torso patches wholly enclosed by the old garment (holes of its mask).

    A skin-hued knit leaves blobs that pass as smooth skin along the inner forearm, too large for
    :func:`_sleeve_majority`; kept as "bare arm" they show the old sleeve's pattern below the new short sleeve.
    Connected components of ``~old`` (8-connected) that touch no image border, are smaller than ``max_area``
    x ``sw`` squared and carry only arm or torso labels join the old garment (hole filling by connected
    components, as in scipy.ndimage.binary_fill_holes, limited in size).

    Args:
        parse: (H, W) uint8 PARSE_LABELS.
        old: (H, W) bool the old garment.
        sw: shoulder width, pixels.
        max_area: largest patch, squared shoulder widths.

    Returns:
        (H, W) bool, disjoint from ``old``.
    """
    if not old.any():
        return np.zeros(old.shape, bool)
    n, cc, stats, _ = cv2.connectedComponentsWithStats((~old).astype(np.uint8), connectivity=8)
    x, y, bw, bh, area = (stats[:, i] for i in range(5))
    H, W = old.shape
    inner = (x > 0) & (y > 0) & (x + bw < W) & (y + bh < H) & (area <= max_area * sw * sw)
    inner[0] = False
    # Patches holding anything but arm / torso labels (a face, hair, a hand, the backdrop) are not sleeve.
    other = ~np.isin(parse, _ARMS + (LABEL["torso"],))
    inner[np.unique(cc[other & ~old])] = False
    return inner[cc]


def _sleeve_majority(old: np.ndarray, parse: np.ndarray, sw: float, *, share: float = 0.55) -> np.ndarray:
    """``old`` plus the arm and torso pixels where most of the body around them is old garment (a majority filter).

    A knit, tweed or print of a skin-like hue leaves skin-coloured flecks scattered over its sleeve and over the
    seam between sleeve and body (where a baggy sleeve hangs against the torso); each fleck kept as "bare arm"
    shows the old garment under the new one. Where more than ``share`` of the arm and torso pixels within about
    0.06 shoulder widths (normalised convolution over those labels) are old garment, the whole neighbourhood is
    garment; a bare arm with a few non-skin pixels (shadows, a watch), or a neckline's solid patch of skin, is
    left as is.
    """
    arms = arm_labels(parse) | (parse == LABEL["torso"])
    if not (old & arms).any():
        return old
    dens = _nconv(old.astype(np.float32)[..., None], arms, max(1.0, 0.06 * sw), np.zeros(1, np.float32))[..., 0]
    return old | (arms & (dens > share))


def _palette(lab: np.ndarray, m: np.ndarray, rng: np.random.Generator, *, min_px: int = 0, support: float = 0.0):
    """A region's colour palette for nearest-neighbour colour tests: at most 3,000 of its CIELAB pixels, drawn
    without replacement, in a ``scipy.spatial.cKDTree``.

    Args:
        lab: (H, W, 3) float32 CIELAB image; m: (H, W) bool region.
        rng: the caller's generator (its draws are consumed in call order, so results are reproducible).
        min_px: fewer region pixels than this give None.
        support: above 0, keep only colours with at least this share of the drawn pixels within 8 CIELAB units
            (a region's common colours: a handbag or a shadow in a backdrop is not its colour); fewer than 10
            left give None.

    Returns:
        cKDTree over (N, 3) colours, or None.
    """
    from scipy.spatial import cKDTree

    px = lab[m]
    if len(px) < min_px:
        return None
    px = px[rng.choice(len(px), size=min(len(px), 3000), replace=False)]
    if support > 0:
        n = cKDTree(px).query_ball_point(px, r=8.0, return_length=True)
        px = px[n >= support * len(px)]
    if min_px and len(px) < 10:
        return None
    return cKDTree(px)


def _top_tail(image: np.ndarray, parse: np.ndarray, old: np.ndarray, frame: BodyFrame, maps: BodyMaps,
              ) -> np.ndarray:
    """(H, W) bool: the old top's lower part where the parse called it lower body (a long shirt over trousers).

    A lower-body pixel between 0.3 shoulder widths above and 0.8 below the hip line is the old top's tail when
    its CIELAB colour is within 10 units of some old-garment pixel and less than half as far from the old
    garment's colours as from the lower garment's own colours (sampled on the thighs, 0.6-1.4 shoulder widths
    below the hips): a nearest-neighbour test against both palettes (scipy.spatial.cKDTree), which holds for
    multi-coloured tops; only parts touching the old garment are kept. Nothing is taken when the lower
    garment is not seen below the band (its colours unknown).
    """

    lower = parse == LABEL["lower_body"]
    if old.sum() < 50 or not lower.any():
        return np.zeros(parse.shape, bool)
    sw = frame.sw
    hip_b = frame.hips()[0]
    band = lower & (maps.b > hip_b - 0.3 * sw) & (maps.b < hip_b + 0.8 * sw)
    thighs = lower & (maps.b > hip_b + 0.6 * sw) & (maps.b < hip_b + 1.4 * sw)
    if not band.any() or thighs.sum() < 50:
        return np.zeros(parse.shape, bool)
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    rng = np.random.default_rng(0)

    def palette(m: np.ndarray):
        return _palette(lab, m, rng)

    q = lab[band]
    d_o = palette(old).query(q, k=1)[0]
    d_t = palette(thighs).query(q, k=1)[0]
    tail = np.zeros(parse.shape, bool)
    tail[band] = (d_o < 10.0) & (d_o < 0.5 * d_t)
    tail = cv2.morphologyEx(tail.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    if not tail.any():
        return tail
    k = max(3, int(round(0.03 * sw)) | 1)
    n, cc = cv2.connectedComponents(tail.astype(np.uint8))
    touch = cv2.dilate(old.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    keep = np.unique(cc[touch & tail])
    return np.isin(cc, keep[keep > 0])


UNDER_BAND = (0.3, 0.9)
"""Where the garment worn on the thighs is sampled by :func:`_kept_below_hem`, in shoulder widths below the hip line
(below a top's hem, above a mini dress's)."""
UNDER_ARM = 0.6
"""How close to an arm bone an old-garment pixel may be kept, in ARM_RADIUS (a forearm's half-width is about 0.55 of
it): the dress round a hand on the belly is kept, an old sleeve the parse gave to the torso is not."""
UNDER_WAIST = 0.5
"""How far above the hip line the old garment beside the new top (not under it) is kept too, in shoulder widths
(about the natural waist)."""
UNDER_BESIDE = 0.3
"""How far beyond half the hip joints' spacing the old garment beside the new top is kept, in shoulder widths (about
the hips' outline and a fitted dress's ease; an elbow held out at the waist is farther), unless the garment on the
thighs is wider still (:func:`_kept_below_hem`)."""
UNDER_HOLE = 0.02
"""Largest patch of old garment enclosed by the kept part that :func:`_kept_below_hem` keeps too, in squared shoulder
widths."""
UNDER_FOOT, UNDER_DRESS = 0.15, 0.3
"""The foot of :data:`UNDER_BAND` (its lowest UNDER_FOOT shoulder widths) and the least share of its clothing the old
garment must cover for :func:`_kept_below_hem` to sample the old garment as the one worn on the thighs, where
trousers or a skirt clothe that foot (a dress or a kurta goes on down the thighs; a long top's hem stops in the
band)."""
UNDER_STRIP = 0.15
"""How far below the new hem, in shoulder widths, the old top's last strip may reach for :func:`_kept_below_hem` to
let it go when the thighs' own garment is not of its colour (a long shirt under the tee reaching further is kept)."""
UNDER_SUPPORT = 0.01
"""Least share of the thighs' samples within 8 CIELAB units of a colour for :func:`_kept_below_hem` to take it as
their garment's when that garment is not the old one (trousers or a skirt under a long top)."""
UNDER_COLOUR = 8.0
"""CIELAB distance within which an old-garment pixel has the colour of the garment on the thighs (a print's colours
sampled, so a floral dress's every colour is near some sample)."""


def _kept_below_hem(image: np.ndarray, parse: np.ndarray, old: np.ndarray, skin: np.ndarray, frame: BodyFrame,
                    maps: BodyMaps, covered: np.ndarray) -> np.ndarray:
    """(H, W) bool: the old garment below the new top's hem that is the garment worn on the thighs, kept as photographed.

    A top tried on over a dress, a kurta or a long tunic is a top worn over it: below the new hem the old
    garment goes on (it is not skin, and a colour continued from the thighs is a flat slab across a print). The
    parse calls a dress's skirt torso down to mid-thigh, so without this the whole skirt above mid-thigh was removed
    and refilled, and a floating skirt hung below the new top. The same test keeps the trousers' own waistband
    where a long old top's parse (torso) reached over it.

    A pixel is kept when it is old garment off the arms (UNDER_ARM x ARM_RADIUS from every arm bone), below the
    new torso part's hem (the lowest covered body-frame row per 0.04 shoulder widths across, continued flat beyond
    the garment's sides) or beside it from UNDER_WAIST above the hips down, within the hips' width (UNDER_BESIDE)
    or the thigh garment's (a top narrower than the dress at the waist; not an elbow's puff sleeve beside it),
    within UNDER_COLOUR of the garment seen on the thighs (UNDER_BAND, non-skin torso / lower body labels,
    ARM_RADIUS from the arm bones; where trousers or a skirt clothe the band's foot and the old garment covers less
    than UNDER_DRESS of it, only their pixels and common colours, UNDER_SUPPORT) and no farther from it than from the
    old garment's chest (+3 units: a dress's bodice, of both palettes, is kept; a tee over jeans, of the chest's,
    is not). Only parts touching the thigh band or the lower body's own pixels are kept, and nothing when the thighs
    are not in view; candidate patches of at most UNDER_HOLE sw² that the kept part encloses are kept with it. What
    the thighs' own palette no longer keeps goes only as a strip within UNDER_STRIP of the new hem. Colour palettes
    are nearest-neighbour tests (:func:`_palette`), as in :func:`_top_tail`.

    Args:
        image: (H, W, 3) uint8 RGB at the working resolution; parse: PARSE_LABELS; old: old-garment mask; skin:
            visible-skin mask; frame / maps: the body frame and maps of the same pixels.
        covered: (H, W) bool, the new garment's torso part (not its sleeves) at the same resolution.
    """
    none = np.zeros(parse.shape, bool)
    if not covered.any() or old.sum() < 50:
        return none
    sw = frame.sw
    hip_b, half_hips = frame.hips()
    clothes = np.isin(parse, (LABEL["torso"], LABEL["lower_body"])) & ~skin & (maps.arm_dist > ARM_RADIUS * sw)
    band = clothes & (maps.b > hip_b + UNDER_BAND[0] * sw) & (maps.b < hip_b + UNDER_BAND[1] * sw)
    thighs = band & (np.abs(maps.a) < half_hips + 0.15 * sw)
    chest = old & clothes & (parse == LABEL["torso"]) & (maps.b > 0.1 * sw) & (maps.b < 0.6 * sw)
    if thighs.sum() < 50 or chest.sum() < 50:
        return none
    # The hem line: per column of the body frame, the lowest row the new torso part covers.
    step = 0.04 * sw
    a_bin = np.floor(maps.a[covered] / step).astype(int)
    lo = a_bin.min()
    hem = np.full(a_bin.max() - lo + 1, -np.inf)
    np.maximum.at(hem, a_bin - lo, maps.b[covered])
    valid = np.isfinite(hem)
    centres = (np.arange(len(hem)) + lo + 0.5) * step
    hem_b = np.interp(maps.a, centres[valid], hem[valid])   # flat beyond the garment's sides
    # Beside a top narrower than the dress at the waist, the dress shows too (refilled, it left backdrop notches
    # at the hem's corners), but only over the width of the hips or of the garment on the thighs (a flared
    # kurta): farther out at the waist are the arms (a puff sleeve the parse calls torso, at the elbow of a hand
    # on the hip, has the dress's print).
    reach = max(half_hips + UNDER_BESIDE * sw, float(np.percentile(np.abs(maps.a[band]), 95)))
    beside = (maps.b > hip_b - UNDER_WAIST * sw) & (np.abs(maps.a) < reach) & \
        ~cv2.dilate(covered.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    # (Closer to the arm bones than the palettes' samples: the dress round a hand resting on the belly is kept.)
    cand = old & np.isin(parse, (LABEL["torso"], LABEL["lower_body"])) & ~skin & \
        (maps.arm_dist > UNDER_ARM * ARM_RADIUS * sw) & ((maps.b > hem_b - 0.02 * sw) | beside)
    if not cand.any():
        return none
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    kept = _kept_by_palette(lab, parse, old, cand, thighs, chest, sw)
    # A long old top's hem can reach into the band: its colour, sampled as the thighs', kept the top's last strip
    # below the new hem (a black tee's band between a yellow tee and grey trousers, shown at 1.00). Where trousers
    # or a skirt clothe the band's foot and the old garment does not go on down there (not a dress or a kurta; bare
    # legs below a mini dress leave the foot unclothed), the thighs' palette is their own garment's common colours
    # (the dark crease between the legs matched the strip too). What that no longer keeps goes only when it is such
    # a strip, within UNDER_STRIP of the new hem: a long shirt under a tee, refilled, was a slab.
    foot = thighs & (maps.b > hip_b + (UNDER_BAND[1] - UNDER_FOOT) * sw)
    if kept.any() and foot.sum() >= 50 and (old & foot).sum() < UNDER_DRESS * foot.sum() \
            and (thighs & ~old).sum() >= 50:
        own = _kept_by_palette(lab, parse, old, cand, thighs & ~old, chest, sw, support=UNDER_SUPPORT)
        strip = kept & ~own
        if strip.any() and float(np.percentile(maps.b[strip] - hem_b[strip], 95)) < UNDER_STRIP * sw:
            kept = own
    return kept


def _kept_by_palette(lab: np.ndarray, parse: np.ndarray, old: np.ndarray, cand: np.ndarray, thighs: np.ndarray,
                     chest: np.ndarray, sw: float, *, support: float = 0.0) -> np.ndarray:
    """:func:`_kept_below_hem`'s colour test and its connectivity: the candidates ``cand`` within UNDER_COLOUR of the
    ``thighs`` palette (``support``: :func:`_palette`'s) and no farther from it than from the ``chest``'s (+3), in
    parts touching the thighs or the lower body's own pixels, with the small patches they enclose. (H, W) bool; all
    masks (H, W) bool on ``lab``'s (H, W, 3) CIELAB pixels; ``sw`` the shoulder width in pixels."""
    rng = np.random.default_rng(0)
    q = lab[cand]
    thigh_tree = _palette(lab, thighs, rng, min_px=1, support=support)
    if thigh_tree is None:
        return np.zeros(parse.shape, bool)
    d_t = thigh_tree.query(q, k=1)[0]
    d_c = _palette(lab, chest, rng).query(q, k=1)[0]
    keep = np.zeros(parse.shape, bool)
    keep[cand] = (d_t < UNDER_COLOUR) & (d_t <= d_c + 3.0)
    keep = cv2.morphologyEx(keep.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)).astype(bool) & cand
    if not keep.any():
        return keep
    n, cc = cv2.connectedComponents(keep.astype(np.uint8))
    k = max(3, int(round(0.03 * sw)) | 1)
    anchor = cv2.dilate((thighs | ((parse == LABEL["lower_body"]) & ~old)).astype(np.uint8),
                        np.ones((k, k), np.uint8)).astype(bool)
    ids = np.unique(cc[anchor & keep])
    kept = np.isin(cc, ids[ids > 0])
    # Small patches of the old garment the kept part encloses are the garment too (a print's colour the palettes
    # missed): refilled, they were flecks of skin or backdrop inside the skirt or the band below the hem.
    holes = ndimage.binary_fill_holes(kept) & ~kept
    if holes.any():
        n, cc2, stats, _ = cv2.connectedComponentsWithStats(holes.astype(np.uint8), connectivity=4)
        small = stats[:, cv2.CC_STAT_AREA] <= UNDER_HOLE * sw * sw
        small[0] = False
        kept |= small[cc2] & cand
    return kept


OUTER_REACH = 0.6
"""How far an open outer layer (a jacket, coat or cardigan worn open, hanging loose or draped over the shoulders)
reaches beyond what the parse calls the person, in shoulder widths (a parka's front flap, a draped jacket's
sleeve)."""

OUTER_BELOW_HIPS = 1.1
"""How far below the hip line an outer layer is looked for, in shoulder widths (a hip-length jacket, a parka to
mid-thigh)."""

OUTER_MIN_PROB = 0.05
"""Least selfie-segmenter person probability at which a backdrop-labelled pixel counts as one the segmenter was
unsure of (the parse's threshold is 0.5): most of an open parka's flap reads 0.05-0.5, the backdrop beside a
person 0."""


def _outer_layer(image: np.ndarray, parse: np.ndarray, old: np.ndarray, skin: np.ndarray, frame: BodyFrame,
                 maps: BodyMaps, keypoints: np.ndarray, person_mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: an open outer layer's parts that the parse did not give to the upper body.

    The selfie mask and BodyPix follow the body: the front of an open parka hanging beside the hip or a jacket
    draped over the shoulders is called background or, beside long hair, hair; the old-garment mask, built from
    the torso and arm labels, keeps it and it stays beside the new garment.

    A pixel of those labels is a candidate when it lies within :data:`OUTER_REACH` shoulder widths of the parse's
    person, from 0.15 shoulder widths above the shoulder line (a shoulder's top) to :data:`OUTER_BELOW_HIPS`
    below the hips, and is not skin. It passes
    the strict colour test when its CIELAB colour is within 12 units of the old garment's palette (its pixels on
    the clothing labels) and less than half as far from it as from the palette of what else it could be: the
    backdrop's common colours (background pixels beyond that reach; colours of less than 1 % of them, a handbag
    or a shadow, left out), for hair also the head's hair (above the eyes). Nearest-neighbour tests against the
    palettes (scipy.spatial.cKDTree), as :func:`_top_tail`. Candidates within 20 units and less than 0.65 as far
    join the strict ones where connected (hysteresis, as Canny's edge linking: a layer's folds and highlights).

    Nothing within 0.3 shoulder widths of a hand is taken (what it holds: a cup, a phone). A connected piece is
    the layer when it touches the old garment and the selfie segmenter was unsure rather than sure of backdrop
    on at least half of it (person probability at least :data:`OUTER_MIN_PROB`, or hair labels: a parka's flap
    reads 0-0.5, 61 % of it at least 0.05; a dark shop window beside a black jacket 30 %; most backdrop beside a
    person 0), with at least 0.05 square shoulder widths of that part passing the strict test. Nothing is taken
    when the backdrop is not seen. Lower-body labels are left alone: a long coat's tails reach below
    any band looked at, and a tail half removed leaves holes in the rest.

    Args:
        image: (H, W, 3) uint8 RGB.
        parse: (H, W) uint8 PARSE_LABELS.
        old: (H, W) bool the old garment found so far.
        skin: (H, W) bool visible skin.
        frame: the person's :class:`BodyFrame` in the same pixels.
        maps: :class:`tryon.teacher.agnostic.BodyMaps` of the same size.
        keypoints: (33, 4) BlazePose keypoints in the same pixels (the hands).
        person_mask: (H, W) float32 person probability in [0, 1] (:class:`tryon.person.segmentation.SelfieSegmenter`).

    Returns:
        (H, W) bool, disjoint from ``old``.
    """

    out = np.zeros(parse.shape, bool)
    sw = frame.sw
    if old.sum() < 50:
        return out
    hip_b = frame.hips()[0]
    person = (parse != LABEL["background"]).astype(np.uint8)
    d_person = cv2.distanceTransform(1 - person, cv2.DIST_L2, 3)
    near = (d_person < OUTER_REACH * sw) & (maps.b > -0.15 * sw) & (maps.b < hip_b + OUTER_BELOW_HIPS * sw)
    backdrop = (parse == LABEL["background"]) & (d_person > OUTER_REACH * sw)
    hair = parse == LABEL["hair"]
    cand = near & ~skin & ~old & ((parse == LABEL["background"]) | hair)
    # What a hand holds (a cup, a phone) is not the layer, whatever its colour.
    held = np.zeros(parse.shape, np.uint8)
    for name in ("left_wrist", "right_wrist", "left_index", "right_index", "left_pinky", "right_pinky"):
        x, y = keypoints[KP[name], :2]
        cv2.circle(held, (int(round(x)), int(round(y))), int(round(0.3 * sw)), 1, -1)
    cand &= ~held.astype(bool)
    if not cand.any() or backdrop.sum() < 50:
        return out
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    rng = np.random.default_rng(0)

    def palette(m: np.ndarray, support: float = 0.0):
        return _palette(lab, m, rng, min_px=30, support=support)

    q = lab[cand]
    # The garment's own colours: the old garment on the clothing labels (not the rims grown into the backdrop).
    own = palette(old & ~skin & np.isin(parse, (LABEL["torso"], LABEL["neck"]) + _ARMS))
    if own is None:
        return out
    d_o = own.query(q, k=1)[0]
    bg_tree = palette(backdrop, support=0.01)
    if bg_tree is None:
        return out
    d_other = bg_tree.query(q, k=1)[0]
    tree = palette(hair & (maps.b < -0.6 * sw))
    if tree is not None and hair[cand].any():
        sub = hair[cand]
        d_other[sub] = np.minimum(d_other[sub], tree.query(q[sub], k=1)[0])
    strong = np.zeros(parse.shape, bool)
    strong[cand] = (d_o < 12.0) & (d_o < 0.5 * d_other)
    strong = cv2.morphologyEx(strong.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    if not strong.any():
        return out
    k = max(3, int(round(0.03 * sw)) | 1)
    touch = cv2.dilate(old.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    # Hysteresis (as Canny's edges): the layer's shaded folds and highlights, looser in colour, join the parts
    # that are surely the layer; specks left between them are closed.
    weak = np.zeros(parse.shape, bool)
    weak[cand] = (d_o < 20.0) & (d_o < 0.65 * d_other)
    weak = cv2.morphologyEx((weak | strong).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    weak = weak.astype(bool) & cand
    n, cc = cv2.connectedComponents(weak.astype(np.uint8))
    # A piece is the layer when it touches the old garment and the segmenter was unsure of most of it, with a
    # sizeable part surely of the layer's colour there (hair-labelled pixels are inside the person already).
    unsure = (person_mask >= OUTER_MIN_PROB) | hair
    keep = np.unique(cc[touch & weak])
    seed = np.bincount(cc[strong & unsure], minlength=n)
    half = np.bincount(cc[unsure], minlength=n) >= 0.5 * np.bincount(cc.ravel(), minlength=n)
    keep = keep[(keep > 0) & (seed[keep] >= 0.05 * sw * sw) & half[keep]]
    return np.isin(cc, keep)


COLLAR_BAND = 0.12
"""Greatest height of an old collar or neckline rib above the old garment's mask, in shoulder widths, for
:func:`_collar`'s test by position (a trim of another colour than the garment's)."""


COLLAR_CHROMA = 40.0
"""Least CIELAB chroma of a hair-labelled pixel taken as a collar by place when the head's hair is not seen (natural
hair and beards stay below it: a red rib is 42-68)."""


DETACHED_COLLAR = 0.5
"""Least share of a hair-labelled piece below the mouth, joined to no head hair, that must be of the old garment's
colour (and nearer it than the head hair's median colour) for :func:`_collar` to take the whole piece, its shaded rim
and tip too."""


def _collar(image: np.ndarray, parse: np.ndarray, old: np.ndarray, skin: np.ndarray, maps: BodyMaps,
            frame: BodyFrame) -> np.ndarray:
    """(H, W) bool: the old garment's collar where the parse called it hair, face or neck.

    Coarse parses give a collar under the chin to the face (a shirt's collar) or to the hair (a jacket's or a
    puffer's stand collar beside dark hair); the old-garment mask, built from the torso and arm labels, then
    keeps it, and it shows above the new neckline. A pixel of those labels below the chin (0.12 shoulder widths
    below the BlazePose mouth corners; for hair labels below the mouth, as stand collars rise beside the jaw)
    and within 0.7 shoulder widths of the body's centre line is collar when it is not skin and its
    CIELAB colour is near the old garment's local colour (normalised convolution, σ = 0.1 shoulder widths) or
    its median colour (within 20 units) and clearly nearer to it than to the head's hair (a beard or hair over the
    shoulders stays), or, labelled hair, is joined to the head's hair by no hair-labelled path (a dark denim collar
    as dark as the hair), or lies within :data:`COLLAR_BAND` of the old garment, 20 units from the hair's median
    colour and, labelled hair, 20 units from every colour of the head's hair (above :data:`COLLAR_CHROMA` when no
    head hair is seen), in a piece 0.1 shoulder widths across the body (a rib or trim of another colour than the
    garment's: a grey sweatshirt's red rib). A detached hair-labelled piece of which :data:`DETACHED_COLLAR` is
    collar by colour is collar whole (a denim collar's shaded tip). Only the parts touching the old garment are kept.
    """
    cand = np.isin(parse, (LABEL["hair"], LABEL["face"], LABEL["neck"])) & ~skin & ~old
    if old.sum() < 30 or not cand.any():
        return np.zeros(parse.shape, bool)
    mouth_b = 0.5 * (frame.to_frame(frame.kp["mouth_left"])[1] + frame.to_frame(frame.kp["mouth_right"])[1])
    # Face-labelled pixels only below the chin; a stand collar beside the jaw is labelled hair, from the mouth.
    below = np.where(parse == LABEL["face"], mouth_b + 0.12 * frame.sw, mouth_b)
    cand &= (maps.b > below) & (np.abs(maps.a) < 0.7 * frame.sw)
    if not cand.any():
        return cand
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    old_med = np.median(lab[old], axis=0)
    old_loc = _nconv(lab, old, max(1.5, 0.1 * frame.sw), old_med)
    # The local colour for multi-coloured garments, the median where the local one is diluted by other pixels.
    d_o = np.minimum(np.linalg.norm(lab - old_loc, axis=-1), np.linalg.norm(lab - old_med, axis=-1))
    head_hair = (parse == LABEL["hair"]) & (maps.b < mouth_b)
    d_h = np.linalg.norm(lab - np.median(lab[head_hair], axis=0), axis=-1) if head_hair.sum() > 30 else \
        np.full(parse.shape, np.inf, np.float32)
    # "Hair" below the mouth that no hair-labelled path joins to the head's hair is not hair (a dark stand collar
    # beside the neck, as dark as the hair): there the colour alone decides.
    _, cc_h = cv2.connectedComponents((parse == LABEL["hair"]).astype(np.uint8))
    on_head = np.unique(cc_h[head_hair])
    detached = (parse == LABEL["hair"]) & ~np.isin(cc_h, on_head[on_head > 0])
    col = cand & (d_o < 20.0) & ((d_o < 0.7 * d_h) | detached)
    # A rib or trim of another colour than the garment's (a sweatshirt's red rib, a ringer tee's band): within a
    # collar's height of the old garment, of neither skin's nor hair's colour, it is collar by where it lies.
    near_old = cv2.distanceTransform((~old).astype(np.uint8), cv2.DIST_L2, 3) <= COLLAR_BAND * frame.sw
    # Labelled hair: only of no colour the head's hair has (strands vary: blonde highlights on the shoulders are 20
    # units from the hair's median but near some hair on the head); with the head's hair unseen (short hair, a
    # shaved head), only of a colour no natural hair or beard has.
    hairy = parse == LABEL["hair"]
    pal = _palette(lab, head_hair, np.random.default_rng(0), min_px=30)
    if pal is None:
        hairy &= np.hypot(lab[..., 1], lab[..., 2]) < COLLAR_CHROMA
        rim_spared = np.zeros_like(hairy)     # (the collar's blended rim is of no hair's colour either)
    else:
        near = hairy & (maps.b > mouth_b)
        hairy = np.zeros_like(hairy)
        if near.any():
            hairy[near] = pal.query(lab[near], k=1)[0] < 20.0
        rim_spared = hairy
    # A detached piece mostly of the garment's colour, and not of the head's hair's, is collar whole: its shaded rim
    # and tip, further from the garment's local colour, were left floating beside the new neck (a denim jacket's
    # collar, wild-dev). (A lock of dark hair over a dark coat, cut off from the head by a beret, is nearer the
    # head's hair's median colour than the coat's.)
    n_d, cc_d = cv2.connectedComponents((detached & cand).astype(np.uint8))
    if n_d > 1:
        share = ndimage.mean(col & (d_o < d_h), cc_d, np.arange(1, n_d))
        whole = np.concatenate([[False], np.asarray(share) >= DETACHED_COLLAR])
        col |= whole[cc_d] & cand
    by_place = cand & near_old & (d_h >= 20.0) & ~hairy
    # (A collar is a band across a piece of the neckline, 0.1 shoulder widths or more across the body; slivers
    # down the neck's sides are its outline against the backdrop, skin and backdrop blended, or its shading.)
    n, cc = cv2.connectedComponents(by_place.astype(np.uint8), connectivity=8)
    if n > 1:
        idx = np.arange(1, n)
        span = ndimage.maximum(maps.a, cc, idx) - ndimage.minimum(maps.a, cc, idx)
        placed = np.concatenate([[False], np.asarray(span) >= 0.1 * frame.sw])[cc]
        # With its blended edge (a red rib's rim against the neck passes as skin, against the garment as neither).
        grown = cv2.dilate(placed.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        # (Not into the face's own skin, nor into hair: the chin and the hair stay as photographed.)
        rim = grown & np.isin(parse, (LABEL["hair"], LABEL["face"], LABEL["neck"])) & ~old & ~rim_spared & \
            ~(skin & (parse == LABEL["face"]))
        col |= placed | rim
    if not col.any():
        return col
    k = max(3, int(round(0.03 * frame.sw)) | 1)
    n, cc = cv2.connectedComponents(col.astype(np.uint8))
    touch = cv2.dilate(old.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    keep = np.unique(cc[touch & col])
    return np.isin(cc, keep[keep > 0])


def _gate_refined(classical: np.ndarray, refined: np.ndarray, hole: np.ndarray, body: np.ndarray) -> np.ndarray:
    """Take the learned fill inside the hole, except where it strays in colour from the classical fill (a
    learned fill that carries the old sleeve's colour into an arm or the backdrop reads as a dirty smear,
    worse than a flat arm): there the two are blended towards the classical fill. The learned fill thus
    contributes shading and texture, not colour.

    Args:
        classical: (H, W, 3) uint8 composite with the classical fill in the hole.
        refined: (H, W, 3) uint8 the learned refiner's output.
        hole: (H, W) bool the filled pixels.
        body: (H, W) bool where the fill is skin (inside the body).

    Returns:
        (H, W, 3) uint8.
    """
    out = classical.copy()
    if not hole.any():
        return out
    a = cv2.cvtColor(classical, cv2.COLOR_RGB2LAB).astype(np.float32)
    b = cv2.cvtColor(refined, cv2.COLOR_RGB2LAB).astype(np.float32)
    # 8-bit Lab: L in 0..255, a/b offset by 128; chroma differences weigh more than lightness (shading).
    d = np.hypot(a[..., 1] - b[..., 1], a[..., 2] - b[..., 2]) + 0.3 * np.abs(a[..., 0] - b[..., 0])
    d = cv2.GaussianBlur(d, (0, 0), max(1.0, 0.004 * hole.shape[0]))
    w = np.clip(1.0 - (d - 10.0) / 12.0, 0.0, 1.0)
    # On the background the classical fill (the studio backdrop's own colour) is reliable: be stricter there.
    w = np.where(body, w, np.clip(1.0 - (d - 6.0) / 8.0, 0.0, 1.0))[..., None]
    mix = w * refined.astype(np.float32) + (1.0 - w) * classical.astype(np.float32)
    out[hole] = np.clip(mix[hole] + 0.5, 0, 255).astype(np.uint8)
    return out


@dataclass
class ComposeResult:
    """Output of :func:`compose`.

    Attributes:
        tryon: (H, W, 3) uint8 RGB final image.
        composition_mask: (H, W) float32, 1 where the output shows the warped garment.
        hole: (H, W) bool where the old garment was removed and filled (skin or background).
        old_garment: (H, W) bool the person's old garment.
        base: (H, W, 3) uint8 the person with the old garment removed (before the new one is drawn).
        skin_synthesized: share of the skin shown in the result that is synthesised, in [0, 1]
            (:func:`tryon.teacher.skin.synthesized_share`; the visible skin of the photo counts as real).
        old_garment_visible: old garment still shown in the result, as a share of the detected old garment's
            area, in [0, 1]: the detected old garment not refilled nor covered
            (:func:`tryon.teacher.skin.old_garment_share`; under hair or hands drawn in front counts as shown)
            plus clothing-labelled, non-skin pixels shown unchanged that have its colours
            (:func:`tryon.teacher.skin.old_garment_remnant`: what the detection missed).
        skin_tone_gap: :func:`tryon.teacher.skin.skin_tone_gap` of the synthesised skin shown against the
            photographed body skin shown (NaN where either is too small).
        chest_synthesized: share of the chest (:data:`CHEST_BOX` in the body frame, arms left out) shown as
            synthesised skin, in [0, 1]: a neckline lower than the old garment's filled with invented skin.
        arms_synthesized: area of the arms shown (their silhouette, :func:`arm_silhouette`, not covered by the
            new garment) that is synthesised skin, in squared shoulder widths: arms invented where long old
            sleeves were (two whole forearms are about 0.3).
        wide_arm_skin: area of the parse's arms shown unchanged as skin further from their bones than a bare arm
            reaches (:data:`WIDE_SKIN`), in squared shoulder widths: a loose sleeve of a skin-like colour (a peach
            overshirt) that the skin tests kept as bare arm, still shown beside the new garment; or legs the parse
            calls arm.
        kept: (H, W) bool, the old garment kept as photographed below or beside a top's hem (:func:`_kept_below_hem`:
            a dress's skirt, the trousers' waistband), which is not old garment left over; None when nothing is.
    """

    tryon: np.ndarray
    composition_mask: np.ndarray
    hole: np.ndarray
    old_garment: np.ndarray
    base: np.ndarray
    skin_synthesized: float = 0.0
    old_garment_visible: float = 0.0
    skin_tone_gap: float = float("nan")
    chest_synthesized: float = 0.0
    arms_synthesized: float = 0.0
    wide_arm_skin: float = 0.0
    kept: np.ndarray | None = None


def compose(image: np.ndarray, parse: np.ndarray, keypoints: np.ndarray, warp: WarpResult, *,
            tone: np.ndarray | None = None, refiner: Callable | None = None,
            shading_strength: float = 0.5, work_height: int = 512, category: str = "top",
            person_mask: np.ndarray | None = None) -> ComposeResult:
    """Composite the warped garment onto the person.

    Masks and fill colours are computed at ``work_height`` (they are smooth or coarse by nature: the parse
    comes from a stride-16 network) and upsampled; the final blend runs at the photo's resolution.

    Args:
        image: (H, W, 3) uint8 RGB person photo.
        parse: (H, W) uint8 PARSE_LABELS.
        keypoints: (33, 4) BlazePose keypoints.
        warp: :class:`tryon.teacher.warp.WarpResult` at the photo's size.
        tone: skin colour (3,) RGB, or None to measure it.
        refiner: optional ``(image, hole_bool, parse) -> image`` learned filler for the uncovered old garment
            (tryon.teacher.refine.Refiner), called once, on the part of the hole inside the body (skin); the
            classical fill is used when None and on the backdrop.
        shading_strength: strength of the shading transfer (0 disables it).
        work_height: working height of the mask computations.
        category: "top", or "dress" (a one-piece): the old trousers / skirt are removed too and bare legs
            synthesised where the new garment does not cover them (tryon.teacher.agnostic_onepiece, on bottoms'
            tryon.teacher.agnostic_lower).
        person_mask: optional (H, W) float32 person probability (the selfie segmenter's, before the parse's
            threshold): with it, a top also removes an open outer layer's parts the parse calls backdrop
            (:func:`_outer_layer`), and a one-piece measures the outline of the bare legs below an old hem that
            the legs synthesised above it continue (:func:`tryon.teacher.agnostic_onepiece.leg_continuation`).

    Returns:
        :class:`ComposeResult`.
    """
    H, W = parse.shape
    s = min(1.0, work_height / H)
    h, w = max(8, int(round(H * s))), max(8, int(round(W * s)))
    if s < 1.0:
        img_s = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
        parse_s = cv2.resize(parse, (w, h), interpolation=cv2.INTER_NEAREST)
        kp_s = np.asarray(keypoints, np.float32).copy()
        kp_s[:, 0] = (kp_s[:, 0] + 0.5) * (w / W) - 0.5
        kp_s[:, 1] = (kp_s[:, 1] + 0.5) * (h / H) - 0.5
    else:
        img_s, parse_s, kp_s = image, parse, np.asarray(keypoints, np.float32)

    def up(m: np.ndarray) -> np.ndarray:
        m = m.astype(np.float32)
        return m if s >= 1.0 else cv2.resize(m, (W, H), interpolation=cv2.INTER_LINEAR)

    frame = body_frame(kp_s)
    sw = frame.sw
    if tone is None:
        tone = skin_tone(img_s, parse_s, kp_s)
    maps = body_maps((h, w), kp_s)
    skin = drop_garment_coloured(img_s, parse_s, tone, skin_mask(img_s, tone, parse=parse_s))
    if category == "dress":   # the old skirt or trousers go too: their skin-coloured pixels are fabric as well
        lower_labels = (LABEL["lower_body"],)
        skin = drop_garment_coloured(img_s, parse_s, tone, skin, garment=lower_labels, candidates=lower_labels)
    # A knit or print of a skin-like hue is fabric: rougher than the face's skin (inner face as reference).
    face_in = cv2.erode((parse_s == LABEL["face"]).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    # Only on the arms and torso (sleeves): a stubbled neck or chin is rough skin, not fabric. A one-piece also
    # removes the old skirt or trousers: there a print of skin-like hues (a maxi dress's floral border) is fabric
    # too, else it is kept as bare legs and left in scraps round the new hem.
    # (Measured on the skin within the tone's usual band: the lit face and neck that skin_mask's parse admits
    # besides changed the face's reference texture, and a knit cuff passed as a bare wrist.)
    usual = skin & skin_mask(img_s, tone)
    rough = usual & ~drop_textured(img_s, usual, face_in & usual, sw)
    fabric_labels = _ARMS + (LABEL["torso"],) + ((LABEL["lower_body"],) if category == "dress" else ())
    skin &= ~(rough & np.isin(parse_s, fabric_labels))
    skin = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    old = old_garment_mask(img_s, parse_s, tone, maps=maps, skin=skin)
    marks = arm_marks(parse_s, skin, maps)        # kept as photographed, and no remnant of the old garment
    old = _grow_old(img_s, parse_s, old, skin, sw)
    old = _sleeve_majority(old, parse_s, sw)
    old |= _old_cuffs(parse_s, old, skin, rough, sw)
    old |= _wrist_cuffs(parse_s, old, skin, rough, maps, kp_s)
    old |= _enclosed_patches(parse_s, old, sw)
    outline = _skin_outline(img_s, parse_s, skin, old, sw)
    old &= ~outline
    pm_s = None
    if person_mask is not None:
        pm_s = np.asarray(person_mask, np.float32)
        pm_s = cv2.resize(pm_s, (w, h), interpolation=cv2.INTER_LINEAR) if pm_s.shape != (h, w) else pm_s
    if category == "top" and pm_s is not None:
        outer = _outer_layer(img_s, parse_s, old, skin, frame, maps, kp_s, pm_s)
        if outer.any():
            old |= outer
            # Beside the body, what the layer hid is backdrop (not hair in front, not the trousers).
            parse_s = parse_s.copy()
            parse_s[outer] = LABEL["background"]
    collar = _collar(img_s, parse_s, old, skin, maps, frame)
    tail = _top_tail(img_s, parse_s, old, frame, maps)
    if collar.any() or tail.any():
        old |= collar | tail
        parse_s = parse_s.copy()
        parse_s[collar | tail] = LABEL["torso"]
    # The refilled arms follow the bare arms photographed below the old sleeves (bones re-centred on them).
    arm_maps = body_maps((h, w), centred_arm_keypoints(parse_s, skin, kp_s, sw))
    body = body_region(parse_s, frame, skin, arm_maps, kp_s)
    leg_q = None
    if category == "dress":
        from tryon.teacher.agnostic_onepiece import lower_body

        lo = lower_body(img_s, parse_s, skin, kp_s, person_mask=pm_s)
        leg_q = lo.limb_q
        old |= lo.old
        body = (body & ~lo.old) | lo.legs
    kept = np.zeros((h, w), bool)
    if category == "top":
        tw_s = warp.torso_weight if warp.torso_weight is not None else (warp.warped_parts == PART_TORSO)
        cov = warp.warped_mask.astype(np.float32) * tw_s
        cov = cv2.resize(cov, (w, h), interpolation=cv2.INTER_AREA) if s < 1.0 else cov
        kept = _kept_below_hem(img_s, parse_s, old, skin, frame, maps, cov > 0.5)
        old &= ~kept
    # The old garment's blended edge against the skin (a white collar beside a pale neck) goes with the garment.
    rim_mix = _old_skin_rim(img_s, parse_s, skin, old, maps) & ~kept
    old |= rim_mix
    skin = skin & ~rim_mix
    arms = arm_front_mask(img_s, parse_s, skin, maps, warp.sleeve_reach)

    hair_a, hair_corr = hair_matte(img_s, parse_s, old, skin, maps)
    face = parse_s == LABEL["face"]
    # Cuffs of old sleeves over the hands are garment (also the non-skin rim right next to the old garment).
    k_cuff = max(3, int(round(h / 170)) | 1)
    near_old = cv2.dilate(old.astype(np.uint8), np.ones((k_cuff, k_cuff), np.uint8)).astype(bool)
    hands = np.isin(parse_s, _HANDS) & ~(near_old & ~skin) & ~old
    hands = _near_wrists(hands, kp_s, sw)
    # The neck is in front only above the neckline's base; below it the new garment decides.
    neck_b = -0.1 * sw
    if "neck_left" in warp.targets:
        p = np.asarray(warp.targets["neck_left"], np.float64)
        p = np.array([(p[0] + 0.5) * (w / W) - 0.5, (p[1] + 0.5) * (h / H) - 0.5])
        neck_b = float(frame.to_frame(p)[1])
    neck_front = (parse_s == LABEL["neck"]) & (maps.b < neck_b + 0.02 * sw) & ~old

    # The parse's edges are coarse: the old garment's rim spills into what it calls background.
    k = max(3, int(round(h / 110)) | 1)
    rim = cv2.dilate(old.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    rim &= (parse_s == LABEL["background"]) | (~skin & np.isin(parse_s, _ARMS + _HANDS + (LABEL["torso"],)))
    rim &= ~outline
    hole_all = (old | rim) & ~(hair_a > 0.95) & ~hands & ~face
    # The rim and the cuffs can close a ring round a skin-hued knit blob the old garment's own mask left open.
    hole_all |= _enclosed_patches(parse_s, hole_all, sw)
    hole_all &= ~kept
    sleeve_old = old & arm_labels(parse_s)
    # Below the hip line a long old top covered the waist of the trousers / skirt: continue those, not skin.
    hip_b, half_hips = frame.hips()
    lo_near = cv2.GaussianBlur((parse_s == LABEL["lower_body"]).astype(np.float32), (0, 0), max(2.0, 0.2 * sw))
    lower = (maps.b > hip_b - 0.1 * sw) & (np.abs(maps.a) < half_hips + 0.12 * sw) & (lo_near > 0.05)
    if not _covers_the_waist(old, maps, hip_b, half_hips):
        lower[:] = False
    arm_sil = arm_silhouette(parse_s, skin, arm_maps)
    # (Not along the forearms: a sleeve's cuff beside the hips is arm or backdrop, not trousers.)
    lower &= hole_all & ~arm_sil & (arm_maps.arm_dist > 0.2 * sw)
    if leg_q is not None:   # a one-piece replaces the lower garment too: legs there, not its continuation
        lower[:] = False
    lower = cv2.GaussianBlur(lower.astype(np.float32), (0, 0), max(1.0, 0.03 * sw)) if lower.any() else None
    if lower is not None:
        body = body | (lower > 0.5)
    body = _drop_body_specks(body, hole_all, sw)
    # Legs are shaded like arms: their normalised distance, in arm units (a cylinder across each leg).
    limb_dist = arm_maps.arm_dist if leg_q is None else np.minimum(arm_maps.arm_dist, leg_q * ARM_RADIUS * sw)
    # Skin and backdrop are filled apart and their outline drawn at the photo's resolution, as the bottoms'
    # composition does: drawn at the working resolution, the outline of a synthesised arm or leg showed its
    # pixels as a staircase on a phone photo (a 2826-px photo is 5.5 working pixels to one). The skin is
    # computed on a grown body, so that the anti-aliased outline never reaches the backdrop's colour.
    k_g = max(3, int(round(0.05 * sw)) | 1)
    grown = cv2.dilate(body.astype(np.uint8), np.ones((k_g, k_g), np.uint8)).astype(bool)
    skin_fill = fill_colors(img_s, hole_all, grown, skin, tone, limb_dist, parse_s, sw, sleeve=sleeve_old,
                            lower=lower, old=old, across=maps.a,
                            neck=neck_profile(parse_s, frame, skin, maps, kp_s),
                            arm_r=arm_radius(parse_s, skin, arm_maps) if leg_q is None else None)
    bg_fill = fill_colors(img_s, hole_all, body & ~hole_all, skin, tone, limb_dist, parse_s, sw)
    if leg_q is not None and lo.cont_w.any():
        # Legs under an old hem continue the photographed bare legs below it (no step at the old hem). After the
        # skin model's seam matching, not before: the old hem's shadow on the shin, next to the hole, would pull
        # the continued colour dark along the seam.
        wc = (lo.cont_w * hole_all)[..., None]
        skin_fill = skin_fill * (1.0 - wc) + lo.cont_rgb * wc
    crease = _arm_crease(arm_sil, body, sw)[..., None]

    # Full-resolution layers; masks from the working resolution are upsampled anti-aliased (no stair steps).
    a_hole = soft_upsample(hole_all, (W, H), ramp_px=2.0)
    body_a = soft_upsample(body, (W, H), sigma=1.5, ramp_px=2.0)

    def full(x: np.ndarray) -> np.ndarray:
        return x if s >= 1.0 else cv2.resize(x, (W, H), interpolation=cv2.INTER_LINEAR)

    fill_full = full(crease * skin_fill) * body_a[..., None] + full(crease * bg_fill) * (1.0 - body_a[..., None])
    # Texture: the person's own skin grain on the synthesised skin, the photo's grain on the backdrop.
    skin_full = soft_upsample(skin & ~hole_all & ~face, (W, H)) > 0.5
    # The grain is copied from the person's skin only: skin-coloured backdrop or hair would be copied too. Not from
    # the face unless nothing else is bare (long sleeves, a neck the parse gives to the face): then its calmest
    # patches, rather than no grain at all (a chest under a deep neckline filled as one flat, plastic tone).
    bare = skin & ~hole_all & ~np.isin(parse_s, (LABEL["hair"], LABEL["background"]))
    if (bare & ~face).sum() >= TEXTURE_MIN_SKIN * sw * sw:
        bare &= ~face
    tex_src = soft_upsample(bare, (W, H)) > 0.5
    tex = skin_texture(image, tex_src, a_hole > 0.5)
    sw_full = sw / s if s < 1.0 else sw
    lum_fill = np.maximum(fill_full.mean(axis=-1, keepdims=True), 8.0)
    # Multiplicative on skin (darker skin has proportionally smaller luminance variations); the backdrop's own
    # detail copied from beside it (grass, stone), else the photo's grain.
    fill_full = fill_full * (1.0 + body_a[..., None] * tex[..., None] / lum_fill) \
        + (1.0 - body_a)[..., None] * _backdrop_detail(image, parse, a_hole, body_a, sw_full)
    # The new garment's edges (neckline, straps, hems) shade the synthesised skin beside them. Not the arms:
    # they hang in front of or beside the garment (and the warp's sleeve / torso split is too rough near the
    # hem to tell a sleeve's shadow from the torso's).
    occ = contact_shadow(warp.warped_mask, max(1.0, GARMENT_SHADOW[0] * sw_full), GARMENT_SHADOW[1])
    occ = np.where(up(arms | arm_sil | (arm_maps.arm_dist < 1.6 * ARM_RADIUS * sw)) > 0.5, 1.0, occ)
    fill_full = fill_full * (1.0 - body_a * (1.0 - occ))[..., None]
    base = image.astype(np.float32) * (1 - a_hole[..., None]) + fill_full * a_hole[..., None]

    # Shading measured on the old garment's torso only (no arms / hands / hair in front of it).
    # Arms and hands cast contact shadows on the old garment: keep a margin around them too.
    k_sh = max(3, int(round(0.06 * sw)) | 1)
    in_front = cv2.dilate((arms | np.isin(parse_s, _HANDS)).astype(np.uint8), np.ones((k_sh, k_sh), np.uint8))
    shade_region = old & (parse_s == LABEL["torso"]) & ~in_front.astype(bool)
    if shading_strength > 0:
        shade = shading_map(img_s, shade_region, scale_px=sw, strength=shading_strength)
        # The torso's roundness: a light falloff towards its sides (flat-lit renders and white garments
        # otherwise look like a paper cut-out); the sleeves do not get it.
        vol = 1.0 - 0.07 * np.clip(np.abs(maps.a) / (0.6 * sw), 0.0, 1.0) ** 2
        shade, vol = (up(shade), up(vol)) if s < 1.0 else (shade, vol)
    else:
        shade = vol = np.ones((H, W), np.float32)
    garment_rgb = warp.warped_garment.astype(np.float32) * shade[..., None]
    torso_rgb = garment_rgb * vol[..., None]

    g = warp.warped_mask.astype(np.float32)
    # Soft part weights (anti-aliased torso / sleeve boundary) when the warp gives them.
    tw = warp.torso_weight if warp.torso_weight is not None else (warp.warped_parts == PART_TORSO)
    g_sleeve = g * (1.0 - tw) if warp.torso_weight is not None else g * (warp.warped_parts > PART_TORSO)
    # The sleeves are painted over the torso ("over" operator), so the torso's alpha is the share of the
    # garment's coverage left once the sleeve's is taken: g·tw / (1 − g_sleeve). Two complementary ramps painted
    # one over the other with alphas g·tw and g·(1 − tw) cover only 1 − tw + tw² (75 % at mid-ramp): a light
    # seam line along every armhole, where the photo showed through.
    g_torso = np.clip(g * tw / np.maximum(1.0 - g_sleeve, 1e-3), 0.0, 1.0)
    face_full = parse == LABEL["face"]
    if collar.any():
        face_full &= ~(up(collar) > 0.5)
    # The parse's blocky arm outline (stride 16) would cut stair steps into the garment: a smoothed outline
    # with a short soft edge.
    arms_a = cv2.GaussianBlur(arms.astype(np.float32), (0, 0), max(0.8, 0.012 * sw))
    arms_a = soft_upsample(np.clip((arms_a - 0.5) * 3.0 + 0.5, 0.0, 1.0), (W, H), sigma=0.0)
    hair_rgb = image.astype(np.float32) + (hair_corr if s >= 1.0 else cv2.resize(hair_corr, (W, H)))
    layers = [
        (torso_rgb, g_torso),
        (base, arms_a),                         # arms as photographed, old sleeves replaced by the fill
        (garment_rgb, g_sleeve),
        (image, soft_upsample(hands, (W, H))),
        (hair_rgb, up(hair_a)),
        (image, np.maximum(soft_upsample(neck_front, (W, H)), face_full.astype(np.float32))),
    ]
    out, vis = paint_layers(base, layers)
    comp = np.clip(vis[0] + vis[2], 0.0, 1.0)
    hole = (up(hole_all) > 0.5) & (comp < 0.5) & ~face_full & (up(hair_a) < 0.3)
    result = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    # The learned fill only on the body (skin): on the backdrop the classical fill is the backdrop's own colour,
    # and the network draws grey halos along the arms there. A smaller hole is also a smaller, cheaper crop.
    body_full = up(body) > 0.5
    kb = max(3, int(round(H / 200)) | 1)
    hole_r = hole & cv2.erode(body_full.astype(np.uint8), np.ones((kb, kb), np.uint8)).astype(bool)
    if refiner is not None and hole_r.any():
        try:
            refined = refiner(result, hole_r, parse)
            result = _gate_refined(result, np.asarray(refined, np.uint8), hole_r, body_full)
        except Exception as exc:  # noqa: BLE001  the learned fill is optional: keep the classical one
            log.warning("refiner failed (%s); keeping the classical fill", exc)
    # The face is never touched.
    result[face_full] = image[face_full]
    old_full = up(old) > 0.5
    covered = comp >= 0.5
    synth = hole & body_full
    if lower is not None:
        synth &= ~(up(lower) > 0.5)
    synth_share = synthesized_share(synth, synth | skin_full, ~covered)
    # The synthesised skin's colour against the photographed body skin's (the gate's skin_tone).
    res_s = cv2.resize(result, (w, h), interpolation=cv2.INTER_AREA) if s < 1.0 else result
    shown_a = cv2.resize((~covered).astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) if s < 1.0 else \
        (~covered).astype(np.float32)
    synth_s = (cv2.resize(synth.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0.5) & (shown_a > 0.5)
    real_s = skin & ~hole_all & ~face & (shown_a > 0.5)
    tone_gap = skin_tone_gap(res_s, synth_s, real_s)
    half, b0, b1 = CHEST_BOX
    chest = (np.abs(maps.a) < half * sw) & (maps.b > b0 * sw) & (maps.b < b1 * sw) & \
        (maps.arm_dist > ARM_RADIUS * sw) & ~face
    chest_share = float((synth_s & chest).sum()) / max(float(chest.sum()), 1.0)
    # An area, not a share of the arms shown: a long new sleeve leaves a wrist or two, whose share is noise.
    arms_shown = arm_sil & (shown_a > 0.5) & ~face
    arms_share = float((synth_s & arms_shown).sum()) / max(sw * sw, 1.0)
    # Kept as bare arm but wider than an arm: skin-hued clothing the skin tests could not tell from skin (or legs the
    # parse calls arm, beside a hand on the lap: a result that does not follow the pose either).
    wide = arm_labels(parse_s) & real_s & (maps.arm_dist > WIDE_SKIN * ARM_RADIUS * sw)
    if maps.arm_coord is not None:
        # Not an arm the photo cuts off at a side or the top (its label at that edge) or whose elbow or wrist
        # BlazePose barely sees or puts outside: its bones are guessed. A woman's bare forearms, hands on the hips and
        # elbows out of the frame, read as wider than an arm (BlazePose put the elbows inside the frame, at 0.98).
        # (Not the bottom edge: there the parse's "arm" is often legs beside a hand on the lap, which is measured.)
        for side in ("left", "right"):
            joints = kp_s[[KP[f"{side}_elbow"], KP[f"{side}_wrist"]]]
            seen = (joints[:, 0] >= 0) & (joints[:, 0] < w) & (joints[:, 1] >= 0) & (joints[:, 1] < h) & \
                (joints[:, 3] >= 0.5)
            lab = parse_s == LABEL[f"{side}_arm"]
            cut = lab[0].any() or lab[:, 0].any() or lab[:, -1].any()
            if cut or not seen.all():
                wide &= (maps.arm_coord["nearest_is_right"] > 0.5) != (side == "right")
    wide_skin = float(wide.sum()) / max(sw * sw, 1.0)
    # Detected old garment still shown, plus what the detection missed but has its colours (collars, cuffs,
    # strips along the arms): clothing labels shown unchanged, not skin, matching the old garment's palette.
    comp_s = cv2.resize(comp, (w, h), interpolation=cv2.INTER_AREA) if s < 1.0 else comp
    mouth_b = 0.5 * (frame.to_frame(frame.kp["mouth_left"])[1] + frame.to_frame(frame.kp["mouth_right"])[1])
    clothing = np.isin(parse_s, _ARMS + _HANDS + (LABEL["torso"], LABEL["neck"])) | \
        (np.isin(parse_s, (LABEL["hair"], LABEL["face"])) & (maps.b > mouth_b + 0.12 * sw))
    shown_s = clothing & ~hole_all & (comp_s < 0.5) & ~skin & ~old & ~kept & ~marks
    remnant = old_garment_remnant(img_s, old, shown_s)
    old_vis = old_garment_share(old_full, a_hole > 0.5, covered) + float(remnant.sum()) / max(float(old.sum()), 1.0)
    old_vis = min(old_vis, 1.0)
    return ComposeResult(tryon=result, composition_mask=comp.astype(np.float32), hole=hole,
                         old_garment=old_full, base=np.clip(base + 0.5, 0, 255).astype(np.uint8),
                         skin_synthesized=synth_share, old_garment_visible=old_vis,
                         skin_tone_gap=tone_gap, chest_synthesized=chest_share,
                         arms_synthesized=arms_share, wide_arm_skin=wide_skin,
                         kept=(up(kept) > 0.5) if kept.any() else None)
