"""Python/JS parity of the per-category framing on real photos: ``tryon.framing.PersonFramer`` (the real
segmentation, pose and face models) detects every person of ``../shared/data/wild-dev``; then Python's refusals
and boxes and ``web/src/framing.js``'s ``decide`` (under Node) on the same detections must agree exactly for every
garment category: the same box, or the same refusal with the same message. The detection itself is compared
model input by model input in ``test_framing_golden.py`` and with the real models in the browser in
``tests/e2e/test_framing.py``. The photos are read, never committed; the test skips without them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tryon.garment.category import FASHN_CATEGORIES

RUNNER = Path(__file__).with_name("decide_runner.mjs")
MODEL = (256, 192)

pytestmark = [pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"), pytest.mark.realdata]


def test_js_frames_every_category_like_python_on_real_photos(framer, wild_dev, tmp_path) -> None:
    from tryon.errors import TryonError
    from tryon.processing import load_image

    photos = sorted((wild_dev / "person").iterdir())
    sets, python = [], {c: [] for c in FASHN_CATEGORIES}
    for path in photos:
        image = load_image(path)
        d = framer.detect(image)
        sets.append({"keypoints": np.asarray(d["keypoints"], np.float32).ravel().tolist(),
                     "image_size": list(image.shape[:2]),
                     "detection": {"personFraction": d["person_fraction"], "people": d["people"], "face": d["face"],
                                   "bottomCut": d["bottom_cut"]}})
        real_detect = framer.detect
        framer.detect = lambda _image, d=d: d  # the same detection for every category
        try:
            for c in FASHN_CATEGORIES:
                try:
                    f = framer(image, MODEL, c)
                    python[c].append({"box": list(f.box), "hips": f.hips_seen})
                except TryonError as exc:
                    python[c].append({"error": exc.name, "message": exc.message})
        finally:
            framer.detect = real_detect
    (tmp_path / "case.json").write_text(json.dumps({
        "config": framer.config.to_dict(), "model_size": list(MODEL), "keypoint_sets": sets,
        "categories": list(FASHN_CATEGORIES)}))
    subprocess.run(["node", str(RUNNER), str(tmp_path)], check=True, timeout=120)
    js = json.loads((tmp_path / "js_result.json").read_text())
    for c in FASHN_CATEGORIES:
        for path, p, j in zip(photos, python[c], js[c], strict=True):
            assert p == j, f"{c} {path.name}: Python {p}, JS {j}"
    framed = {c: sum("box" in r for r in python[c]) for c in FASHN_CATEGORIES}
    legs = sum("legs are not in view" in r.get("message", "") for r in python["bottoms"])
    print(f"{len(photos)} photos, framed per category {framed}, bottoms refused for the legs {legs}")
    # The photos hold full-body and waist-up shoppers: each category frames some and the legs rule refuses some.
    assert all(n >= 10 for n in framed.values()) and legs >= 3
    assert framed["tops"] > framed["bottoms"]
