"""Tests of tryon.teacher.crop: the teacher dresses a person small in the photo on a person-centred crop."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tryon.person.body import L_HIP, L_SHOULDER, R_HIP, R_SHOULDER
from tryon.teacher.crop import CropConfig, WorkCrop, paste_result, work_crop


def _standing(h: int, w: int, top: int, shoulder_y: int, hip_y: int, cx: int, half: int):
    """Keypoints and a person mask of an upright person (shoulders ``2 * half`` px apart)."""
    kp = np.zeros((33, 4), np.float32)
    kp[:, 3] = 0.99
    kp[L_SHOULDER, :2], kp[R_SHOULDER, :2] = (cx + half, shoulder_y), (cx - half, shoulder_y)
    kp[L_HIP, :2], kp[R_HIP, :2] = (cx + 0.7 * half, hip_y), (cx - 0.7 * half, hip_y)
    mask = np.zeros((h, w), np.float32)
    mask[top:h, cx - int(1.3 * half):cx + int(1.3 * half)] = 1.0
    return kp, mask


def test_small_person_gets_a_box_and_a_studio_frame_none():
    # A full-body street photo, 550 px wide: the torso about 100 px wide.
    kp, mask = _standing(833, 550, 40, 190, 400, 275, 50)
    c = work_crop(kp, mask)
    assert c is not None
    x0, y0, x1, y1 = c.box
    assert 0 <= x0 < 225 and 325 < x1 <= 550 and y0 <= 40 and 400 < y1 < 833
    assert c.scale > 1.2 and c.size[0] == pytest.approx(CropConfig().work_height, abs=1)
    # A VITON-style frame (the person fills it) is dressed whole, as before.
    kp, mask = _standing(1024, 768, 60, 300, 900, 384, 170)
    assert work_crop(kp, mask) is None
    # No shoulders, no box.
    kp[L_SHOULDER, 3] = 0.1
    assert work_crop(kp, mask) is None


def test_keypoints_and_result_come_back_to_the_photo():
    crop = WorkCrop(box=(100, 50, 300, 350), scale=2.0, size=(600, 400))
    kp = np.zeros((33, 4), np.float32)
    kp[0] = (199.5, 299.5, 10.0, 0.7)      # pixel centres: working (199.5, 299.5) = photo (199.5, 199.5)
    back = crop.to_photo(kp)
    assert back[0, :2] == pytest.approx((199.5, 199.5)) and back[0, 3] == pytest.approx(0.7)

    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (400, 500, 3), dtype=np.uint8)
    work = crop.image(photo)
    tryon = work.copy()
    tryon[200:400, 100:300] = (0, 0, 255)   # the new garment
    cm = np.zeros(crop.size, np.float32)
    cm[200:400, 100:300] = 1.0
    res = SimpleNamespace(tryon=tryon, agnostic=work.copy(), warped_garment=tryon * (cm[..., None] > 0),
                          warped_mask=cm, composition_mask=cm, grid=np.zeros(crop.size + (2,), np.float32),
                          parse=np.ones(crop.size, np.uint8), hole=np.zeros(crop.size, bool),
                          warped_parts=(cm > 0).astype(np.uint8), keypoints=kp)
    out = paste_result(res, photo, crop)
    assert out.tryon.shape == photo.shape and out.grid.shape == (400, 500, 2)
    # Outside the box, and inside it away from the garment, the photo's own pixels, unresampled.
    inside = np.zeros((400, 500), bool)
    inside[50:350, 100:300] = True
    assert np.array_equal(out.tryon[~inside], photo[~inside])
    assert np.array_equal(out.tryon[60:100, 110:140], photo[60:100, 110:140])
    assert np.array_equal(out.agnostic, photo)
    # The garment where the box maps it: working (100..300, 200..400) -> photo (150..250, 150..250).
    assert np.all(out.tryon[160:240, 160:240] == (0, 0, 255))
    assert out.composition_mask[200, 200] == 1.0 and out.composition_mask[100, 200] == 0.0
    assert np.all(out.grid[~inside] == -1.0) and out.parse[0, 0] == 0 and out.parse[200, 200] == 1
    assert out.keypoints[0, :2] == pytest.approx((199.5, 199.5))
