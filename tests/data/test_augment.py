"""Record augmentation keeps inputs and targets consistent: the warped garment stays grid_sample(garment, grid)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from tryon.data.augment import (
    KEYPOINT_FLIP, AugmentConfig, augment_record, colour_jitter, colour_matrix, garment_warp, hflip, person_affine,
)
from tryon.person.labels import LABEL


def _smooth_image(h, w, seed):
    """A smooth random colour image (bilinear sampling of it is accurate, unlike white noise)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (4, 3, 3), dtype=np.uint8).astype(np.float32)
    import cv2

    return np.clip(cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)


def _sample(garment: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """grid_sample (align_corners=False, border) of an (H, W, C) array at an (H', W', 2) grid."""
    g = torch.from_numpy(garment.astype(np.float32)).permute(2, 0, 1)[None]
    out = F.grid_sample(g, torch.from_numpy(grid)[None], mode="bilinear", padding_mode="border", align_corners=False)
    return out[0].permute(1, 2, 0).numpy()


def _record(h=64, w=48, seed=0):
    rng = np.random.default_rng(seed)
    garment = _smooth_image(h, w, seed)
    # A smooth grid that maps the person frame into the middle of the garment image.
    ys, xs = np.meshgrid((np.arange(h) * 2 + 1) / h - 1, (np.arange(w) * 2 + 1) / w - 1, indexing="ij")
    grid = np.stack([0.6 * xs + 0.1 * np.sin(2 * ys), 0.6 * ys + 0.05 * xs], -1).astype(np.float32)
    warped = np.clip(_sample(garment, grid) + 0.5, 0, 255).astype(np.uint8)
    mask = np.zeros((h, w), np.float32)
    mask[h // 4:3 * h // 4, w // 4:3 * w // 4] = 1
    parse = np.zeros((h, w), np.uint8)
    parse[:, : w // 4] = LABEL["right_arm"]  # the person's right arm is on the image's left
    kp = np.zeros((33, 4), np.float32)
    kp[:, 0] = rng.uniform(0, w - 1, 33)
    kp[:, 1] = rng.uniform(0, h - 1, 33)
    kp[:, 3] = 1
    return {"person": _smooth_image(h, w, seed + 1), "garment": garment, "garment_mask": np.ones((h, w), np.float32),
            "tryon": warped.copy(), "agnostic": _smooth_image(h, w, seed + 2), "warped_garment": warped,
            "warped_mask": mask, "composition_mask": mask.copy(), "parse": parse, "grid": grid, "keypoints": kp}


def _warp_error(rec) -> float:
    """Mean |grid_sample(garment, grid) - warped_garment| inside the warped mask, in grey levels."""
    pred = _sample(rec["garment"], rec["grid"])
    m = rec["warped_mask"] > 0.5
    return float(np.abs(pred - rec["warped_garment"].astype(np.float32))[m].mean())


def test_keypoint_flip_matches_landmark_names():
    from tryon.person.pose import POSE_LANDMARKS

    def mirror(name):
        return name.replace("left", "#").replace("right", "left").replace("#", "right")

    assert [POSE_LANDMARKS[i] for i in KEYPOINT_FLIP] == [mirror(n) for n in POSE_LANDMARKS]


def test_hflip_is_consistent_and_an_involution():
    rec = _record()
    base = _warp_error(rec)
    f = hflip(rec)
    assert _warp_error(f) <= base + 1e-3  # grid x negated + garment flipped: exact
    # The arm on the image's left moves to the image's right, where a front-facing person has the left arm.
    assert (f["parse"][:, -1] == LABEL["left_arm"]).all() and (f["parse"][:, 0] == 0).all()
    # The keypoint now stored as "left_shoulder" is the mirrored old right shoulder.
    w = rec["person"].shape[1]
    assert np.isclose(f["keypoints"][11, 0], w - 1 - rec["keypoints"][12, 0])
    ff = hflip(f)
    for k, v in rec.items():
        np.testing.assert_allclose(ff[k], v, atol=1e-4, err_msg=k)


def test_person_affine_moves_everything_together():
    rec = _record()
    out = person_affine(rec, 1.1, 3.0, -2.0)
    # The warped garment and the grid moved together: still consistent (bilinear resampling error only).
    assert _warp_error(out) < 3.0
    # A keypoint lands where the image content moved: check with a single bright pixel.
    rec2 = dict(rec)
    img = np.zeros_like(rec["person"])
    img[20, 30] = 255
    rec2["person"] = img
    rec2["keypoints"] = rec["keypoints"].copy()
    rec2["keypoints"][0, :2] = (30, 20)
    moved = person_affine(rec2, 1.0, 4.0, 2.0)
    y, x = np.unravel_index(moved["person"][..., 0].argmax(), img.shape[:2])
    assert (x, y) == tuple(np.round(moved["keypoints"][0, :2]).astype(int)) == (34, 22)


def test_garment_warp_keeps_the_warped_garment():
    rec = _record()
    rng = np.random.default_rng(3)
    out = garment_warp(rec, 1.06, (0.03, -0.02), rng.normal(0, 0.02, (4, 4, 2)))
    assert not np.array_equal(out["garment"], rec["garment"])
    assert _warp_error(out) < _warp_error(rec) + 2.0
    np.testing.assert_array_equal(out["warped_garment"], rec["warped_garment"])


def test_colour_jitter_is_consistent_with_the_targets():
    rec = _record()
    gm = colour_matrix(1.1, 0.9, 1.2, 0.02)
    out = colour_jitter(rec, colour_matrix(0.9), gm)
    # The jittered garment warped by the grid equals the jittered warped garment.
    assert _warp_error(out) < _warp_error(rec) + 1.5
    m = rec["composition_mask"] > 0.5
    np.testing.assert_array_equal(out["tryon"][m], out["warped_garment"][m])
    assert colour_matrix()[0].round(6).tolist() == np.eye(3).tolist()


def test_augment_record_is_reproducible_and_keeps_shapes():
    rec = _record()
    cfg = AugmentConfig(flip_p=0.5, affine_p=1.0, colour_p=1.0, garment_p=1.0)
    a = augment_record(rec, np.random.default_rng([7, 1]), cfg)
    b = augment_record(rec, np.random.default_rng([7, 1]), cfg)
    for k in rec:
        assert a[k].shape == rec[k].shape and a[k].dtype == rec[k].dtype, k
        np.testing.assert_array_equal(a[k], b[k])
    assert a["grid"].min() >= -1 and a["grid"].max() <= 1


def test_build_records_writes_augmented_copies(tmp_path):
    from types import SimpleNamespace

    from PIL import Image

    from tryon.data.build import build_records
    from tryon.data.pairs import Pair
    from tryon.data.records import iter_records

    rec = _record(96, 72)
    Image.fromarray(rec["person"]).save(tmp_path / "person.png")
    Image.fromarray(rec["garment"]).save(tmp_path / "garment.png")

    class FakeTeacher:
        calls = 0

        def run(self, person, garment, *, garment_mask=None, category=None):
            FakeTeacher.calls += 1
            return SimpleNamespace(
                tryon=rec["tryon"], agnostic=rec["agnostic"], warped_garment=rec["warped_garment"],
                warped_mask=rec["warped_mask"], composition_mask=rec["composition_mask"], parse=rec["parse"],
                grid=rec["grid"], keypoints=rec["keypoints"], garment_mask=rec["garment_mask"],
                garment_info=SimpleNamespace(category="top", sleeve="short"))

    pairs = [Pair(tmp_path / "person.png", tmp_path / "garment.png")]
    summary = build_records(pairs, tmp_path / "rec", size=(96, 72), teacher=FakeTeacher(), augment=2, seed=5)
    assert summary["written"] == 1 and FakeTeacher.calls == 1
    samples = {s["key"]: s for s in iter_records(tmp_path / "rec")}
    assert sorted(samples) == ["person__garment", "person__garment~aug1", "person__garment~aug2"]
    assert samples["person__garment~aug1"]["meta"]["augmented_from"] == "person__garment"
    assert not np.array_equal(samples["person__garment~aug1"]["person"], samples["person__garment~aug2"]["person"])
    # A rerun skips the pair: its record and both copies exist.
    again = build_records(pairs, tmp_path / "rec", size=(96, 72), teacher=FakeTeacher(), augment=2, seed=5)
    assert again["skipped"] == 1 and FakeTeacher.calls == 1
