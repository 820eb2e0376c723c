"""The evaluation harness end to end, with a trivial stand-in try-on function on generated images."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tryon.errors import DataError, NoPersonError, OutputError
from tryon.data.pairs import Pair
from tryon.eval.harness import SCHEMA, check_out_dir, evaluate_pairs, load_pairs_csv, pairs_from_dirs
from tryon.processing import load_image, resize, save_image

H, W = 128, 96


def _person(seed: int) -> np.ndarray:
    """A smooth background with a darker body-like ellipse, varied by seed."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W]
    img = np.zeros((H, W, 3), np.float32)
    img[...] = rng.uniform(150, 230, 3)
    img += (yy / H * 30)[..., None]
    body = ((yy - H * 0.6) / (H * 0.35)) ** 2 + ((xx - W / 2) / (W * 0.25)) ** 2 < 1
    img[body] = rng.uniform(40, 120, 3)
    return np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)


def _garment(seed: int) -> np.ndarray:
    """A coloured T-shape on white."""
    rng = np.random.default_rng(100 + seed)
    img = np.full((H, W, 3), 255, np.uint8)
    color = rng.integers(0, 200, 3)
    img[30:110, 28:68] = color
    img[30:55, 10:86] = color
    return img


def _paste(person: np.ndarray, garment: np.ndarray):
    """Stand-in try-on: the garment's box pasted on the torso (a test double for the harness, not a method)."""
    if person[0, 0].sum() == 0:
        raise NoPersonError("no person <b>here</b> & there")
    h, w = person.shape[:2]
    box = (slice(h // 3, h // 3 + h // 2), slice(w // 4, w // 4 + w // 2))
    patch = resize(garment[30:110, 10:86], (h // 2, w // 2))
    out = person.copy()
    out[box] = patch
    warped = np.full_like(person, 255)
    warped[box] = patch
    mask = np.zeros((h, w), np.float32)
    mask[box] = 1.0
    return SimpleNamespace(tryon=out, warped_garment=warped, warped_mask=mask, composition_mask=mask)


def _copy(person: np.ndarray, garment: np.ndarray):
    empty = np.zeros(person.shape[:2], np.float32)
    return SimpleNamespace(tryon=person.copy(), warped_garment=np.full_like(person, 255), warped_mask=empty,
                           composition_mask=empty)


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    for i in range(3):
        save_image(root / "person" / f"p{i}.png", _person(i))
        save_image(root / "garment" / f"g{i}.png", _garment(i))
    black = np.zeros((H, W, 3), np.uint8)
    save_image(root / "person" / "p9_black.png", black)
    save_image(root / "garment" / "p0.png", _garment(7))  # same stem as a person: "own garment"
    return root


class _TinyInception:
    """Stand-in for the FID Inception in fast tests: (N, 3, H, W) uint8 -> (N, 48) 4x4 colour thumbnails."""

    def __call__(self, x):
        import torch.nn.functional as F

        return F.adaptive_avg_pool2d(x.float() / 255.0, 4).flatten(1)


@pytest.fixture(scope="module")
def effnet():
    pytest.importorskip("torch")
    from tryon.eval.features import EfficientNetLite0Features

    return EfficientNetLite0Features(layers=("s8", "s16", "head"))


@pytest.fixture(scope="module")
def nets(effnet):
    return {"inception": _TinyInception(), "effnet": effnet}


def test_pairs_from_dirs_deterministic(data: Path):
    pairs = pairs_from_dirs(data / "person", data / "garment")
    assert pairs == pairs_from_dirs(data / "person", data / "garment")
    assert [p.person.name for p in pairs] == ["p0.png", "p1.png", "p2.png", "p9_black.png"]
    assert all(p.person.stem != p.garment.stem for p in pairs)  # never the person's own garment
    assert pairs[0].ground_truth is None and [p.garment.name for p in pairs] == ["g0.png", "g1.png", "g2.png",
                                                                                  "p0.png"]
    assert len(pairs_from_dirs(data / "person", data / "garment", limit=2)) == 2
    paired = pairs_from_dirs(data / "person", data / "garment", paired=True)
    assert [(p.person.name, p.garment.name, p.ground_truth.name) for p in paired] == [("p0.png", "p0.png", "p0.png")]
    with pytest.raises(DataError):
        pairs_from_dirs(data / "nowhere", data / "garment")


def test_load_pairs_csv(data: Path, tmp_path: Path):
    csv_path = data / "pairs.csv"
    csv_path.write_text("person,garment,ground_truth\nperson/p0.png,garment/g1.png,\n"
                        f"person/p1.png,{data / 'garment' / 'g2.png'},person/p1.png\n")
    pairs = load_pairs_csv(csv_path)
    assert pairs[0].person == data / "person" / "p0.png" and pairs[0].ground_truth is None
    assert pairs[1].garment == data / "garment" / "g2.png" and pairs[1].ground_truth.name == "p1.png"
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="lacks the column"):
        load_pairs_csv(bad)
    with pytest.raises(DataError):
        load_pairs_csv(tmp_path / "missing.csv")


def test_category_hint_is_passed_only_when_present(data: Path, tmp_path: Path):
    seen = []

    def fn(person, garment, category=None):
        seen.append(category)
        return _copy(person, garment)

    pairs = [Pair(data / "person" / "p0.png", data / "garment" / "g0.png", category="top"),
             Pair(data / "person" / "p1.png", data / "garment" / "g1.png")]
    res = evaluate_pairs(pairs, fn, tmp_path / "o", size=(128, 96), metrics=("identity",), progress=False)
    assert seen == ["top", None] and res["pairs"][0]["category"] == "top"


def test_shown_garment_cosine_counts_only_what_the_composition_shows(data: Path, tmp_path: Path, nets):
    def half_shown(person, garment):
        res = _paste(person, garment)
        rows = np.nonzero(res.composition_mask.any(axis=1))[0]
        hidden = res.composition_mask.copy()
        hidden[rows[len(rows) // 3]:] = 0.0  # an arm over all but the top third of the warped garment
        return SimpleNamespace(**{**vars(res), "composition_mask": hidden})

    pairs = pairs_from_dirs(data / "person", data / "garment")[:2]
    full = evaluate_pairs(pairs, _paste, tmp_path / "a", size=(128, 96), metrics=("garment",), progress=False,
                          **nets)["pairs"]
    part = evaluate_pairs(pairs, half_shown, tmp_path / "b", size=(128, 96), metrics=("garment",),
                          progress=False, **nets)["pairs"]
    for f, p in zip(full, part, strict=True):
        assert f["garment_cosine_shown"] == pytest.approx(f["garment_cosine"], abs=1e-5)
        assert p["garment_cosine"] == pytest.approx(f["garment_cosine"], abs=1e-5)  # the warp is unchanged
        assert p["garment_cosine_shown"] < f["garment_cosine_shown"] - 0.02


def test_per_category_counts_errors_and_grids(data: Path, tmp_path: Path, nets):
    pairs = pairs_from_dirs(data / "person", data / "garment")
    cats = ("tops", "top", "bottoms", "one-pieces")
    pairs = [Pair(p.person, p.garment, None, cat) for p, cat in zip(pairs[: len(cats)], cats, strict=True)]
    pairs.append(Pair(data / "person" / "nope.png", data / "garment" / "g0.png", None, "bottoms"))
    out = tmp_path / "cats"
    res = evaluate_pairs(pairs, lambda p, g, category=None: _paste(p, g), out, size=(128, 96),
                         metrics=("identity",), progress=False, **nets)
    cats = res["by_category"]
    assert set(cats) == {"tops", "bottoms", "one-pieces"}  # "top" is an alias of "tops"
    assert cats["tops"]["pairs"] == 2 and cats["tops"]["ok"] == 2
    assert cats["bottoms"]["failed"] == 1 and cats["bottoms"]["errors"] == {"ImageLoadError": 1}
    for cat, name in res["outputs"]["grids"].items():
        assert (out / name).is_file(), cat


def test_check_out_dir(data: Path):
    with pytest.raises(OutputError):
        check_out_dir(data / "person", scanned=[data / "person"])
    with pytest.raises(OutputError):
        check_out_dir(data / "person" / "sub", scanned=[data / "person"])
    with pytest.raises(OutputError):
        check_out_dir(data, exact=[data])
    assert check_out_dir(data / "out", scanned=[data / "person"], exact=[data]) == (data / "out").resolve()


def test_evaluate_pairs_end_to_end(data: Path, tmp_path: Path, nets):
    pairs = pairs_from_dirs(data / "person", data / "garment")
    pairs[1] = Pair(pairs[1].person, pairs[1].garment, pairs[1].person)  # one with ground truth
    pairs.append(Pair(data / "person" / "nope.png", data / "garment" / "g0.png"))
    out = tmp_path / "out"
    res = evaluate_pairs(pairs, _paste, out, size=(128, 96), progress=False, kid_subsets=5, method="paste",
                         **nets)
    assert set(res) == {"schema", "created", "method", "settings", "counts", "aggregate", "by_category", "pairs",
                        "outputs"}
    assert res["by_category"]["unlabelled"]["pairs"] == 5  # no category column: one group, no per-category grids
    assert res["outputs"]["grids"] == {"all": "grid.png"}
    assert res["schema"] == SCHEMA
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["counts"] == {"pairs": 5, "ok": 3, "failed": 2, "real": 4, "with_ground_truth": 1}
    assert res["counts"] == on_disk["counts"]
    rows = {r["name"]: r for r in on_disk["pairs"]}
    failed = [r for r in on_disk["pairs"] if r["status"] == "failed"]
    assert {r["error"]["name"] for r in failed} == {"NoPersonError", "ImageLoadError"}
    assert all(r["error"]["message"] and r["error"]["exit_code"] for r in failed)
    ok = [r for r in on_disk["pairs"] if r["status"] == "ok"]
    for r in ok:
        assert r["seconds"] >= 0 and (out / r["result"]).is_file() and (out / r["thumbnail"]).is_file()
        assert r["identity_ssim"] == pytest.approx(1.0, abs=1e-4) and r["identity_l1"] == pytest.approx(0, abs=1e-4)
        assert 0.2 < r["identity_kept_fraction"] < 0.9
        assert 0.5 < r["garment_cosine"] <= 1.0 + 1e-6 and r["garment_cosine_mid"] is not None
    gt_row = on_disk["pairs"][1]
    assert gt_row["name"].startswith("0001_p1__") and gt_row["name"] in rows
    assert gt_row["gt_ssim"] < 0.99 and gt_row["gt_feature_distance"] > 0
    agg = on_disk["aggregate"]
    assert agg["fid"] is not None and agg["fid"] > 0 and agg["kid_x1000"] is not None and agg["reason"] is None
    assert agg["kid_subset_size"] == 3
    assert agg["seconds"]["n"] == 3 and agg["gt_ssim"]["n"] == 1
    assert "biased" in on_disk["settings"]["fid"]["note"]
    grid = load_image(out / "grid.png")
    assert grid.shape[0] > 5 * 256 and grid.shape[1] > 4 * 192  # 5 rows, 5 columns (zoomed result; one has GT)
    html = (out / "index.html").read_text()
    assert "grid.png" in html and "thumbs/" in html
    assert "&lt;b&gt;here&lt;/b&gt; &amp; there" in html and "<b>here" not in html


def test_copy_baseline_and_metric_subset(data: Path, tmp_path: Path):
    pairs = pairs_from_dirs(data / "person", data / "garment", limit=2)
    res = evaluate_pairs(pairs, _copy, tmp_path / "o", size=(128, 96), metrics=("identity",), progress=False)
    for r in res["pairs"]:
        assert r["identity_ssim"] == pytest.approx(1.0) and r["identity_l1"] == 0.0
        assert r["identity_kept_fraction"] == 1.0 and r["garment_cosine"] is None
    assert res["aggregate"]["fid"] is None
    with pytest.raises(DataError):
        evaluate_pairs(pairs, _copy, tmp_path / "o", metrics=("lpips",), progress=False)
    with pytest.raises(DataError):
        evaluate_pairs([], _copy, tmp_path / "o", progress=False)


def test_identity_penalises_changes_outside_the_garment(data: Path, tmp_path: Path):
    def bad(person, garment):
        r = _paste(person, garment)
        r.tryon = r.tryon.copy()
        r.tryon[:20] = 0  # damages the head region, outside the garment
        return r

    pairs = pairs_from_dirs(data / "person", data / "garment", limit=1)
    good = evaluate_pairs(pairs, _paste, tmp_path / "a", size=(128, 96), metrics=("identity",), progress=False)
    worse = evaluate_pairs(pairs, bad, tmp_path / "b", size=(128, 96), metrics=("identity",), progress=False)
    assert worse["pairs"][0]["identity_ssim"] < good["pairs"][0]["identity_ssim"] - 0.05
    assert worse["pairs"][0]["identity_l1"] > good["pairs"][0]["identity_l1"] + 0.05

    def bad_but_declared(person, garment):
        r = bad(person, garment)
        r.hole = np.zeros(person.shape[:2], bool)
        r.hole[:20] = True  # the teacher's "hole": repainted on purpose, so not an identity loss
        return r

    declared = evaluate_pairs(pairs, bad_but_declared, tmp_path / "c", size=(128, 96), metrics=("identity",),
                              progress=False)
    assert declared["pairs"][0]["identity_ssim"] == pytest.approx(good["pairs"][0]["identity_ssim"], abs=1e-3)
    assert declared["pairs"][0]["identity_kept_fraction"] < good["pairs"][0]["identity_kept_fraction"]


def test_evaluate_pairs_with_real_inception(data: Path, tmp_path: Path, effnet):
    pairs = pairs_from_dirs(data / "person", data / "garment", limit=3)
    res = evaluate_pairs(pairs, _paste, tmp_path / "o", size=(128, 96), metrics=("fid",), progress=False,
                         kid_subsets=5, effnet=effnet)
    agg = res["aggregate"]
    assert res["counts"]["real"] == 3 and np.isfinite(agg["fid"]) and agg["fid"] > 0
    assert np.isfinite(agg["kid_x1000"]) and agg["kid_subset_size"] == 3
