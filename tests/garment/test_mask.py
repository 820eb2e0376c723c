"""Garment mask on plain backgrounds (incl. white on white), busy-background rejection, real-data IoU."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tryon.errors import BusyBackgroundError
from tryon.garment import catalogue
from tryon.garment.mask import garment_mask


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0.5, b > 0.5
    return float((a & b).sum() / max(1, (a | b).sum()))


@pytest.mark.parametrize("name", catalogue.list_garments())
def test_catalogue_masks(name):
    img, truth = catalogue.render_garment(name, size=(512, 384))
    m = garment_mask(img)
    assert m.shape == truth.shape and m.dtype == np.float32
    assert 0.0 <= m.min() and m.max() <= 1.0
    assert _iou(m, truth) > 0.93  # white-crew-tee is white on white


def test_coloured_studio_background():
    img, truth = catalogue.render_garment("white-crew-tee", size=(512, 384))
    bg = np.array([120, 170, 210], np.float32)  # light blue paper
    a = truth[..., None]
    shaded = img.astype(np.float32) * a + bg * (1 - a)
    assert _iou(garment_mask(shaded.astype(np.uint8)), truth) > 0.93


# learned=None: a border that fails the plain test may go to the learned segmenter when smooth; texture may not.
@pytest.mark.parametrize("learned", [False, None])
def test_busy_background_raises(learned):
    rng = np.random.default_rng(0)
    img, _ = catalogue.render_garment("graphic-print-tee", size=(512, 384))
    noise = rng.integers(0, 255, img.shape, dtype=np.uint8)
    busy = np.where(img.mean(axis=2, keepdims=True) > 235, noise, img).astype(np.uint8)
    with pytest.raises(BusyBackgroundError, match="background"):
        garment_mask(busy, learned=learned)


def test_plain_image_without_garment_raises():
    with pytest.raises(BusyBackgroundError, match="no garment"):
        garment_mask(np.full((400, 300, 3), 245, np.uint8))


def test_speed_768x1024():
    img, _ = catalogue.render_garment("navy-striped-longsleeve")
    garment_mask(img)
    t = time.perf_counter()
    garment_mask(img)
    # 200 ms target on one free core; generous here because the test machine is shared.
    assert time.perf_counter() - t < 0.6


# The classical cut-out alone (the combined mask: tests/garment/test_segmenter.py).
# Measured 2026-11 on the 27 masks: mean IoU 0.78, min 0.15 (maple-cpvton 000013: a white tee invisible on white,
# its ground truth holds only the printed text). Floors are the measurement minus a margin.
@pytest.mark.realdata
def test_realdata_iou(vton_samples):
    from tryon.processing import load_image

    gt_dir = vton_samples / "garment_mask"
    ious = []
    for p in sorted(gt_dir.iterdir()):
        gt = load_image(p, min_side=1).mean(axis=2) > 127
        img = load_image(vton_samples / "garment" / p.name, min_side=1)
        ious.append(_iou(garment_mask(img, learned=False), gt.astype(np.float32)))
    assert len(ious) == 27
    assert np.mean(ious) > 0.74
    assert np.min(ious) > 0.10
    assert np.median(ious) > 0.8


@pytest.mark.realdata
def test_realdata_busy_background(vton_samples):
    from tryon.processing import load_image

    # magicclothing t3: a polo on grey concrete; t4: a shirt on a textured backdrop.
    for name in ("magicclothing__t3.jpg", "magicclothing__t4.jpg"):
        with pytest.raises(BusyBackgroundError):
            garment_mask(load_image(vton_samples / "garment" / name))


def _slotted_longsleeve(h: int = 512, w: int = 384) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A dark long-sleeve top on white whose cuffs touch the hem, enclosing a background slot under each
    arm, with a background-coloured print patch on the chest. Returns (image, slots, print) masks as bool."""
    import cv2

    g = np.zeros((h, w), np.uint8)
    cv2.fillPoly(g, [np.array([[150, 60], [234, 60], [300, 90], [350, 420], [300, 440], [84, 440], [34, 420],
                               [84, 90]], np.int32)], 1)
    slots = np.zeros((h, w), np.uint8)
    for pts in ([[100, 170], [114, 170], [116, 400], [86, 400]], [[284, 170], [270, 170], [268, 400],
                                                                     [298, 400]]):
        cv2.fillPoly(slots, [np.array(pts, np.int32)], 1)
    cv2.ellipse(g, (192, 60), (40, 26), 0, 0, 180, 0, -1)
    prt = np.zeros((h, w), np.uint8)
    prt[150:200, 170:215] = 1
    img = np.full((h, w, 3), 245, np.uint8)
    img[g.astype(bool)] = (40, 40, 60)
    img[(g & slots).astype(bool)] = 245
    img[prt.astype(bool)] = 245
    return img, (g & slots).astype(bool), prt.astype(bool)


def test_slots_between_sleeve_and_torso_stay_background():
    img, slots, prt = _slotted_longsleeve()
    m = garment_mask(img) > 0.5
    core = cv2_erode(slots)
    assert m[core].mean() < 0.05          # the enclosed slots under the arms are background seen through
    assert m[prt].mean() > 0.95           # a background-coloured print in the middle is still garment


def cv2_erode(b: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.erode(b.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
