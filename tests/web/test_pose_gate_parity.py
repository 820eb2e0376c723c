"""Python/JS parity of the student's pose gate: ``tryon.framing.pose_gate_scores`` / ``refuse_pose_gate`` and
``web/src/guard.js``'s ``poseGateScores`` / ``web/src/framing.js``'s ``refusePoseGate`` (under Node) on the same
keypoints and the same manifest rules: the same scores and the same refusal (name and message), at the refusal's
score and at live mode's resume score. Synthetic keypoints cover each rule's edges; keypoints the real models find
in ``../shared`` photos (read, never committed; skipped when absent) cover real poses. ``decide`` as a whole is
compared on every wild-dev photo in ``test_framing_categories.py``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tryon.errors import PoseError
from tryon.framing import FramingConfig, pose_gate_scores, refuse_pose_gate

RUNNER = Path(__file__).with_name("pose_gate_runner.mjs")
SCORE_TOLERANCE = 1e-5  # Python computes the visibility means in float32, JavaScript in float64

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def _synthetic(rng: np.random.Generator, n: int) -> list[tuple[np.ndarray, tuple[int, int]]]:
    """Standing bodies with random visibilities, ankle lifts, forearms across the torso or raised, and joints
    pushed below the photo."""
    sets = []
    for _ in range(n):
        kp = np.zeros((33, 4), np.float32)
        for (left, right), y, half in (((11, 12), 200, 80), ((13, 14), 350, 95), ((15, 16), 480, 100),
                                       ((23, 24), 500, 55), ((25, 26), 700, 50), ((27, 28), 900, 48)):
            kp[left, :2], kp[right, :2] = (300 + half, y), (300 - half, y)
        kp[:, :2] += rng.normal(0, 8, (33, 2))
        kp[:, 3] = rng.uniform(0.2, 1.0, 33)
        kp[27 + rng.integers(2), 1] -= rng.uniform(0, 350)
        if rng.random() < 0.4:  # a forearm across the torso, wholly or in part (crossed arms, a laptop)
            wrist = 15 + rng.integers(2)
            kp[wrist, :2] = (rng.uniform(150, 450), rng.uniform(280, 560))
        elif rng.random() < 0.4:  # a hand raised towards the head, above or below the ramp
            side = rng.integers(2)
            kp[15 + side, :2] = kp[13 + side, :2] + (rng.uniform(-60, 60), -rng.uniform(0, 160))
        height = int(rng.choice([1000, 800, 600]))  # 800, 600: legs (and hips) below the photo
        sets.append((kp, (height, 600)))
    return sets


def _python(kp, size, cfg):
    def refusal(min_score):
        try:
            refuse_pose_gate(kp, size, cfg, min_score)
            return None
        except PoseError as exc:
            return {"error": exc.name, "message": exc.message}

    return {"scores": pose_gate_scores(kp, size, cfg), "refused": refusal(cfg.pose_gate_min_score),
            "refused_live": refusal(cfg.pose_gate_resume_score)}


def _compare(sets, cfg, tmp_path) -> list[dict]:
    (tmp_path / "case.json").write_text(json.dumps({
        "config": cfg.to_dict(),
        "keypoint_sets": [{"keypoints": np.asarray(kp, np.float32).ravel().tolist(), "image_size": list(size)}
                          for kp, size in sets]}))
    subprocess.run(["node", str(RUNNER), str(tmp_path)], check=True, timeout=120)
    js = json.loads((tmp_path / "js_result.json").read_text())
    py = [_python(np.asarray(kp, np.float32), size, cfg) for kp, size in sets]
    for i, (p, j) in enumerate(zip(py, js, strict=True)):
        assert list(p["scores"]) == list(j["scores"]), f"set {i}: signals {list(p['scores'])} vs {list(j['scores'])}"
        for k in p["scores"]:
            assert abs(p["scores"][k] - j["scores"][k]) <= SCORE_TOLERANCE, f"set {i} {k}: {p['scores']} vs {j['scores']}"
        assert p["refused"] == j["refused"] and p["refused_live"] == j["refused_live"], f"set {i}: Python {p}, JS {j}"
    return py


def test_js_pose_gate_matches_python_on_synthetic_keypoints(tmp_path) -> None:
    py = _compare(_synthetic(np.random.default_rng(0), 300), FramingConfig(), tmp_path)
    kinds = {r["refused"]["message"].split(":")[0] for r in py if r["refused"]}
    # Both refusals and passes occur, for every signal, and the resume score refuses more than the refusal's.
    assert len(kinds) == 4, kinds
    n, live = sum(r["refused"] is not None for r in py), sum(r["refused_live"] is not None for r in py)
    assert 0 < n < live < len(py), (n, live)


def test_manifest_without_pose_gate_is_not_gated_in_js(tmp_path) -> None:
    """A student exported before the pose gate: the browser applies none (re-export to apply it)."""
    cfg = FramingConfig().to_dict()
    del cfg["pose_gate"]
    kp = np.zeros((33, 4), np.float32)
    (tmp_path / "case.json").write_text(json.dumps({
        "config": cfg, "keypoint_sets": [{"keypoints": kp.ravel().tolist(), "image_size": [100, 100]}]}))
    subprocess.run(["node", str(RUNNER), str(tmp_path)], check=True, timeout=120)
    assert json.loads((tmp_path / "js_result.json").read_text()) == [
        {"scores": {}, "refused": None, "refused_live": None}]


@pytest.mark.realdata
def test_js_pose_gate_matches_python_on_real_photos(framer, wild_dev, tmp_path) -> None:
    from tryon.processing import load_image

    paths = sorted((wild_dev / "person").iterdir())
    econ = wild_dev.parent / "more-photos" / "econ-icon" / "person"
    if econ.is_dir():
        paths += sorted(econ.iterdir())
    sets = []
    for path in paths:
        image = load_image(path)
        sets.append((framer.detect(image)["keypoints"], image.shape[:2]))
    py = _compare(sets, framer.config, tmp_path)
    print(f"{len(sets)} photos: pose gate refuses {sum(r['refused'] is not None for r in py)}, "
          f"live mode's resume score {sum(r['refused_live'] is not None for r in py)}")
