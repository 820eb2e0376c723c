"""Clothing-agnostic person representation (VITON / CP-VTON) and the old-garment mask.

VITON (Han et al., "VITON: An Image-based Virtual Try-on Network", CVPR 2018) and CP-VTON (Wang et al., ECCV
2018) feed the try-on network a person representation that keeps what the new garment must not change (face,
hair, hands, lower body) and hides the old upper garment, so the network cannot copy it. Here the hidden region
is the old garment: the parse's torso, plus the clothed parts of the arms, told apart from bare skin by colour
against the person's own skin tone (face and hands).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from tryon.person.body import FACE, KP, body_frame, cheek_region
from tryon.person.labels import LABEL

__all__ = ["skin_tone", "skin_mask", "old_garment_mask", "agnostic_image", "arm_front_mask", "arm_labels", "body_maps", "refine_arm_labels", "BodyMaps",
           "drop_garment_coloured", "arm_marks", "MARK_MAX", "MARK_SKIN", "ARM_REACH",
           "AGNOSTIC_GREY"]

AGNOSTIC_GREY = (128, 128, 128)
"""Fill colour of the hidden region (VITON-HD's agnostic images use mid grey)."""

_ARMS = (LABEL["left_arm"], LABEL["right_arm"])
_HANDS = (LABEL["left_hand"], LABEL["right_hand"])


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


MODE_BINS = (6.0, 4.0, 4.0)
"""CIELAB bin sizes (L*, a*, b*) of :func:`_near_mode`'s colour histogram."""


def _near_mode(image: np.ndarray, region: np.ndarray, *, radius: float = 2.5) -> np.ndarray:
    """(H, W) bool: the pixels of ``region`` within ``radius`` bins of its most common colour.

    The mode of a CIELAB histogram (bins :data:`MODE_BINS`, smoothed over 3 x 3 x 3 bins): the cheeks hold the
    face's skin in one tight cluster, and the lower halves of sunglasses' lenses, which BlazePose's eye landmarks
    (on the frames' upper rims) leave in the cheek band, spread over many darker bins, so the median of the whole
    band came out 20 red levels too dark.
    """
    lab = _lab(image)[region]
    if len(lab) < 10:
        return region
    step = np.asarray(MODE_BINS, np.float32)
    q = np.floor(lab / step).astype(np.int64)
    lo = q.min(axis=0)
    q -= lo
    hist = np.zeros(tuple(q.max(axis=0) + 1), np.float32)
    np.add.at(hist, tuple(q.T), 1.0)
    hist = ndimage.uniform_filter(hist, size=3, mode="constant")
    centre = (np.array(np.unravel_index(int(np.argmax(hist)), hist.shape)) + lo + 0.5) * step
    out = np.zeros(region.shape, bool)
    out[region] = np.linalg.norm((lab - centre) / step, axis=-1) <= radius
    return out if out.sum() >= 10 else region


def skin_tone(image: np.ndarray, parse: np.ndarray, keypoints: np.ndarray | None = None) -> np.ndarray:
    """The person's skin colour: median RGB of the face's cheeks (or central part) and of the hands.

    With keypoints whose face landmarks are visible, the face's sample is its cheeks and nose
    (:func:`tryon.person.body.cheek_region`): the parse's face also takes in hair falling across it, a fringe and
    sunglasses, and long auburn hair over half the face gave a hair-coloured tone, so that the arms beside it
    failed the skin test and were repainted as flat slabs. Without keypoints, the face's border (hairline, eyes,
    lips at its edge) is eroded away. Hands are used when present since their tone is closer to the arms', and
    alone when the photo's top edge cuts the face.

    Args:
        image: (H, W, 3) uint8 RGB.
        parse: (H, W) uint8 PARSE_LABELS.
        keypoints: optional (33, 4) BlazePose keypoints in ``image`` pixels.

    Returns:
        (3,) float32 RGB in [0, 255]; a neutral light skin colour when neither face nor hands are visible.
    """
    face = (parse == LABEL["face"]).astype(np.uint8)
    # A face cut by the photo's top edge (a chest-up phone photo) is mostly hair to the parse: its median is the
    # hair's colour, and the synthesised skin came out near black. The hands speak for the skin then.
    face_cut = bool(face[:2].any())
    cheeks = None
    if keypoints is not None and float(np.min(np.asarray(keypoints)[list(FACE), 3])) > 0.5:
        cheeks = face.astype(bool) & cheek_region(keypoints, parse.shape)
    if cheeks is not None and cheeks.sum() >= 10:
        face = cheeks & _near_mode(image, cheeks)
    else:
        k = max(3, int(np.sqrt(face.sum()) * 0.15) | 1)
        face = cv2.erode(face, np.ones((k, k), np.uint8)).astype(bool)
    hands = np.isin(parse, _HANDS)
    if face_cut and hands.sum() >= 10:
        # Only the hands' skin-coloured pixels (Chai & Ngan 1999's YCrCb skin cluster): in a later outfit step the
        # parse's hands also take in the new garment painted beside them.
        ycc = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2YCrCb)
        cr, cb = ycc[..., 1], ycc[..., 2]
        skin_like = hands & (cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127)
        if skin_like.sum() >= 10:
            face[:] = False
            hands = skin_like
    if face.sum() >= 10:
        tone = np.median(image[face], axis=0).astype(np.float32)
    elif hands.sum() >= 10:
        tone = np.median(image[hands], axis=0).astype(np.float32)
    else:
        return np.array([205.0, 160.0, 140.0], np.float32)
    if hands.sum() > 30:
        # Coarse parses call sleeves or trousers next to the hand "hand": only skin-coloured ones count.
        hands = cv2.erode(hands.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        hands &= skin_mask(image, tone)
        if hands.sum() > 30:
            tone = np.median(np.concatenate([image[face], image[hands]], 0), axis=0).astype(np.float32)
    return tone


SKIN_LIGHTER = 22.0
"""How much lighter (CIELAB L*) than the skin tone a pixel may be and still count as skin in :func:`skin_mask`."""

NECK_LIGHTER = 34.0
"""How much lighter (CIELAB L*) than the skin tone a pixel the parse calls neck or face may be and still count as
skin in :func:`skin_mask` (elsewhere :data:`SKIN_LIGHTER`). The tone is the cheeks' median; a neck lit from the side is far lighter
(wild-dev: a studio-lit neck at L* 81-85, labelled face up to the jaw, over cheeks at 55, of the same hue). Failing
the test, its lit half was taken for an old collar, cut out and refilled as a flat block beside the shaded half."""


def skin_mask(image: np.ndarray, tone: np.ndarray, *, tolerance: float = 1.0,
              parse: np.ndarray | None = None) -> np.ndarray:
    """(H, W) bool: pixels whose colour is close to ``tone`` (CIELAB chroma, loose on lightness for shading).

    Args:
        image: (H, W, 3) uint8 RGB.
        tone: (3,) RGB skin colour from :func:`skin_tone`.
        tolerance: multiplies the distance thresholds.
        parse: optional (H, W) uint8 PARSE_LABELS of ``image``: its neck and face may be up to
            :data:`NECK_LIGHTER` lighter than the tone.
    """
    lab = _lab(image)
    t = _lab(np.asarray(tone, np.float32).reshape(1, 1, 3).clip(0, 255).astype(np.uint8))[0, 0]
    dc = np.hypot(lab[..., 1] - t[1], lab[..., 2] - t[2])
    dl = lab[..., 0] - t[0]
    lighter = SKIN_LIGHTER if parse is None else \
        np.where(np.isin(parse, (LABEL["neck"], LABEL["face"])), NECK_LIGHTER, SKIN_LIGHTER)
    # Shadowed skin is darker but keeps its hue; black and white fabrics fail the lightness band.
    ok = (dc < 14.0 * tolerance) & (dl > -38.0 * tolerance) & (dl < lighter * tolerance)
    ok &= np.hypot(lab[..., 1], lab[..., 2]) > 6.0  # near-grey pixels are fabric, not skin
    return ok


def drop_garment_coloured(image: np.ndarray, parse: np.ndarray, tone: np.ndarray, skin: np.ndarray, *,
                          garment: tuple[int, ...] = (LABEL["torso"],),
                          candidates: tuple[int, ...] = (LABEL["torso"], LABEL["neck"]) + _ARMS + _HANDS,
                          ) -> np.ndarray:
    """``skin`` without the pixels that have the old garment's colour rather than the skin's.

    :func:`skin_mask` is a band around one skin colour, loose on lightness for shadows; brown, olive, tan and
    rust fabrics fall inside it (an olive T-shirt's sleeves would be kept as "bare arm" and show under a new
    tank top). Here each skin candidate on the torso, arms, neck and hands is compared with two colours: the
    skin tone and the local colour of the old garment (normalised convolution of the torso's non-skin pixels,
    the garment's median where none is near), in CIELAB with lightness down-weighted (shading changes it);
    candidates clearly closer to the garment (distance < 0.7 x the distance to the skin) are dropped. Nothing
    is dropped when the garment's colour is itself close to the skin's (a beige top: the test cannot tell).
    A two-class nearest-colour decision, as in classical skin / cloth segmentation by colour models.

    ``garment`` and ``candidates`` name other labels for another garment: a one-piece also tests the lower body
    against the old skirt or trousers (an ivory skirt of a fair-skinned person passes the skin test in stripes,
    and was kept as bare legs below a shorter new dress).

    Args:
        image: (H, W, 3) uint8 RGB.
        parse: (H, W) uint8 PARSE_LABELS.
        tone: (3,) RGB skin colour (:func:`skin_tone`).
        skin: (H, W) bool candidate skin (:func:`skin_mask`).
        garment: the labels whose non-skin pixels are the old garment's colour.
        candidates: the labels whose skin candidates are tested.

    Returns:
        (H, W) bool, a subset of ``skin``.
    """
    src = np.isin(parse, garment) & ~skin
    if src.sum() < 50:
        return skin
    lab = _lab(image)
    t = _lab(np.asarray(tone, np.float32).reshape(1, 1, 3).clip(0, 255).astype(np.uint8))[0, 0]
    g_med = np.median(lab[src], axis=0)
    wl = np.array([0.35, 1.0, 1.0], np.float32)
    if float(np.linalg.norm((g_med - t) * wl)) < 12.0:
        return skin
    cand = skin & np.isin(parse, candidates)
    if not cand.any():
        return skin
    sig = max(2.0, 0.04 * image.shape[0])
    m = src.astype(np.float32)
    num = cv2.GaussianBlur(lab * m[..., None], (0, 0), sig)
    den = cv2.GaussianBlur(m, (0, 0), sig)[..., None]
    g_loc = (num + g_med * 1e-3) / (den + 1e-3)
    d_g = np.linalg.norm((lab - g_loc) * wl, axis=-1)
    d_s = np.linalg.norm((lab - t) * wl, axis=-1)
    return skin & ~(cand & (d_g < 0.7 * d_s))


def _seg_dist(xs: np.ndarray, ys: np.ndarray, a: np.ndarray, b: np.ndarray, with_t: bool = False):
    """Distance of each (xs, ys) to the segment a-b (and, with ``with_t``, the nearest point's position t)."""
    d = b - a
    l2 = max(float(d @ d), 1e-6)
    t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / l2, 0.0, 1.0)
    dist = np.hypot(xs - a[0] - t * d[0], ys - a[1] - t * d[1])
    return (dist, t) if with_t else dist


@dataclass
class BodyMaps:
    """Per-pixel body geometry from the keypoints.

    Attributes:
        arm_dist: (H, W) float32 distance (pixels) to the nearest arm bone (shoulder–elbow, elbow–wrist).
        fore_dist: (H, W) float32 distance to the nearest forearm bone.
        b: (H, W) float32 coordinate down the body (pixels, 0 at the shoulder line).
        a: (H, W) float32 coordinate across the body (pixels, 0 between the shoulders, + towards the left).
        sw: shoulder width, pixels.
        arm_coord: side ("left", "right", "nearest": the closer arm) -> (H, W) float32 position along that
            arm of the nearest bone point (0 shoulder joint, 1 elbow, 2 wrist); "nearest_is_right": 1 where
            the closer arm is the right one.
    """

    arm_dist: np.ndarray
    fore_dist: np.ndarray
    b: np.ndarray
    a: np.ndarray
    sw: float
    arm_coord: dict[str, np.ndarray] | None = None


def body_maps(shape: tuple[int, int], keypoints: np.ndarray) -> BodyMaps:
    """Compute :class:`BodyMaps` for an image of ``shape`` = (H, W) from (33, 4) keypoints in its pixels."""
    fr = body_frame(keypoints)
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    arm = np.full(shape, np.inf, np.float32)
    fore = np.full(shape, np.inf, np.float32)
    coord = {}
    near_coord = np.zeros(shape, np.float32)
    near_side = np.zeros(shape, np.int8)
    for side in ("left", "right"):
        s, e, w = (keypoints[KP[f"{side}_{j}"], :2].astype(np.float32) for j in ("shoulder", "elbow", "wrist"))
        fd, ft = _seg_dist(xs, ys, e, w, with_t=True)
        ud, ut = _seg_dist(xs, ys, s, e, with_t=True)
        coord[side] = np.where(ud <= fd, ut, 1.0 + ft).astype(np.float32)
        d_side = np.minimum(ud, fd)
        near_coord = np.where(d_side < arm, coord[side], near_coord)
        near_side = np.where(d_side < arm, 0 if side == "left" else 1, near_side)
        fore = np.minimum(fore, fd)
        arm = np.minimum(arm, d_side)
    dx, dy = xs - np.float32(fr.origin[0]), ys - np.float32(fr.origin[1])
    b = dx * np.float32(fr.v[0]) + dy * np.float32(fr.v[1])
    a = dx * np.float32(fr.u[0]) + dy * np.float32(fr.u[1])
    coord["nearest"] = near_coord
    coord["nearest_is_right"] = near_side.astype(np.float32)
    return BodyMaps(arm_dist=arm, fore_dist=fore, b=b, a=a, sw=fr.sw, arm_coord=coord)


def arm_front_mask(image: np.ndarray, parse: np.ndarray, skin: np.ndarray, maps: BodyMaps | None,
                   sleeve_reach: dict[str, float] | None = None) -> np.ndarray:
    """(H, W) bool: the arms as they lie in the photo (in front of the torso), from the parse and skin colour.

    The parse's arm labels, without islands (a stray arm blob in the middle of the torso is a parse error),
    plus skin-coloured pixels along the arm bones that the parse gave to the torso (coarse parses often
    swallow bare arms held against the body).
    """
    arms = arm_labels(parse)
    if maps is not None:
        # Old sleeve fabric away from the arm's core (a loose sleeve, the parse's fringe) is not drawn in front:
        # the new garment may cover it; only the arm's core (and bare skin) stays on top.
        arms &= skin | (maps.arm_dist < 0.1 * maps.sw)
        arms |= skin & (maps.arm_dist < 0.15 * maps.sw) & (parse == LABEL["torso"])
        if sleeve_reach and maps.arm_coord is not None:
            # Where the new sleeve reaches, the arm is inside it: nothing of the arm is drawn in front of the
            # torso there (a sleeve narrower than the parse's arm leaves garment, not a slit of skin).
            is_right = maps.arm_coord["nearest_is_right"] > 0.5
            for side, lab in (("left", LABEL["left_arm"]), ("right", LABEL["right_arm"])):
                r = sleeve_reach.get(side, 0.0)
                if r > 0:
                    mine = (parse == lab) | ((parse == LABEL["torso"]) & (is_right == (side == "right")))
                    arms &= ~(mine & (maps.arm_coord[side] < r - 0.05))
    return arms


def arm_labels(parse: np.ndarray) -> np.ndarray:
    """(H, W) bool: the parse's arm labels without small islands (a stray arm blob in the torso or in a
    pocket is a parse error): components smaller than 30 % of each arm's largest one are dropped."""
    arms = np.zeros(parse.shape, bool)
    for lab in _ARMS:
        m = (parse == lab).astype(np.uint8)
        if not m.any():
            continue
        n, cc, st, _ = cv2.connectedComponentsWithStats(m)
        big = st[1:, cv2.CC_STAT_AREA].max()
        keep = 1 + np.nonzero(st[1:, cv2.CC_STAT_AREA] >= 0.3 * big)[0]
        arms |= np.isin(cc, keep)
    return arms


def refine_arm_labels(image: np.ndarray, parse: np.ndarray, keypoints: np.ndarray, *,
                      work_height: int = 384) -> np.ndarray:
    """A copy of ``parse`` where bare-skin pixels along the arm bones that the parse called torso become arm.

    Coarse parses (BodyPix at stride 16) often merge a bare arm held against the body into the torso; the
    warp would then widen the garment over the arm and the composition would not draw the arm in front.

    Args:
        image: (H, W, 3) uint8 RGB.
        parse: (H, W) uint8 PARSE_LABELS.
        keypoints: (33, 4) BlazePose keypoints in ``image`` pixels.
        work_height: the test runs at this height (nearest-neighbour back to full size).

    Returns:
        (H, W) uint8 PARSE_LABELS.
    """
    H, W = parse.shape
    s = min(1.0, work_height / H)
    h, w = max(8, int(round(H * s))), max(8, int(round(W * s)))
    img = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA) if s < 1 else image
    par = cv2.resize(parse, (w, h), interpolation=cv2.INTER_NEAREST) if s < 1 else parse
    kp = np.asarray(keypoints, np.float32).copy()
    kp[:, 0] = (kp[:, 0] + 0.5) * (w / W) - 0.5
    kp[:, 1] = (kp[:, 1] + 0.5) * (h / H) - 0.5
    tone = skin_tone(img, par, kp)
    skin = skin_mask(img, tone)
    skin = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    sw = float(np.hypot(*(kp[KP["left_shoulder"], :2] - kp[KP["right_shoulder"], :2])))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    out = parse.copy()
    for side, lab in (("left", LABEL["left_arm"]), ("right", LABEL["right_arm"])):
        s_, e, wr = (kp[KP[f"{side}_{j}"], :2] for j in ("shoulder", "elbow", "wrist"))
        d = np.minimum(_seg_dist(xs, ys, s_, e), _seg_dist(xs, ys, e, wr))
        # Not the first stretch from the shoulder joint: bare shoulders and chest are torso skin.
        d_sh = np.hypot(xs - s_[0], ys - s_[1])
        m = skin & (par == LABEL["torso"]) & (d < 0.15 * sw) & (d_sh > 0.2 * sw)
        if not m.any():
            continue
        if s < 1:
            m = cv2.resize(m.astype(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST).astype(bool)
        out[m & (parse == LABEL["torso"])] = lab
    return out


MARK_MAX, MARK_SKIN = 0.1, 0.65
"""A tattoo, a watch or a bracelet on a bare arm (:func:`arm_marks`): its largest area, in square shoulder widths, and
the least share of bare skin in the ring round it."""


ARM_REACH = 0.3
"""How far from an arm's bones (shoulder-elbow-wrist) the parse's arm label is taken for the arm, in shoulder widths;
further out it is a parse error (the trousers past the hand), old garment only in the garment's colour."""


def arm_marks(parse: np.ndarray, skin: np.ndarray, maps: BodyMaps) -> np.ndarray:
    """(H, W) bool: ink and jewellery on a bare arm (a tattoo, a watch, a bracelet), not sleeve.

    A piece of the arm's pixels that are not skin (8-connected, within :data:`ARM_REACH` of its bones) is a mark when
    it is at most :data:`MARK_MAX` in area and at least :data:`MARK_SKIN` of the ring round it is bare skin (backdrop
    and trousers left out: a tattoo may touch the arm's outline, a forearm rest on a knee). A sleeve is ringed by the
    torso's garment at its root and by backdrop along its sides; its end alone meets the skin. Taken for a sleeve, a
    forearm's tattoo was refilled as a patch of flat skin with a ragged edge into the backdrop (wild-dev, a seated
    man in a white tee).

    Args:
        parse: (H, W) uint8 PARSE_LABELS. skin: (H, W) bool visible skin. maps: :func:`body_maps` of the same size.
    """
    cand = arm_labels(parse) & (maps.arm_dist < ARM_REACH * maps.sw) & ~skin
    out = np.zeros(cand.shape, bool)
    n, cc, stats, _ = cv2.connectedComponentsWithStats(cand.astype(np.uint8), connectivity=8)
    k = np.ones((5, 5), np.uint8)
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] > MARK_MAX * maps.sw * maps.sw:
            continue
        x, y, w, h = stats[i, :4]
        sl = (slice(max(0, y - 3), y + h + 3), slice(max(0, x - 3), x + w + 3))
        piece = cc[sl] == i
        ring = cv2.dilate(piece.astype(np.uint8), k).astype(bool) & ~piece & \
            ~np.isin(parse[sl], (LABEL["background"], LABEL["lower_body"]))
        if ring.any() and skin[sl][ring].mean() >= MARK_SKIN:
            out[sl] |= piece
    return out


def old_garment_mask(image: np.ndarray, parse: np.ndarray, tone: np.ndarray | None = None,
                     keypoints: np.ndarray | None = None, *, maps: BodyMaps | None = None,
                     skin: np.ndarray | None = None) -> np.ndarray:
    """(H, W) bool: the person's current upper garment (torso label and sleeves), bare skin excluded.

    Rules, biased towards calling a pixel garment (a skin pixel wrongly removed is refilled with skin; a
    garment pixel wrongly kept shows the old garment):
      * torso: all of it, except skin-coloured pixels connected to the neck / face and above mid-chest
        (a low neckline's chest skin) and skin along the arm bones (bare arms the parse put in the torso);
      * arms and neck: the pixels that are not skin-coloured (sleeves, collars); hands: only non-skin pixels
        of the sleeves' colour along the forearm (cuffs);
      * with keypoints: non-skin pixels close to the arm bones that the parse gave to the background or the
        lower body but that have the old sleeves' colour (coarse parses lose thin forearms).

    Args:
        image: (H, W, 3) uint8 RGB person photo.
        parse: (H, W) uint8 PARSE_LABELS.
        tone: skin colour (3,) RGB; computed with :func:`skin_tone` when None.
        keypoints: (33, 4) BlazePose keypoints in ``image`` pixels, or None.
        maps: precomputed :func:`body_maps` (else computed from ``keypoints``).
        skin: precomputed skin mask (else :func:`skin_mask`, opened).
    """
    if tone is None:
        tone = skin_tone(image, parse, keypoints)
    if skin is None:
        skin = drop_garment_coloured(image, parse, tone, skin_mask(image, tone, parse=parse))
        # Isolated skin-like pixels inside fabric (prints, folds) are fabric; skin comes in patches.
        skin = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    if maps is None and keypoints is not None:
        maps = body_maps(parse.shape, keypoints)
    torso = parse == LABEL["torso"]
    arms = arm_labels(parse)
    hands = np.isin(parse, _HANDS)
    neck = parse == LABEL["neck"]
    torso_skin = torso & skin
    if torso_skin.any():
        h = image.shape[0]
        k = max(3, int(round(h / 128)) | 1)
        anchor = cv2.dilate((neck & skin | (parse == LABEL["face"])).astype(np.uint8), np.ones((k, k), np.uint8))
        n, cc = cv2.connectedComponents((torso_skin | (neck & skin)).astype(np.uint8))
        keep = np.unique(cc[(anchor > 0) & (cc > 0)])
        chest = np.isin(cc, keep)
        if maps is not None:
            chest &= maps.b < 0.55 * maps.sw
            chest |= torso_skin & (maps.arm_dist < 0.15 * maps.sw)
        torso_skin = torso_skin & chest
    stray = None
    if maps is not None:
        # "Arm" far from every arm bone (past the hand, on the trousers) is a parse error, not a sleeve; it is
        # old garment only when it has the colour of the old garment's torso (a flared hem by the hand).
        far = arms & (maps.arm_dist >= ARM_REACH * maps.sw) & ~skin
        arms = arms & (maps.arm_dist < ARM_REACH * maps.sw)
        body_px = torso & ~torso_skin
        if far.any() and body_px.sum() > 50:
            lab = _lab(image)
            stray = far & (np.linalg.norm(lab - np.median(lab[body_px], axis=0), axis=-1) < 12.0)
    old = (torso & ~torso_skin) | ((arms | neck) & ~skin)
    if maps is not None:
        old &= ~arm_marks(parse, skin, maps)
    if stray is not None:
        old |= stray
    # Small "arm" islands that arm_labels dropped (parse errors) lying against the torso are its fabric.
    islands = np.isin(parse, _ARMS) & ~arm_labels(parse) & ~skin
    if islands.any():
        k = max(3, int(round(image.shape[0] / 128)) | 1)
        n, cc = cv2.connectedComponents(islands.astype(np.uint8))
        touch = cv2.dilate(torso.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
        keep = np.unique(cc[touch & (cc > 0)])
        old |= np.isin(cc, keep[keep > 0])
    # Only a person who wears sleeves can have lost sleeve pixels (else "sleeve colour" is the arms' shadows
    # and dark trousers by the hand would be taken for a sleeve).
    if maps is not None and (arms & ~skin).sum() > max(50, 0.3 * arms.sum()):
        lab = _lab(image)
        sleeve_col = np.median(lab[arms & ~skin], axis=0)
        close = np.linalg.norm(lab - sleeve_col, axis=-1) < 18.0
        lost = (maps.arm_dist < 0.09 * maps.sw) & close & ~skin
        lost &= np.isin(parse, (LABEL["background"], LABEL["lower_body"]))
        # Cuffs: non-skin "hand" pixels of the sleeve's colour at the wrist (coarse parses also call trousers
        # behind the hand "hand", which must stay as they are).
        cuff = hands & ~skin & (maps.fore_dist < 0.12 * maps.sw)
        if maps.arm_coord is not None:
            # Up to just past the wrist joint a non-skin "hand" pixel is the cuff whatever its colour; beyond, only
            # when it has the sleeve's colour.
            before = maps.arm_coord["nearest"] < 2.1
            cuff &= before | close
        else:
            cuff &= close
        lost |= cuff
        old |= lost
    old = cv2.morphologyEx(old.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)).astype(bool)
    # (Far "arm" pixels count only as ``stray``: the flared end of a bell sleeve, 0.3-0.45 shoulder widths from the
    # forearm's bone, was dropped here and left floating beside the hips.)
    keep = torso | arms | hands | neck | (parse == LABEL["background"]) | (parse == LABEL["lower_body"])
    return old & (keep | stray) if stray is not None else old & keep


def agnostic_image(image: np.ndarray, parse: np.ndarray, old_mask: np.ndarray, category: str = "top") -> np.ndarray:
    """VITON-style clothing-agnostic image: the old garment (slightly dilated) filled with grey.

    Face, hair, hands and lower body are kept even where the dilation reaches them; for a one-piece
    (``category="dress"``) the lower body only outside the old garment (the old trousers or skirt are hidden,
    legs and shoes kept).

    Args:
        image: (H, W, 3) uint8 RGB.
        parse: (H, W) uint8 PARSE_LABELS.
        old_mask: (H, W) bool from :func:`old_garment_mask` (for a one-piece, the composition's, which includes
            the old lower garment).
        category: "top" or "dress".

    Returns:
        (H, W, 3) uint8 RGB.
    """
    k = max(3, int(round(min(image.shape[:2]) / 96)) | 1)
    hide = cv2.dilate(old_mask.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    keep = np.isin(parse, (LABEL["face"], LABEL["hair"], LABEL["lower_body"]) + _HANDS)
    if category == "dress":
        keep &= ~((parse == LABEL["lower_body"]) & old_mask)
    out = image.copy()
    out[hide & ~keep] = AGNOSTIC_GREY
    return out
