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
BOX, MODEL_SIZE = (140, 60, 330, 440), (256, 192)  # the framing box on the 900x600 photo, the student's input

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


def _run_js(folder: Path, low, scale, kp, box, model_size, cfg) -> None:
    """Write the case (a 900x600 photo's segmenter mask, keypoints, box, rules) and run guard_runner.mjs on it."""
    (folder / "low.f32").write_bytes(low.tobytes())
    (folder / "case.json").write_text(json.dumps({
        "low_shape": list(low.shape), "low_scale": scale, "image_size": [900, 600], "keypoints": kp.tolist(),
        "box": list(box), "model_size": list(model_size), "framing": cfg.to_dict()}))
    subprocess.run(["node", str(RUNNER), str(folder)], check=True, timeout=120)


@pytest.mark.parametrize("cut", [False, True])
def test_js_guard_matches_python(tmp_path: Path, cut: bool) -> None:
    rng = np.random.default_rng(3 + cut)
    cfg = FramingConfig()
    low, scale, kp = _case(rng, cut)
    box, model_size = BOX, MODEL_SIZE
    _run_js(tmp_path, low, scale, kp, box, model_size, cfg)
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


def _gate_case(rng: np.random.Generator, model_size: tuple[int, int], box, kp, low, scale, cfg, spill: bool):
    """A composition mask over the torso (spilled beside the person when ``spill``) and a person crop whose
    torso is a garment colour, arms and face skin, with noise so that pixels sit on both sides of the skin rule."""
    from tryon.framing import box_transform, person_in_model

    mh, mw = model_size
    person = person_in_model(low, scale, box, model_size, cfg)
    sx, sy, ox, oy = box_transform(box, model_size)
    k = kp[:, :2].astype(np.float64) * (sx, sy) + (ox, oy)
    yy, xx = np.mgrid[:mh, :mw].astype(np.float64)
    torso = (np.abs(xx - k[[11, 12], 0].mean()) < 0.35 * abs(k[11, 0] - k[12, 0])) & (yy > k[11, 1]) & (yy < k[23, 1])
    comp = np.clip(torso * (0.9 + rng.uniform(0, 0.1, (mh, mw))), 0, 1)  # soft inside, 0 off the torso
    if spill:
        comp[(xx > mw * 0.85) & (yy > mh * 0.3) & (yy < mh * 0.7)] = 1.0
    crop = np.full((mh, mw, 3), (60, 70, 160), np.float64)  # a blue garment everywhere on the person
    crop[~person] = (200, 200, 200)
    crop[person & (xx < mw * 0.3)] = (200, 140, 110)  # one arm bare (skin)
    crop = np.clip(crop + rng.normal(0, 12, crop.shape), 0, 255).astype(np.uint8)
    return comp.astype(np.float32), crop


@pytest.mark.parametrize("spill", [False, True])
def test_js_output_gate_matches_python(tmp_path: Path, spill: bool) -> None:
    from tryon.framing import output_gate_raw, output_gate_scores, skin_pixels

    rng = np.random.default_rng(11 + spill)
    cfg = FramingConfig()
    low, scale, kp = _case(rng, False)
    box, model_size = BOX, MODEL_SIZE
    comp, crop = _gate_case(rng, model_size, box, kp, low, scale, cfg, spill)
    (tmp_path / "comp.f32").write_bytes(comp.tobytes())
    (tmp_path / "crop.u8").write_bytes(crop.tobytes())
    _run_js(tmp_path, low, scale, kp, box, model_size, cfg)
    js = json.loads((tmp_path / "js_gate.json").read_text())

    skin = skin_pixels(crop, cfg)
    assert 0.05 < skin.mean() < 0.6  # both sides of the rule are exercised
    assert np.array_equal(np.frombuffer((tmp_path / "js_skin.u8").read_bytes(), np.uint8).reshape(model_size), skin)
    raw = output_gate_raw(comp, crop, kp, box, low, scale, cfg)
    assert js["raw"] == pytest.approx(raw, abs=1e-9)
    quality = output_gate_scores(raw, cfg, "tops")
    assert js["quality"]["weakest"] == quality.weakest
    assert js["quality"]["confidence"] == pytest.approx(quality.confidence, abs=1e-9)
    # The spilled garment is what the gate sees; the uncovered blue garment beside the torso is the old one.
    assert (raw["off_body"] > cfg.output_gate["off_body"]["bad"]) == spill
    assert raw["old_garment"] > 0.1
