"""Golden test: ``web/src/guard.js`` against ``tryon.framing`` (seed ROIs of a cut-off body, the proportion
error, the lean, and the student guard) on the same inputs. The guard's arithmetic is plain float64 in both, so
the tolerance is float rounding only."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tryon.framing import FramingConfig, guard_mask, proportion_error, seed_rois

RUNNER = Path(__file__).with_name("guard_runner.mjs")
GUARD_TOL = 1e-6  # float32 output of float64 sums in a different order

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def _case(rng: np.random.Generator, cut: bool):
    """A blob-shaped low-resolution person mask (cut by the bottom edge or not) and keypoints on it."""
    lh, lw = 256, 171
    yy, xx = np.mgrid[:lh, :lw].astype(np.float32)
    body = ((xx - 85) / 40) ** 2 + ((yy - (200 if cut else 140)) / (110 if cut else 100)) ** 2 < 1
    head = ((xx - 85) / 18) ** 2 + ((yy - 50) / 22) ** 2 < 1
    low = np.clip((body | head).astype(np.float32) * 0.9 + rng.uniform(0, 0.1, (lh, lw)), 0, 1).astype(np.float32)
    scale = 256 / 900  # a 900x600 photo
    kp = np.zeros((33, 4), np.float32)
    pts = {0: (300, 170), 7: (335, 160), 8: (265, 160), 11: (380, 290), 12: (220, 290), 23: (350, 560),
           24: (250, 560)}
    for i, (x, y) in pts.items():
        kp[i] = (x + rng.normal(0, 3), y + rng.normal(0, 3), 0, 0.99)
    return low, scale, kp


@pytest.mark.parametrize("cut", [False, True])
def test_js_guard_matches_python(tmp_path: Path, cut: bool) -> None:
    rng = np.random.default_rng(3 + cut)
    cfg = FramingConfig()
    low, scale, kp = _case(rng, cut)
    box = (140, 60, 330, 440)
    model_size = (256, 192)
    (tmp_path / "low.f32").write_bytes(low.tobytes())
    (tmp_path / "case.json").write_text(json.dumps({
        "low_shape": list(low.shape), "low_scale": scale, "image_size": [900, 600], "keypoints": kp.tolist(),
        "box": list(box), "model_size": list(model_size), "framing": cfg.to_dict()}))
    subprocess.run(["node", str(RUNNER), str(tmp_path)], check=True, timeout=120)
    js = json.loads((tmp_path / "js.json").read_text())

    py_rois = seed_rois(low, scale, (900, 600), cfg)
    assert len(js["rois"]) == len(py_rois) == (len(cfg.cut_roi_extensions) if cut else 1)
    for a, b in zip(js["rois"], py_rois, strict=True):
        assert (a["cx"], a["cy"], a["side"]) == pytest.approx((b.cx, b.cy, b.side), abs=1e-9)
    assert js["proportion_error"] == pytest.approx(proportion_error(kp, cfg), abs=1e-9)
    k64 = kp.astype(np.float64)
    sh, hp = k64[[11, 12], :2].mean(0), k64[[23, 24], :2].mean(0)
    assert js["lean"] == pytest.approx(math.degrees(math.atan2(abs(hp[0] - sh[0]), hp[1] - sh[1])), abs=1e-6)

    py = guard_mask(kp, box, low, scale, model_size, cfg)
    got = np.frombuffer((tmp_path / "js_guard.f32").read_bytes(), np.float32).reshape(model_size)
    assert 0.2 < py.mean() < 0.9  # both parts of the guard are there: the head and the background
    assert np.abs(got - py).max() <= GUARD_TOL
