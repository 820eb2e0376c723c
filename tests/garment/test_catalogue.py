"""Catalogue of procedurally rendered garments: names, determinism, errors, categories, ground-truth landmarks."""

from __future__ import annotations

import numpy as np
import pytest

from tryon.errors import UsageError
from tryon.garment import catalogue
from tryon.garment.landmarks import LANDMARK_NAMES, SLEEVE_LANDMARKS

SMALL = (256, 192)


def test_list_and_default():
    names = catalogue.list_garments()
    assert len(names) >= 6
    assert catalogue.DEFAULT_GARMENT in names
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("name", catalogue.list_garments())
def test_render_shapes_and_determinism(name):
    img, mask = catalogue.render_garment(name, size=SMALL)
    assert img.shape == (*SMALL, 3) and img.dtype == np.uint8
    assert mask.shape == SMALL and mask.dtype == np.float32
    assert 0.0 <= mask.min() and mask.max() <= 1.0
    assert 0.15 < (mask > 0.5).mean() < 0.7
    img2, mask2 = catalogue.render_garment(name, size=SMALL)
    assert np.array_equal(img, img2) and np.array_equal(mask, mask2)
    # In-shop style: a light background all round the border.
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    assert border.mean() > 225


def test_default_size_is_1024x768():
    img, mask = catalogue.render_garment(catalogue.DEFAULT_GARMENT)
    assert img.shape == (1024, 768, 3) and mask.shape == (1024, 768)


def test_unknown_name_lists_names():
    with pytest.raises(UsageError) as ei:
        catalogue.render_garment("no-such-top")
    assert isinstance(ei.value, KeyError)
    for n in catalogue.list_garments():
        assert n in str(ei.value)
    with pytest.raises(KeyError):
        catalogue.render_garment_landmarks("no-such-top")


@pytest.mark.parametrize("name", catalogue.list_garments("tops") + catalogue.list_garments("one-pieces"))
def test_ground_truth_landmarks(name):
    lm = catalogue.render_garment_landmarks(name, size=SMALL)
    sleeve = catalogue.garment_sleeve(name)
    expected = set(LANDMARK_NAMES) - (set(SLEEVE_LANDMARKS) if sleeve == "none" else set())
    assert set(lm) == expected
    # Wearer's left = image right.
    for part in ("neck", "shoulder", "armpit", "hem"):
        assert lm[f"{part}_left"][0] > lm[f"{part}_right"][0]
    _, mask = catalogue.render_garment(name, size=SMALL)
    for k in ("shoulder_left", "armpit_right", "hem_center"):
        x, y = lm[k]
        win = mask[max(0, int(y) - 3): int(y) + 4, max(0, int(x) - 3): int(x) + 4]
        assert win.max() > 0.5, k  # on (or right at) the garment


def test_every_category_has_garments():
    from tryon.garment.category import FASHN_CATEGORIES

    for cat in FASHN_CATEGORIES:
        names = catalogue.list_garments(cat)
        assert names and all(catalogue.garment_category(n) == cat for n in names)
    assert sum(len(catalogue.list_garments(c)) for c in FASHN_CATEGORIES) == len(catalogue.list_garments())
    assert catalogue.list_garments("auto") == catalogue.list_garments()
    assert catalogue.list_garments("lower") == catalogue.list_garments("bottoms")  # any accepted spelling
    with pytest.raises(UsageError, match="unknown garment category"):
        catalogue.list_garments("hats")


@pytest.mark.parametrize("name", catalogue.list_garments())
def test_classified_as_its_category(name):
    """What ``category=auto`` runs on a photo (the mask cut from the pixels, then the classifier) names each
    catalogue garment's own category: the demo page can offer them without a category attribute."""
    from tryon.garment.category import classify_garment, fashn_category
    from tryon.garment.mask import garment_mask

    img, _ = catalogue.render_garment(name, size=(512, 384))
    assert fashn_category(classify_garment(img, garment_mask(img))) == catalogue.garment_category(name)


@pytest.mark.parametrize("name", catalogue.list_garments("bottoms"))
def test_bottom_landmarks(name):
    """The drawn bottoms' truth has the keys of tryon.garment.landmarks_lower, and lower_landmarks finds them on
    the rendered photo (mask cut from the pixels) within 4 % of the height."""
    from tryon.garment.landmarks_lower import LEG_LANDMARKS, SKIRT_LANDMARKS, lower_landmarks
    from tryon.garment.mask import garment_mask

    size = (512, 384)
    truth = catalogue.render_garment_landmarks(name, size=size)
    assert set(truth) == set(SKIRT_LANDMARKS if "skirt" in name else LEG_LANDMARKS)
    assert truth["waist_left"][0] > truth["waist_right"][0]  # wearer's left = image right
    img, _ = catalogue.render_garment(name, size=size)
    found = lower_landmarks(img, garment_mask(img))
    assert set(found) == set(truth)
    for k, (x, y) in truth.items():
        err = float(np.hypot(found[k][0] - x, found[k][1] - y))
        assert err < 0.04 * size[0], f"{name} {k}: {err:.0f} px"
