"""Metrics on synthetic data: identical inputs give the ideal value, different inputs a worse one."""

from __future__ import annotations

import numpy as np
import pytest

from tryon.eval import metrics as M


def _image(seed: int = 0, h: int = 96, w: int = 72) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([yy * 255 / h, xx * 255 / w, (yy + xx) * 127 / (h + w)], axis=2)
    return np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8)


def test_ssim_and_l1_identical_and_different():
    a = _image()
    assert M.masked_ssim(a, a) == pytest.approx(1.0, abs=1e-6)
    assert M.masked_l1(a, a) == 0.0
    b = np.clip(a.astype(int) + np.random.default_rng(1).normal(0, 30, a.shape), 0, 255).astype(np.uint8)
    assert M.masked_ssim(a, b) < 0.9
    assert M.masked_l1(a, b) > 0.05
    # A uniform shift of 51 grey levels is an L1 of exactly 0.2.
    assert M.masked_l1(np.full_like(a, 100), np.full_like(a, 151)) == pytest.approx(0.2)


def test_masked_metrics_ignore_excluded_region():
    a = _image()
    b = a.copy()
    b[20:60, 20:50] = 0  # "the garment changed"
    comp = np.zeros(a.shape[:2], np.float32)
    comp[20:60, 20:50] = 1.0
    keep = M.identity_keep_mask(a.shape[:2], comp)
    assert not keep[20:60, 20:50].any()
    assert not keep[18, 30]  # the dilation band around the region is excluded too
    assert 0.3 < keep.mean() < 0.8
    assert M.masked_ssim(a, b, keep) == pytest.approx(1.0, abs=1e-3)  # SSIM window reaches 3σ≈4.5 px
    assert M.masked_l1(a, b, keep) == 0.0
    assert M.masked_ssim(a, b) < 0.9
    changed = np.zeros_like(comp)
    changed[70:90, 0:30] = 1.0
    keep2 = M.identity_keep_mask(a.shape[:2], comp, changed)
    assert keep2.sum() < keep.sum() and not keep2[75, 10]
    assert M.masked_ssim(a, b, np.zeros_like(keep)) is None


def test_fid_same_set_zero_and_shift_worse():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 2048))
    assert M.fid_from_features(x, x) == pytest.approx(0.0, abs=1e-6)
    assert M.fid_from_features(x, x + 0.5) == pytest.approx(0.25 * 2048, rel=1e-6)
    y = rng.normal(size=(8, 2048)) * 1.5
    assert M.fid_from_features(x, y) > M.fid_from_features(x, x + 0.01)
    with pytest.raises(ValueError):
        M.fid_from_features(x[:1], y)


def test_fid_matches_torchmetrics_formula():
    torch = pytest.importorskip("torch")
    fid_mod = pytest.importorskip("torchmetrics.image.fid")
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(12, 32)), rng.normal(size=(9, 32)) * 1.2 + 0.1
    X, Y = torch.tensor(x), torch.tensor(y)
    ref = fid_mod._compute_fid(X.mean(0), torch.cov(X.T), Y.mean(0), torch.cov(Y.T)).item()
    assert M.fid_from_features(x, y) == pytest.approx(ref, rel=1e-6)
    # Large-n branch (covariance square root) agrees too.
    x2, y2 = rng.normal(size=(40, 16)), rng.normal(size=(50, 16)) + 0.3
    X2, Y2 = torch.tensor(x2), torch.tensor(y2)
    ref2 = fid_mod._compute_fid(X2.mean(0), torch.cov(X2.T), Y2.mean(0), torch.cov(Y2.T)).item()
    assert M.fid_from_features(x2, y2) == pytest.approx(ref2, rel=1e-6)


def test_kid_small_sets_and_reference():
    torch = pytest.importorskip("torch")
    kid_mod = pytest.importorskip("torchmetrics.image.kid")
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(5, 64)), rng.normal(size=(7, 64)) + 0.5
    mean, std, m = M.kid_from_features(x, y, subsets=10)
    assert m == 5  # subset size adapted to the smaller set
    assert mean > 0.0 and std >= 0.0
    # Two draws from one distribution score far closer than two different distributions.
    p, q = rng.normal(size=(40, 64)), rng.normal(size=(40, 64))
    assert abs(M.kid_from_features(p, q, subsets=20)[0]) < 0.2 * M.kid_from_features(p, q + 0.5, subsets=20)[0]
    # With one subset covering both sets entirely, KID equals torchmetrics' poly_mmd.
    one, _, _ = M.kid_from_features(x, y[:5], subsets=1)
    ref = kid_mod.poly_mmd(torch.tensor(x), torch.tensor(y[:5])).item()
    assert one == pytest.approx(ref, rel=1e-6)


def test_crop_on_white_and_bbox():
    img = np.zeros((80, 60, 3), np.uint8)
    mask = np.zeros((80, 60), np.float32)
    assert M.mask_bbox(mask) is None and M.crop_on_white(img, mask) is None
    mask[10:30, 20:50] = 1.0
    assert M.mask_bbox(mask) == (10, 20, 30, 50)
    crop = M.crop_on_white(img, mask, size=64)
    assert crop.shape == (64, 64, 3)
    assert crop[0, 0].tolist() == [255, 255, 255] and crop[32, 32].tolist() == [0, 0, 0]


def test_feature_similarity_identities():
    torch = pytest.importorskip("torch")
    fa = {"a": torch.rand(2, 8, 4, 4), "b": torch.rand(2, 16, 2, 2)}
    fb = {"a": torch.rand(2, 8, 4, 4), "b": torch.rand(2, 16, 2, 2)}
    cos = M.pooled_cosine(fa, fa)
    assert np.allclose(cos["a"], 1.0) and np.allclose(cos["b"], 1.0)
    assert np.allclose(M.feature_distance(fa, fa), 0.0, atol=1e-6)
    assert (M.feature_distance(fa, fb) > 0.01).all()
