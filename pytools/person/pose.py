"""Body keypoints with the BlazePose GHUM landmark model (33 landmarks), run in onnxruntime on a person ROI.

Model: ``pose_landmark_full.onnx`` (default) or ``pose_landmark_heavy.onnx``, built by ``tryon setup`` from
``@mediapipe/pose`` (Apache-2.0). Reference: Bazarevsky et al., "BlazePose: On-device Real-time Body Pose
tracking", CVPR Workshops 2020; MediaPipe's ``pose_landmark_by_roi`` / ``pose_landmarks_to_roi`` graphs for
the ROI and decoding rules reproduced here.

Model input: NHWC float32 (1, 256, 256, 3), RGB scaled to [0, 1] (MediaPipe's ImageToTensorCalculator with
output range [0, 1], zero border; the same constants appear in tfjs-models' BlazePose
``BLAZEPOSE_LANDMARK_IMAGE_TO_TENSOR_CONFIG``). The model is fairly insensitive to the range (feeding [-1, 1]
changes the keypoint error against the OpenPose sample annotations by < 0.5 % of the image height), so the
range was verified from the reference graphs rather than from outputs. Outputs: ``Identity`` (1, 195) = 39 landmarks x (x, y, z, visibility logit, presence
logit) in 256-pixel ROI units (33 body landmarks + 6 auxiliary; 33 = hip centre, 34 = a point whose distance to
it is the body's half-extent); ``Identity_1`` pose presence; ``Identity_2`` (1, 256, 256, 1) body
segmentation logits; ``Identity_3`` (1, 64, 64, 39) heatmaps; ``Identity_4`` world landmarks.

Detection: there is no person detector here (MediaPipe's uses sparse weights). The first ROI comes from the
person mask's bounding box; the second is MediaPipe's tracking ROI computed from the first pass's auxiliary
landmarks (centre = hip centre, side = 2 x 1.25 x |aux1 - aux0|, rotated so the body is upright).
"""

from __future__ import annotations

import math
import os

import numpy as np

from tryon.assets import require
from tryon.person.body import POSE_LANDMARKS
from tryon.person.segmentation import make_session

__all__ = ["POSE_LANDMARKS", "PoseEstimator", "POSE_SIZE", "Roi"]

POSE_SIZE = 256
"""Side of the square model input, pixels."""



_ROI_SCALE = 1.25        # MediaPipe RectTransformationCalculator scale for the pose ROI
MASK_ROI_SCALE = 1.25    # padding of the person mask's bounding box for the first pass (framing reads it too)
_HEATMAP_KERNEL = 7      # MediaPipe RefineLandmarksFromHeatmapCalculator kernel_size
_HEATMAP_MIN_CONF = 0.5  # ... min_confidence_to_refine


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0)))


class Roi:
    """A square, possibly rotated region of the image: centre (cx, cy) px, side px, rotation radians.

    ``matrix`` maps image pixel coordinates to 256x256 model-input coordinates (2x3 affine).
    """

    def __init__(self, cx: float, cy: float, side: float, rotation: float = 0.0):
        self.cx, self.cy, self.side, self.rotation = float(cx), float(cy), float(side), float(rotation)

    @property
    def matrix(self) -> np.ndarray:
        s = POSE_SIZE / self.side
        c, n = math.cos(self.rotation), math.sin(self.rotation)
        # Rotate the image by -rotation about the centre so that the body is upright, then scale and centre.
        a = np.array([[c * s, n * s], [-n * s, c * s]])
        t = np.array([POSE_SIZE / 2, POSE_SIZE / 2]) - a @ np.array([self.cx, self.cy])
        return np.hstack([a, t[:, None]]).astype(np.float64)

    def to_image(self, pts: np.ndarray) -> np.ndarray:
        """(N, 2) model-input coordinates -> (N, 2) image pixels."""
        m = self.matrix
        inv = np.linalg.inv(m[:, :2])
        return (pts - m[:, 2]) @ inv.T

    def __repr__(self) -> str:
        return f"Roi(cx={self.cx:.1f}, cy={self.cy:.1f}, side={self.side:.1f}, rot={math.degrees(self.rotation):.1f}°)"


class PoseEstimator:
    """33 BlazePose keypoints of the single person in a photo, in image pixels.

    Args:
        model_path: ONNX file; default ``require("pose_landmark_full.onnx")`` (or heavy when ``heavy``).
        heavy: use ``pose_landmark_heavy.onnx`` (about 4x slower, slightly more accurate).
        threads: onnxruntime intra-op threads.
        refine_with_heatmap: MediaPipe's heatmap refinement of x, y (7x7 window, confidence >= 0.5).

    Attributes:
        last_roi: the ROI of the final pass.
        last_presence: pose presence probability of the final pass (``Identity_1``, the graph's own sigmoid).
        last_segmentation: (H, W) float32 body probability from the model's own segmentation head, warped back
            to the image of the last call (0 outside the ROI).

    Raises:
        MissingModelError: the model file is absent (run ``tryon setup``).
    """

    def __init__(self, model_path: str | os.PathLike | None = None, *, heavy: bool = False, threads: int = 2,
                 refine_with_heatmap: bool = True):
        if model_path is None:
            model_path = require("pose_landmark_heavy.onnx" if heavy else "pose_landmark_full.onnx")
        self.model_path = model_path
        self.session = make_session(model_path, threads)
        self._input = self.session.get_inputs()[0].name
        self._outputs = [o.name for o in self.session.get_outputs()]
        self.refine_with_heatmap = refine_with_heatmap
        self.last_roi: Roi | None = None
        self.last_presence: float = 0.0
        self.last_segmentation: np.ndarray | None = None

    # -- ROI -------------------------------------------------------------------------------------------
    @staticmethod
    def roi_from_mask(person_mask: np.ndarray, threshold: float = 0.5) -> Roi:
        """Upright square ROI around the mask's bounding box, side = 1.25 x its longer side.

        Falls back to the whole image when the mask is empty.
        """
        h, w = person_mask.shape[:2]
        ys, xs = np.nonzero(person_mask > threshold)
        if len(xs) == 0:
            return Roi(w / 2, h / 2, max(h, w))
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        return Roi((x0 + x1) / 2, (y0 + y1) / 2, MASK_ROI_SCALE * max(x1 - x0, y1 - y0))

    @staticmethod
    def roi_from_landmarks(raw: np.ndarray, roi: Roi) -> Roi:
        """MediaPipe's tracking ROI from a pass's 39 raw landmarks (model-input coordinates) and its ROI."""
        aux = roi.to_image(raw[33:35, :2])
        centre, scale_pt = aux[0], aux[1]
        d = scale_pt - centre
        # Rotation that makes centre->scale point vertical (MediaPipe target angle 90 degrees).
        rotation = math.pi / 2 - math.atan2(-d[1], d[0])
        rotation = (rotation + math.pi) % (2 * math.pi) - math.pi
        side = 2.0 * math.hypot(*d) * _ROI_SCALE
        return Roi(centre[0], centre[1], max(side, 8.0), rotation)

    # -- inference -------------------------------------------------------------------------------------
    def _run(self, image: np.ndarray, roi: Roi) -> dict[str, np.ndarray]:
        import cv2

        crop = cv2.warpAffine(image, roi.matrix, (POSE_SIZE, POSE_SIZE), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        x = crop.astype(np.float32)[None] / np.float32(255)
        return dict(zip(self._outputs, self.session.run(None, {self._input: x}), strict=True))

    def _landmarks(self, out: dict[str, np.ndarray]) -> np.ndarray:
        raw = out["Identity"].reshape(39, 5).astype(np.float64)
        if self.refine_with_heatmap:
            raw[:, :2] = _refine_from_heatmap(raw[:, :2], out["Identity_3"][0])
        return raw

    def __call__(self, image: np.ndarray, person_mask: np.ndarray | None, *, roi: Roi | None = None) -> np.ndarray:
        """Estimate the keypoints of the person covered by ``person_mask``.

        Args:
            image: (H, W, 3) uint8 RGB.
            person_mask: (H, W) float32 in [0, 1] (e.g. ``SelfieSegmenter`` output); its bounding box seeds
                the first ROI. May be None when ``roi`` is given.
            roi: the first pass's ROI, instead of the one from ``person_mask``.

        Returns:
            (33, 4) float32: x_px, y_px in image pixels (may lie outside the image for cut-off limbs), z
            (relative depth, image-pixel scale, smaller = nearer; hips ~0), visibility in [0, 1] (sigmoid of
            the model's visibility logit). Order: ``POSE_LANDMARKS``.
        """
        import cv2

        if roi is None:
            if person_mask is None:
                raise ValueError("give person_mask or roi")
            roi = self.roi_from_mask(person_mask)
        out = self._run(image, roi)
        raw = self._landmarks(out)
        roi = self.roi_from_landmarks(raw, roi)
        out = self._run(image, roi)
        raw = self._landmarks(out)

        kp = np.zeros((33, 4), np.float32)
        kp[:, :2] = roi.to_image(raw[:33, :2])
        kp[:, 2] = raw[:33, 2] * roi.side / POSE_SIZE
        kp[:, 3] = _sigmoid(raw[:33, 3])
        self.last_roi = roi
        self.last_presence = float(np.ravel(out["Identity_1"])[0])
        h, w = image.shape[:2]
        seg = _sigmoid(out["Identity_2"][0, :, :, 0].astype(np.float32))
        self.last_segmentation = cv2.warpAffine(seg, roi.matrix, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return kp


def _refine_from_heatmap(xy: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """MediaPipe RefineLandmarksFromHeatmapCalculator on (39, 2) model-input coordinates.

    ``heatmap``: (64, 64, 39) logits. For each landmark, the confidence-weighted mean position in a 7x7 window
    of the heatmap around it replaces x, y when the window's best confidence is at least 0.5.
    """
    hh, hw, n = heatmap.shape
    out = xy.copy()
    off = (_HEATMAP_KERNEL - 1) // 2
    conf_all = _sigmoid(heatmap.astype(np.float64))
    for i in range(min(n, len(xy))):
        cx, cy = int(xy[i, 0] / POSE_SIZE * hw), int(xy[i, 1] / POSE_SIZE * hh)
        if not (0 <= cx < hw and 0 <= cy < hh):
            continue
        r0, r1, c0, c1 = max(0, cy - off), min(hh, cy + off + 1), max(0, cx - off), min(hw, cx + off + 1)
        conf = conf_all[r0:r1, c0:c1, i]
        total = conf.sum()
        if conf.max() >= _HEATMAP_MIN_CONF and total > 0:
            rows, cols = np.mgrid[r0:r1, c0:c1]
            out[i, 0] = (cols * conf).sum() / total / hw * POSE_SIZE
            out[i, 1] = (rows * conf).sum() / total / hh * POSE_SIZE
    return out
