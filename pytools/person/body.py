"""Body geometry, defined once: BlazePose's 33 landmarks (names and indices) and the upper-body frame.

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
           "R_KNEE", "L_ANKLE", "R_ANKLE", "FACE", "BodyFrame", "body_frame"]

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
