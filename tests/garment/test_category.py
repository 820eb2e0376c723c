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
    for cat in ("dress", "lower"):
        with pytest.raises(UnsupportedCategoryError) as ei:
            require_supported(GarmentInfo(cat, "none"))
        assert cat in str(ei.value) and "only tops" in str(ei.value)
