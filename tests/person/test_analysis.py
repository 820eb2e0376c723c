"""Tests of tryon.person.analysis: the person analyzer and its refusals (no person, several people)."""

from __future__ import annotations

import numpy as np
import pytest

from tryon.errors import MissingModelError, MultiplePeopleError, NoPersonError
from tryon.person.analysis import PersonAnalysis, PersonAnalyzer, count_people
from tryon.person.labels import LABEL


def _blob(mask: np.ndarray, cx: int, cy: int, rx: int, ry: int) -> None:
    yy, xx = np.mgrid[0:mask.shape[0], 0:mask.shape[1]]
    mask[((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1] = 1.0


def test_count_people_from_mask_components():
    m = np.zeros((200, 300), np.float32)
    assert count_people(m) == 0
    _blob(m, 80, 100, 40, 90)
    assert count_people(m) == 1
    _blob(m, 290, 20, 4, 4)  # a stray speck (a hand cut off by the mask, a bag) is not a person
    assert count_people(m) == 1
    _blob(m, 220, 100, 35, 85)
    assert count_people(m) == 2


def test_count_people_from_faces():
    m = np.zeros((200, 300), np.float32)
    m[20:200, 40:260] = 1.0  # two people touching: one mask component
    parts = np.full(m.shape, 12, np.int8)
    parts[30:60, 80:105] = 0
    assert count_people(m, parts) == 1
    parts[30:60, 190:215] = 1
    assert count_people(m, parts) == 2


@pytest.fixture(scope="module")
def analyzer() -> PersonAnalyzer:
    try:
        return PersonAnalyzer()
    except MissingModelError as exc:
        pytest.skip(f"models not built ({exc.message})")


@pytest.mark.realdata
def test_analyzer_real_photo(analyzer, vton_samples):
    from tryon.processing import load_image

    img = load_image(vton_samples / "person" / "maple-cpvton__000001_0.jpg")
    r = analyzer(img)
    assert isinstance(r, PersonAnalysis)
    h, w = img.shape[:2]
    assert r.mask.shape == (h, w) and r.mask.dtype == np.float32
    assert r.keypoints.shape == (33, 4) and r.keypoints.dtype == np.float32
    assert r.parse.shape == (h, w) and r.parse.dtype == np.uint8
    present = set(np.unique(r.parse).tolist())
    for name in ("hair", "face", "torso", "left_arm", "right_arm", "lower_body"):
        assert LABEL[name] in present, name
    # anatomical sides: the person's left arm is on the image's right in a front-facing photo
    lx = np.nonzero(r.parse == LABEL["left_arm"])[1].mean()
    rx = np.nonzero(r.parse == LABEL["right_arm"])[1].mean()
    assert lx > rx


@pytest.mark.realdata
def test_analyzer_refuses_blank(analyzer):
    with pytest.raises(NoPersonError):
        analyzer(np.full((1024, 768, 3), 235, np.uint8))


@pytest.mark.realdata
def test_analyzer_refuses_two_people(analyzer, vton_samples):
    from tryon.processing import load_image

    a = load_image(vton_samples / "person" / "maple-cpvton__000118_0.jpg")
    b = load_image(vton_samples / "person" / "maple-cpvton__000143_0.jpg")
    with pytest.raises(MultiplePeopleError):
        analyzer(np.concatenate([a, b], axis=1))  # touching
    gap = np.full_like(a, 245)
    with pytest.raises(MultiplePeopleError):
        analyzer(np.concatenate([a, gap, b], axis=1))  # apart


@pytest.mark.realdata
def test_analyzer_chest_up_photo_puts_the_hips_below_it(analyzer, wild_dev):
    """A chest-up photo cut by the bottom edge: seeded with the mask's box, BlazePose squeezed the whole body into
    the photo (hips at the chest, which the parse then called legs); the pose kept is the one with a person's
    proportions, hips below the photo, and the photo is not refused for its unseen hips."""
    from tryon.person.body import L_HIP, L_SHOULDER, R_HIP, R_SHOULDER
    from tryon.processing import load_image

    img = load_image(wild_dev / "person" / "any2anytryon__model1.png")
    h = img.shape[0]
    r = analyzer(img)
    assert np.all(r.keypoints[[L_HIP, R_HIP], 1] > h)
    assert np.all(r.keypoints[[L_SHOULDER, R_SHOULDER], 1] < 0.85 * h)
    # The chest below the shoulders is torso, not legs.
    sy = int(r.keypoints[[L_SHOULDER, R_SHOULDER], 1].mean())
    sx = int(r.keypoints[[L_SHOULDER, R_SHOULDER], 0].mean())
    chest = r.parse[sy + (h - sy) // 2, sx - 5:sx + 6]
    assert (chest == LABEL["lower_body"]).mean() == 0.0


@pytest.mark.realdata
def test_skin_tone_from_the_cheeks_when_auburn_hair_falls_across_the_face(analyzer, vton_samples):
    from tryon.processing import load_image
    from tryon.teacher.agnostic import skin_mask, skin_tone

    # Long auburn hair covers half the face, and the parse's face takes some of it in: the face's median was the
    # hair's colour, the bare arms failed the skin test and were repainted as flat slabs.
    photo = vton_samples.parent / "more-photos" / "unianimate" / "person" / \
        "WOMEN-Blouses_Shirts-id_00004955-01_4_full.jpg"
    if not photo.is_file():
        pytest.skip(f"{photo} is absent")
    r = analyzer(load_image(photo))
    arm = r.parse == LABEL["left_arm"]   # a short old sleeve, then the bare arm down to the wrist
    assert arm.sum() > 1000
    skin = skin_mask(r.image, skin_tone(r.image, r.parse, r.keypoints))
    assert (skin & arm).sum() / arm.sum() > 0.5
