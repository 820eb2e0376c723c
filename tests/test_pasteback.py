"""tryon.pasteback: full-resolution paste-back of a low-resolution try-on."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tryon.pasteback import identity_grid, model_coords, paste_back, resize_transform, source_pixels, upsample
from tryon.processing import letterbox


def _textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_identity_grid_matches_grid_sample_convention():
    g = identity_grid(2, 4)
    assert g.shape == (2, 4, 2)
    np.testing.assert_allclose(g[0, :, 0], [-0.75, -0.25, 0.25, 0.75])
    np.testing.assert_allclose(g[:, 0, 1], [-0.5, 0.5])


def test_zero_mask_and_unchanged_render_return_the_person_exactly():
    person = _textured(300, 200)  # full resolution, fine detail the model never saw
    garment = _textured(240, 180, 1)
    low, tf = letterbox(person, (64, 48), fill=255)
    out = paste_back(person, garment, grid=identity_grid(64, 48), composition_mask=np.zeros((64, 48), np.float32),
                     render=low, person_low=low, person_transform=tf)
    np.testing.assert_array_equal(out, person)


def test_identity_grid_reproduces_the_full_resolution_garment():
    garment = _textured(400, 300, 2)
    person = _textured(400, 300, 3)
    h, w = 80, 60  # same aspect: no letterbox padding
    low, tf = letterbox(person, (h, w))
    glow, gtf = letterbox(garment, (h, w))
    out = paste_back(person, garment, grid=identity_grid(h, w), composition_mask=np.ones((h, w), np.float32),
                     render=glow, person_low=low, person_transform=tf, garment_transform=gtf)
    np.testing.assert_array_equal(out, garment)  # every full-resolution garment pixel, not an upsampled blur


def test_grid_samples_a_larger_garment_photo_at_full_resolution():
    garment = _textured(800, 600, 4)  # twice the person's resolution
    person = _textured(400, 300, 5)
    h, w = 80, 60
    low, tf = letterbox(person, (h, w))
    _, gtf = letterbox(garment, (h, w))
    out = paste_back(person, garment, grid=identity_grid(h, w), composition_mask=np.ones((h, w), np.float32),
                     render=low, person_low=low, person_transform=tf, garment_transform=gtf)
    expected = cv2.resize(garment, (300, 400), interpolation=cv2.INTER_LINEAR)  # 2:1, pixel-centre aligned
    assert np.abs(out.astype(int) - expected).max() <= 1


def test_letterboxed_inputs_of_different_aspect():
    person = _textured(300, 300, 6)  # square person into a 4:3 model frame: padded top/bottom
    garment = _textured(200, 100, 7)  # tall and thin: padded left/right, the person spans beyond it
    h, w = 64, 48
    low, ptf = letterbox(person, (h, w), fill=255)
    glow, gtf = letterbox(garment, (h, w), fill=255)
    # A grid that puts the garment model input exactly where the person pixel is in the model frame.
    out = paste_back(person, garment, grid=identity_grid(h, w), composition_mask=np.ones((h, w), np.float32),
                     render=low, person_low=low, person_transform=ptf, garment_transform=gtf)
    # Person pixel (x, y) -> model (x*s+o) -> garment pixel by the inverse garment transform.
    mx, my = model_coords((300, 300), ptf)
    gx = (mx - gtf[2]) / gtf[0]
    gy = (my - gtf[3]) / gtf[1]
    inside = (gx >= 0) & (gx <= 99) & (gy >= 0) & (gy <= 199)
    ref = cv2.remap(garment, gx, gy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255))
    assert np.abs(out[inside].astype(int) - ref[inside]).max() <= 1
    outside = (gx < -1) | (gx > 100) | (gy < -1) | (gy > 200)
    assert outside.any() and (out[outside] == 255).all()  # beyond the garment photo: the fill colour


def test_shifted_grid_moves_the_garment():
    h, w = 50, 40  # 4x down
    grid = identity_grid(h, w)
    grid[..., 0] += 2.0 * 3 / w  # sample 3 model pixels to the right = 12 full-resolution pixels
    src_x, src_y = source_pixels(grid, model_coords((200, 160), resize_transform((200, 160), (h, w))), (h, w),
                                 resize_transform((200, 160), (h, w)))
    xs = np.arange(160, dtype=np.float32)
    np.testing.assert_allclose(src_x[10], xs + 12, atol=1e-3)
    np.testing.assert_allclose(src_y[:, 0], np.arange(200), atol=1e-3)


def test_low_resolution_changes_outside_the_mask_are_carried_as_a_residual():
    person = _textured(200, 160, 9)
    low, tf = letterbox(person, (50, 40))
    render = low.copy()
    render[:, :20] = np.clip(render[:, :20].astype(int) + 20, 0, 255).astype(np.uint8)  # the student brightened
    out = paste_back(person, _textured(100, 80), grid=identity_grid(50, 40),
                     composition_mask=np.zeros((50, 40), np.float32), render=render, person_low=low,
                     person_transform=tf)
    # Well inside the edited band the change arrives, on top of the full-resolution detail.
    diff = out[:, :60].astype(int) - person[:, :60]
    unclipped = (person[:, :60] < 200).all(axis=2)
    assert abs(np.median(diff[unclipped]) - 20) <= 2
    np.testing.assert_array_equal(out[:, 100:], person[:, 100:])  # untouched region: exact


def test_upsample_replicates_borders():
    low = np.arange(12, dtype=np.float32).reshape(3, 4)
    maps = model_coords((6, 8), resize_transform((6, 8), (3, 4)))
    up = upsample(low, maps)
    assert up.shape == (6, 8) and up[0, 0] == 0 and up[-1, -1] == 11


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="model frame"):
        paste_back(_textured(10, 10), _textured(10, 10), grid=identity_grid(4, 4),
                   composition_mask=np.zeros((4, 5), np.float32), render=_textured(4, 4), person_low=_textured(4, 4))
