"""The teacher's inpainting U-Net (tryon.models.teacher_refine)."""

from __future__ import annotations

import pytest
import torch

from tryon.models import create_model, list_models
from tryon.models.teacher_refine import TeacherRefine, composite, default_cfgs


@pytest.mark.parametrize("name", list_models("teacher_refine_*"))
def test_variants_are_small(name):
    m = create_model(name)
    assert isinstance(m, TeacherRefine)
    assert sum(p.numel() for p in m.parameters()) <= 1_000_000
    assert m.default_cfg["arch"] == {**default_cfgs[name]["arch"]}


@pytest.mark.parametrize("size", [(32, 24), (64, 48), (30, 22)])
def test_forward_shapes_and_range(size):
    torch.manual_seed(0)
    m = create_model("teacher_refine_tiny").eval()
    x = torch.rand(2, 3, *size) * 2 - 1
    mask = (torch.rand(2, 1, *size) > 0.7).float()
    with torch.no_grad():
        y = m(x, mask)
        y_hint = m(x, mask, torch.ones_like(mask))
    assert y.shape == (2, 3, *size) and y.dtype == torch.float32
    assert float(y.abs().max()) <= 1.0
    assert not torch.allclose(y, y_hint)          # the hint is used


def test_hole_content_is_ignored_and_composite_keeps_known_pixels():
    torch.manual_seed(0)
    m = create_model("teacher_refine_tiny").eval()
    x = torch.rand(1, 3, 32, 24) * 2 - 1
    mask = torch.zeros(1, 1, 32, 24)
    mask[..., 8:20, 6:16] = 1
    x2 = x.clone()
    x2[..., 8:20, 6:16] = 0.9                      # different pixels inside the hole only
    with torch.no_grad():
        y, y2 = m(x, mask), m(x2, mask)
    assert torch.allclose(y, y2)
    c = composite(x, mask, y)
    assert torch.equal(c[..., :8, :], x[..., :8, :])
    assert torch.equal(c[..., 8:20, 6:16], y[..., 8:20, 6:16])


def test_no_hint_variant_and_channels_last():
    m = create_model("teacher_refine_tiny", use_hint=False).to(memory_format=torch.channels_last)
    x = torch.zeros(1, 3, 32, 24).contiguous(memory_format=torch.channels_last)
    y = m(x, torch.ones(1, 1, 32, 24))
    y.mean().backward()
    assert y.shape == (1, 3, 32, 24)
