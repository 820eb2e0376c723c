"""Part-level human parsing: BodyPix 2.0 body parts refined into the teacher's ``PARSE_LABELS``.

BodyPix 2.0 (Google, tensorflow/tfjs-models, Apache-2.0; MobileNetV1 x0.50, output stride 16) predicts 24
body-part logits on a coarse grid. It labels BODY regions, not clothes (a sleeve is arm, a waistband is
torso), which is what layering a new garment needs: an arm lying over the torso stays arm. Its grid is
16 px coarse and it has no hair or neck part, so :func:`refine_parse` combines it with the high-resolution
selfie person mask and the 33 BlazePose keypoints: part edges follow the person mask, the face is bounded by
the face keypoints, and hair and neck are found with per-image colour models (skin from the face, hair from
the top of the head), in the spirit of GrabCut (Rother et al. 2004) but with Gaussian colour models only.
The same skin model pulls bare arms out of the torso and hand labels off clothes, and a guided filter (He et al.
2010) of the label indicators, with the photo as guide, moves the stride-16 internal borders onto colour edges.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from tryon.person.body import FACE_SPAN, KP, cheek_region, face_ellipse, face_half_width
from tryon.person.labels import LABEL, lip_to_parse

__all__ = [
    "BODYPIX_PARTS", "BODYPIX_TO_PARSE", "BodyPixParser", "refine_parse", "parse_iou", "IOU_CLASSES",
    "colorize_parse",
]

log = logging.getLogger(__name__)

SKIN_MAHA = 9.0
"""Squared Mahalanobis distance (Lab) under which a pixel counts as the face's skin colour (chi-square, 3 dof:
9 keeps about 97% of the skin samples; looser thresholds take in white shirts and blond hair)."""

ARM_CORE = 0.06
"""Radius of the arm bones' core (forearm and the lower 60 % of the upper arm), as a fraction of the shoulder
width, that is arm whatever BodyPix says (about half an arm's width)."""

CROWN_MAHA = 4.0
"""Squared Mahalanobis distance (under the skin model) the mean colour of the top of the head must exceed to be
taken as hair seeds whatever the pixels' own skin test says (blond hair; below it the crown is bare skin)."""

BODYPIX_PARTS: tuple[str, ...] = (
    "left_face", "right_face", "left_upper_arm_front", "left_upper_arm_back", "right_upper_arm_front",
    "right_upper_arm_back", "left_lower_arm_front", "left_lower_arm_back", "right_lower_arm_front",
    "right_lower_arm_back", "left_hand", "right_hand", "torso_front", "torso_back", "left_upper_leg_front",
    "left_upper_leg_back", "right_upper_leg_front", "right_upper_leg_back", "left_lower_leg_front",
    "left_lower_leg_back", "right_lower_leg_front", "right_lower_leg_back", "left_foot", "right_foot",
)
"""BodyPix 2.0 part order (index = part id). Sides are the person's own (anatomical)."""

BODYPIX_TO_PARSE: np.ndarray = np.array(
    [LABEL["face"]] * 2
    + [LABEL["left_arm"]] * 2 + [LABEL["right_arm"]] * 2 + [LABEL["left_arm"]] * 2 + [LABEL["right_arm"]] * 2
    + [LABEL["left_hand"], LABEL["right_hand"], LABEL["torso"], LABEL["torso"]]
    + [LABEL["lower_body"]] * 10,
    dtype=np.uint8)
"""Lookup table BodyPix part id -> ``PARSE_LABELS`` id (hair and neck have no BodyPix part)."""

# BlazePose landmark indices used here (tryon.person.body, the one place they are defined).
_NOSE, _L_EYE, _R_EYE = KP["nose"], KP["left_eye"], KP["right_eye"]
_L_EYE_OUT, _R_EYE_OUT, _MOUTH_L, _MOUTH_R = KP["left_eye_outer"], KP["right_eye_outer"], KP["mouth_left"], KP["mouth_right"]
_L_SH, _R_SH, _L_EL, _R_EL = KP["left_shoulder"], KP["right_shoulder"], KP["left_elbow"], KP["right_elbow"]
_L_WR, _R_WR, _L_HIP, _R_HIP = KP["left_wrist"], KP["right_wrist"], KP["left_hip"], KP["right_hip"]
_L_PINKY, _R_PINKY, _L_INDEX, _R_INDEX = KP["left_pinky"], KP["right_pinky"], KP["left_index"], KP["right_index"]
_L_THUMB, _R_THUMB = KP["left_thumb"], KP["right_thumb"]


def _default_model_path() -> Path:
    from tryon.assets import require  # local: tryon.assets is only needed when no path is given

    return require("bodypix.onnx")


class BodyPixParser:
    """BodyPix 2.0 body-part segmentation on onnxruntime (CPU).

    The network runs on the photo resized so that its longer side is ``long_side`` (rounded to 16k+1, where
    the stride-16 grid aligns with the image corners). 641 (a 41x31 grid for a 3:4 photo) scored best of
    385/513/641/769/1025 against the 21 LIP-labelled VITON photos (mean merged-class IoU 0.689/0.693/0.695/
    0.686/0.655: a larger input makes the person too big for the network's receptive field) and costs about
    60-100 ms of CPU. Logits are upsampled bilinearly before the argmax, so part borders are smooth rather than
    16-px blocks.

    Args:
        model_path: the BodyPix ONNX file (MobileNetV1 x0.50 stride 16, input ``input`` [1, H, W, 3] NHWC float
            pixels/127.5-1; outputs ``segments`` [1, h, w, 1] and ``part_heatmaps`` [1, h, w, 24], logits).
            Default: ``tryon.assets.require("bodypix.onnx")``.
        long_side: network input size along the photo's longer side, pixels.
        work_side: longer side at which ``parts`` takes the argmax before scaling to the photo, pixels.
        threads: onnxruntime intra-op threads.

    Raises:
        MissingModelError: no model path given and the BodyPix file is not in the models folder.
    """

    def __init__(self, model_path: str | Path | None = None, *, long_side: int = 641, work_side: int = 512,
                 threads: int = 2):
        import onnxruntime as ort

        path = Path(model_path) if model_path is not None else _default_model_path()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3  # the converted graph lists initializers as inputs: harmless warnings
        self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.long_side = int(long_side)
        self.work_side = int(work_side)

    def _input_size(self, h: int, w: int) -> tuple[int, int]:
        scale = self.long_side / max(h, w)
        return (max(1, round(h * scale / 16)) * 16 + 1, max(1, round(w * scale / 16)) * 16 + 1)

    def logits(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run the network once.

        Args:
            image: (H, W, 3) uint8 RGB.

        Returns:
            (segment (h, w) float32 person logit, parts (h, w, 24) float32 part logits) on the stride-16 grid
            of the resized input: grid cell (i, j) is centred on image pixel ((i * 16) * H / (ih - 1), ...).
        """
        h, w = image.shape[:2]
        ih, iw = self._input_size(h, w)
        x = cv2.resize(image, (iw, ih), interpolation=cv2.INTER_AREA if ih < h else cv2.INTER_LINEAR)
        x = (x.astype(np.float32) / 127.5 - 1.0)[None]
        seg, parts = self._session.run(["segments", "part_heatmaps"], {"input": x})
        return seg[0, :, :, 0], parts[0]

    def parts(self, image: np.ndarray) -> np.ndarray:
        """BodyPix part ids at the photo's resolution.

        The logits are upsampled bilinearly to at most ``work_side`` pixels on the longer side, the argmax is
        taken there and then scaled to the photo by nearest neighbour: part borders come from a 16-px grid, so
        finer than about 2 px at 1024 px brings nothing and the 24-channel upsampling dominates the cost.

        Args:
            image: (H, W, 3) uint8 RGB.

        Returns:
            (H, W) int8 part ids 0..23 (see ``BODYPIX_PARTS``), -1 where BodyPix sees no person.
        """
        h, w = image.shape[:2]
        seg, parts = self.logits(image)
        s = min(1.0, self.work_side / max(h, w))
        wh, ww = max(1, round(h * s)), max(1, round(w * s))
        ids = _upsample_grid(parts, wh, ww).argmax(axis=2).astype(np.int8)
        ids[_upsample_grid(seg, wh, ww) < 0] = -1
        if (wh, ww) != (h, w):
            ids = cv2.resize(ids.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).view(np.int8)
        return ids

    __call__ = parts


def _upsample_grid(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Bilinear upsampling of a stride-16 grid from a 16k+1 input: grid corners sit on image corners."""
    gh, gw = a.shape[:2]
    # align_corners: the 16k+1 input puts the first and last grid cells on the image's first/last pixels.
    mx = np.float32([[(gw - 1) / max(w - 1, 1), 0, 0], [0, (gh - 1) / max(h - 1, 1), 0]])
    chans = a.shape[2] if a.ndim == 3 else 1
    out = np.empty((h, w, chans), np.float32)
    src = np.ascontiguousarray(a.reshape(gh, gw, chans).astype(np.float32))
    for c0 in range(0, chans, 4):  # warpAffine handles up to 4 channels at a time
        c1 = min(c0 + 4, chans)
        out[:, :, c0:c1] = cv2.warpAffine(
            src[:, :, c0:c1], mx, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE).reshape(h, w, c1 - c0)
    return out if a.ndim == 3 else out[:, :, 0]


# ---------------------------------------------------------------------------------------------------------------
# Refinement into PARSE_LABELS


def _seg_dist(px: np.ndarray, py: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of pixel coordinates to the segment a-b (pixels)."""
    d = b - a
    t = np.clip(((px - a[0]) * d[0] + (py - a[1]) * d[1]) / max(float(d @ d), 1e-6), 0.0, 1.0)
    return np.hypot(px - (a[0] + t * d[0]), py - (a[1] + t * d[1]))


_Q_CENTRES = (np.stack(np.meshgrid(*[np.arange(32)] * 3, indexing="ij"), -1).reshape(-1, 3) * 8 + 4).astype(
    np.float32)


def _quantize(lab: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 Lab -> (H, W) int32 bin index of 8-level steps (the Lab unit steps are ~1 per level)."""
    q = lab >> 3
    return (q[..., 0].astype(np.int32) << 10) | (q[..., 1].astype(np.int32) << 5) | q[..., 2].astype(np.int32)


class _Gauss:
    """A full-covariance Gaussian colour model (CIE Lab), as in GrabCut's GMM components (Rother et al. 2004)."""

    def __init__(self, samples: np.ndarray, reg: float = 8.0):
        self.n = len(samples)
        s = samples.astype(np.float64)
        if len(s) > 4000:  # a subsample is plenty for 3x3 covariances and keeps this cheap
            s = s[np.random.default_rng(0).choice(len(s), 4000, replace=False)]
        self.mean = s.mean(axis=0) if len(s) else np.zeros(3)
        cov = np.cov(s.T) if len(s) > 3 else np.eye(3) * 400.0
        cov = cov + np.eye(3) * reg
        self.icov = np.linalg.inv(cov)
        self.logdet = float(np.linalg.slogdet(cov)[1])
        self._lut: np.ndarray | None = None

    def maha(self, x: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distance of (N, 3) Lab colours (chi-square with 3 degrees of freedom)."""
        d = x.astype(np.float32) - self.mean.astype(np.float32)
        return ((d @ self.icov.astype(np.float32)) * d).sum(axis=1)

    def maha_q(self, q: np.ndarray) -> np.ndarray:
        """``maha`` of colours quantised by ``_quantize`` (a 32x32x32 lookup table: images are large)."""
        if self._lut is None:
            self._lut = self.maha(_Q_CENTRES)
        return self._lut[q]

    def nll_q(self, q: np.ndarray) -> np.ndarray:
        """Negative log-likelihood (up to a constant) of quantised colours (see :meth:`maha_q`)."""
        return 0.5 * (self.maha_q(q) + self.logdet)


def refine_parse(image: np.ndarray, person_mask: np.ndarray, keypoints: np.ndarray | None,
                 part_map: np.ndarray, *, hips_rule: bool = True, edge_aware: bool = True) -> np.ndarray:
    """Turn BodyPix parts into the teacher's parse, with edges from the person mask and face/hair/neck added.

    Steps: (1) every person pixel takes the BodyPix part upsampled to full resolution (pixels BodyPix left out
    take their nearest part), so the outline is the person mask's; (2) the face is bounded by an ellipse from
    the BlazePose face keypoints (BodyPix calls hair "face"); (3) hair is grown from the top of the head with
    colour models (hair from above the forehead, skin from the cheeks, clothes from the chest), and may lie on
    the shoulders and chest as long as it is connected to the head's hair and not skin- or clothes-coloured;
    (4) skin-coloured pixels under the chin are neck; (5) arm pixels are given the side of the nearer arm
    bone, hands are bounded by the hand keypoints; (6) torso pixels below the hip line are lower body;
    (7) skin-coloured torso along the arm bones, and the bones' core, become arm; hand labels on non-skin
    colours or far from the hand keypoints go to the arm or the label around them (``_fix_arms_by_colour``,
    ``_fix_hands``); (8) internal borders snap to colour edges (``_edge_refine``); (9) arm and hand islands
    take the label around them (``_drop_islands``).

    Args:
        image: (H, W, 3) uint8 RGB.
        person_mask: (H, W) float32 person probability in [0, 1] (selfie segmenter), threshold 0.5.
        keypoints: (33, 4) float32 BlazePose keypoints (x_px, y_px, z, visibility), the person's anatomical
            sides; None (or low visibility) skips the keypoint-based steps.
        part_map: (H, W) int8 BodyPix part ids (``BodyPixParser.parts``), -1 = no part.
        hips_rule: relabel torso pixels below the line through the hips as lower body.
        edge_aware: run step (8), the guided-filter border refinement.

    Returns:
        (H, W) uint8 label map in ``PARSE_LABELS`` (0 background).
    """
    h, w = person_mask.shape
    person = person_mask > 0.5
    # Sheer sleeves and dark folds leave small holes in the selfie mask; fill those BodyPix calls person
    # (the larger holes, like the gap between an arm on the hip and the waist, are real background).
    holes = _fill_holes(person) & ~person & (part_map >= 0)
    if holes.any():
        n, cc, st, _ = cv2.connectedComponentsWithStats(holes.astype(np.uint8), connectivity=4)
        small = np.zeros(n, bool)
        small[1:] = st[1:, cv2.CC_STAT_AREA] < 0.002 * h * w
        person = person | small[cc]
    parse = np.zeros((h, w), np.uint8)
    if not person.any():
        return parse
    labeled = part_map >= 0
    base = np.where(labeled, BODYPIX_TO_PARSE[np.clip(part_map, 0, 23)], 0).astype(np.uint8)
    if (person & ~labeled).any() and labeled.any():
        base = _fill_nearest(base, labeled, person)
    parse[person] = base[person]
    kp = None if keypoints is None else np.asarray(keypoints, np.float32)
    if kp is None or kp.shape != (33, 4):
        return parse

    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    q = _quantize(lab)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    P = kp[:, :2]
    vis = kp[:, 3]

    sh_mid = (P[_L_SH] + P[_R_SH]) / 2
    sh_w = float(np.linalg.norm(P[_L_SH] - P[_R_SH]))
    face_ok = vis[[_NOSE, _L_EYE, _R_EYE, _MOUTH_L, _MOUTH_R]].min() > 0.5
    if face_ok:
        models = _refine_head(parse, person, lab, q, xx, yy, P, sh_mid, sh_w)
    else:
        models = (None, None)

    # --- arms: side by the nearer arm bone, hands bounded by the hand keypoints
    arms_ok = vis[[_L_SH, _R_SH, _L_EL, _R_EL, _L_WR, _R_WR]].min() > 0.3
    armish = np.isin(parse, (LABEL["left_arm"], LABEL["right_arm"], LABEL["left_hand"], LABEL["right_hand"]))
    if arms_ok and armish.any():
        ay, ax = np.nonzero(armish)
        axf, ayf = ax.astype(np.float32), ay.astype(np.float32)
        dl = np.minimum(_seg_dist(axf, ayf, P[_L_SH], P[_L_EL]), _seg_dist(axf, ayf, P[_L_EL], P[_L_WR]))
        dr = np.minimum(_seg_dist(axf, ayf, P[_R_SH], P[_R_EL]), _seg_dist(axf, ayf, P[_R_EL], P[_R_WR]))
        hand_l = _hand_mask(P, _L_WR, _L_PINKY, _L_INDEX, _L_THUMB, _L_EL, axf, ayf)
        hand_r = _hand_mask(P, _R_WR, _R_PINKY, _R_INDEX, _R_THUMB, _R_EL, axf, ayf)
        left = dl <= dr
        cur = parse[ay, ax]
        is_hand = np.isin(cur, (LABEL["left_hand"], LABEL["right_hand"]))
        new = np.where(left, LABEL["left_arm"], LABEL["right_arm"]).astype(np.uint8)
        new[is_hand | (left & hand_l) | (~left & hand_r)] = 0
        hand_side = np.where(is_hand, np.where(_nearer_hand(P, axf, ayf), LABEL["left_hand"], LABEL["right_hand"]),
                             np.where(left, LABEL["left_hand"], LABEL["right_hand"]))
        new = np.where(new == 0, hand_side, new).astype(np.uint8)
        parse[ay, ax] = new

    # --- lower body: BodyPix calls the waistband and often the whole skirt "torso"; below the waist, torso
    # pixels coloured like the legs' clothes rather than the chest's become lower body.
    hips_ok = vis[[_L_HIP, _R_HIP]].min() > 0.3
    if hips_rule and hips_ok:
        a, b = P[_R_HIP], P[_L_HIP]
        hip_mid = (a + b) / 2
        axis = hip_mid - sh_mid
        tl = max(float(np.linalg.norm(axis)), 1.0)
        axis = axis / tl
        depth = (xx - hip_mid[0]) * axis[0] + (yy - hip_mid[1]) * axis[1]  # signed, + below the hip line
        # BodyPix sometimes calls a hand or forearm near the hip "leg": above the hips it is arm or torso
        high = (parse == LABEL["lower_body"]) & (depth < -0.15 * tl)
        if high.any():
            hy, hx = np.nonzero(high)
            hxf, hyf = hx.astype(np.float32), hy.astype(np.float32)
            dl = np.minimum(_seg_dist(hxf, hyf, P[_L_SH], P[_L_EL]), _seg_dist(hxf, hyf, P[_L_EL], P[_L_WR]))
            dr = np.minimum(_seg_dist(hxf, hyf, P[_R_SH], P[_R_EL]), _seg_dist(hxf, hyf, P[_R_EL], P[_R_WR]))
            near = np.minimum(dl, dr) < 0.15 * sh_w
            parse[hy, hx] = np.where(near, np.where(dl <= dr, LABEL["left_arm"], LABEL["right_arm"]),
                                     LABEL["torso"]).astype(np.uint8)
        legs_pts = person & (parse == LABEL["lower_body"]) & (depth > 0.1 * tl)
        chest_c = sh_mid + axis * 0.45 * tl
        chest_pts = person & (parse == LABEL["torso"]) & (np.abs(xx - chest_c[0]) < 0.25 * sh_w) \
            & (np.abs(yy - chest_c[1]) < 0.15 * tl)
        zone = person & (parse == LABEL["torso"]) & (depth > -0.3 * tl)
        if legs_pts.sum() > 20 and chest_pts.sum() > 20 and zone.any():
            legs_m, chest_m = _Gauss(lab[legs_pts]), _Gauss(lab[chest_pts])
            idx = np.flatnonzero(zone)
            c = q.ravel()[idx]
            low_px = legs_m.nll_q(c) < chest_m.nll_q(c) - 1.0
            # The waist is a line across the body: find the first band (along the body axis) from which most
            # of the torso-labelled pixels look like the legs' clothes, and cut there (robust to prints).
            band = np.clip(((depth.ravel()[idx] / tl + 0.3) / 0.025).astype(np.int32), 0, 31)
            tot = np.bincount(band, minlength=32)
            frac = np.bincount(band, weights=low_px, minlength=32) / np.maximum(tot, 1)
            ok = (frac > 0.5) & (tot > 0)
            cut = next((i for i in range(30) if ok[i] and ok[i + 1] and ok[i + 2]), None)
            if cut is not None:
                waist = (cut * 0.025 - 0.3) * tl
                parse[zone & (depth >= waist)] = LABEL["lower_body"]
        # well below the hips everything but hands and arms is lower body
        parse[(depth > 0.45 * tl) & (parse == LABEL["torso"])] = LABEL["lower_body"]
    skin_g, clothes_g = models
    if arms_ok and skin_g is not None:
        _fix_arms_by_colour(parse, person, q, xx, yy, P, sh_w, skin_g, clothes_g)
        _fix_hands(parse, person, q, P, sh_w, skin_g)
    if edge_aware:
        parse = _edge_refine(image, parse, person)
        if arms_ok and skin_g is not None:  # the filter can spread a hand over pale trousers again
            _fix_hands(parse, person, q, P, sh_w, skin_g)
    if arms_ok:
        parse = _drop_islands(parse, person)
    return parse


def _refine_head(parse, person, lab, q, xx, yy, P, sh_mid, sh_w) -> tuple[_Gauss | None, _Gauss | None]:
    """Face, hair and neck, in place (see ``refine_parse``); returns the (skin, upper clothes) colour models
    (None where there were too few samples)."""
    h, w = parse.shape
    eyes = (P[_L_EYE] + P[_R_EYE]) / 2
    mouth = (P[_MOUTH_L] + P[_MOUTH_R]) / 2
    d = max(float(np.linalg.norm(mouth - eyes)), 2.0)
    down = (mouth - eyes) / d
    eye_w = float(np.linalg.norm(P[_L_EYE_OUT] - P[_R_EYE_OUT]))
    # Face proportions (tryon.person.body.face_ellipse): chin and hairline from the eye-mouth distance d; the face
    # is about as wide as the ears are apart.
    half_w = face_half_width(P)
    chin = mouth + down * FACE_SPAN[0] * d
    top = eyes - down * FACE_SPAN[1] * d
    centre = (chin + top) / 2
    half_h = float(np.linalg.norm(chin - top)) / 2
    u = (xx - centre[0]) * down[1] - (yy - centre[1]) * down[0]
    v = (xx - centre[0]) * down[0] + (yy - centre[1]) * down[1]
    v_chin, v_eyes, v_mouth = (float((p - centre) @ down) for p in (chin, eyes, mouth))
    face_zone = person & face_ellipse(P, (h, w))
    # the eyes, brows, nose and mouth are face whatever their colour
    inner = person & (np.abs(u) < 0.75 * eye_w) & (v > v_eyes - 0.45 * d) & (v < v_mouth + 0.45 * d)
    head_zone = person & (((u / (half_w * 2.0)) ** 2 + ((v + 0.2 * half_h) / (half_h * 1.7)) ** 2) <= 1.0)

    cheeks = person & cheek_region(P, (h, w))
    if cheeks.sum() < 8:
        parse[face_zone & (parse == LABEL["face"])] = LABEL["face"]
        return None, None
    skin = _robust_gauss(lab[cheeks])
    arms = np.isin(parse, (LABEL["left_arm"], LABEL["right_arm"]))
    # Hair may lie on the chest and shoulders, but not down the arms (a dark sleeve is not hair).
    reach = person & (np.abs(u) < max(2.4 * half_w, 0.8 * sh_w)) & (yy < sh_mid[1] + 0.6 * sh_w) \
        & ~np.isin(parse, (LABEL["left_hand"], LABEL["right_hand"], LABEL["lower_body"])) \
        & ~(arms & (yy > sh_mid[1] + 0.15 * sh_w))
    ridx = np.flatnonzero(reach)
    rc = q.ravel()[ridx]
    clothes_pts = person & (parse == LABEL["torso"]) & (v > v_chin + 1.5 * d) & (np.abs(u) < 0.3 * sh_w) \
        & (yy < sh_mid[1] + 0.5 * sh_w)
    clothes = _robust_gauss(lab[clothes_pts]) if clothes_pts.sum() > 10 else None
    ms = skin.maha_q(rc)
    sk = ms < SKIN_MAHA
    if clothes is not None:
        # shaded skin (under the chin, dark skin) is further from the cheeks' colour but still nearer than
        # the clothes
        # (only just under the chin: lower down, white and beige clothes would pass)
        sk |= (ms < 3 * SKIN_MAHA) & (skin.nll_q(rc) < clothes.nll_q(rc) - 1.0) & (v.ravel()[ridx] < v_chin + 1.2 * d)
    skin_m = np.zeros((h, w), bool)
    skin_m.ravel()[ridx] = sk

    # hair seeds: head pixels outside the (slightly enlarged) face ellipse that are clearly not skin
    outer = (u / (1.15 * half_w)) ** 2 + (v / (1.1 * half_h)) ** 2 > 1.0
    seeds = head_zone & outer & ~skin_m & (v < v_chin)
    # Blond or light-brown hair passes the loose skin test, leaving no seeds where it frames the face; the
    # crown (above the hairline) is hair whatever its colour, unless it looks like the cheeks (a bald head).
    crown = head_zone & (v < -1.05 * half_h) & (np.abs(u) < 0.8 * half_w)
    if crown.sum() > 10:
        crown_g = _robust_gauss(lab[crown])
        if float(skin.maha(crown_g.mean[None])[0]) > CROWN_MAHA:
            seeds |= crown
    hair_m = np.zeros((h, w), bool)
    face = face_zone.copy()
    if seeds.sum() > 10:
        hair = _robust_gauss(lab[seeds])
        nh = hair.nll_q(rc)
        is_hair = (hair.maha_q(rc) < 14.0) & (nh < skin.nll_q(rc) - 1.0)
        if clothes is not None:
            in_head = head_zone.ravel()[ridx]
            is_hair &= in_head | (nh < clothes.nll_q(rc) - 1.0)
        cand = np.zeros((h, w), bool)
        cand.ravel()[ridx[is_hair]] = True
        cand &= ~inner
        hair_m = _keep_connected(_open_close(cand | seeds, max(1, int(round(0.1 * d)))), seeds) & ~inner
        face &= ~hair_m
    face = _fill_holes(_keep_connected(_open_close(face, max(1, int(round(0.05 * d)))), inner)) & person
    hair_m &= ~face
    parse[(parse == LABEL["face"]) & ~face] = LABEL["torso"]  # BodyPix's "face" also covers hair and neck
    parse[face] = LABEL["face"]
    parse[hair_m] = LABEL["hair"]
    # leftover head pixels above the chin (ears, hair strands the colour test missed)
    rest = head_zone & (parse == LABEL["torso"]) & (v < v_chin - 0.2 * d)
    # outside the face's ellipse skin-coloured head pixels are mostly light hair framing the face (ears are
    # small): hair, not face
    parse[rest] = np.where(skin_m[rest] & ~outer[rest], LABEL["face"], LABEL["hair"]).astype(np.uint8)
    # neck and chest skin: skin below the chin, connected to the face, above mid-chest
    neck_zone = reach & (v > v_chin - 0.4 * d) & (yy < sh_mid[1] + 0.35 * sh_w) & (np.abs(u) < 0.45 * sh_w) \
        & (parse == LABEL["torso"])
    neck_skin = neck_zone & skin_m
    if clothes is not None and neck_skin.any() and float(skin.maha(clothes.mean[None])[0]) < 30.0:
        # a white or beige top next to pale skin passes the skin test: below the chin, skin must also be
        # likelier under the skin model than under the top's own colour model
        ny, nx = np.nonzero(neck_skin)
        nq = q[ny, nx]
        neck_skin[ny, nx] = skin.nll_q(nq) < clothes.nll_q(nq)
    neck = _open_close(neck_skin, 1)
    neck = _keep_connected(neck | face, face) & neck
    parse[neck] = LABEL["neck"]
    return skin, clothes




def _fix_arms_by_colour(parse, person, q, xx, yy, P, sh_w, skin, clothes) -> None:
    """Bare arms BodyPix merged into the torso, and hand labels on clothes, fixed with the skin colour model.

    In place. (1) Torso pixels inside a capsule around an arm bone (not the first stretch from the shoulder:
    bare shoulders and chest are torso) that are skin-coloured, and likelier skin than the top's colour,
    become that arm, and so does the torso within ``ARM_CORE`` of the forearm and elbow. (2, ``_fix_hands``)
    Hand pixels that are clearly not skin (a cuff, a sleeve end) become the arm when they lie along the forearm
    on the elbow side of the wrist; hand pixels far from the hand keypoints (outside a disc of about twice their
    spread: trousers, a pocket) take the label around them.

    Args:
        parse: (H, W) uint8 PARSE_LABELS, modified.
        person: (H, W) bool. q: (H, W) quantised Lab (``_quantize``). xx, yy: pixel coordinates.
        P: (33, 2) keypoint pixels. sh_w: shoulder width, pixels.
        skin, clothes: colour models of the face's skin and of the upper garment (clothes may be None).
    """
    h, w = parse.shape
    for lab_arm, (s_, e, wr) in ((LABEL["left_arm"], (_L_SH, _L_EL, _L_WR)),
                                 (LABEL["right_arm"], (_R_SH, _R_EL, _R_WR))):
        a, b, c = P[s_], P[e], P[wr]
        x0 = int(max(0, min(a[0], b[0], c[0]) - 0.2 * sh_w))
        x1 = int(min(w, max(a[0], b[0], c[0]) + 0.2 * sh_w + 1))
        y0 = int(max(0, min(a[1], b[1], c[1]) - 0.2 * sh_w))
        y1 = int(min(h, max(a[1], b[1], c[1]) + 0.3 * sh_w + 1))
        if x1 <= x0 or y1 <= y0:
            continue
        sl = (slice(y0, y1), slice(x0, x1))
        px, py = xx[sl], yy[sl]
        d = np.minimum(_seg_dist(px, py, a, b), _seg_dist(px, py, b, c))
        d_sh = np.hypot(px - a[0], py - a[1])
        sub = parse[sl]
        qq = q[sl]
        cand = person[sl] & (sub == LABEL["torso"]) & (d < 0.13 * sh_w) & (d_sh > 0.25 * sh_w)
        if cand.any():
            cq = qq[cand]
            ok = skin.maha_q(cq) < SKIN_MAHA
            if clothes is not None:
                ok &= skin.nll_q(cq) < clothes.nll_q(cq)
            m = np.zeros_like(cand)
            m[cand] = ok
            m = _open_close(m, max(1, int(round(0.02 * sh_w))))
            sub[m & cand] = lab_arm
        # An arm hanging against a top of the same colour has no colour edge to find: BodyPix often calls it
        # torso. The bone's core (forearm, lower part of the upper arm) is arm whatever its colour.
        mid = a + 0.4 * (b - a)
        core = person[sl] & (sub == LABEL["torso"]) \
            & (np.minimum(_seg_dist(px, py, mid, b), _seg_dist(px, py, b, c)) < ARM_CORE * sh_w)
        sub[core] = lab_arm


def _fix_hands(parse, person, q, P, sh_w, skin) -> None:
    """Hand labels on clothes or far from the hand keypoints, in place (see ``_fix_arms_by_colour``, step 2).

    Run on the whole photo: BodyPix's hand can spill far down the trousers.
    """
    h, w = parse.shape
    for lab_arm, lab_hand, (s_, e, wr) in ((LABEL["left_arm"], LABEL["left_hand"], (_L_SH, _L_EL, _L_WR)),
                                          (LABEL["right_arm"], LABEL["right_hand"], (_R_SH, _R_EL, _R_WR))):
        a, b, c = P[s_], P[e], P[wr]
        hand = parse == lab_hand
        if not hand.any():
            continue
        hy, hx = np.nonzero(hand)
        hxf, hyf = hx.astype(np.float32), hy.astype(np.float32)
        pts = P[[wr, wr + 2, wr + 4, wr + 6]]  # wrist, pinky, index, thumb
        hc = pts.mean(axis=0)
        hr = max(2.0 * 1.6 * float(np.linalg.norm(pts - hc, axis=1).max()), 0.3 * sh_w)
        far = np.hypot(hxf - hc[0], hyf - hc[1]) > hr
        nonskin = skin.maha_q(q[hy, hx]) > 3.0 * SKIN_MAHA
        fwd = c - b
        fwd = fwd / max(float(np.linalg.norm(fwd)), 1e-6)
        before = ((hxf - c[0]) * fwd[0] + (hyf - c[1]) * fwd[1]) < 0
        d_arm = np.minimum(_seg_dist(hxf, hyf, a, b), _seg_dist(hxf, hyf, b, c))
        to_arm = nonskin & before & (d_arm < 0.13 * sh_w) & ~far
        parse[hy[to_arm], hx[to_arm]] = lab_arm
        # (non-skin pixels near the hand that are not along the forearm stay: a shaded palm, a ring, a cuff
        # seen end-on fail the colour test more often than they are trousers)
        other = far & ~to_arm
        if other.any():
            om = np.zeros((h, w), bool)
            om[hy[other], hx[other]] = True
            parse[:] = np.where(om, _fill_nearest(parse, person & ~hand, om), parse)


def _box(a: np.ndarray, r: int) -> np.ndarray:
    return cv2.boxFilter(a, -1, (2 * r + 1, 2 * r + 1), normalize=True, borderType=cv2.BORDER_REFLECT)


def _edge_refine(image: np.ndarray, parse: np.ndarray, person: np.ndarray, *, work_side: int = 448,
                 radius: float = 0.035, eps: float = 0.05 ** 2) -> np.ndarray:
    """Snap the parse's internal borders to colour edges with a colour guided filter (He et al., "Guided Image
    Filtering", ECCV 2010 / TPAMI 2013) of each label's indicator, the photo as guide, then the argmax.

    BodyPix's parts come from a stride-16 grid: an arm-torso or hand-trousers border can be off by half a cell
    (about 12 px at 1024 px) and runs straight where the real one follows the sleeve or the skin. The filter is
    locally linear in the guide's colour, so within ``radius`` a label spreads over pixels coloured like its
    own and stops at colour edges; where there is no edge (a black sleeve on a black top) it only smooths the
    blocks. Runs at ``work_side`` pixels on the longer side (the person's outline is kept from ``person``, only
    the person's labels move).

    Args:
        image: (H, W, 3) uint8 RGB.
        parse: (H, W) uint8 PARSE_LABELS.
        person: (H, W) bool person mask (its outline is kept).
        work_side: longer side of the working resolution, pixels.
        radius: filter radius as a fraction of the working longer side.
        eps: guided-filter regulariser on colours in [0, 1] (edges weaker than about sqrt(eps) are smoothed).

    Returns:
        (H, W) uint8 PARSE_LABELS.
    """
    h, w = parse.shape
    labels = [int(v) for v in np.unique(parse[person]) if v != 0]
    if len(labels) < 2:
        return parse
    s = min(1.0, work_side / max(h, w))
    sh, sw = max(8, round(h * s)), max(8, round(w * s))
    img = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA) if s < 1 else image
    par = cv2.resize(parse, (sw, sh), interpolation=cv2.INTER_NEAREST) if s < 1 else parse
    r = max(2, int(round(radius * max(sh, sw))))
    g = img.astype(np.float32) / 255.0
    mI = _box(g, r)
    # per-pixel colour covariance of the guide (6 unique entries) + eps I, inverted once for all labels
    c = {}
    for i in range(3):
        for j in range(i, 3):
            c[i, j] = _box(g[..., i] * g[..., j], r) - mI[..., i] * mI[..., j]
    a11, a12, a13 = c[0, 0] + eps, c[0, 1], c[0, 2]
    a22, a23, a33 = c[1, 1] + eps, c[1, 2], c[2, 2] + eps
    i11, i12, i13 = a22 * a33 - a23 * a23, a13 * a23 - a12 * a33, a12 * a23 - a13 * a22
    i22, i23, i33 = a11 * a33 - a13 * a13, a12 * a13 - a11 * a23, a11 * a22 - a12 * a12
    det = a11 * i11 + a12 * i12 + a13 * i13
    inv = [[i11, i12, i13], [i12, i22, i23], [i13, i23, i33]]
    best = np.full((sh, sw), -1.0, np.float32)
    out = np.zeros((sh, sw), np.uint8)
    for lab in labels:
        p = (par == lab).astype(np.float32)
        mp = _box(p, r)
        cov = [_box(g[..., k] * p, r) - mI[..., k] * mp for k in range(3)]
        a = [(inv[k][0] * cov[0] + inv[k][1] * cov[1] + inv[k][2] * cov[2]) / det for k in range(3)]
        b = mp - a[0] * mI[..., 0] - a[1] * mI[..., 1] - a[2] * mI[..., 2]
        q = _box(b, r) + sum(_box(a[k], r) * g[..., k] for k in range(3))
        better = q > best
        best[better] = q[better]
        out[better] = lab
    if s < 1:
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_NEAREST)
    res = np.where(person, out, 0).astype(np.uint8)
    # a label the filter took from the person's outline (the rim) keeps the parse's own
    res[person & (res == 0)] = parse[person & (res == 0)]
    return res


def _drop_islands(parse: np.ndarray, person: np.ndarray, *, frac: float = 0.25) -> np.ndarray:
    """Give arm and hand islands (components far smaller than that label's largest) the label around them.

    BodyPix leaves blobs of arm on the torso or trousers (a print, a pocket, a fold) and of hand on the
    trousers; the arm the warp and the composition need is the one connected piece along the bones.

    Args:
        parse: (H, W) uint8 PARSE_LABELS.
        person: (H, W) bool person mask.
        frac: a component below ``frac`` x the label's largest component is an island.
    """
    bad = np.zeros(parse.shape, bool)
    for side in ((LABEL["left_arm"], LABEL["left_hand"]), (LABEL["right_arm"], LABEL["right_hand"])):
        # an arm is arm + hand: a hand touching its arm is no island
        whole = np.isin(parse, side)
        if not whole.any():
            continue
        n, cc, st, _ = cv2.connectedComponentsWithStats(whole.astype(np.uint8), connectivity=8)
        if n <= 2:
            continue
        area = st[:, cv2.CC_STAT_AREA].astype(np.float64)
        area[0] = 0
        small = area < frac * area.max()
        small[0] = False
        bad |= small[cc]
    if not bad.any():
        return parse
    keep = person & ~bad
    return np.where(bad, _fill_nearest(parse, keep, bad), parse).astype(np.uint8)


def _fill_holes(m: np.ndarray) -> np.ndarray:
    """``m`` with its holes (background regions not connected to the border, 4-connectivity) filled."""
    h, w = m.shape
    pad = np.zeros((h + 2, w + 2), np.uint8)
    pad[1:-1, 1:-1] = m
    # flood the outside from a corner of the padding; what it does not reach is inside or a hole
    ff = np.zeros((h + 4, w + 4), np.uint8)
    cv2.floodFill(pad, ff, (0, 0), 2, flags=4)
    return pad[1:-1, 1:-1] != 2


def _robust_gauss(samples: np.ndarray) -> _Gauss:
    """A Gaussian refitted on its own inliers: cheek samples include eyebrows, nostrils and stray hair."""
    g = _Gauss(samples)
    if len(samples) > 20:
        inl = samples[g.maha(samples) < 9.0]
        if len(inl) > 10:
            g = _Gauss(inl)
    return g


def _hand_mask(P, wr, pinky, index, thumb, elbow, x, y) -> np.ndarray:
    """Pixels on the far side of the wrist, within reach of the hand keypoints."""
    pts = P[[wr, pinky, index, thumb]]
    c = pts.mean(axis=0)
    r = max(float(np.linalg.norm(pts - c, axis=1).max()) * 1.6, 4.0)
    fwd = P[wr] - P[elbow]
    fwd = fwd / max(float(np.linalg.norm(fwd)), 1e-6)
    beyond = ((x - P[wr][0]) * fwd[0] + (y - P[wr][1]) * fwd[1]) > -0.15 * r
    return beyond & (np.hypot(x - c[0], y - c[1]) < r)


def _nearer_hand(P, x, y) -> np.ndarray:
    cl = P[[_L_WR, _L_PINKY, _L_INDEX, _L_THUMB]].mean(axis=0)
    cr = P[[_R_WR, _R_PINKY, _R_INDEX, _R_THUMB]].mean(axis=0)
    return np.hypot(x - cl[0], y - cl[1]) <= np.hypot(x - cr[0], y - cr[1])


def _fill_nearest(base: np.ndarray, labeled: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Give the pixels of ``where`` that have no label the label of the nearest labelled pixel.

    Done at a quarter resolution: only a thin rim between BodyPix's and the selfie mask's outlines needs it.
    """
    from scipy.ndimage import distance_transform_edt

    h, w = base.shape
    f = 4 if min(h, w) >= 256 else 1
    sb, sl = base[::f, ::f], labeled[::f, ::f]
    _, (iy, ix) = distance_transform_edt(~sl, return_indices=True)
    filled = sb[iy, ix]
    if f > 1:
        filled = cv2.resize(filled, (w, h), interpolation=cv2.INTER_NEAREST)
    todo = where & ~labeled
    out = base.copy()
    out[todo] = filled[todo]
    return out


def _open_close(m: np.ndarray, r: int) -> np.ndarray:
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    m8 = cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_OPEN, k)
    return cv2.morphologyEx(m8, cv2.MORPH_CLOSE, k).astype(bool)


def _keep_connected(m: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Keep the connected components of ``m`` that touch ``anchor``."""
    n, cc = cv2.connectedComponents(m.astype(np.uint8), connectivity=8)
    if n <= 1:
        return m
    keep = np.zeros(n, bool)
    keep[np.unique(cc[anchor & m])] = True
    keep[0] = False
    return keep[cc]


# ---------------------------------------------------------------------------------------------------------------
# Evaluation against LIP parse maps

IOU_CLASSES: dict[str, tuple[int, ...]] = {
    "background": (LABEL["background"],),
    "hair": (LABEL["hair"],),
    "face": (LABEL["face"], LABEL["neck"]),
    "torso": (LABEL["torso"],),
    "arms": (LABEL["left_arm"], LABEL["right_arm"], LABEL["left_hand"], LABEL["right_hand"]),
    "lower_body": (LABEL["lower_body"],),
}
"""Merged classes for comparing with LIP maps: LIP has no neck or hand class (neck goes with face, hands with
arms). ``parse_iou`` also reports ``upper_body`` = torso + arms, which is insensitive to the clothes-versus-body
convention (LIP calls a sleeve upper-clothes, BodyPix calls it arm)."""


def parse_iou(pred: np.ndarray, lip_map: np.ndarray, *, neck_as_background: bool = False) -> dict[str, float]:
    """Intersection over union per merged class between a parse and a LIP label map.

    Args:
        pred: (H, W) uint8 ``PARSE_LABELS`` map.
        lip_map: (h, w) uint8 LIP label ids (0..19, as in the CP-VTON/VITON ``image-parse`` palette PNGs);
            ``pred`` is resized to it (nearest) when the sizes differ.
        neck_as_background: count predicted neck as background, the VITON/CP-VTON parses' convention (their
            neck and chest skin are mostly unlabelled, 0).

    Returns:
        {class: IoU in [0, 1]} for ``IOU_CLASSES`` (NaN where the class is absent from both maps), plus
        ``upper_body`` (torso + arms), ``mean`` (mean of the ``IOU_CLASSES`` that are present) and
        ``arms_lr`` (IoU of left and right arm+hand kept apart, averaged).
    """
    gt = lip_to_parse(np.asarray(lip_map, np.uint8))
    if pred.shape != gt.shape:
        pred = cv2.resize(pred, (gt.shape[1], gt.shape[0]), interpolation=cv2.INTER_NEAREST)
    if neck_as_background:
        pred = np.where(pred == LABEL["neck"], LABEL["background"], pred).astype(np.uint8)

    def iou(labels: tuple[int, ...]) -> float:
        a, b = np.isin(pred, labels), np.isin(gt, labels)
        union = int((a | b).sum())
        return float((a & b).sum()) / union if union else float("nan")

    out = {name: iou(labs) for name, labs in IOU_CLASSES.items()}
    vals = [v for v in out.values() if not np.isnan(v)]
    out["mean"] = float(np.mean(vals)) if vals else float("nan")
    out["upper_body"] = iou(IOU_CLASSES["torso"] + IOU_CLASSES["arms"])
    # LIP arms include the hands (its single glove class is rare): compare each side as arm + hand.
    lr = [iou((LABEL["left_arm"], LABEL["left_hand"])), iou((LABEL["right_arm"], LABEL["right_hand"]))]
    lr = [v for v in lr if not np.isnan(v)]
    out["arms_lr"] = float(np.mean(lr)) if lr else float("nan")
    return out


_PALETTE = np.array([[0, 0, 0], [128, 64, 0], [255, 200, 150], [255, 120, 180], [0, 90, 255], [0, 200, 0],
                     [220, 0, 0], [140, 255, 140], [255, 140, 140], [170, 0, 200]], np.uint8)


def colorize_parse(parse: np.ndarray, image: np.ndarray | None = None, alpha: float = 0.55) -> np.ndarray:
    """Colour a parse map for viewing (hair brown, face peach, neck pink, torso blue, left arm green, right arm red,
    hands light green/red, lower body purple), optionally blended over the photo.

    Returns:
        (H, W, 3) uint8 RGB.
    """
    col = _PALETTE[np.clip(parse, 0, len(_PALETTE) - 1)]
    if image is None:
        return col
    out = image.astype(np.float32) * (1 - alpha) + col.astype(np.float32) * alpha
    out[parse == 0] = image[parse == 0] * 0.6
    return out.astype(np.uint8)
