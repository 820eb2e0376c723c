"""Is there a face? MediaPipe BlazeFace (short range) on a square crop around where the pose puts the head.

Model: ``face_detection_short_range.onnx``, built by ``tryon setup`` from ``@mediapipe/face_detection``
(Apache-2.0). Reference: Bazarevsky et al., "BlazeFace: Sub-millisecond Neural Face Detection on Mobile GPUs",
CVPR Workshops 2019; MediaPipe's ``face_detection_short_range`` graph for the anchors and score decoding
for the input and score decoding (896 SSD anchors over strides 8, 16, 16, 16; TensorsToDetectionsCalculator:
sigmoid scores clipped at +-100).

Model input: NHWC float32 (1, 128, 128, 3), RGB scaled to [-1, 1], zero border. Outputs: ``regressors``
(1, 896, 16) box and 6 face keypoints per anchor, ``classificators`` (1, 896, 1) score logits.

Why a face detector at all: the selfie segmenter and BlazePose answer "person" on many garment photos (a shirt
on a plain background has a person's outline), and on a back view; a face in the head region is what tells a
shopper's photo from a product photo (measured on 119 person and 178 garment photos of ``../shared``: with a
face score of at least 0.6, 111 persons and 8 garments pass, 2 garments once the person mask is required too).
Only the best score is needed, so boxes are not decoded and there is no non-maximum suppression.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from tryon.person.segmentation import make_session

__all__ = ["FACE_SIZE", "FaceDetector"]

FACE_SIZE = 128
"""Side of the square model input, pixels."""


class FaceDetector:
    """Best face score in square crops of a photo.

    Args:
        model_path: ONNX file; default ``require("face_detection_short_range.onnx")``.
        threads: onnxruntime intra-op threads.

    Raises:
        MissingModelError: the model file is absent (run ``tryon setup``).
    """

    def __init__(self, model_path: str | os.PathLike | None = None, *, threads: int = 2):
        if model_path is None:
            from tryon.assets import require

            model_path = require("face_detection_short_range.onnx")
        self.session = make_session(model_path, threads)
        self._input = self.session.get_inputs()[0].name

    def score(self, image: np.ndarray, centre: tuple[float, float], side: float) -> float:
        """Best face probability in the square of ``side`` px centred on ``centre`` (x, y photo pixels).

        Args:
            image: (H, W, 3) uint8 RGB photo.
            centre: crop centre, photo pixels.
            side: crop side, photo pixels (> 0).

        Returns:
            The highest sigmoid score over the 896 anchors, in [0, 1].
        """
        s = FACE_SIZE / max(float(side), 1.0)
        m = np.array([[s, 0.0, FACE_SIZE / 2 - s * centre[0]], [0.0, s, FACE_SIZE / 2 - s * centre[1]]])
        crop = cv2.warpAffine(image, m, (FACE_SIZE, FACE_SIZE), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        x = crop.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
        out = dict(zip([o.name for o in self.session.get_outputs()], self.session.run(None, {self._input: x[None]}),
                       strict=True))
        logits = np.clip(out["classificators"].reshape(-1).astype(np.float64), -100.0, 100.0)
        return float(1.0 / (1.0 + np.exp(-logits.max())))
