"""The teacher's learned hole filling (tryon.teacher.refine.Refiner)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tryon.errors import DataError, MissingModelError
from tryon.models import create_model
from tryon.teacher.refine import Refiner, default_weights_path, hint_from_parse
from tryon.train.refine import save_inference_weights


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    torch.manual_seed(0)
    model = create_model("teacher_refine_tiny")
    return save_inference_weights(model, tmp_path_factory.mktemp("w") / "tiny.pt", variant="teacher_refine_tiny")


def photo(h=256, w=192, seed=0):
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 235, np.uint8)
    img[h // 4:, w // 4: 3 * w // 4] = (60, 80, 150)
    return np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)


def test_missing_weights_raise(tmp_path):
    with pytest.raises(MissingModelError, match="train-refine"):
        Refiner(tmp_path / "absent.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(MissingModelError):
        Refiner(bad)


def test_default_weights_location():
    assert default_weights_path().name == "teacher_refine.pt"
    assert default_weights_path().parent.name == "weights"


@pytest.mark.parametrize("size", [(256, 192), (1024, 768), (301, 207)])
def test_pixels_outside_the_hole_are_untouched(tiny_weights, size):
    img = photo(*size)
    hole = np.zeros(size, bool)
    h, w = size
    hole[h // 3: h // 2, w // 5: w // 3] = True
    hole[h - 10:, w - 8:] = True                 # touching the image border
    out = Refiner(tiny_weights)(img, hole)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(out[~hole], img[~hole])
    assert not np.array_equal(out[hole], img[hole])


def test_empty_hole_and_float_hole(tiny_weights):
    img = photo()
    ref = Refiner(tiny_weights)
    out = ref(img, np.zeros(img.shape[:2], bool))
    assert np.array_equal(out, img) and out is not img
    hole = np.zeros(img.shape[:2], np.float32)
    hole[100:120, 50:70] = 1.0
    out = ref(img, hole)
    assert np.array_equal(out[hole < 0.5], img[hole < 0.5])


def test_parse_hint_and_bad_inputs(tiny_weights):
    img = photo()
    hole = np.zeros(img.shape[:2], bool)
    hole[100:140, 20:60] = True
    parse = np.zeros(img.shape[:2], np.uint8)
    parse[:, :40] = 5                             # left arm: ask for skin
    hint = hint_from_parse(parse, hole)
    assert hint[110, 30] == 1 and hint[110, 50] == -1 and hint[10, 10] == 0
    ref = Refiner(tiny_weights)
    out = ref(img, hole, parse)
    assert np.array_equal(out[~hole], img[~hole])
    with pytest.raises(DataError):
        ref(img[..., 0], hole)
    with pytest.raises(DataError):
        ref(img, hole[:-1])
    with pytest.raises(DataError):
        ref(img, hole, parse[:, :-1])


def test_shipped_weights_fill_skin_in_the_persons_tone():
    if not default_weights_path().is_file():
        pytest.skip("shipped refiner weights absent")
    ref = Refiner()
    assert ref.model.default_cfg["arch"]["widths"] == (16, 32, 64, 80)
    img = photo(512, 384)
    skin = np.array([200, 140, 110], np.uint8)
    img[40:110, 150:230] = skin                    # a "face"
    img[130:400, 60:95] = skin                     # an "arm"
    hole = np.zeros(img.shape[:2], bool)
    hole[180:360, 55:100] = True
    parse = np.zeros(img.shape[:2], np.uint8)
    parse[40:110, 150:230] = 2
    parse[130:400, 60:95] = 5
    out = ref(img, hole, parse)
    assert np.array_equal(out[~hole], img[~hole])
    arm = out[200:340, 65:90].reshape(-1, 3).astype(float).mean(0)
    assert np.abs(arm - skin).max() < 40, arm


@pytest.mark.realdata
def test_teacher_refine_repaints_the_tops_hole_only_and_leaves_bottoms_alone(teacher, vton_samples, wild_dev):
    """``Teacher(refine=True)`` against the classical fill on the same photos (models/weights/teacher_refine.md,
    "Where it acts"): for a top the learned fill changes pixels inside the filled hole and nowhere else; a
    bottoms result is the same with and without it (compose_lower has no learned fill)."""
    from tryon.processing import load_image
    from tryon.teacher.pipeline import Teacher

    refined = Teacher(models_dir=teacher.models_dir, refine=True)
    refined._person = teacher._person_analyzer()  # same analysis, same photo: only the fill may differ
    assert refined.refiner() is not None

    # A long-sleeved tee replaced by a short-sleeved knit top: bare forearms are synthesised.
    person = load_image(vton_samples / "person" / "idm-vton__00035_00.jpg")
    top = load_image(vton_samples / "garment" / "catvton__23962182_54027982_1000.jpg")
    a, b = teacher.run(person, top, category="tops"), refined.run(person, top, category="tops")
    changed = np.abs(a.tryon.astype(int) - b.tryon.astype(int)).max(axis=2) > 0
    assert changed.sum() > 500, "the learned fill changed nothing"
    assert not (changed & ~a.hole).any(), "the learned fill changed pixels outside the teacher's hole"

    person = load_image(wild_dev / "person" / "ccp__0401.jpg")
    skirt = load_image(wild_dev / "garment" / "dreamo__skirt.jpeg")
    a, b = teacher.run(person, skirt, category="bottoms"), refined.run(person, skirt, category="bottoms")
    assert a.hole.any() and np.array_equal(a.tryon, b.tryon)
