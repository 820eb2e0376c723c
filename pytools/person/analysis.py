"""Everything the teacher needs to know about the person photo: mask, keypoints and part-level parse.

``PersonAnalyzer`` runs MediaPipe Selfie Segmentation (person mask), BlazePose (33 keypoints), BodyPix 2.0
(24 body parts) and ``tryon.person.parsing.refine_parse``, and refuses photos it cannot dress: no person, or
more than one.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from tryon.errors import MultiplePeopleError, NoPersonError
from tryon.person.body import L_HIP, L_SHOULDER, R_HIP, R_SHOULDER
from tryon.person.parsing import BodyPixParser, refine_parse

__all__ = ["PersonAnalysis", "PersonAnalyzer", "MIN_PERSON_FRACTION", "count_people"]

log = logging.getLogger(__name__)

MIN_PERSON_FRACTION = 0.02
"""Smallest share of the photo the person mask must cover (below it: ``NoPersonError``)."""
MIN_BODY_VISIBILITY = 0.5
"""Mean BlazePose visibility the two shoulders must reach, and the hips at least ``0.5 x`` this unless the pose puts
them below the photo's bottom edge (a chest-up photo)."""
SECOND_PERSON_RATIO = 0.25
"""A second mask component (or face) at least this fraction of the largest one counts as another person."""



@dataclass
class PersonAnalysis:
    """Result of :class:`PersonAnalyzer`.

    Attributes:
        image: (H, W, 3) uint8 RGB, the photo analysed.
        mask: (H, W) float32 person probability in [0, 1].
        keypoints: (33, 4) float32 BlazePose keypoints: x_px, y_px, z (relative depth, px scale),
            visibility [0, 1]; the person's anatomical sides (``tryon.person.pose.POSE_LANDMARKS``).
        parse: (H, W) uint8 labels in ``tryon.person.labels.PARSE_LABELS``.
        parts: (H, W) int8 BodyPix part ids (-1 = none), the coarse parse before refinement.
        timings: seconds per stage ("segmentation", "pose", "bodypix", "refine").
    """

    image: np.ndarray
    mask: np.ndarray
    keypoints: np.ndarray
    parse: np.ndarray
    parts: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)


def count_people(mask: np.ndarray, parts: np.ndarray | None = None, *,
                 ratio: float = SECOND_PERSON_RATIO, min_fraction: float = MIN_PERSON_FRACTION,
                 threshold: float = 0.5) -> int:
    """Count people from the person mask's large connected components and BodyPix's face blobs.

    Two people standing apart give two large mask components; two people touching give one component but two
    faces. A component (face) counts when it is at least ``ratio`` x the largest one and, for components, at
    least ``min_fraction`` of the image (a stray hand or a bag cut off by the mask is smaller).

    Args:
        mask: (H, W) float32 person probability in [0, 1].
        parts: (H, W) int8 BodyPix part ids (0 and 1 are the face), or None.
        ratio: size relative to the largest component / face to count as a person.
        min_fraction: smallest component, as a fraction of the image.
        threshold: mask probability that counts as person.

    Returns:
        The number of people (0 when the mask is empty).
    """
    h, w = mask.shape
    n, _, stats, _ = cv2.connectedComponentsWithStats((mask > threshold).astype(np.uint8), connectivity=8)
    areas = np.sort(stats[1:, cv2.CC_STAT_AREA])[::-1]
    if len(areas) == 0:
        return 0
    bodies = int(((areas >= ratio * areas[0]) & (areas >= min_fraction * h * w)).sum())
    faces = 0
    if parts is not None:
        face = ((parts == 0) | (parts == 1)) & (mask > threshold)
        # A face split by an earring or strand of hair is still one face: close small gaps first.
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        face8 = cv2.morphologyEx(face.astype(np.uint8), cv2.MORPH_CLOSE, k)
        _, _, fst, _ = cv2.connectedComponentsWithStats(face8, connectivity=8)
        fa = np.sort(fst[1:, cv2.CC_STAT_AREA])[::-1]
        if len(fa):
            faces = int((fa >= max(ratio * fa[0], 0.001 * h * w)).sum())
    return max(bodies, faces)


class PersonAnalyzer:
    """Person mask, keypoints and parse of a photo of one person.

    Args:
        models_dir: folder with the built models (``tryon setup``); default ``tryon.assets.models_dir()``.
        min_person_fraction: see ``MIN_PERSON_FRACTION``.
        threads: onnxruntime intra-op threads for each model.

    Raises:
        MissingModelError: a model file is absent (the message says how to get it).
    """

    def __init__(self, models_dir: str | os.PathLike | None = None, *,
                 min_person_fraction: float = MIN_PERSON_FRACTION, threads: int = 2):
        from tryon.assets import require
        from tryon.person.pose import PoseEstimator
        from tryon.person.segmentation import SelfieSegmenter

        self.segmenter = SelfieSegmenter(require("selfie_segmentation.onnx", models_dir), threads=threads)
        self.pose = PoseEstimator(require("pose_landmark_full.onnx", models_dir), threads=threads)
        self.parser = BodyPixParser(require("bodypix.onnx", models_dir), threads=threads)
        self.min_person_fraction = min_person_fraction

    def locate(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the person is, without the parse: the person mask and the keypoints (no refusals).

        The teacher's first look at a photo (``tryon.teacher.crop``), to choose the box it then analyses fully.

        Args:
            image: (H, W, 3) uint8 RGB.

        Returns:
            ((H, W) float32 person probability, (33, 4) float32 BlazePose keypoints in photo pixels).
        """
        mask = self.segmenter(image)
        return mask, self.keypoints(image, mask)

    def keypoints(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """BlazePose keypoints, seeded from the person mask's box, and for a person cut by the photo's bottom
        edge also from that box extended downwards, keeping the pose with a person's proportions.

        Seeded with the box of a chest-up photo, BlazePose shrinks the whole body into it (hips at the chest,
        shoulders under the chin) and the parse then labels the chest as legs. The student's framing met the
        same failure and chose the pose by its proportions (``tryon.framing.seed_rois`` and
        ``proportion_error``, with the rules of :class:`tryon.framing.FramingConfig`); the teacher reads the same.

        Args:
            image: (H, W, 3) uint8 RGB.
            mask: (H, W) float32 person probability of ``image``.

        Returns:
            (33, 4) float32 keypoints (``tryon.person.pose.PoseEstimator``).
        """
        from tryon.framing import FramingConfig, proportion_error, seed_rois

        cfg = FramingConfig()
        best = None
        for i, roi in enumerate(seed_rois(mask, 1.0, image.shape[:2], cfg)):
            kp = self.pose(image, None, roi=roi)
            err = proportion_error(kp, cfg)
            if best is None or err < best[0]:
                best = (err, kp)
            if i == 0 and err <= cfg.max_proportion_error:
                break  # the mask's own box gave a believable body: the usual case
        return best[1]

    def __call__(self, image: np.ndarray, *, located: tuple[np.ndarray, np.ndarray] | None = None
                 ) -> PersonAnalysis:
        """Analyse a person photo.

        Args:
            image: (H, W, 3) uint8 RGB.
            located: the (mask, keypoints) :meth:`locate` already found on this very image (not run again).

        Returns:
            A :class:`PersonAnalysis` at the photo's resolution.

        Raises:
            NoPersonError: the person mask covers less than ``min_person_fraction`` of the photo, or the
                shoulders / hips are not visible enough to place a garment.
            MultiplePeopleError: two or more people (large separate mask regions, or several faces).
        """
        t: dict[str, float] = {}
        t0 = time.perf_counter()
        mask = self.segmenter(image) if located is None else located[0]
        t["segmentation"] = time.perf_counter() - t0
        frac = float((mask > 0.5).mean())
        if frac < self.min_person_fraction:
            raise NoPersonError(f"no person found in the photo (the person covers {frac:.1%} of it; at least "
                                f"{self.min_person_fraction:.0%} is needed): use a photo of one person, front "
                                "facing, upper body visible")
        t0 = time.perf_counter()
        parts = self.parser.parts(image)
        t["bodypix"] = time.perf_counter() - t0
        people = count_people(mask, parts)
        if people >= 2:
            raise MultiplePeopleError(f"{people} people found in the photo; use a photo of one person")
        t0 = time.perf_counter()
        kp = self.keypoints(image, mask) if located is None else located[1]
        t["pose"] = time.perf_counter() - t0
        sh = float(kp[[L_SHOULDER, R_SHOULDER], 3].mean())
        hips = float(kp[[L_HIP, R_HIP], 3].mean())
        # Hips below the photo's bottom edge (a chest-up photo) are not seen but are where the pose puts them.
        hips_below = bool(np.all(kp[[L_HIP, R_HIP], 1] >= image.shape[0]))
        if sh < MIN_BODY_VISIBILITY or (hips < 0.5 * MIN_BODY_VISIBILITY and not hips_below):
            raise NoPersonError(f"no person's upper body found in the photo (shoulder visibility {sh:.2f}, hips "
                                f"{hips:.2f}): use a photo of one person, front facing, shoulders to hips visible")
        t0 = time.perf_counter()
        parse = refine_parse(image, mask, kp, parts)
        t["refine"] = time.perf_counter() - t0
        log.debug("person analysis: %s", {k: round(v * 1000) for k, v in t.items()})
        return PersonAnalysis(image=image, mask=mask, keypoints=kp, parse=parse, parts=parts, timings=t)
