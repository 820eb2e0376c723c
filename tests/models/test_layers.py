"""Shared blocks: correlation (values, hand-written backward), flow warping, conv blocks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tryon.models.layers import (
    ConvBnAct,
    InvertedResidual,
    LocalCorrelation,
    compose_flow,
    identity_grid,
    local_correlation,
    local_correlation_reference,
    offset_to_grid,
    pixels_to_normalized,
    upsample_flow,
    warp,
)


def _naive_correlation(a: torch.Tensor, b: torch.Tensor, r: int) -> torch.Tensor:
    """Direct loops over displacements and pixels (the CuPy kernel's definition)."""
    n, c, h, w = a.shape
    k = 2 * r + 1
    out = torch.zeros(n, k * k, h, w, dtype=a.dtype)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            idx = (dy + r) * k + (dx + r)
            for y in range(h):
                for x in range(w):
                    yy, xx = y + dy, x + dx
                    if 0 <= yy < h and 0 <= xx < w:
                        out[:, idx, y, x] = (a[:, :, y, x] * b[:, :, yy, xx]).mean(dim=1)
    return out


def test_correlation_matches_definition():
    torch.manual_seed(0)
    a, b = torch.randn(2, 5, 6, 7), torch.randn(2, 5, 6, 7)
    got = local_correlation_reference(a, b, 2)
    assert got.shape == (2, 25, 6, 7)
    torch.testing.assert_close(got, _naive_correlation(a, b, 2))


def test_correlation_center_channel_is_mean_of_products():
    a, b = torch.randn(1, 4, 5, 5), torch.randn(1, 4, 5, 5)
    out = LocalCorrelation(3)(a, b)
    assert out.shape == (1, 49, 5, 5)
    torch.testing.assert_close(out[:, 24:25], (a * b).mean(1, keepdim=True))


def test_correlation_backward_gradcheck():
    torch.manual_seed(0)
    a = torch.randn(2, 3, 5, 4, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, 3, 5, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: local_correlation(x, y, 2), (a, b), eps=1e-6, atol=1e-8)


def test_correlation_backward_matches_autograd():
    torch.manual_seed(1)
    a = torch.randn(2, 6, 9, 7, requires_grad=True)
    b = torch.randn(2, 6, 9, 7, requires_grad=True)
    g = torch.randn(2, 25, 9, 7)
    ga, gb = torch.autograd.grad(local_correlation(a, b, 2), (a, b), g)
    ra, rb = torch.autograd.grad(local_correlation_reference(a, b, 2), (a, b), g)
    torch.testing.assert_close(ga, ra)
    torch.testing.assert_close(gb, rb)
    # Only one input needing a gradient still works.
    (gb_only,) = torch.autograd.grad(local_correlation(a.detach(), b, 2), (b,), g)
    torch.testing.assert_close(gb_only, rb)


def test_correlation_rejects_bad_input():
    with pytest.raises(ValueError):
        local_correlation(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 5), 2)
    with pytest.raises(ValueError):
        local_correlation(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 4), -1)


def test_identity_grid_reproduces_input():
    x = torch.randn(1, 3, 8, 6)
    grid = identity_grid(8, 6)
    assert grid.shape == (1, 8, 6, 2)
    torch.testing.assert_close(F.grid_sample(x, grid, align_corners=False), x)
    torch.testing.assert_close(warp(x, torch.zeros(1, 2, 8, 6)), x)


def test_pixel_offset_shifts_image():
    x = torch.arange(48.0).view(1, 1, 6, 8)
    offset_px = torch.zeros(1, 2, 6, 8)
    offset_px[:, 0] = 1.0  # read one pixel to the right
    out = warp(x, pixels_to_normalized(offset_px))
    torch.testing.assert_close(out[..., :-1], x[..., 1:])


def test_compose_and_upsample_flow():
    a = torch.zeros(1, 2, 4, 4)
    a[:, 0] = 0.25
    b = torch.zeros(1, 2, 4, 4)
    b[:, 1] = -0.5
    c = compose_flow(a, b)  # constant fields compose by addition
    torch.testing.assert_close(c[:, 0], torch.full((1, 4, 4), 0.25))
    torch.testing.assert_close(c[:, 1], torch.full((1, 4, 4), -0.5))
    up = upsample_flow(c)
    assert up.shape == (1, 2, 8, 8)
    torch.testing.assert_close(up, torch.cat([torch.full((1, 1, 8, 8), 0.25), torch.full((1, 1, 8, 8), -0.5)], 1))
    assert offset_to_grid(up).shape == (1, 8, 8, 2)


def test_conv_blocks_shapes():
    x = torch.randn(2, 8, 16, 12)
    assert ConvBnAct(8, 16, 3, stride=2)(x).shape == (2, 16, 8, 6)
    assert InvertedResidual(8, 8, 1, 6)(x).shape == (2, 8, 16, 12)
    assert InvertedResidual(8, 24, 2, 1, always_expand=True)(x).shape == (2, 24, 8, 6)
    with pytest.raises(ValueError):
        InvertedResidual(8, 8, 3)


def test_cat_tree_equals_cat_with_narrow_concats():
    import torch

    from tryon.models.layers.correlation import cat_tree

    xs = [torch.randn(2, 1, 3, 4) for _ in range(49)]
    torch.testing.assert_close(cat_tree(xs, dim=1), torch.cat(xs, dim=1))
    torch.testing.assert_close(cat_tree(xs[:5], dim=1), torch.cat(xs[:5], dim=1))
