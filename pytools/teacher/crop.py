"""Person-centred working crop for the teacher: dress a person who is small in the photo at a good resolution.

On shoppers' full-body and street photos (``../shared/data/wild-dev``: 550 px wide, the torso about 100 px wide)
the teacher's models see the person at a few dozen pixels: BodyPix's stride-16 grid has a handful of cells
across the torso, the selfie segmenter's 256x256 mask is a few pixels wide at the arms, and the warp, the
skin synthesis and the composition work on a torso smaller than the garment photo's sleeves. As the student's
framing does (``tryon.framing``; the usual fix for parser-based try-on, see ``docs/teacher-prototype.md``),
the teacher then works on a box around the person's upper body, scaled to about the height of the 768x1024
frames it was built on, and pastes its result back into the photo; pixels away from the garment stay the
photo's own.

Every rule is a field of :class:`CropConfig`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from tryon.person.body import L_ELBOW, L_HIP, L_SHOULDER, L_WRIST, R_ELBOW, R_HIP, R_SHOULDER, R_WRIST

__all__ = ["CropConfig", "WorkCrop", "work_crop", "paste_result"]


@dataclass(frozen=True)
class CropConfig:
    """When and how the teacher works on a person-centred crop.

    Lengths in ``*_torso`` are multiples of the torso length (shoulder centre to hip centre, at least
    ``min_torso_per_shoulder`` shoulder widths); ``*_shoulder`` multiples of the shoulder width.

    Attributes:
        max_area_share: crop only when the box covers at most this share of the photo's area (a studio photo
            of the upper body, where the box is nearly the photo, is dressed whole, exactly as before).
        work_height: the crop is scaled to this height, pixels (the 768x1024 frames the teacher was tuned on) ...
        max_scale: ... but enlarged at most this many times (beyond it upsampling only blurs) ...
        min_scale: ... and never shrunk below this (a large photo's crop keeps its detail).
        above_torso: the box starts this far above the person mask's top (hair, a hat).
        below_hips: the box ends this far below the hip centre (long tops, coats and jackets to mid-thigh).
        side_shoulder: margin beside the person mask and the arm keypoints, shoulder widths.
        min_torso_per_shoulder: the torso used is at least this times the shoulder width (a bent-over person).
        min_visibility: a keypoint counts at this BlazePose visibility.
        feather_px: the pasted result fades into the photo over this many photo pixels around what changed.
        change_threshold: a pixel of the crop's result counts as changed when it differs from the crop by more
            than this (0-255, largest channel) or lies under the new garment or the removed old one.
        categories: garment categories (``tryon.garment.category`` internal names) dressed on the crop; a garment
            of another category (bottoms, one-pieces: below the box's mid-thigh end) is dressed on the whole photo.
    """

    max_area_share: float = 0.7
    work_height: int = 1024
    max_scale: float = 3.0
    min_scale: float = 0.75
    above_torso: float = 0.15
    below_hips: float = 1.1
    side_shoulder: float = 0.45
    min_torso_per_shoulder: float = 1.0
    min_visibility: float = 0.5
    feather_px: float = 2.0
    change_threshold: int = 6
    categories: tuple[str, ...] = ("top",)


@dataclass(frozen=True)
class WorkCrop:
    """A box of the photo and the scale the teacher works at.

    Attributes:
        box: (x0, y0, x1, y1) integer photo pixels, inside the photo, end exclusive.
        scale: working pixels per photo pixel.
        size: (height, width) of the working image.
    """

    box: tuple[int, int, int, int]
    scale: float
    size: tuple[int, int]

    def image(self, photo: np.ndarray) -> np.ndarray:
        """The working image: (h, w, C) crop of ``photo`` resized to :attr:`size` (area / bilinear filtering)."""
        from tryon.processing import resize

        x0, y0, x1, y1 = self.box
        return resize(np.ascontiguousarray(photo[y0:y1, x0:x1]), self.size)

    def to_photo(self, keypoints: np.ndarray) -> np.ndarray:
        """(33, 4) keypoints in working pixels -> photo pixels (z scaled alike, visibility kept)."""
        kp = np.array(keypoints, np.float32, copy=True)
        sy = (self.box[3] - self.box[1]) / self.size[0]
        sx = (self.box[2] - self.box[0]) / self.size[1]
        kp[:, 0] = (kp[:, 0] + 0.5) * sx - 0.5 + self.box[0]
        kp[:, 1] = (kp[:, 1] + 0.5) * sy - 0.5 + self.box[1]
        kp[:, 2] *= sx
        return kp


def work_crop(keypoints: np.ndarray, mask: np.ndarray, config: CropConfig | None = None) -> WorkCrop | None:
    """The person-centred box the teacher should work on, or None to dress the whole photo.

    The box spans the person mask's width at the upper body (plus the arm keypoints) with ``side_shoulder``
    margins, from ``above_torso`` above the mask's top to ``below_hips`` below the hip centre, clipped to the photo.

    Args:
        keypoints: (33, 4) BlazePose keypoints in photo pixels (x, y, z, visibility).
        mask: (H, W) float32 person probability of the photo.
        config: the rules; default :class:`CropConfig`.

    Returns:
        A :class:`WorkCrop`, or None when the shoulders are not seen, the person mask is empty, or the box covers
        more than ``max_area_share`` of the photo.
    """
    cfg = config or CropConfig()
    H, W = mask.shape[:2]
    kp = np.asarray(keypoints, np.float64)
    if np.any(kp[[L_SHOULDER, R_SHOULDER], 3] < cfg.min_visibility):
        return None
    sh = kp[[L_SHOULDER, R_SHOULDER], :2]
    shoulder_w = max(float(np.hypot(*(sh[0] - sh[1]))), 1.0)
    centre = sh.mean(axis=0)
    hips_seen = bool(np.all(kp[[L_HIP, R_HIP], 3] >= cfg.min_visibility))
    hip_y = float(kp[[L_HIP, R_HIP], 1].mean()) if hips_seen else centre[1] + 1.36 * shoulder_w
    torso = max(hip_y - centre[1], cfg.min_torso_per_shoulder * shoulder_w)
    person = mask > 0.5
    rows = np.nonzero(person.any(axis=1))[0]
    if len(rows) == 0:
        return None
    y0 = rows[0] - cfg.above_torso * torso
    y1 = hip_y + cfg.below_hips * torso
    iy0, iy1 = max(0, int(math.floor(y0))), min(H, int(math.ceil(y1)))
    cols = np.nonzero(person[iy0:iy1].any(axis=0))[0]
    xs = [float(cols[0]), float(cols[-1])] if len(cols) else [centre[0], centre[0]]
    for i in (L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST, L_HIP, R_HIP):
        if kp[i, 3] >= cfg.min_visibility:
            xs.append(float(kp[i, 0]))
    margin = cfg.side_shoulder * shoulder_w
    ix0 = max(0, int(math.floor(min(xs) - margin)))
    ix1 = min(W, int(math.ceil(max(xs) + margin)))
    if ix1 - ix0 < 16 or iy1 - iy0 < 16:
        return None
    if (ix1 - ix0) * (iy1 - iy0) > cfg.max_area_share * H * W:
        return None
    bh = iy1 - iy0
    scale = float(np.clip(cfg.work_height / bh, cfg.min_scale, cfg.max_scale))
    size = (max(16, round(bh * scale)), max(16, round((ix1 - ix0) * scale)))
    return WorkCrop(box=(ix0, iy0, ix1, iy1), scale=scale, size=size)


def _place(full: np.ndarray, part: np.ndarray, crop: WorkCrop, *, nearest: bool = False) -> np.ndarray:
    x0, y0, x1, y1 = crop.box
    interp = cv2.INTER_NEAREST if nearest else (cv2.INTER_AREA if crop.scale > 1 else cv2.INTER_LINEAR)
    full[y0:y1, x0:x1] = cv2.resize(part, (x1 - x0, y1 - y0), interpolation=interp)
    return full


def paste_result(res, photo: np.ndarray, crop: WorkCrop, config: CropConfig | None = None):
    """Carry a teacher result made on the working crop back to the whole photo.

    Every image of the result is resized into the box; outside it the try-on and the agnostic image are the
    photo, masks and parts are 0 and the grid is -1 (no garment, as ``tryon.data.build`` pads). Inside the box
    the try-on (and the agnostic image) show the crop's result only where it changed something (the new garment,
    the removed old one, pixels that differ), feathered over ``feather_px``, so the rest of the photo keeps its
    own, unresampled pixels. The quality and the info figures are those measured on the crop.

    Args:
        res: :class:`tryon.teacher.pipeline.TeacherResult` at the working crop's size.
        photo: (H, W, 3) uint8 RGB, the whole photo.
        crop: the :class:`WorkCrop` the result was made on.
        config: the rules; default :class:`CropConfig`.

    Returns:
        The same result object, its arrays now at the photo's resolution.
    """
    cfg = config or CropConfig()
    H, W = photo.shape[:2]
    x0, y0, x1, y1 = crop.box
    work = crop.image(photo)
    r = max(1, round(cfg.feather_px * crop.scale))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    hole = np.zeros(crop.size, bool) if res.hole is None else np.asarray(res.hole, bool)

    def blend(work_img: np.ndarray, covered: np.ndarray) -> np.ndarray:
        changed = np.abs(work_img.astype(np.int16) - work.astype(np.int16)).max(axis=2) > cfg.change_threshold
        alpha_w = cv2.GaussianBlur(cv2.dilate((changed | covered | hole).astype(np.float32), disc), (0, 0), r)
        alpha = _place(np.zeros((H, W), np.float32), alpha_w, crop)[..., None]
        up = _place(photo.copy(), work_img, crop).astype(np.float32)
        return np.clip(alpha * up + (1.0 - alpha) * photo + 0.5, 0, 255).astype(np.uint8)

    res.tryon = blend(res.tryon, np.asarray(res.composition_mask) > 0.01)
    res.agnostic = blend(res.agnostic, np.zeros(crop.size, bool))
    res.warped_garment = _place(np.zeros((H, W, 3), np.uint8), res.warped_garment, crop)
    res.warped_mask = _place(np.zeros((H, W), np.float32), res.warped_mask, crop)
    res.composition_mask = _place(np.zeros((H, W), np.float32), res.composition_mask, crop)
    grid = np.full((H, W, 2), -1.0, np.float32)
    x0, y0, x1, y1 = crop.box
    grid[y0:y1, x0:x1] = cv2.resize(res.grid, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    res.grid = grid
    res.parse = _place(np.zeros((H, W), np.uint8), res.parse, crop, nearest=True)
    if res.hole is not None:
        res.hole = _place(np.zeros((H, W), np.uint8), res.hole.astype(np.uint8), crop, nearest=True).astype(bool)
    if getattr(res, "kept", None) is not None:
        res.kept = _place(np.zeros((H, W), np.uint8), res.kept.astype(np.uint8), crop, nearest=True).astype(bool)
    if res.warped_parts is not None:
        res.warped_parts = _place(np.zeros((H, W), np.uint8), res.warped_parts, crop, nearest=True)
    res.keypoints = crop.to_photo(res.keypoints)
    return res
