"""Golden tests: ``web/src/framing.js`` against ``tryon.framing.PersonFramer`` on the same bytes, models stubbed.

Both sides run their whole detection (selfie-segmentation input and low-resolution mask, person share, people
count, mask ROI, two BlazePose passes with the tracking ROI, keypoint decoding, BlazeFace crops and score) with
stub sessions that answer the same outputs, so only the framing code is compared: every model input each side
built, the keypoints and the decisions. Then the refusals and each category's box (upper body, lower body, full
body) on random keypoint sets.
The real models in a real browser are compared in ``tests/e2e/test_framing.py``. Synthetic photos only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tryon.framing import FramingConfig, PersonFramer
from tryon.garment.category import FASHN_CATEGORIES as CATEGORIES
from tryon.person.face import FaceDetector
from tryon.person.pose import PoseEstimator
from tryon.person.segmentation import SelfieSegmenter

RUNNER = Path(__file__).with_name("framing_runner.mjs")

TOLERANCE = {
    # model inputs: max abs difference, in the model's input units (1 uint8 level = 1/255 in [0, 1], 2/255 in
    # [-1, 1]); OpenCV's fixed-point warp weights (15 bits) against float weights on the same 1/32-px positions
    "seg_input": 1 / 255 + 1e-6,
    "pose_input": 1 / 255 + 1e-6,
    "face_input": 2 / 255 + 1e-6,
    # share of input values differing at all (rounding ties only)
    "input_fraction": 0.01,
    # ... except the segmenter's input of a photo under 256 px, which is enlarged: OpenCV's bilinear resize of
    # uint8 works in 11-bit fixed point, processing.js in float (such photos are refused as too small anyway)
    "input_fraction_enlarged": 0.2,
    "keypoints_px": 1e-3,  # float64 in both, decoded through the same ROIs
    "face": 1e-9,
}

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


class _Stub:
    """An onnxruntime session stand-in: records its inputs, answers given outputs."""

    def __init__(self, output_names: list[str], answer):
        self.output_names, self.answer, self.inputs = output_names, answer, []

    def get_inputs(self):
        return [SimpleNamespace(name="input")]

    def get_outputs(self):
        return [SimpleNamespace(name=n) for n in self.output_names]

    def run(self, _names, feeds):
        self.inputs.append(feeds["input"])
        return self.answer(len(self.inputs) - 1)


def _framer(cfg: FramingConfig, seg_out, pose_outs, face_outs) -> PersonFramer:
    f = PersonFramer.__new__(PersonFramer)
    f.config = cfg
    f.segmenter = SelfieSegmenter.__new__(SelfieSegmenter)
    f.segmenter.session = _Stub(["mask"], lambda i: [seg_out[None, :, :, None]])
    f.segmenter._input, f.segmenter.letterbox = "input", True
    f.pose = PoseEstimator.__new__(PoseEstimator)
    f.pose.session = _Stub(["Identity", "Identity_1", "Identity_2", "Identity_3", "Identity_4"], lambda i: [
        pose_outs[i % len(pose_outs)][0].reshape(1, 195), np.array([[pose_outs[i % len(pose_outs)][1]]], np.float32),
        np.zeros((1, 256, 256, 1), np.float32), np.zeros((1, 64, 64, 39), np.float32), np.zeros((1, 117), np.float32)])
    f.pose._input, f.pose._outputs = "input", f.pose.session.output_names
    f.pose.refine_with_heatmap, f.pose.last_roi, f.pose.last_presence, f.pose.last_segmentation = False, None, 0.0, None
    f.face = FaceDetector.__new__(FaceDetector)
    f.face.session = _Stub(["regressors", "classificators"], lambda i: [np.zeros((1, 896, 16), np.float32),
                                                                        face_outs[i % len(face_outs)].reshape(1, 896, 1)])
    f.face._input = "input"
    return f


def _photo(h: int, w: int, rng) -> np.ndarray:
    import cv2

    coarse = rng.uniform(0, 255, (6, 5, 3)).astype(np.float32)
    img = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC) + rng.normal(0, 12, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def _seg_output(rng) -> np.ndarray:
    """Two person-like blobs and a speck on a 256x256 probability map."""
    yy, xx = np.mgrid[0:256, 0:256]
    p = 0.97 * np.exp(-(((xx - 110) / 40.0) ** 2 + ((yy - 140) / 80.0) ** 2) ** 2)
    p += 0.9 * np.exp(-(((xx - 200) / 15.0) ** 2 + ((yy - 90) / 25.0) ** 2) ** 2)
    p[30:33, 30:33] = 0.8
    return np.clip(p + rng.normal(0, 0.02, p.shape), 0, 1).astype(np.float32)


def _pose_output(rng, tilt: float) -> tuple[np.ndarray, float]:
    raw = np.zeros((39, 5), np.float32)
    raw[:, :2] = rng.uniform(70, 190, (39, 2))
    raw[:, 2] = rng.normal(0, 30, 39)
    raw[:, 3] = rng.normal(2, 2, 39)
    raw[33, :2] = (128 + rng.normal(0, 5), 150 + rng.normal(0, 5))
    raw[34, :2] = (128 + tilt, 60)
    return raw, float(rng.uniform(0.5, 1))


def _keypoint_sets(rng, n: int, image_size) -> list[dict]:
    """Random upper bodies around the photo: front, mirrored (back), hips out of view, small, unseen parts; and
    detections that trip each refusal."""
    h, w = image_size
    sets = []
    for i in range(n):
        kp = np.zeros((33, 4), np.float64)
        kp[:, :2] = rng.uniform(0, 1, (33, 2)) * (w, h)
        kp[:, 3] = rng.uniform(0.3, 1.0, 33)
        cx, sy, sw = rng.uniform(0.2, 0.8) * w, rng.uniform(0.1, 0.5) * h, rng.uniform(0.05, 0.5) * w
        side = -1 if i % 7 == 3 else 1  # some back views
        kp[11, :2], kp[12, :2] = (cx + side * sw / 2, sy + rng.normal(0, 5)), (cx - side * sw / 2, sy + rng.normal(0, 5))
        torso = rng.uniform(0.6, 2.0) * sw
        kp[23, :2], kp[24, :2] = (cx + 0.3 * sw, sy + torso), (cx - 0.3 * sw, sy + torso)
        kp[[11, 12, 23, 24], 3] = rng.choice([0.4, 0.9, 0.99], 4, p=[0.15, 0.35, 0.5])
        thigh = rng.uniform(0.4, 1.6) * torso * (1 if i % 11 != 5 else -1)  # some upside-down legs
        kp[25, :2], kp[26, :2] = (cx + 0.3 * sw, sy + torso + thigh), (cx - 0.3 * sw, sy + torso + thigh)
        shin = rng.uniform(0.8, 1.2) * thigh
        kp[27, :2], kp[28, :2] = (kp[25, 0], kp[25, 1] + shin), (kp[26, 0], kp[26, 1] + shin)
        kp[25:29, 3] = rng.choice([0.4, 0.9, 0.99], 4, p=[0.15, 0.35, 0.5])
        det = {"personFraction": float(rng.choice([0.005, 0.3], p=[0.1, 0.9])),
               "people": int(rng.choice([1, 2], p=[0.9, 0.1])), "face": float(rng.choice([0.2, 0.9], p=[0.2, 0.8])),
               "bottomCut": bool(rng.choice([False, True]))}  # the person mask leaving the photo at its bottom
        sets.append({"keypoints": kp.astype(np.float32).ravel().tolist(), "detection": det,
                     "image_size": list(image_size)})
    return sets


def _decide_py(framer: PersonFramer, s: dict, model_size, category: str) -> dict:
    from tryon.errors import TryonError

    kp = np.array(s["keypoints"], np.float32).reshape(33, 4)
    d = s["detection"]
    framer.detect = lambda image: {"keypoints": kp, "presence": 1.0, "person_fraction": d["personFraction"],
                                   "people": d["people"], "face": d["face"], "person_low": None, "low_scale": 1.0,
                                   "bottom_cut": d["bottomCut"]}
    try:
        fr = framer(np.zeros(tuple(s["image_size"]) + (3,), np.uint8), model_size, category)
        return {"box": list(fr.box), "hips": fr.hips_seen}
    except TryonError as exc:
        return {"error": exc.name}


@pytest.mark.parametrize(("shape", "tilt"), [((701, 523), 0.0), ((480, 852), 35.0), ((200, 180), -20.0)])
def test_js_framing_matches_python(tmp_path: Path, shape, tilt) -> None:
    rng = np.random.default_rng(sum(shape))
    cfg = FramingConfig()
    image = _photo(*shape, rng)
    seg_out = _seg_output(rng)
    pose_outs = [_pose_output(rng, tilt), _pose_output(rng, tilt)]
    face_outs = [rng.normal(-3, 2, 896).astype(np.float32) for _ in cfg.face_crop_scales]
    framer = _framer(cfg, seg_out, pose_outs, face_outs)
    d = framer.detect(image)
    model_size = (256, 192)
    sets = _keypoint_sets(rng, 60, shape)
    py_boxes = {c: [_decide_py(framer, s, model_size, c) for s in sets] for c in CATEGORIES}

    (tmp_path / "image.u8").write_bytes(image.tobytes())
    (tmp_path / "seg_output.f32").write_bytes(seg_out.tobytes())
    for i, (raw, _) in enumerate(pose_outs):
        (tmp_path / f"pose_{i}.f32").write_bytes(raw.tobytes())
    for i, f in enumerate(face_outs):
        (tmp_path / f"face_{i}.f32").write_bytes(f.tobytes())
    (tmp_path / "case.json").write_text(json.dumps({
        "image_shape": list(shape), "config": cfg.to_dict(), "model_size": list(model_size),
        "pose_outputs": [{"presence": p} for _, p in pose_outs], "face_outputs": len(face_outs),
        "keypoint_sets": sets, "categories": list(CATEGORIES)}))
    subprocess.run(["node", str(RUNNER), str(tmp_path)], check=True, timeout=120)
    js = json.loads((tmp_path / "js_result.json").read_text())

    def f32(name: str) -> np.ndarray:
        return np.frombuffer((tmp_path / name).read_bytes(), np.float32)

    measured = {}
    for kind, stub, tol in (("seg", framer.segmenter.session, "seg_input"), ("pose", framer.pose.session, "pose_input"),
                            ("face", framer.face.session, "face_input")):
        for i, x in enumerate(stub.inputs):
            a, b = f32(f"js_{kind}_in_{i}.f32"), x.ravel()
            diff = np.abs(a.astype(np.float64) - b)
            frac = float((diff > 1e-6).mean())
            measured[f"{kind}{i}"] = (float(diff.max()), round(frac, 5))
            enlarged = kind == "seg" and max(shape) < 256
            allowed = TOLERANCE["input_fraction_enlarged" if enlarged else "input_fraction"]
            assert diff.max() <= TOLERANCE[tol] and frac <= allowed, \
                f"{kind} input {i}: max {diff.max():.5f}, {frac:.3%} differ"
    kp_js = f32("js_keypoints.f32").reshape(33, 4)
    kp_err = float(np.abs(kp_js[:, :2] - d["keypoints"][:, :2]).max())
    assert kp_err <= TOLERANCE["keypoints_px"], f"keypoints differ by {kp_err} px"
    assert np.allclose(kp_js[:, 2:], d["keypoints"][:, 2:], atol=1e-3)
    assert js["person_fraction"] == pytest.approx(d["person_fraction"], abs=1e-12)
    assert js["people"] == d["people"]
    assert js["bottom_cut"] == d["bottom_cut"]
    assert abs(js["face"] - d["face"]) <= TOLERANCE["face"]
    assert js["presence"] == pytest.approx(d["presence"], abs=1e-6)
    if len(framer.pose.session.inputs) == 2:  # one seed ROI: its final ROI is the last one run (else: the inputs
        roi = framer.pose.last_roi           # of every candidate's passes were compared above)
        assert [js["roi"][k] for k in ("cx", "cy", "side", "rotation")] == pytest.approx(
            [roi.cx, roi.cy, roi.side, roi.rotation], abs=1e-6)
    for category in CATEGORIES:
        assert js["boxes"][category] == py_boxes[category], category
        outcomes = {b.get("error", "box") for b in py_boxes[category]}
        print(f"{shape} {category}: {len(sets)} keypoint sets, outcomes {sorted(outcomes)}")
        assert {"box", "PoseError", "NoPersonError"} <= outcomes  # the random sets exercise the rules
    assert py_boxes["tops"] != py_boxes["bottoms"] != py_boxes["one-pieces"]  # each category frames its own box
    print(f"{shape}: inputs (max abs, share differing) {measured}; keypoints {kp_err:.2e} px")
