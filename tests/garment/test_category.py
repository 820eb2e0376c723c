"""Garment category and sleeve type from the mask shape; the supported-category gate."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tryon.errors import UnsupportedCategoryError
from tryon.garment import catalogue
from tryon.garment.category import GarmentInfo, classify_garment, require_supported


@pytest.mark.parametrize("name", catalogue.list_garments())
def test_catalogue_tops(name):
    img, mask = catalogue.render_garment(name, size=(512, 384))
    info = classify_garment(img, mask)
    assert info == GarmentInfo("top", catalogue.garment_sleeve(name))


def _poly(pts, size=(512, 384)):
    m = np.zeros(size, np.uint8)
    cv2.fillPoly(m, [np.array(pts, np.int32)], 1)
    return m.astype(np.float32)


def test_trousers_are_lower():
    m = _poly([(130, 40), (254, 40), (270, 470), (205, 470), (192, 200), (179, 470), (114, 470)])
    assert classify_garment(None, m).category == "lower"


def test_skirt_is_lower():
    m = _poly([(140, 120), (244, 120), (290, 380), (94, 380)])
    assert classify_garment(None, m).category == "lower"


def test_dress_is_dress():
    # Sleeveless dress: straps, bodice, long flared skirt.
    m = _poly([(150, 30), (165, 30), (172, 60), (212, 60), (219, 30), (234, 30), (240, 130), (232, 200),
               (300, 490), (84, 490), (152, 200), (144, 130)])
    assert classify_garment(None, m).category == "dress"


def test_require_supported():
    require_supported(GarmentInfo("top", "short"))
    require_supported("tops")
    for cat, named in (("dress", "one-pieces"), ("lower", "bottoms"), ("bottoms", "bottoms")):
        with pytest.raises(UnsupportedCategoryError) as ei:
            require_supported(GarmentInfo(cat, "none") if cat in ("dress", "lower") else cat)
        assert repr(named) in str(ei.value) and "only tops" in str(ei.value)


@pytest.mark.parametrize(("given", "fashn", "internal"), [
    ("tops", "tops", "top"), ("top", "tops", "top"), ("Upper_Body", "tops", "top"), ("dress", "one-pieces", "dress"),
    ("one-pieces", "one-pieces", "dress"), ("lower", "bottoms", "lower"), ("bottoms", "bottoms", "lower"),
    ("auto", "auto", None), (None, "auto", None),
])
def test_one_category_vocabulary_with_aliases(given, fashn, internal):
    from tryon.garment.category import internal_category, normalise_category

    assert normalise_category(given) == fashn and internal_category(given) == internal


def test_unknown_category_names_the_accepted_ones():
    from tryon.errors import UsageError
    from tryon.garment.category import normalise_category

    with pytest.raises(UsageError, match="tops, bottoms, one-pieces"):
        normalise_category("hats")
