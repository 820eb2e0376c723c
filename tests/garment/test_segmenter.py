"""The learned garment segmenter: shipped weights on hard synthetic backgrounds and on the 27 reference masks,
``garment_mask``'s contract with it (classical where sure, learned elsewhere, errors), its deployment with a student
and the widget's twin of the combination (``web/src/garment-mask.js``, run in Node on the exported ONNX file)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from tryon.errors import BusyBackgroundError, MissingModelError, UsageError
from tryon.garment import catalogue
from tryon.garment.mask import CONFIDENCE_SCALES, CONFIDENT, MIN_EXTENT, classical_mask, garment_mask
from tryon.garment.segmenter import (
    MIN_COMPONENT, ONNX_NAME, GarmentSegmenter, attach_segmenter, browser_rules, default_segmenter,
    default_weights_path, export_onnx,
)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0.5, b > 0.5
    return float((a & b).sum() / max(1, (a | b).sum()))


pytestmark = pytest.mark.skipif(not default_weights_path().is_file(), reason="garment_seg.pt not installed")


# Measured 2026-12: learned IoU 0.954 / 0.878 / 0.890 on these three (classical without the border check 0.820 /
# 0.853 / 0.610); the mean over the six catalogue garments is 0.902 learned vs 0.825 classical.
@pytest.mark.parametrize("name", ["white-crew-tee", "navy-striped-longsleeve", "red-vneck-tank"])
def test_learned_on_tinted_gradient(name):
    img, truth = catalogue.render_on_graded_paper(name)
    learned = GarmentSegmenter()(img)
    assert learned.shape == truth.shape and learned.dtype == np.float32
    assert _iou(learned, truth) > 0.86
    # The classical cut-out refuses such a border (the colour plane leaves a large residual); garment_mask
    # hands the smooth border to the learned segmenter instead.
    with pytest.raises(BusyBackgroundError, match="not plain"):
        classical_mask(img)
    assert _iou(garment_mask(img), truth) > 0.86


def test_learned_beats_classical_on_tinted_gradient():
    learned, classical = [], []
    seg = GarmentSegmenter()
    for name in catalogue.list_garments():
        img, truth = catalogue.render_on_graded_paper(name)
        learned.append(_iou(seg(img), truth))
        classical.append(_iou(garment_mask(img, learned=False, check_background=False), truth))
    assert np.mean(learned) > np.mean(classical) + 0.04


def test_contract():
    img, truth = catalogue.render_garment("black-hoodie", size=(512, 384))
    for learned in (None, True, False):
        m = garment_mask(img, learned=learned)
        assert m.shape == truth.shape and m.dtype == np.float32
        assert 0.0 <= m.min() and m.max() <= 1.0
        assert _iou(m, truth) > 0.9
    with pytest.raises(BusyBackgroundError, match="no garment"):
        garment_mask(np.full((400, 300, 3), 245, np.uint8), learned=True)


def test_bad_weights_and_input(tmp_path):
    with pytest.raises(MissingModelError, match="not found"):
        GarmentSegmenter(tmp_path / "none.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(MissingModelError, match="unreadable"):
        GarmentSegmenter(bad)
    with pytest.raises(UsageError, match="uint8"):
        default_segmenter().probability(np.zeros((64, 48), np.float32))


# Measured 2026-12 on the 27 masks (docs/garment-mask.md): classical mean 0.786 / median 0.916; the learned
# segmenter alone mean 0.714; garment_mask (learned where the classical confidence < 0.8, 6 of 27) mean 0.764,
# median 0.916. Thirteen ground truths are a thresholded photo full of holes (a print, not the garment): the 14
# without holes give 0.936 for classical and combined alike. Floors are the measurement minus a margin.
@pytest.mark.realdata
def test_realdata_reference_masks(vton_samples):
    from tryon.processing import load_image

    seg = GarmentSegmenter()
    learned, combined = [], []
    for p in sorted((vton_samples / "garment_mask").iterdir()):
        gt = (load_image(p, min_side=1).mean(axis=2) > 127).astype(np.float32)
        img = load_image(vton_samples / "garment" / p.name, min_side=1)
        learned.append(_iou(seg(img), gt))
        combined.append(_iou(garment_mask(img), gt))
    assert len(learned) == 27
    assert np.mean(learned) > 0.68
    assert np.mean(combined) > 0.73
    assert np.median(combined) > 0.88


# ------------------------------------------------------------------------ the widget's twin: web/src/garment-mask.js

RUNNER = Path(__file__).resolve().parents[1] / "web" / "garment_mask_runner.mjs"
ORT_WEB = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "onnxruntime-web"
needs_node = pytest.mark.skipif(shutil.which("node") is None or not ORT_WEB.is_dir(),
                                reason="node or web/node_modules (npm ci) missing")


def _widget_masks(tmp_path: Path, photos: dict[str, tuple[np.ndarray, bool]]) -> tuple[dict, dict]:
    """The widget's garment masks of ``photos`` (name -> (RGB image, with the segmenter?)), computed by
    ``garment-mask.js`` on the exported ``garment_seg.onnx`` in Node. Returns (per-name result, per-name mask)."""
    model = tmp_path / "garment_seg.onnx"
    export_onnx(None, model)
    from tryon.garment.category import browser_rules as category_rules

    spec = {"model": str(model), "rules": browser_rules(default_segmenter(required=True).size),
            "category_rules": category_rules()["rules"], "photos": {}}
    for name, (img, seg) in photos.items():
        (tmp_path / f"{name}.u8").write_bytes(np.ascontiguousarray(img).tobytes())
        spec["photos"][name] = {"shape": list(img.shape[:2]), "segmenter": seg}
    (tmp_path / "case.json").write_text(json.dumps(spec))
    subprocess.run(["node", str(RUNNER), str(tmp_path)], check=True, timeout=600)
    out = json.loads((tmp_path / "js.json").read_text())
    masks = {name: np.fromfile(tmp_path / f"{name}.mask.f32", np.float32).reshape(img.shape[:2])
             for name, (img, _) in photos.items() if "error" not in out[name]}
    return out, masks


def test_attach_segmenter_deploys_the_file_and_the_rules(tmp_path):
    from tryon.manifest import Manifest, TensorSpec
    from tryon.server.static import _listed_files

    Manifest(name="s", version="1", inputs=(TensorSpec("person", (1, 3, 8, 6)),),
             outputs=(TensorSpec("tryon", (1, 3, 8, 6)),)).save(tmp_path)
    m = attach_segmenter(tmp_path)
    assert Manifest.load(tmp_path) == m
    rules = m.garment_mask
    assert rules["model"] == ONNX_NAME and rules["size"] == [128, 96]
    # One source of truth: the widget's thresholds are the Python module's constants.
    assert (rules["confident"], rules["confidence_scales"], rules["min_component"], rules["min_extent"]) == (
        CONFIDENT, list(CONFIDENCE_SCALES), MIN_COMPONENT, MIN_EXTENT)
    assert rules["parity_max_abs"] < 1e-4
    assert [f.path for f in m.garment_mask_files] == [ONNX_NAME]
    assert m.garment_mask_files[0] in m.all_files
    m.verify_files(tmp_path)  # sha256 and size as written
    assert ONNX_NAME in _listed_files(m.to_dict(), "")  # served by `tryon serve` with the student


@needs_node
def test_widget_mask_uses_the_segmenter_on_tinted_graded_paper(tmp_path):
    names = ["white-crew-tee", "navy-striped-longsleeve", "red-vneck-tank"]
    photos = {f"tinted-{n}": (catalogue.render_on_graded_paper(n)[0], True) for n in names}
    photos |= {f"alone-{n}": (catalogue.render_on_graded_paper(n)[0], False) for n in names}
    photos |= {f"white-{n}": (catalogue.render_garment(n, size=(512, 384))[0], True) for n in names}
    photos |= {f"side-{n}": (catalogue.render_on_graded_paper(n, light="side")[0], True) for n in names}
    photos["side-alone"] = (catalogue.render_on_graded_paper(names[0], light="side")[0], False)
    out, masks = _widget_masks(tmp_path, photos)
    # Paper lit from one side: no colour covers half the border, so the flood fill refuses it as not plain; the
    # border is smooth (no texture), so the segmenter cuts it out.
    assert out["side-alone"]["error"] == "BusyBackgroundError" and "not plain" in out["side-alone"]["message"]
    for n in names:
        assert out[f"side-{n}"]["method"] == "segmenter" and out[f"side-{n}"]["confidence"] == 0, out[f"side-{n}"]
        assert _iou(masks[f"side-{n}"], catalogue.render_on_graded_paper(n, light="side")[1]) > 0.86
    for n in names:
        img, truth = catalogue.render_on_graded_paper(n)
        # The flood fill alone, as the widget cut garments out before the segmenter was deployed: the paper's dark
        # corners become garment (measured IoU 0.36-0.49).
        assert _iou(masks[f"alone-{n}"], truth) < 0.6
        # It is unsure of itself there (confidence 0.58), so the segmenter's mask is used: as right as Python's and
        # the same as Python's (measured 0.88-0.95).
        assert out[f"tinted-{n}"]["method"] == "segmenter" and out[f"tinted-{n}"]["confidence"] < CONFIDENT
        assert _iou(masks[f"tinted-{n}"], truth) > 0.86
        assert _iou(masks[f"tinted-{n}"], garment_mask(img)) > 0.95
        # On white paper the flood fill is kept where it is sure (a coloured garment: its edge is sharper); the
        # white tee on white paper it is not sure of (0.12), and the segmenter cuts it out.
        white, truth = catalogue.render_garment(n, size=(512, 384))
        expected = "segmenter" if n == "white-crew-tee" else "cutout"
        assert out[f"white-{n}"]["method"] == expected, out[f"white-{n}"]
        assert _iou(masks[f"white-{n}"], truth) > 0.93


@needs_node
def test_widget_mask_takes_a_hanger_out(tmp_path):
    """A top on a wooden hanger: the widget's mask loses the bar and hook as Python's does, and the straight top edge
    they leave is read as a hung top's neckline (the hanger above it), not as a waistband."""
    from tryon.garment.category import classify_garment

    names = ["navy-striped-longsleeve", "graphic-print-tee", "white-crew-tee"]
    out, masks = _widget_masks(tmp_path, {n: (catalogue.render_on_hanger(n)[0], True) for n in names})
    for n in names:
        img, truth = catalogue.render_on_hanger(n)
        kept = garment_mask(img, drop_hangers=False)
        m = masks[n]
        above = np.zeros(truth.shape, bool)
        above[: int(catalogue.render_garment_landmarks(n, size=truth.shape)["neck_left"][1]) - 5] = True
        # The hanger is out; on the segmenter's soft mask of the white tee some of its halo stays (measured 13 % of
        # what the cut-out kept above the neckline; Python's under 5 %).
        share = 0.15 if out[n]["method"] == "segmenter" else 0.05
        assert (m[above] > 0.5).sum() < share * (kept[above] > 0.5).sum(), n
        assert _iou(m, truth) > 0.92 and _iou(m, garment_mask(img)) > 0.94, n  # measured 0.927-0.975, 0.946-0.987
        assert out[n]["category"] == classify_garment(img, garment_mask(img)).category == "top", out[n]


@needs_node
def test_widget_mask_gives_a_camisoles_strap_loops_back(tmp_path):
    """The backdrop a camisole's strap walls off beside each cup goes back to the backdrop in the widget's mask too
    (a white triangle on each shoulder otherwise), and a loop of white fabric stays."""
    from .test_mask import _cami

    (img, wedges), (woven, woven_wedges) = _cami(), _cami(weave=3.0)
    out, masks = _widget_masks(tmp_path, {"cami": (img, True), "woven": (woven, True)})
    assert out["cami"]["method"] == "cutout", out["cami"]
    assert (masks["cami"] > 0.5)[wedges].mean() < 0.05  # 1.0 without the rule
    assert (masks["cami"] > 0.5)[img[..., 1] < 100].mean() > 0.95  # the straps and the body stay
    assert (masks["woven"] > 0.5)[woven_wedges].mean() > 0.95


@needs_node
def test_a_print_without_its_garment_is_refused_by_both_runtimes(tmp_path):
    # A white tee lost on white paper leaves only its chest print: no garment to dress.
    img = np.full((400, 300, 3), 250, np.uint8)
    cv2.putText(img, "LOGO", (95, 190), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (20, 20, 20), 3)
    with pytest.raises(BusyBackgroundError, match="spans only"):
        garment_mask(img)
    out, _ = _widget_masks(tmp_path, {"print": (img, True)})
    assert out["print"]["error"] == "BusyBackgroundError" and "spans only" in out["print"]["message"]


# Measured 2026-12-06 (docs/garment-mask.md, "The widget's mask"): on the 70 wild-dev garment photos the widget's
# mask before the segmenter was deployed: mean IoU with Python's 0.956, refusals differing on 1; now 0.972, none,
# 1 photo under 0.8 IoU. On vton-samples' 133: 0.908 and 5 refusals differing before, 0.960 and 1 now (a white tee
# lost on white paper whose print alone the widget finds, and refuses).
@needs_node
@pytest.mark.realdata
def test_realdata_widget_mask_agrees_with_python_on_wild_dev(wild_dev, tmp_path):
    _check_agreement(wild_dev, tmp_path, min_mean=0.95, max_refusals_apart=0, named=HUNG + CAMISOLES)


@needs_node
@pytest.mark.realdata
@pytest.mark.slow
def test_realdata_widget_mask_agrees_with_python_on_vton_samples(vton_samples, tmp_path):
    _check_agreement(vton_samples, tmp_path, min_mean=0.94, max_refusals_apart=2)


HUNG = ("dewbm__women-13.jpeg", "dewbm__women-14.jpeg", "dewbm__women-15.jpeg", "dewbm__women-16.jpeg")
"""wild-dev's blouses on wooden hangers: the widget's mask is measured 0.91-0.98 IoU with Python's."""
CAMISOLES = ("imagdressing__4.jpg",)
"""wild-dev's camisole whose straps wall off the backdrop: 0.988 IoU with Python's mask."""


def _check_agreement(folder: Path, tmp_path: Path, *, min_mean: float, max_refusals_apart: int,
                     named: tuple[str, ...] = ()) -> None:
    from tryon.errors import TryonError
    from tryon.processing import load_image

    with open(folder / "manifest.csv", newline="") as f:
        paths = [folder / r["file"] for r in csv.DictReader(f)
                 if r["role"] in ("garment", "garment_raw", "garment_worn_by_other_person")]
    photos, python = {}, {}
    for i, p in enumerate(paths):
        img = load_image(p)
        name = f"{i:03d}"
        photos[name] = (img, True)
        try:
            python[name] = garment_mask(img)
        except TryonError:
            python[name] = None
    out, masks = _widget_masks(tmp_path, photos)
    apart = [paths[int(n)].name for n in photos if (python[n] is None) != (n not in masks)]
    hung = {n: _iou(masks[n], python[n]) for n in photos if paths[int(n)].name in HUNG and n in masks}
    assert all(v > 0.9 for v in hung.values()), hung  # the hanger out as in Python (0.88-0.94 while kept)
    cami = [_iou(masks[n], python[n]) for n in photos if paths[int(n)].name in CAMISOLES and n in masks]
    assert all(v > 0.98 for v in cami), cami  # the strap loops out as in Python (0.971 while kept)
    ious = [_iou(masks[n], python[n]) for n in photos if python[n] is not None and n in masks]
    print(f"\n{folder.name}: {len(photos)} photos, mean IoU {np.mean(ious):.3f}, under 0.8: "
          f"{sum(v < 0.8 for v in ious)}, refused by one runtime only: {apart}")
    assert len(apart) <= max_refusals_apart, apart
    assert len(hung) + len(cami) == len(named), "a named photo of the set is missing"
    assert np.mean(ious) >= min_mean
