"""The teacher's quality gate: a confidence in [0, 1] for each try-on, from signals that can be measured.

A result a shopper would call implausible (a flat skin slab, the old collar or sleeve still showing, a garment
that is mostly missing or off the body) is refused instead of shown, and left out of the student's records.
The confidence is deliberately simple to explain: each signal below is measured on the result, mapped to a
score in [0, 1] by a straight ramp between a *bad* value (score 0) and a *good* value (score 1), and the
confidence is the **lowest** score. The weakest signal names what went wrong, and its advice tells the user what
to change. The ramps' end points are round numbers set by eye on the wild-dev set (``docs/quality-gate.md``);
nothing is fitted.

=========================  ==================================================================================
signal                     measured as
=========================  ==================================================================================
``legs``                   one-pieces: share of the garment's length on the body (waist to hem, as warped)
                           that lies inside the photo; 1 for tops
``pose``                   BlazePose visibility (0..1) of the shoulders (the lower one) and of the elbows and
                           hips (the mean of each pair), the lowest of the three; elbows and hips below the
                           photo's bottom edge (a chest-up photo) count as seen; for bottoms the hips', knees'
                           and ankles' (:func:`tryon.person.body.leg_visibility`, joints outside the photo 0)
``landmarks``              asymmetry of the garment landmarks about the garment's centre line (shoulders,
                           armpits, hem corners), in shoulder widths; 1 when they are out of order; for bottoms
                           :func:`lower_landmark_asymmetry` (waistband corners, leg hems or skirt hem)
``mask_border``            share of the garment outline lying on the photo's edge (a cut-off garment)
``mask_solidity``          garment area / convex hull area (a ragged or broken-up cut-out is low)
``mask_fraction``          share of the garment photo covered by the garment (a speck, or the whole frame)
``old_garment``            share of the upper-body clothing area of the result that still shows the old garment
                           (body pixels the new garment does not cover that the result does not show as skin);
                           for bottoms the composition's ``old_garment_visible`` (share of the old bottoms)
``skin_synthesised``       share of that area refilled and shown as skin (a slab where the garment is absent);
                           for bottoms the composition's ``skin_synthesized`` (share of the shown skin)
``skin_tone``              tops and one-pieces: ``skin_synthesised`` x the CIELAB distance between the invented and
                           the photographed skin's median colours / 10 (painted-on strips), :func:`skin_tone`; 0
                           for bottoms
``chest_synthesised``      tops and one-pieces: share of the chest (the body frame's box of
                           :data:`tryon.teacher.compose.CHEST_BOX`, arms left out) shown as invented skin: a neckline
                           lower than the old top's, filled with a slab (``info["chest_synthesized"]``); 0 for bottoms
``arms_synthesised``       tops: invented arm skin shown, in squared shoulder widths (``info["arms_synthesized"]``,
                           :class:`tryon.teacher.compose.ComposeResult`): short sleeves on long old ones; 0 for
                           bottoms and one-pieces
``wide_arm_skin``          tops: skin shown on the parse's arms further from their bones than a bare arm reaches, in
                           squared shoulder widths (``info["wide_arm_skin"]``,
                           :class:`tryon.teacher.compose.ComposeResult`): a skin-hued sleeve or coat kept as bare arm
                           beside the new garment; 0 for bottoms and one-pieces
``arms_across``            tops: share of the forearms (elbow to wrist) lying over the torso, between the shoulders
                           and the hips (arms crossed, hands or a laptop in front of the body),
                           :func:`arms_across`; 0 for bottoms and one-pieces
``stance``                 height difference of the ankles over the mean leg length (hip to knee to ankle),
                           :func:`leg_raise` (a jump, a kick, a raised leg); for tops only where the legs are seen
                           (:func:`tryon.person.body.leg_visibility` above 0.5), else 0
``skirt_flare``             bottoms (trousers and shorts): the person's width at the knees in hip-joint distances
                           (``info["skirt_flare"]``, :func:`tryon.teacher.agnostic_lower.skirt_flare`): a skirt,
                           dress or coat flaring there is left in flecks beside new trousers; 0 otherwise
``hidden_by_arms``         one-pieces: share of the warped garment the result hides behind the person's arms
                           (long sleeves read as none lie under the arms), :func:`hidden_by_arms`; 0 otherwise
``warp_folds``             share of the warped garment where the sampling grid folds over (Jacobian det <= 0)
``warp_spread``            spread of the warp's local area change: the 5-95 percentile range of
                           log|det J| over the warped garment, in natural-log units (ln 4 = one part four
                           times as stretched as another)
=========================  ==================================================================================

Source of the method: the signals are this project's own; the Jacobian fold-over / area-change measures are the
usual diagnostics of dense deformation fields (e.g. Ashburner, *A fast diffeomorphic image registration
algorithm*, NeuroImage 2007, which reports the Jacobian determinant's range and negative values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from tryon.errors import LowConfidenceError, UsageError
from tryon.person.body import (L_ANKLE, L_ELBOW, L_HIP, L_KNEE, L_SHOULDER, L_WRIST, R_ANKLE, R_ELBOW, R_HIP,
                               R_KNEE, R_SHOULDER, R_WRIST, body_frame, leg_visibility)
from tryon.person.labels import LABEL
from tryon.teacher.gate_config import DEFAULT_MIN_CONFIDENCE, LOWER_SIGNALS, SIGNALS, SignalSpec

__all__ = ["DEFAULT_MIN_CONFIDENCE", "SIGNALS", "SignalSpec", "Quality", "REFUSAL", "ADVICE", "TIE_FIRST", "assess",
           "check", "threshold", "threshold_for", "ramp",
           "pose_visibility", "landmark_asymmetry", "lower_landmark_asymmetry", "mask_quality", "garment_shares",
           "warp_distortion", "leg_raise", "seen_leg_raise", "hidden_by_arms", "arms_across", "forearm_raised", "skin_tone"]

def ramp(raw: float, bad: float, good: float) -> float:
    """Straight ramp: 0 at ``bad``, 1 at ``good``, clipped to [0, 1]; works in either direction. NaN scores 0."""
    if not np.isfinite(raw):
        return 0.0
    return float(np.clip((raw - bad) / (good - bad), 0.0, 1.0))


REFUSAL = "this try-on would not look right: "
"""How :meth:`Quality.message` begins; :data:`ADVICE` joins what is wrong to what to change (the batch run's summary
in ``tryon run`` cuts the messages there)."""
ADVICE = ". To fix it, "
ALSO_MAX = 2
"""How many other signals below the threshold a refusal names after the weakest one's advice (what is wrong only)."""

TIE_FIRST = ("legs", "stance")
"""Signals named first when they tie with others for the lowest score, because what they say is what to change: a
waist-up photo also weakens the pose (``legs``); a jump or a kick also flings the forearms across the torso and
leaves the old garment showing (``stance``). Two of the sixteenth first user's mid-air photos, their arms spread,
were told that their forearms were in front of their body (``arms_across`` and ``stance`` both at 0)."""


@dataclass
class Quality:
    """A teacher result's confidence and the signals it comes from.

    Attributes:
        confidence: the lowest signal score, in [0, 1].
        weakest: the name of that signal (a key of :data:`SIGNALS`).
        raw: signal name -> raw measurement (units in :data:`SIGNALS` / the module docstring).
        scores: signal name -> score in [0, 1].
        lower: scored with :data:`tryon.teacher.gate_config.LOWER_SIGNALS` (bottoms).
    """

    confidence: float
    weakest: str
    raw: dict[str, float] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    lower: bool = False

    def message(self, min_confidence: float) -> str:
        """The refusal: what is wrong (the weakest signal) and what to change (its advice), what else is wrong (up to
        :data:`ALSO_MAX` other signals below ``min_confidence``, weakest first, each said once), then the figures (a
        first user read them, placed first, as jargon in the way).

        The others are named because the weakest alone can send a shopper to change the wrong photo: a plain polo
        laid flat was refused for its landmarks (told to photograph it flat) while her three-quarter turn and bare
        shoulder, which left her old top showing, went unsaid."""
        specs = LOWER_SIGNALS if self.lower else SIGNALS
        spec = specs[self.weakest]
        others: list[str] = []
        for name in sorted(self.scores, key=lambda k: self.scores[k]):
            what = specs[name].what if name in specs else None
            if (name != self.weakest and what and self.scores[name] < min_confidence and what != spec.what
                    and what not in others):
                others.append(what)
        also = f". Also, {'; '.join(others[:ALSO_MAX])}" if others else ""
        return (f"{REFUSAL}{spec.what}{ADVICE}{spec.advice}{also} (confidence "
                f"{self.confidence:.2f}, {min_confidence:.2f} needed; weakest signal: {self.weakest})")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"confidence", "weakest", "raw", "scores"}`` (floats rounded to 4 places)."""
        return {"confidence": round(self.confidence, 4), "weakest": self.weakest,
                "raw": {k: round(float(v), 4) for k, v in self.raw.items()},
                "scores": {k: round(float(v), 4) for k, v in self.scores.items()}}


# ------------------------------------------------------------------------------------------------- signals
def pose_visibility(keypoints: np.ndarray, image_height: int | None = None) -> float:
    """The body's visibility: min(lower shoulder visibility, mean elbow visibility, mean hip visibility).

    Args:
        keypoints: (33, 4) float32 BlazePose keypoints (x_px, y_px, z, visibility in [0, 1]).
        image_height: the photo's height, pixels. Elbows and hips the pose puts below the photo's bottom edge (a
            chest-up photo) count as seen: the garment there is outside the photo too, so nothing shown depends
            on them (None: every keypoint counts as measured).

    Returns:
        visibility in [0, 1]. The shoulders must both be seen (the garment hangs from them); one elbow or hip
        hidden behind the body is tolerated by averaging the pair.

    Raises:
        UsageError: ``keypoints`` is not (33, 4).
    """
    kp = np.asarray(keypoints, np.float32)
    if kp.shape != (33, 4):
        raise UsageError(f"keypoints must be (33, 4), not {kp.shape}")
    v = np.clip(kp[:, 3], 0.0, 1.0)
    if image_height is not None:
        below = kp[:, 1] >= image_height
        below[[L_SHOULDER, R_SHOULDER]] = False
        v = np.where(below, 1.0, v)
    return float(min(v[L_SHOULDER], v[R_SHOULDER], (v[L_ELBOW] + v[R_ELBOW]) / 2, (v[L_HIP] + v[R_HIP]) / 2))


def landmark_asymmetry(landmarks: dict[str, tuple[float, float]]) -> float:
    """How far the garment landmarks are from a mirror-symmetric front view, in shoulder widths.

    A flat front-view top is close to symmetric about its centre line (the neck points' midpoint): for each pair
    (shoulders, armpits, hem corners) the left point mirrored about that line should land on the right point,
    and both should sit at one height. The landmark detector works from the outline, so a broken mask, a
    garment photographed at an angle or folded shows up here.

    Args:
        landmarks: name -> (x, y) garment-image pixels (``tryon.garment.landmarks.garment_landmarks``).

    Returns:
        the largest pair's mirror distance / shoulder width (0 = symmetric); 1.0 when the shoulders are not
        outside the neck points, the armpits not below the shoulders or the hem not below the armpits.

    Raises:
        UsageError: a neck, shoulder, armpit or hem landmark is missing.
    """
    need = ("neck_left", "neck_right", "shoulder_left", "shoulder_right", "armpit_left", "armpit_right",
            "hem_left", "hem_right")
    missing = [k for k in need if k not in landmarks]
    if missing:
        raise UsageError(f"garment landmarks missing: {', '.join(missing)}")
    p = {k: np.asarray(landmarks[k], np.float64) for k in need}
    cx = (p["neck_left"][0] + p["neck_right"][0]) / 2
    width = p["shoulder_left"][0] - p["shoulder_right"][0]  # wearer's left = image right
    in_order = (width > 0 and p["shoulder_left"][0] >= p["neck_left"][0]
                and p["shoulder_right"][0] <= p["neck_right"][0]
                and min(p["armpit_left"][1], p["armpit_right"][1]) > max(p["shoulder_left"][1],
                                                                         p["shoulder_right"][1])
                and min(p["hem_left"][1], p["hem_right"][1]) > max(p["armpit_left"][1], p["armpit_right"][1]))
    if not in_order:
        return 1.0
    worst = 0.0
    for part in ("shoulder", "armpit", "hem"):
        a, b = p[f"{part}_left"], p[f"{part}_right"]
        mirrored = np.array([2 * cx - a[0], a[1]])
        worst = max(worst, float(np.hypot(*(mirrored - b))) / width)
    return worst


def mask_quality(garment_mask: np.ndarray) -> dict[str, float]:
    """Measures of a garment cut-out: border contact, solidity and its share of the photo.

    Args:
        garment_mask: (h, w) float32 [0, 1] (or bool) mask of the garment in its own photo.

    Returns:
        ``{"mask_border": share of the largest component's outline on the photo's 1-pixel edge,
        "mask_solidity": its area / its convex hull's area, "mask_fraction": mask area / photo area}``;
        an empty mask gives border 1, solidity 0, fraction 0.

    Raises:
        UsageError: ``garment_mask`` is not 2-D.
    """
    m = np.asarray(garment_mask)
    if m.ndim != 2:
        raise UsageError(f"garment_mask must be (h, w), not {m.shape}")
    m = (m > 0.5).astype(np.uint8)
    h, w = m.shape
    if not m.any():
        return {"mask_border": 1.0, "mask_solidity": 0.0, "mask_fraction": 0.0}
    n, lbl, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    main = (lbl == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
    contours, _ = cv2.findContours(main, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    c = max(contours, key=cv2.contourArea)[:, 0, :]
    on_edge = (c[:, 0] <= 0) | (c[:, 0] >= w - 1) | (c[:, 1] <= 0) | (c[:, 1] >= h - 1)
    hull = cv2.contourArea(cv2.convexHull(c))
    area = cv2.contourArea(c)
    return {"mask_border": float(on_edge.mean()), "mask_solidity": area / hull if hull > 0 else 0.0,
            "mask_fraction": float(m.mean())}


def garment_shares(result_image: np.ndarray, parse: np.ndarray, composition_mask: np.ndarray,
                   hole: np.ndarray | None, kept: np.ndarray | None = None) -> dict[str, float]:
    """Share of the old garment still visible, and share of skin synthesised, in the try-on.

    The upper-body clothing area is the person's neck, torso and arms (parse labels) plus wherever the new
    garment is shown. In it, the *old garment still visible* is what is neither covered by the new garment
    (``composition_mask`` < 0.5) nor refilled (``hole``) and is not skin-coloured (``tryon.teacher.agnostic``'s
    skin tone and skin test, measured on the result, which outside those two regions is the photo itself), nor
    kept on purpose (``kept``: a dress's skirt under a top, which the parse calls torso down to mid-thigh; counted,
    a top over a sundress was refused as "much of the clothing you wear would still show"); the *skin synthesised*
    is the refilled part of the body (``hole`` on a body label).

    Args:
        result_image: (H, W, 3) uint8 RGB try-on.
        parse: (H, W) uint8 PARSE_LABELS of the person photo.
        composition_mask: (H, W) float32 [0, 1], 1 where the result shows the new garment.
        hole: (H, W) bool where the old garment was removed and refilled, or None (nothing refilled).
        kept: (H, W) bool the old garment kept as photographed (``TeacherResult.kept``), or None.

    Returns:
        ``{"old_garment": share, "skin_synthesised": share}`` of the clothing area, each in [0, 1].

    Raises:
        UsageError: the arrays' sizes differ.
    """
    from tryon.teacher.agnostic import skin_mask, skin_tone

    H, W = parse.shape
    if result_image.shape[:2] != (H, W) or composition_mask.shape != (H, W) or any(
            m is not None and np.shape(m) != (H, W) for m in (hole, kept)):
        raise UsageError("result image, parse, composition mask, hole and kept must have one size")
    hole = np.zeros((H, W), bool) if hole is None else hole.astype(bool)
    kept = np.zeros((H, W), bool) if kept is None else np.asarray(kept, bool)
    # A working height of ~512 px: the parse is coarse (stride 16), finer pixels add nothing.
    s = min(1.0, 512 / H)
    if s < 1.0:
        size = (max(8, round(W * s)), max(8, round(H * s)))
        result_image = cv2.resize(result_image, size, interpolation=cv2.INTER_AREA)
        parse = cv2.resize(parse, size, interpolation=cv2.INTER_NEAREST)
        composition_mask = cv2.resize(composition_mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        hole = cv2.resize(hole.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
        kept = cv2.resize(kept.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    body = np.isin(parse, (LABEL["neck"], LABEL["torso"], LABEL["left_arm"], LABEL["right_arm"]))
    uncovered = body & (composition_mask < 0.5)
    skin = skin_mask(result_image, skin_tone(result_image, parse))
    # Refilled pixels count by what they show: the fill may continue an old sleeve rather than paint skin.
    old = uncovered & ~skin & ~kept
    synth = uncovered & hole & skin
    area = float((body | (composition_mask >= 0.5)).sum())
    if area == 0:
        return {"old_garment": 0.0, "skin_synthesised": 0.0}
    return {"old_garment": float(old.sum()) / area, "skin_synthesised": float(synth.sum()) / area}


def warp_distortion(grid: np.ndarray, warped_mask: np.ndarray, garment_size: tuple[int, int],
                    warped_parts: np.ndarray | None = None, *, work_height: int = 256) -> dict[str, float]:
    """Fold-overs and uneven stretch of the dense garment warp, from its Jacobian.

    J is the derivative of the garment-pixel position sampled by each person pixel (central differences of
    the grid, at ``work_height``). Only pixels whose 3x3 neighbourhood lies inside the warped garment and
    within one part (torso, or one sleeve: the parts have separate warps that meet at seams) count.

    Args:
        grid: (H, W, 2) float32 in [-1, 1], ``grid_sample`` convention (align_corners=False), x then y.
        warped_mask: (H, W) float32 [0, 1] warped garment mask.
        garment_size: the garment photo's (height, width) in pixels.
        warped_parts: (H, W) uint8 part labels (0 none, 1 torso, 2/3 sleeves), or None (one part).
        work_height: height at which the grid is differentiated.

    Returns:
        ``{"warp_folds": share of counted pixels with det J <= 0, "warp_spread": 95th - 5th percentile of
        ln|det J| over the counted pixels}``; both 0 when fewer than 50 pixels count.

    Raises:
        UsageError: the grid is not (H, W, 2) or its size differs from the mask's.
    """
    g = np.asarray(grid, np.float32)
    if g.ndim != 3 or g.shape[2] != 2 or g.shape[:2] != warped_mask.shape:
        raise UsageError(f"grid must be (H, W, 2) with the mask's size, not {g.shape} / {warped_mask.shape}")
    H, W = warped_mask.shape
    parts = (warped_mask > 0.5).astype(np.uint8) if warped_parts is None else (
        np.asarray(warped_parts, np.uint8) * (warped_mask > 0.5))
    step = max(1, H // work_height)
    g, parts = g[::step, ::step], parts[::step, ::step]
    gh, gw = garment_size
    x = (g[..., 0] + 1.0) * gw / 2.0
    y = (g[..., 1] + 1.0) * gh / 2.0
    dxdv, dxdu = np.gradient(x)
    dydv, dydu = np.gradient(y)
    det = dxdu * dydv - dxdv * dydu
    k = np.ones((3, 3), np.uint8)
    same = (cv2.erode(parts, k) == cv2.dilate(parts, k)) & (parts > 0)
    d = det[same]
    if d.size < 50:
        return {"warp_folds": 0.0, "warp_spread": 0.0}
    folds = float((d <= 0).mean())
    logd = np.log(np.abs(d[d != 0]) + 1e-12)
    lo, hi = np.percentile(logd, [5, 95]) if logd.size else (0.0, 0.0)
    return {"warp_folds": folds, "warp_spread": float(hi - lo)}


def _checked_keypoints(keypoints: np.ndarray) -> np.ndarray:
    """``keypoints`` as (33, >= 2) float64; UsageError otherwise."""
    kp = np.asarray(keypoints, np.float64)
    if kp.ndim != 2 or kp.shape[0] != 33 or kp.shape[1] < 2:
        raise UsageError(f"keypoints must be (33, 4), not {kp.shape}")
    return kp


def leg_raise(keypoints: np.ndarray) -> float:
    """How far one leg is raised: the ankles' height difference over the mean leg length.

    Standing, walking or with crossed ankles, both feet are near the ground (at most 0.2 on the development
    photos); a jump or a kick lifts one ankle by far more (0.49 for a jump there), and the legs the teacher
    synthesises under a skirt or a dress, straight and hanging, no longer match the pose. This project's own
    measure, from BlazePose's leg keypoints (``docs/quality-gate.md``).

    Args:
        keypoints: (33, 4) float32 BlazePose keypoints (x_px, y_px, z, visibility).

    Returns:
        |y(left ankle) - y(right ankle)| / mean over both legs of (|hip - knee| + |knee - ankle|), >= 0
        (0 when the legs have no length).

    Raises:
        UsageError: ``keypoints`` is not (33, >= 2).
    """
    kp = _checked_keypoints(keypoints)
    xy = kp[:, :2]
    length = (np.linalg.norm(xy[L_HIP] - xy[L_KNEE]) + np.linalg.norm(xy[L_KNEE] - xy[L_ANKLE])
              + np.linalg.norm(xy[R_HIP] - xy[R_KNEE]) + np.linalg.norm(xy[R_KNEE] - xy[R_ANKLE])) / 2
    if length <= 0:
        return 0.0
    return float(abs(xy[L_ANKLE, 1] - xy[R_ANKLE, 1]) / length)


def seen_leg_raise(keypoints: np.ndarray, shape: tuple[int, int]) -> float:
    """:func:`leg_raise` where both legs are seen in the photo (:func:`tryon.person.body.leg_visibility` above 0.5),
    else 0: a waist-up photo's legs are BlazePose's guess. A top's ``stance``.

    Args:
        keypoints: (33, 4) float32 BlazePose keypoints (x_px, y_px, z, visibility) in the photo's pixels.
        shape: (H, W) of that photo.

    Returns:
        >= 0, as :func:`leg_raise`.

    Raises:
        UsageError: ``keypoints`` is not (33, >= 2).
    """
    return leg_raise(keypoints) if leg_visibility(keypoints, shape) > 0.5 else 0.0


def hidden_by_arms(warped_mask: np.ndarray, composition_mask: np.ndarray, parse: np.ndarray) -> float:
    """Share of the warped garment that the result hides behind the person's arms.

    The composition keeps the person's arms in front of the garment. A dress's sides hidden by arms hanging
    beside the body are a few percent of it (at most 0.04 on the development pairs judged plausible); when a
    garment's long sleeves are read as none they are warped as part of the bodice, lie under the arms and are
    hidden there, and the shopper sees a sleeveless dress with bare arms (0.05-0.06). This project's own measure
    (``docs/quality-gate.md``).

    Args:
        warped_mask: (H, W) float32 [0, 1] warped garment mask.
        composition_mask: (H, W) float32 [0, 1], 1 where the result shows the warped garment.
        parse: (H, W) uint8 PARSE_LABELS of the person photo.

    Returns:
        (warped > 0.5, shown < 0.5, parse an arm) pixels / (warped > 0.5) pixels, in [0, 1]; 0 for an empty warp.

    Raises:
        UsageError: the arrays' sizes differ.
    """
    if warped_mask.shape != composition_mask.shape or warped_mask.shape != parse.shape:
        raise UsageError(f"warped mask, composition mask and parse must have one size, not {warped_mask.shape}, "
                         f"{composition_mask.shape} and {parse.shape}")
    warped = warped_mask > 0.5
    n = int(warped.sum())
    if n == 0:
        return 0.0
    arms = np.isin(parse, (LABEL["left_arm"], LABEL["right_arm"]))
    return float((warped & (composition_mask < 0.5) & arms).sum()) / n


def arms_across(keypoints: np.ndarray, image_height: int | None = None, *, samples: int = 21,
                min_visibility: float = 0.7) -> float:
    """How much of the forearms lies over the torso: arms crossed, hands joined in front, or typing on a laptop.

    The composition draws the person's arms in front of the new garment and the garment around them; with the
    forearms across the torso the garment is drawn through them (and over whatever they hold: a laptop, a bag)
    and its warp is scrambled. Arms hanging beside the body, hands on the hips or in the pockets give 0. This
    project's own measure, from BlazePose's arm and torso keypoints (``docs/quality-gate.md``).

    Args:
        keypoints: (33, 4) float32 BlazePose keypoints (x_px, y_px, z, visibility).
        image_height: the photo's height, pixels: a forearm whose elbow or wrist lies below its bottom edge (a
            chest-up photo, where BlazePose guesses the hands, sometimes at visibility 0.7 or more) does not count
            (None: every forearm counts).
        samples: points sampled along each forearm.
        min_visibility: a forearm whose elbow or wrist BlazePose sees less than this (a chest-up photo's hands,
            guessed inside its bottom edge) does not count.

    Returns:
        the larger over both arms of the share of the forearm's points (elbow to wrist) that lie inside the torso
        quadrilateral (the shoulder and hip joints, which lie inside the body's outline: a hand on the hip or in a
        pocket stays outside it), in [0, 1]; 0 when the shoulders coincide.

    Raises:
        UsageError: ``keypoints`` is not (33, >= 2).
    """
    kp = _checked_keypoints(keypoints)
    xy = kp[:, :2]
    ls, rs, lh, rh = xy[L_SHOULDER], xy[R_SHOULDER], xy[L_HIP], xy[R_HIP]
    sw = float(np.linalg.norm(ls - rs))
    if sw < 1e-6:
        return 0.0
    u = (ls - rs) / sw                                 # towards the person's left
    v = np.array([-u[1], u[0]])
    v = v if v @ ((lh + rh) / 2 - (ls + rs) / 2) >= 0 else -v    # down the body
    o = (ls + rs) / 2

    def frame(p: np.ndarray) -> np.ndarray:
        d = p - o
        return np.stack([d @ u, d @ v], -1)

    (a_ls, _), (a_rs, _), (a_lh, b_lh), (a_rh, b_rh) = (frame(p) for p in (ls, rs, lh, rh))
    hip_b = max((b_lh + b_rh) / 2, 1e-6)
    t = np.linspace(0.0, 1.0, samples)[:, None]
    worst = 0.0
    for e, w in ((L_ELBOW, L_WRIST), (R_ELBOW, R_WRIST)):
        if kp.shape[1] >= 4 and min(kp[e, 3], kp[w, 3]) < min_visibility:
            continue        # a forearm BlazePose only guesses (out of the photo, behind the body)
        if image_height is not None and max(xy[e, 1], xy[w, 1]) >= image_height:
            continue        # an end below the photo: a chest-up photo's arm, its hand guessed (often seen >= 0.7)
        pts = xy[e] + t * (xy[w] - xy[e])
        pa, pb = frame(pts).T
        f = np.clip(pb / hip_b, 0.0, 1.0)              # the sides run straight from shoulder to hip
        left, right = a_ls + f * (a_lh - a_ls), a_rs + f * (a_rh - a_rs)
        inside = (pb >= 0.0) & (pb <= hip_b) & (pa <= left) & (pa >= right)
        worst = max(worst, float(inside.mean()))
    return worst


def forearm_raised(keypoints: np.ndarray, image_height: int | None = None, *, min_visibility: float = 0.92) -> float:
    """How far a hand is raised above its elbow: a hand at the hair, the face, the collar or waving.

    Not a signal of the teacher's gate (its composition draws the arms in front of the garment); the student's
    pose gate scores it (``tryon.framing.pose_gate_scores``, ``forearm_raised``): the parser-free student paints
    the new garment over a forearm raised in front of the chest or the head and erases the hand (wild-dev, econ-icon
    and pidm photos judged in session 13, ``docs/quality-gate.md``). Arms hanging, hands on the hips or in the
    pockets give 0 or less. This project's own measure, from BlazePose's arm keypoints in the body's frame
    (:func:`tryon.person.body.body_frame`: the shoulder line and its normal towards the hips, so a tilted photo
    reads the same).

    Args:
        keypoints: (33, 4) float32 BlazePose keypoints (x_px, y_px, z, visibility).
        image_height: the photo's height, pixels: a forearm whose elbow or wrist lies at or below its bottom edge
            (a chest-up photo's guessed hand) does not count (None: every forearm counts).
        min_visibility: a forearm whose elbow or wrist BlazePose sees less than this does not count (stricter
            than :func:`arms_across`'s 0.7: a waist-up photo's hands below the frame, which BlazePose guessed folded
            back at the shoulders at 0.77-0.88, read as raised, and paused the live mode of a waist-up webcam
            frame; the raised hands of the photos it is meant to refuse are seen at 0.97 or more).

    Returns:
        the larger over both seen forearms of the wrist's height above its elbow along the body's axis, in shoulder
        widths (0.5: the hand half a shoulder width above the elbow); 0 when no forearm counts, when none is raised
        or when the shoulders coincide.

    Raises:
        UsageError: ``keypoints`` is not (33, >= 2).
    """
    kp = _checked_keypoints(keypoints)
    xy = kp[:, :2]
    if float(np.linalg.norm(xy[L_SHOULDER] - xy[R_SHOULDER])) < 1e-6:
        return 0.0
    frame = body_frame(kp)
    worst = 0.0
    for e, w in ((L_ELBOW, L_WRIST), (R_ELBOW, R_WRIST)):
        if kp.shape[1] >= 4 and min(kp[e, 3], kp[w, 3]) < min_visibility:
            continue
        if image_height is not None and max(xy[e, 1], xy[w, 1]) >= image_height:
            continue
        worst = max(worst, float((xy[e] - xy[w]) @ frame.v) / frame.sw)
    return worst


# ------------------------------------------------------------------------------------------------- gate
def lower_landmark_asymmetry(landmarks: dict[str, tuple[float, float]]) -> float:
    """How far a lower-body garment's landmarks are from a mirror-symmetric front view, in waistband widths.

    Pairs mirrored about the waistband centre's x: the waistband corners and the hem ends (each leg's outer
    end for trousers and shorts, the hem's ends for a skirt); the worst pair's mirror distance over the
    waistband width.

    Args:
        landmarks: name -> (x, y) garment pixels (:func:`tryon.garment.landmarks_lower.lower_landmarks`).

    Returns:
        0 for a symmetric garment; 1.0 when the waistband corners are out of order or the hem is above them.

    Raises:
        UsageError: a waistband or hem landmark is missing.
    """
    legs = "crotch" in landmarks
    hem = ("hem_left_outer", "hem_right_outer") if legs else ("hem_left", "hem_right")
    need = ("waist_left", "waist_right", "waist_center") + hem
    missing = [k for k in need if k not in landmarks]
    if missing:
        raise UsageError(f"lower-garment landmarks missing: {', '.join(missing)}")
    p = {k: np.asarray(landmarks[k], np.float64) for k in need}
    cx = p["waist_center"][0]
    width = p["waist_left"][0] - p["waist_right"][0]
    if width <= 0 or min(p[hem[0]][1], p[hem[1]][1]) <= max(p["waist_left"][1], p["waist_right"][1]):
        return 1.0
    worst = 0.0
    for a_name, b_name in (("waist_left", "waist_right"), hem):
        a, b = p[a_name], p[b_name]
        worst = max(worst, float(np.hypot(2 * cx - a[0] - b[0], a[1] - b[1])) / width)
    return worst


def skin_tone(synthesised: float, tone_gap: float) -> float:
    """The ``skin_tone`` signal: how much of the body is invented skin of another colour than the person's own.

    Args:
        synthesised: the ``skin_synthesised`` share of the clothing area (:func:`garment_shares`), in [0, 1].
        tone_gap: CIELAB distance between the median colours of the synthesised and the photographed body skin
            shown (``info["skin_tone_gap"]``, :func:`tryon.teacher.skin.skin_tone_gap`); NaN when either is too
            small to measure (then 0: nothing to compare).

    Returns:
        ``synthesised`` x ``tone_gap`` / 10, >= 0: a small fill may be off-colour, a large one must match.
    """
    if not np.isfinite(tone_gap):
        return 0.0
    return float(synthesised) * max(float(tone_gap), 0.0) / 10.0


def _category(result) -> str | None:
    info = getattr(result, "garment_info", None)
    return info.get("category") if isinstance(info, dict) else getattr(info, "category", None)


def _is_lower(result) -> bool:
    return _category(result) == "lower"


def assess(result) -> Quality:
    """The confidence of a teacher result (``tryon.teacher.pipeline.TeacherResult``).

    Args:
        result: needs ``tryon``, ``parse``, ``keypoints``, ``composition_mask``, ``hole``, ``grid``,
            ``warped_mask``, ``garment_mask``, ``garment_landmarks`` and optionally ``warped_parts`` and ``info``
            (its ``legs_in_view``, one-pieces only, 1 when absent; its ``skin_tone_gap``, NaN when absent; its
            ``chest_synthesized``, ``arms_synthesized`` and ``wide_arm_skin``, 0 when absent); for bottoms
            (``garment_info.category == "lower"``) also ``info``'s ``old_garment_visible``, ``skin_synthesized`` and
            ``skirt_flare`` (0 when absent). ``stance`` is measured for bottoms and one-pieces (``category ==
            "dress"``), and for tops where the legs are seen (:func:`seen_leg_raise`; ``info["leg_raise"]`` when
            given); ``hidden_by_arms`` for one-pieces only, ``arms_across``, ``arms_synthesised`` and
            ``wide_arm_skin`` for tops only, ``skirt_flare`` for bottoms only.

    Returns:
        :class:`Quality` (the lowest score over :data:`SIGNALS`).
    """
    info = getattr(result, "info", None) or {}
    legs = float(info.get("legs_in_view", 1.0))
    if _is_lower(result):
        raw: dict[str, float] = {"legs": legs, "pose": leg_visibility(result.keypoints, result.tryon.shape[:2])}
        raw["landmarks"] = (lower_landmark_asymmetry(result.garment_landmarks) if result.garment_landmarks
                            else 1.0)
        raw.update(mask_quality(result.garment_mask))
        raw["old_garment"] = float(result.info.get("old_garment_visible", 0.0))
        raw["skin_synthesised"] = float(result.info.get("skin_synthesized", 0.0))
        raw["stance"] = leg_raise(result.keypoints)
        raw["arms_across"] = 0.0
        raw["skin_tone"] = 0.0
        raw["chest_synthesised"] = 0.0
        raw["arms_synthesised"] = 0.0
        raw["wide_arm_skin"] = 0.0
        raw["skirt_flare"] = float(info.get("skirt_flare", 0.0))
    else:
        raw = {"legs": legs, "pose": pose_visibility(result.keypoints, result.tryon.shape[0])}
        lm = result.garment_landmarks
        if lm and "waist_left" in lm:
            # A one-piece: the bodice's symmetry (its hem is the waist); a skirt's hem corners are soft and uneven.
            lm = {**lm, **{f"hem_{s}": lm[f"waist_{s}"] for s in ("left", "right")}}
        raw["landmarks"] = landmark_asymmetry(lm) if lm else 1.0
        raw.update(mask_quality(result.garment_mask))
        raw.update(garment_shares(result.tryon, result.parse, result.composition_mask, result.hole,
                                  getattr(result, "kept", None)))
        dress = _category(result) == "dress"
        # A top's hem, drawn as it hangs, over a thigh lifted in a jump or a kick: only where the legs are seen (a
        # waist-up photo's legs are BlazePose's guess). A top dressed on an upper-body crop has its whole photo's
        # figure in ``info["leg_raise"]`` (the crop cuts the legs off).
        if "leg_raise" in info:
            raw["stance"] = float(info["leg_raise"])
        else:
            raw["stance"] = (leg_raise(result.keypoints) if dress
                             else seen_leg_raise(result.keypoints, result.tryon.shape[:2]))
        raw["hidden_by_arms"] = (hidden_by_arms(result.warped_mask, result.composition_mask, result.parse)
                                 if dress else 0.0)
        raw["arms_across"] = 0.0 if dress else arms_across(result.keypoints, result.tryon.shape[0])
        raw["skin_tone"] = skin_tone(raw["skin_synthesised"], float(info.get("skin_tone_gap", float("nan"))))
        raw["chest_synthesised"] = float(info.get("chest_synthesized", 0.0))
        # Tops only: a one-piece's sleeveless bodice on long old sleeves is judged with its legs and chest.
        raw["arms_synthesised"] = 0.0 if dress else float(info.get("arms_synthesized", 0.0))
        raw["wide_arm_skin"] = 0.0 if dress else float(info.get("wide_arm_skin", 0.0))
        raw["skirt_flare"] = 0.0
    raw.update(warp_distortion(result.grid, result.warped_mask, result.garment_mask.shape[:2],
                               getattr(result, "warped_parts", None)))
    specs = LOWER_SIGNALS if _is_lower(result) else SIGNALS
    scores = {k: ramp(raw[k], spec.bad, spec.good) for k, spec in specs.items()}
    weakest = min(scores, key=lambda k: (scores[k], not (k in TIE_FIRST and scores[k] < 1.0)))
    return Quality(confidence=scores[weakest], weakest=weakest, raw=raw, scores=scores, lower=_is_lower(result))


def threshold(min_confidence: float | Mapping[str, float]) -> float | dict[str, float]:
    """``min_confidence`` checked: one float for every category, or a float per category (FASHN's names, as
    :data:`DEFAULT_MIN_CONFIDENCE`).

    Raises:
        UsageError: a value outside [0, 1], or a category name other than tops, bottoms or one-pieces.
    """
    if isinstance(min_confidence, Mapping):
        unknown = sorted(set(min_confidence) - set(DEFAULT_MIN_CONFIDENCE))
        if unknown:
            raise UsageError(f"min_confidence per category: {', '.join(unknown)} is not one of "
                             f"{', '.join(DEFAULT_MIN_CONFIDENCE)}")
        return {k: threshold(v) for k, v in min_confidence.items()}
    if not 0.0 <= min_confidence <= 1.0:
        raise UsageError(f"--min-confidence {min_confidence}: give a value between 0 and 1 (0 turns the gate off)")
    return float(min_confidence)


def threshold_for(min_confidence: float | Mapping[str, float], category: str) -> float:
    """The threshold a result of ``category`` (any spelling :func:`tryon.garment.category.normalise_category`
    accepts: ``top``, ``tops``...) is held to: ``min_confidence`` itself, or its entry for the category (0, no
    gate, for a category it does not name).

    Raises:
        UsageError: as :func:`threshold`, or an unknown category name.
    """
    from tryon.garment.category import normalise_category

    t = threshold(min_confidence)
    return t.get(normalise_category(category), 0.0) if isinstance(t, dict) else t


def check(quality: Quality, min_confidence: float) -> None:
    """Refuse a result whose confidence is below ``min_confidence`` (0 lets everything through).

    Raises:
        LowConfidenceError: ``quality.confidence < min_confidence``; the message names the weakest signal and
            what to change.
        UsageError: ``min_confidence`` outside [0, 1].
    """
    if quality.confidence < threshold(min_confidence):
        raise LowConfidenceError(quality.message(min_confidence), quality=quality)
