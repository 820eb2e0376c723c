"""tryon.person.segmentation.SelfieSegmenter: shapes, letterboxing, and person IoU on real photos."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def segmenter():
    """Built once into models_dir() ($TRYON_MODELS_DIR in CI; idempotent, npm tarballs cached there)."""
    from tryon.assets import build_models, models_dir
    from tryon.errors import MissingModelError
    from tryon.person.segmentation import SelfieSegmenter

    try:
        build_models(models_dir(), names=["selfie_segmentation.onnx"])
    except MissingModelError as exc:
        pytest.skip(exc.message)
    return SelfieSegmenter(models_dir() / "selfie_segmentation.onnx")


def _figure(h: int, w: int) -> np.ndarray:
    """Plain light background with a dark standing figure (head, torso, legs) in the middle."""
    import cv2

    img = np.full((h, w, 3), 225, np.uint8)
    cx, s = w // 2, h / 256
    cv2.circle(img, (cx, int(40 * s)), int(16 * s), (190, 150, 130), -1)
    cv2.rectangle(img, (cx - int(26 * s), int(58 * s)), (cx + int(26 * s), int(150 * s)), (40, 50, 120), -1)
    cv2.rectangle(img, (cx - int(22 * s), int(150 * s)), (cx + int(22 * s), int(245 * s)), (30, 30, 40), -1)
    return img


@pytest.mark.parametrize("shape", [(256, 256), (1024, 768), (300, 500), (97, 64)])
def test_output_shape_range(segmenter, shape):
    img = _figure(*shape)
    m = segmenter(img)
    assert m.shape == shape and m.dtype == np.float32
    assert 0.0 <= m.min() and m.max() <= 1.0


def test_letterbox_keeps_geometry(segmenter):
    """The mask of a portrait image and of the same image padded to a square agree (letterbox is undone)."""
    img = _figure(512, 256)
    m = segmenter(img)
    sq = np.full((512, 512, 3), 225, np.uint8)
    sq[:, 128:384] = img
    m_sq = segmenter(sq)[:, 128:384]
    assert np.abs(m - m_sq).mean() < 0.02


def test_blank_image_has_no_person(segmenter):
    assert segmenter(np.full((320, 240, 3), 230, np.uint8)).mean() < 0.05


@pytest.mark.realdata
def test_iou_against_lip_parse_maps(segmenter, vton_samples):
    """Person = any non-background LIP label; 192x256 VITON photos. Measured mean IoU 0.857 (one of the 20 is a
    pixel-art game sprite scoring ~0); required >= 0.80 on average and >= 0.85 median."""
    from PIL import Image

    from tryon.processing import load_image

    ious = []
    for parse in sorted((vton_samples / "person_parse").glob("*.png")):
        photo = vton_samples / "person" / f"{parse.stem}.jpg"
        if not photo.exists():
            continue
        gt = np.array(Image.open(parse))
        gt = (gt if gt.ndim == 2 else gt[..., 0]) > 0
        m = segmenter(load_image(photo)) > 0.5
        ious.append((m & gt).sum() / max((m | gt).sum(), 1))
    assert len(ious) >= 10
    assert np.mean(ious) >= 0.80 and np.median(ious) >= 0.85, ious
