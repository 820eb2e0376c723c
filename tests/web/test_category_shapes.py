"""Golden test without photos: ``web/src/category.js`` against ``tryon.garment.category.classify_garment`` on
drawn garment silhouettes (a tee, a long sleeve, a tank top, trousers, a skirt, shorts, a dress, a rectangle
the rules cannot tell, and a folded shirt), so the port is
checked where ``../shared`` is absent (``tests/e2e/test_category_parity.py`` checks it on real photos). Both must
give the same category, and the widget refuses exactly what the manifest's student does not dress."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from tryon.garment.category import FOLDED_ADVICE, browser_rules, classify_garment

RUNNER = Path(__file__).with_name("shape_runner.mjs")

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

# Polygons on a 400 x 300 canvas, (x, y) pixels.
SHAPES = {
    "tee": [(130, 30), (150, 45), (170, 30), (220, 45), (275, 100), (250, 130), (225, 105), (225, 250), (75, 250),
            (75, 105), (50, 130), (25, 100), (80, 45)],
    "long_sleeve": [(110, 40), (135, 30), (150, 45), (165, 30), (190, 40), (250, 120), (275, 300), (245, 305),
                    (215, 150), (210, 330), (90, 330), (85, 150), (55, 305), (25, 300), (50, 120)],
    "tank": [(100, 30), (115, 30), (150, 80), (185, 30), (200, 30), (205, 100), (220, 230), (80, 230), (95, 100)],
    "trousers": [(90, 30), (210, 30), (225, 370), (165, 370), (152, 140), (148, 140), (135, 370), (75, 370)],
    "skirt": [(105, 40), (195, 40), (250, 300), (50, 300)],
    "shorts": [(80, 60), (220, 60), (235, 200), (160, 200), (150, 140), (140, 200), (65, 200)],
    "dress": [(125, 20), (135, 20), (150, 45), (165, 20), (175, 20), (185, 80), (175, 140), (250, 390), (50, 390),
              (125, 140), (115, 80)],
    "rectangle": [(75, 50), (225, 50), (225, 250), (75, 250)],  # a straight top edge, neither bottom nor top
    "folded": [(60, 60), (130, 60), (150, 46), (170, 60), (240, 60), (245, 260), (55, 260)],  # a folded shirt
}
EXPECTED = {"tee": "top", "long_sleeve": "top", "tank": "top", "trousers": "lower", "skirt": "lower",
            "shorts": "lower", "dress": "dress", "rectangle": "uncertain",
            "folded": "uncertain"}


def _mask(points) -> np.ndarray:
    m = np.zeros((400, 300), np.uint8)
    cv2.fillPoly(m, [np.array(points, np.int32)], 1)
    return m


@pytest.mark.parametrize("dressed", [("tops",), ("tops", "bottoms")])
def test_js_classifier_matches_python_on_drawn_garments(tmp_path: Path, dressed) -> None:
    spec = browser_rules(dressed)
    masks = {name: _mask(points) for name, points in SHAPES.items()}
    for name, m in masks.items():
        (tmp_path / f"{name}.u8").write_bytes(m.tobytes())
    (tmp_path / "case.json").write_text(json.dumps({
        "masks": {name: list(m.shape) for name, m in masks.items()}, "garment_category": spec}))
    subprocess.run(["node", str(RUNNER), str(tmp_path)], check=True, timeout=120)
    js = json.loads((tmp_path / "js.json").read_text())
    fashn = {"top": "tops", "lower": "bottoms", "dress": "one-pieces"}
    for name, m in masks.items():
        py = classify_garment(None, m.astype(np.float32)).category
        assert py == EXPECTED[name], f"{name}: the drawing is not what Python calls a {EXPECTED[name]} ({py})"
        assert js[name]["category"] == py, name
        refused = py == "uncertain" or fashn[py] not in spec["dressed"]
        assert (js[name]["refusal"] is not None) == refused, (name, js[name])
        if name == "folded":
            assert js[name]["refusal"] == FOLDED_ADVICE, js[name]
        elif py == "uncertain":
            assert "name its category" in js[name]["refusal"], js[name]
        elif refused:
            assert f"'{fashn[py]}'" in js[name]["refusal"] and "dresses tops" in js[name]["refusal"], js[name]


def test_a_rounded_folded_shirt_is_refused_from_its_photo_unless_sleeves_seams_show(tmp_path: Path) -> None:
    """A folded shirt whose collar and shoulders are rounded (box fill 0.87) reads as a sleeveless top from its mask
    alone; Python's second folded rule refuses it when the photo shows no sleeves, and the widget's twin does too
    when given the photo. Two sleeves' seams drawn down the block (a top laid out with its sleeves against its sides)
    keep it from being called folded in both."""
    from tryon.garment.category import FOLDED

    block = [(55, 150), (110, 95), (132, 92), (150, 80), (168, 92), (190, 95), (245, 150), (245, 300), (55, 300)]
    m = _mask(block)
    plain = np.full((400, 300, 3), 245, np.uint8)
    plain[m > 0] = (70, 110, 160)
    seams = plain.copy()
    for x in (90, 210):
        cv2.line(seams, (x, 150), (x, 295), (20, 30, 50), 4)
    cases = {"block": (m, None), "block_plain": (m, plain), "block_seams": (m, seams)}
    spec = browser_rules()
    photos = {}
    for name, (mask, img) in cases.items():
        (tmp_path / f"{name}.u8").write_bytes(mask.tobytes())
        if img is not None:
            (tmp_path / f"{name}.rgb").write_bytes(img.tobytes())
            photos[name] = f"{name}.rgb"
    (tmp_path / "case.json").write_text(json.dumps({
        "masks": {name: [400, 300] for name in cases}, "garment_category": spec, "photos": photos}))
    subprocess.run(["node", str(RUNNER), str(tmp_path)], check=True, timeout=120)
    js = json.loads((tmp_path / "js.json").read_text())
    py = {name: classify_garment(img, mask.astype(np.float32)) for name, (mask, img) in cases.items()}
    assert py["block"].category == js["block"]["category"] == "top"  # the mask alone: a sleeveless top
    assert py["block_plain"].reason == js["block_plain"]["reason"] == FOLDED
    assert js["block_plain"]["refusal"] == FOLDED_ADVICE
    assert py["block_seams"].reason != FOLDED and js["block_seams"]["reason"] != FOLDED, (py, js)
