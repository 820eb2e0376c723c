"""Catalogue of procedurally rendered tops: names, determinism, errors, ground-truth landmarks."""

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


@pytest.mark.parametrize("name", catalogue.list_garments())
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
