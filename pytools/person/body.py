"""Body geometry, defined once: BlazePose's 33 landmarks (names and indices), the upper-body and the leg frames.

Every module that reads pose keypoints (person analysis and parsing, framing, the agnostic person, the warp, the
composition) takes its indices and the body frame from here, so a landmark is named in one place only.
Keypoint arrays are (33, 4) float32: x, y in image pixels, z (relative depth), visibility in [0, 1]
(``tryon.person.pose.PoseEstimator``). Left and right are the person's anatomical sides: for a person facing the
camera, ``left_shoulder`` is on the image's right. Source: the landmark list of MediaPipe Pose (BlazePose GHUM,
Bazarevsky et al., CVPR Workshops 2020).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["POSE_LANDMARKS", "KP", "NOSE", "L_EYE", "R_EYE", "L_EAR", "R_EAR", "MOUTH_L", "MOUTH_R",
           "L_SHOULDER", "R_SHOULDER", "L_ELBOW", "R_ELBOW", "L_WRIST", "R_WRIST", "L_HIP", "R_HIP", "L_KNEE",
           "R_KNEE", "L_ANKLE", "R_ANKLE", "L_HEEL", "R_HEEL", "L_FOOT", "R_FOOT", "FACE", "BodyFrame", "body_frame",
           "LegFrame", "leg_frame", "leg_visibility", "LEG_JOINTS", "shoulder_turn_deg", "CHEEKS",
           "cheek_region", "FACE_SPAN", "face_ellipse", "face_half_width"]

POSE_LANDMARKS: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
"""The 33 BlazePose landmarks; left/right are the person's anatomical sides."""

KP: dict[str, int] = {name: i for i, name in enumerate(POSE_LANDMARKS)}
"""Landmark name -> index in a keypoint array."""

NOSE, L_EYE, R_EYE, L_EAR, R_EAR = KP["nose"], KP["left_eye"], KP["right_eye"], KP["left_ear"], KP["right_ear"]
MOUTH_L, MOUTH_R = KP["mouth_left"], KP["mouth_right"]
L_SHOULDER, R_SHOULDER = KP["left_shoulder"], KP["right_shoulder"]
L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = KP["left_elbow"], KP["right_elbow"], KP["left_wrist"], KP["right_wrist"]
L_HIP, R_HIP = KP["left_hip"], KP["right_hip"]
L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = KP["left_knee"], KP["right_knee"], KP["left_ankle"], KP["right_ankle"]
L_HEEL, R_HEEL, L_FOOT, R_FOOT = KP["left_heel"], KP["right_heel"], KP["left_foot_index"], KP["right_foot_index"]
FACE = (NOSE, L_EYE, R_EYE, MOUTH_L, MOUTH_R)
"""The landmarks that show a face is visible (nose, eyes, mouth corners)."""


@dataclass
class BodyFrame:
    """The person's upper-body frame in image pixels.

    Attributes:
        origin: shoulder midpoint (2,).
        u: unit vector from the right shoulder to the left shoulder (image rightwards for a frontal person).
        v: unit vector perpendicular to u, pointing down the body.
        sw: shoulder width (distance between the BlazePose shoulder joints), pixels.
        kp: dict name -> (2,) keypoint pixel positions.
    """

    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    sw: float
    kp: dict[str, np.ndarray] = field(default_factory=dict)

    def to_img(self, a: float, b: float) -> np.ndarray:
        """Frame coordinates (a along u, b along v, pixels) -> image pixels."""
        return self.origin + a * self.u + b * self.v

    def to_frame(self, p: np.ndarray) -> np.ndarray:
        """Image pixels (..., 2) -> frame coordinates (..., 2) (along u, along v)."""
        d = np.asarray(p, dtype=np.float64) - self.origin
        return np.stack([d @ self.u, d @ self.v], axis=-1)

    def hips(self) -> tuple[float, float]:
        """The hip line in frame coordinates, pixels: (b of the hip joints' midpoint down the body, half the
        distance between the hip joints across it)."""
        (la, lb), (ra, rb) = self.to_frame(self.kp["left_hip"]), self.to_frame(self.kp["right_hip"])
        return float(0.5 * (lb + rb)), float(0.5 * abs(la - ra))


def body_frame(keypoints: np.ndarray) -> BodyFrame:
    """Build the :class:`BodyFrame` from (33, 4) BlazePose keypoints (x_px, y_px, z, visibility)."""
    kp = {name: keypoints[i, :2].astype(np.float64) for name, i in KP.items()}
    ls, rs = kp["left_shoulder"], kp["right_shoulder"]
    d = ls - rs
    sw = float(np.hypot(*d))
    if sw < 1e-3:
        sw = 1.0
        d = np.array([1.0, 0.0])
    u = d / np.hypot(*d)
    v = np.array([-u[1], u[0]])
    hips = 0.5 * (kp["left_hip"] + kp["right_hip"])
    if (hips - 0.5 * (ls + rs)) @ v < 0:  # keep v pointing from the shoulders to the hips
        v = -v
    return BodyFrame(origin=0.5 * (ls + rs), u=u, v=v, sw=sw, kp=kp)


LEG_JOINTS = ("hip", "knee", "ankle")
"""The joints of a leg's bone chain, top to bottom (BlazePose ``left_hip``... ``right_ankle``)."""


@dataclass
class LegFrame:
    """The person's pelvis and legs in image pixels: a hip frame and one bone chain per leg.

    Attributes:
        hip_center: midpoint of the two hip joints (2,).
        u: unit vector from the right hip joint to the left one (image rightwards for a frontal person).
        v: unit vector perpendicular to u, pointing down the legs (from the hips towards the knees).
        hw: distance between the BlazePose hip joints, pixels (about 0.6 of the hips' visible breadth).
        thigh: mean hip-to-knee length, pixels.
        chains: side ("left" / "right", anatomical) -> (3, 2) float64 hip, knee, ankle joint positions.
        feet: side -> (3, 2) float64 ankle, heel, foot index (toe) positions.
    """

    hip_center: np.ndarray
    u: np.ndarray
    v: np.ndarray
    hw: float
    thigh: float
    chains: dict[str, np.ndarray] = field(default_factory=dict)
    feet: dict[str, np.ndarray] = field(default_factory=dict)

    def to_img(self, a: float, b: float) -> np.ndarray:
        """Hip-frame coordinates (a along u, b along v, pixels, origin the hip centre) -> image pixels."""
        return self.hip_center + a * self.u + b * self.v

    def to_frame(self, p: np.ndarray) -> np.ndarray:
        """Image pixels (..., 2) -> hip-frame coordinates (..., 2) (along u, along v)."""
        d = np.asarray(p, dtype=np.float64) - self.hip_center
        return np.stack([d @ self.u, d @ self.v], axis=-1)


def leg_frame(keypoints: np.ndarray) -> LegFrame:
    """Build the :class:`LegFrame` from (33, 4) BlazePose keypoints (x_px, y_px, z, visibility).

    v is perpendicular to the hip line and points towards the knees' midpoint, so a tilted pelvis tilts the
    frame; a degenerate hip line (hips on top of each other) falls back to the image axes. Sides follow the
    shoulders: when BlazePose's hips run the other way round than its shoulders (it swaps the legs of people
    standing with crossed or touching legs), the legs' sides (hip, knee, ankle, foot) are swapped, so u always
    runs the shoulders' way and a garment is never mirrored.

    Raises:
        ValueError: ``keypoints`` is not (33, >= 4).
    """
    kp = np.asarray(keypoints, np.float64)
    if kp.ndim != 2 or kp.shape[0] != 33 or kp.shape[1] < 4:
        raise ValueError(f"keypoints must be (33, 4), not {kp.shape}")
    if (kp[L_HIP, :2] - kp[R_HIP, :2]) @ (kp[L_SHOULDER, :2] - kp[R_SHOULDER, :2]) < 0:
        kp = kp.copy()
        for j in ("hip", "knee", "ankle", "heel", "foot_index"):
            a, b = KP[f"left_{j}"], KP[f"right_{j}"]
            kp[[a, b]] = kp[[b, a]]
    lh, rh = kp[L_HIP, :2], kp[R_HIP, :2]
    d = lh - rh
    hw = float(np.hypot(*d))
    u = d / hw if hw > 1e-3 else np.array([1.0, 0.0])
    hw = max(hw, 1.0)
    v = np.array([-u[1], u[0]])
    hc = 0.5 * (lh + rh)
    knees = 0.5 * (kp[L_KNEE, :2] + kp[R_KNEE, :2])
    if (knees - hc) @ v < 0:
        v = -v
    chains = {side: np.stack([kp[KP[f"{side}_{j}"], :2] for j in LEG_JOINTS]) for side in ("left", "right")}
    feet = {side: np.stack([kp[KP[f"{side}_{j}"], :2] for j in ("ankle", "heel", "foot_index")])
            for side in ("left", "right")}
    thigh = float(np.mean([np.hypot(*(c[1] - c[0])) for c in chains.values()]))
    return LegFrame(hip_center=hc, u=u, v=v, hw=hw, thigh=max(thigh, 1.0), chains=chains, feet=feet)


CHEEKS = (0.5, 0.15, 0.1)
"""The cheek zone, as (half-width in outer-eye distances, start below the eyes, end above the mouth, in
eye-to-mouth distances): the face's skin that the eyes, brows, lips, a fringe and sunglasses leave."""


def _face_axes(keypoints: np.ndarray, shape: tuple[int, int]):
    """(across, along, d, eye_w): each pixel's signed distance from the eyes-to-mouth line and its position along it
    from the eyes' midpoint (pixels), the eye-to-mouth distance and the outer eyes' distance."""
    kp = np.asarray(keypoints, np.float32)
    eyes = (kp[L_EYE, :2] + kp[R_EYE, :2]) / 2
    mouth = (kp[MOUTH_L, :2] + kp[MOUTH_R, :2]) / 2
    d = max(float(np.linalg.norm(mouth - eyes)), 2.0)
    down = (mouth - eyes) / d
    eye_w = float(np.linalg.norm(kp[KP["left_eye_outer"], :2] - kp[KP["right_eye_outer"], :2]))
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    across = (xx - eyes[0]) * down[1] - (yy - eyes[1]) * down[0]
    along = (xx - eyes[0]) * down[0] + (yy - eyes[1]) * down[1]
    return across, along, d, eye_w


FACE_SPAN = (1.1, 1.5)
"""The face's height from the landmarks, as (chin below the mouth, hairline above the eyes) in eye-to-mouth
distances: about the proportions of an adult face."""


def face_half_width(keypoints: np.ndarray) -> float:
    """The face's half-width from the landmarks, pixels: half the ears' distance, kept within 0.9-2 outer-eye
    distances (an ear hidden by hair or a turned head moves its landmark).

    Args:
        keypoints: (33, 4) (or (33, 2)) BlazePose keypoints in the photo's pixels.
    """
    kp = np.asarray(keypoints, np.float32)
    ear_w = float(np.linalg.norm(kp[L_EAR, :2] - kp[R_EAR, :2]))
    eye_w = float(np.linalg.norm(kp[KP["left_eye_outer"], :2] - kp[KP["right_eye_outer"], :2]))
    return float(np.clip(0.5 * ear_w, 0.9 * eye_w, 2.0 * eye_w))


def face_ellipse(keypoints: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: the face's ellipse from the landmarks, hairline to chin and ear to ear.

    From the eyes' midpoint, ``FACE_SPAN[1]`` eye-to-mouth distances up to the hairline and ``FACE_SPAN[0]`` down
    from the mouth to the chin; :func:`face_half_width` across. The parser
    takes the face inside it (:func:`tryon.person.parsing.refine_parse`); it also holds hair, a hat's brim and,
    under the jaw's corners, a collar, so callers intersect it with a colour test.

    Args:
        keypoints: (33, 4) BlazePose keypoints in the photo's pixels.
        shape: (H, W) of the photo.

    Returns:
        (H, W) bool.
    """
    across, along, d, _ = _face_axes(keypoints, shape)
    half_w = face_half_width(keypoints)
    chin, top = FACE_SPAN
    centre = 0.5 * ((1.0 + chin) * d - top * d)
    half_h = 0.5 * ((1.0 + chin) * d + top * d)
    return (across / half_w) ** 2 + ((along - centre) / half_h) ** 2 <= 1.0


def cheek_region(keypoints: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: the cheeks and nose, a band across the face between the eyes and the mouth.

    The band is at most ``CHEEKS[0]`` outer-eye distances either side of the eyes-to-mouth line, from ``CHEEKS[1]``
    eye-to-mouth distances below the eyes' midpoint to ``CHEEKS[2]`` above the mouth's. Its pixels are the face's
    own skin in nearly every photo; the face's whole parse also holds a fringe, hair falling across the cheek,
    eyebrows and lenses.

    Args:
        keypoints: (33, 4) BlazePose keypoints in the photo's pixels.
        shape: (H, W) of the photo.

    Returns:
        (H, W) bool; whatever the face landmarks' visibility (the caller decides whether to trust them).
    """
    across, along, d, eye_w = _face_axes(keypoints, shape)
    half, top, bottom = CHEEKS
    return (np.abs(across) < half * eye_w) & (along > top * d) & (along < (1.0 - bottom) * d)


def shoulder_turn_deg(keypoints: np.ndarray) -> float:
    """How far the shoulder line turns out of the photo's plane, degrees (0 facing the camera, 90 a side view):
    the shoulders' BlazePose depth difference against their distance across the photo.

    Args:
        keypoints: (33, 4) BlazePose keypoints (x, y photo pixels, z depth on x's scale, visibility).
    """
    kp = np.asarray(keypoints, np.float64)
    dx = abs(kp[L_SHOULDER, 0] - kp[R_SHOULDER, 0])
    dz = abs(kp[L_SHOULDER, 2] - kp[R_SHOULDER, 2])
    return float(np.degrees(np.arctan2(dz, dx)))


def leg_visibility(keypoints: np.ndarray, image_shape: tuple[int, int] | None = None, *,
                   joints: tuple[str, ...] = LEG_JOINTS) -> float:
    """How well the legs are seen: the lowest of the per-joint visibilities over ``joints``, each joint's
    left / right pair averaged (one knee hidden behind the other leg is tolerated).

    A joint placed outside the photo (BlazePose extrapolates the legs of a waist-up photo below its bottom
    edge, sometimes with a high visibility) counts as 0 when ``image_shape`` is given.

    Args:
        keypoints: (33, 4) float32 BlazePose keypoints.
        image_shape: (H, W) of the photo, or None (no in-frame test).
        joints: which of :data:`LEG_JOINTS` must be seen (shorts and skirts need no ankles).

    Returns:
        visibility in [0, 1].

    Raises:
        ValueError: ``keypoints`` is not (33, >= 4) or a joint name is unknown.
    """
    kp = np.asarray(keypoints, np.float64)
    if kp.ndim != 2 or kp.shape[0] != 33 or kp.shape[1] < 4:
        raise ValueError(f"keypoints must be (33, 4), not {kp.shape}")
    bad = [j for j in joints if j not in LEG_JOINTS]
    if bad:
        raise ValueError(f"unknown leg joints {bad}: use {LEG_JOINTS}")
    worst = 1.0
    for j in joints:
        vs = []
        for side in ("left", "right"):
            i = KP[f"{side}_{j}"]
            v = float(np.clip(kp[i, 3], 0.0, 1.0))
            if image_shape is not None:
                H, W = image_shape
                x, y = kp[i, :2]
                if not (0 <= x < W and 0 <= y < H):
                    v = 0.0
            vs.append(v)
        worst = min(worst, float(np.mean(vs)))
    return worst
