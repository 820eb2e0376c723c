"""Part-level human parsing: BodyPix 2.0 body parts refined into the teacher's ``PARSE_LABELS``.

BodyPix 2.0 (Google, tensorflow/tfjs-models, Apache-2.0; MobileNetV1 x0.50, output stride 16) predicts 24
body-part logits on a coarse grid. It labels BODY regions, not clothes (a sleeve is arm, a waistband is
torso), which is what layering a new garment needs: an arm lying over the torso stays arm. Its grid is
16 px coarse and it has no hair or neck part, so :func:`refine_parse` combines it with the high-resolution
selfie person mask and the 33 BlazePose keypoints: part edges follow the person mask, the face is bounded by
the face keypoints, and hair and neck are found with per-image colour models (skin from the face, hair from
the top of the head), in the spirit of GrabCut (Rother et al. 2004) but with Gaussian colour models only.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from tryon.person.labels import LABEL, PARSE_LABELS, lip_to_parse

__all__ = [
    "BODYPIX_PARTS", "BODYPIX_TO_PARSE", "BodyPixParser", "refine_parse", "parse_iou", "IOU_CLASSES",
    "colorize_parse",
]

log = logging.getLogger(__name__)

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

# BodyPix parts grouped by parse label, to sum their probabilities (front/back halves of one limb).
_GROUPS: dict[int, tuple[int, ...]] = {
    lab: tuple(int(i) for i in np.flatnonzero(BODYPIX_TO_PARSE == lab)) for lab in np.unique(BODYPIX_TO_PARSE)
}

# BlazePose landmark indices used here (tryon.person.pose.POSE_LANDMARKS order).
_NOSE, _L_EYE_IN, _L_EYE, _L_EYE_OUT, _R_EYE_IN, _R_EYE, _R_EYE_OUT, _L_EAR, _R_EAR, _MOUTH_L, _MOUTH_R = range(11)
_L_SH, _R_SH, _L_EL, _R_EL, _L_WR, _R_WR = 11, 12, 13, 14, 15, 16
_L_PINKY, _R_PINKY, _L_INDEX, _R_INDEX, _L_THUMB, _R_THUMB = 17, 18, 19, 20, 21, 22
_L_HIP, _R_HIP = 23, 24


def _default_model_path() -> Path:
    from tryon.assets import require  # local: tryon.assets is only needed when no path is given

    return require("bodypix.onnx")


class BodyPixParser:
    """BodyPix 2.0 body-part segmentation on onnxruntime (CPU).

    The network runs on the photo resized so that its longer side is ``long_side`` (rounded to 16k+1, where
    the stride-16 grid aligns with the image corners); 769 keeps about 16x12-pixel cells on a 768x1024 photo
    and costs about 60-80 ms on 2 CPU cores. Logits are upsampled bilinearly to the photo's resolution before
    the argmax, so part borders are smooth rather than 16-px blocks.

    Args:
        model_path: the BodyPix ONNX file (MobileNetV1 x0.50 stride 16, input ``input`` [1, H, W, 3] NHWC float
            pixels/127.5-1; outputs ``segments`` [1, h, w, 1] and ``part_heatmaps`` [1, h, w, 24], logits).
            Default: ``tryon.assets.require("bodypix.onnx")``.
        long_side: network input size along the photo's longer side, pixels.
        threads: onnxruntime intra-op threads.

    Raises:
        MissingModelError: no model path given and the BodyPix file is not in the models folder.
    """

    def __init__(self, model_path: str | Path | None = None, *, long_side: int = 769, threads: int = 2):
        import onnxruntime as ort

        path = Path(model_path) if model_path is not None else _default_model_path()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3  # the converted graph lists initializers as inputs: harmless warnings
        self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.long_side = int(long_side)

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

    def probabilities(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Person probability and part posteriors at the photo's resolution.

        Args:
            image: (H, W, 3) uint8 RGB.

        Returns:
            (person (H, W) float32 in [0, 1], parts (H, W, 24) float32 softmax over the 24 parts).
        """
        h, w = image.shape[:2]
        seg, parts = self.logits(image)
        seg = _upsample_grid(seg, h, w)
        parts = _upsample_grid(parts, h, w)
        parts -= parts.max(axis=2, keepdims=True)
        np.exp(parts, out=parts)
        parts /= parts.sum(axis=2, keepdims=True)
        return 1.0 / (1.0 + np.exp(-seg)), parts

    def parts(self, image: np.ndarray) -> np.ndarray:
        """BodyPix part ids at the photo's resolution.

        Args:
            image: (H, W, 3) uint8 RGB.

        Returns:
            (H, W) int8 part ids 0..23 (see ``BODYPIX_PARTS``), -1 where BodyPix sees no person.
        """
        h, w = image.shape[:2]
        seg, parts = self.logits(image)
        seg = _upsample_grid(seg, h, w)
        ids = _upsample_grid(parts, h, w).argmax(axis=2).astype(np.int8)
        ids[seg < 0] = -1
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
