"""Golden tests: ``web/src/processing.js`` (the widget's JS twin) against ``tryon.processing`` and
``tryon.pasteback`` on the same bytes.

Python writes the inputs (a synthetic person photo, a catalogue garment and its mask, fake model outputs),
``tests/web/golden_runner.mjs`` applies the JS functions under Node, and the results are compared here with the
tolerances below, stated as data, one per quantity. The JS twin follows OpenCV 5's arithmetic (INTER_AREA box
weights, float32 remap weights, 1/32-pixel quantised 2-channel remaps, half-to-even rounding), so what is left is
float32 summation order.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tryon.garment.catalogue import render_garment
from tryon.pasteback import paste_back
from tryon.processing import from_nchw, letterbox, to_nchw

RUNNER = Path(__file__).with_name("golden_runner.mjs")

TOLERANCE = {
    # quantity: (max abs difference, largest fraction of values allowed to differ at all)
    "letterbox_u8": (1, 0.001),  # uint8 levels; measured 0 (bit-exact); 1 allowed for float-order ties
    "letterbox_mask": (1e-5, 1.0),  # float32 mask, float accumulation order
    "to_nchw": (1e-6, 1.0),
    "from_nchw_u8": (0, 0.0),  # identical arithmetic
    "paste_back_u8": (1, 0.001),  # uint8 levels; measured max 1 on ~0.003 % of values (float32 summation order)
    "transform": (1e-9, 1.0),
}
MASK_IOU_MIN = 0.97  # JS white-background flood-fill mask vs the catalogue's exact mask

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def _person(h: int, w: int, seed: int) -> np.ndarray:
    """A smooth synthetic 'photo' with edges and fine texture (no real photos in tests)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([120 + 80 * np.sin(xx / 17.0), 90 + 60 * np.cos(yy / 23.0), 140 + 50 * np.sin((xx + yy) / 31.0)],
                   axis=-1)
    img[(xx - w / 2) ** 2 / (w / 4) ** 2 + (yy - h / 2) ** 2 / (h / 3) ** 2 < 1] *= 0.6  # a "body" blob
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _smooth(rng: np.random.Generator, h: int, w: int, c: int, amp: float) -> np.ndarray:
    import cv2

    coarse = rng.uniform(-amp, amp, (4, 3, c)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC).reshape(h, w, c)


def _diff(name: str, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    max_abs, frac = float(d.max()), float((d > 0).mean())
    tol, tol_frac = TOLERANCE[name]
    assert max_abs <= tol and frac <= tol_frac, f"{name}: max abs {max_abs}, {frac:.4%} differ (allowed {tol}, {tol_frac:.2%})"
    return max_abs, frac


@pytest.mark.parametrize(("photo", "model_size", "garment_size"), [
    ((301, 203), (64, 48), (333, 250)),  # small photo: mixed up/down scales
    ((777, 555), (256, 192), (1024, 768)),  # the model's real size: fractional INTER_AREA
])
def test_js_processing_matches_python(tmp_path: Path, photo, model_size, garment_size) -> None:
    rng = np.random.default_rng(0)
    person = _person(*photo, seed=1)
    garment, gmask = render_garment("graphic-print-tee", size=garment_size)
    h, w = model_size
    person_low, pt = letterbox(person, model_size, fill=255)
    garment_low, gt = letterbox(garment, model_size, fill=255)
    mask_low, _ = letterbox(gmask.astype(np.float32), model_size, fill=0)
    ident = np.stack(np.meshgrid((2 * np.arange(w) + 1) / w - 1, (2 * np.arange(h) + 1) / h - 1), -1)
    grid = (ident + _smooth(rng, h, w, 2, 0.08)).astype(np.float32)  # (h, w, 2)
    comp = np.clip(mask_low + _smooth(rng, h, w, 1, 0.2)[..., 0], 0, 1).astype(np.float32)  # (h, w)
    tryon = np.clip(to_nchw(person_low) + _smooth(rng, h, w, 3, 0.15).transpose(2, 0, 1)[None], -1, 1)
    render = from_nchw(tryon)
    pasted = paste_back(person, garment, grid=grid, composition_mask=comp, render=render, person_low=person_low,
                        person_transform=pt, garment_transform=gt, garment_model_size=model_size)

    files = {"person.u8": person, "garment.u8": garment, "garment_mask.f32": gmask.astype(np.float32),
             "tryon.f32": tryon.astype(np.float32), "grid.f32": grid, "composition_mask.f32": comp,
             "py_render.u8": render, "py_person_low.u8": person_low}
    for name, arr in files.items():
        (tmp_path / name).write_bytes(np.ascontiguousarray(arr).tobytes())
    (tmp_path / "case.json").write_text(json.dumps({
        "person_shape": list(person.shape[:2]), "garment_shape": list(garment.shape[:2]), "model_size": [h, w],
        "person_transform": list(pt), "garment_transform": list(gt)}))
    subprocess.run(["node", str(RUNNER), str(tmp_path)], check=True, timeout=120)

    def js(name: str, dtype, shape) -> np.ndarray:
        return np.frombuffer((tmp_path / name).read_bytes(), dtype=dtype).reshape(shape)

    meta = json.loads((tmp_path / "js_meta.json").read_text())
    measured = {}
    measured["transform"] = _diff("transform", np.array(meta["person_transform"]), np.array(pt))
    _diff("transform", np.array(meta["garment_transform"]), np.array(gt))
    measured["letterbox_u8 person"] = _diff("letterbox_u8", js("js_person_low.u8", np.uint8, (h, w, 3)), person_low)
    measured["letterbox_u8 garment"] = _diff("letterbox_u8", js("js_garment_low.u8", np.uint8, (h, w, 3)), garment_low)
    measured["letterbox_mask"] = _diff("letterbox_mask", js("js_mask_low.f32", np.float32, (h, w)), mask_low)
    _diff("to_nchw", js("js_person_nchw.f32", np.float32, (1, 3, h, w)), to_nchw(js("js_person_low.u8", np.uint8, (h, w, 3))))
    _diff("from_nchw_u8", js("js_render.u8", np.uint8, (h, w, 3)), render)
    measured["paste_back_u8"] = _diff("paste_back_u8", js("js_pasted.u8", np.uint8, person.shape), pasted)

    computed = js("js_garment_mask_computed.f32", np.float32, gmask.shape) > 0.5
    truth = gmask > 0.5
    iou = (computed & truth).sum() / (computed | truth).sum()
    print(f"{photo}->{model_size}: (max abs, fraction differing) {measured}; JS garment mask IoU {iou:.4f}")
    assert iou >= MASK_IOU_MIN, f"JS garment mask IoU {iou:.3f} < {MASK_IOU_MIN}"
