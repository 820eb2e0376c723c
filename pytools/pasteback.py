"""Full-resolution paste-back of a low-resolution try-on (pure numpy + OpenCV, no torch).

The student network runs at a small fixed size (e.g. 256×192) on letterboxed copies of the person and garment
photos. Upsampling its ``tryon`` output would blur the whole photo, so the result is rebuilt at the person
photo's own resolution from the network's *geometry* instead of its pixels:

1. the sampling grid (``grid_sample`` convention, ``align_corners=False``) is turned into a flow relative to the
   identity grid, upsampled to the full-resolution person frame, and added back to an exact full-resolution
   identity, so a still garment stays pixel-exact and the image border does not drift;
2. the FULL-resolution garment photo is sampled with that grid (``cv2.remap``), so the garment keeps its own
   print and texture detail;
3. the composition mask is upsampled the same way and blends the sharp warped garment over the person;
4. whatever the student changed outside the garment (arms it redrew, the old garment it removed) is carried as
   a low-resolution residual: ``person_full + upsample(render_low − person_low)``. Regions the student left
   alone have a zero residual and keep every full-resolution pixel.

This follows the high-resolution "flow upsampling + warp at full resolution" practice of flow-based try-on
(e.g. DM-VTON / PF-AFN style appearance flows, whose warps are resolution-independent) and the classical
Laplacian-residual idea for carrying low-frequency edits to a high-resolution image. ``web/src/processing.js``
implements the same steps for the widget; golden tests keep the two in step.

Coordinate conventions: a *transform* ``(scale_x, scale_y, offset_x, offset_y)`` maps a full-resolution pixel
centre (x, y) to ``(x * scale_x + offset_x, y * scale_y + offset_y)`` in the model's frame, pixel centres at
integers — exactly what :func:`tryon.processing.letterbox` returns. A grid value (gx, gy) in [-1, 1] addresses
the garment *model input* of size (h, w) at pixel ``((gx + 1) * w − 1) / 2``, ``((gy + 1) * h − 1) / 2``.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["Transform", "resize_transform", "model_coords", "upsample", "identity_grid", "source_pixels",
           "paste_back"]

Transform = tuple[float, float, float, float]
"""(scale_x, scale_y, offset_x, offset_y): full-resolution pixel centre -> model-frame pixel centre."""


def resize_transform(full_size: tuple[int, int], model_size: tuple[int, int]) -> Transform:
    """Transform of a plain (aspect-changing) resize from ``full_size`` to ``model_size``, both (height, width)."""
    (fh, fw), (mh, mw) = full_size, model_size
    sx, sy = mw / fw, mh / fh
    return sx, sy, 0.5 * sx - 0.5, 0.5 * sy - 0.5


def model_coords(full_size: tuple[int, int], transform: Transform) -> tuple[np.ndarray, np.ndarray]:
    """Model-frame coordinates of every full-resolution pixel centre.

    Args:
        full_size: (height, width) of the full-resolution image.
        transform: see :data:`Transform`.

    Returns:
        (map_x, map_y), each (H, W) float32, in model-frame pixels (ready for ``cv2.remap``).
    """
    h, w = full_size
    sx, sy, ox, oy = transform
    xs = np.arange(w, dtype=np.float32) * np.float32(sx) + np.float32(ox)
    ys = np.arange(h, dtype=np.float32) * np.float32(sy) + np.float32(oy)
    map_x, map_y = np.meshgrid(xs, ys)  # (H, W) each
    return map_x, map_y


def upsample(low: np.ndarray, maps: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Bilinearly sample a model-frame array at full-resolution positions (border replicated).

    Args:
        low: (h, w) or (h, w, C) float32 array in the model frame (C ≤ 4).
        maps: (map_x, map_y) from :func:`model_coords`.

    Returns:
        (H, W) or (H, W, C) float32.
    """
    return cv2.remap(np.ascontiguousarray(low, dtype=np.float32), maps[0], maps[1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def identity_grid(height: int, width: int) -> np.ndarray:
    """The ``grid_sample`` identity grid (``align_corners=False``): (height, width, 2) float32, x then y in (-1, 1)."""
    gx = (2.0 * np.arange(width, dtype=np.float32) + 1.0) / width - 1.0
    gy = (2.0 * np.arange(height, dtype=np.float32) + 1.0) / height - 1.0
    return np.stack(np.meshgrid(gx, gy), axis=-1)  # (h, w, 2)


def source_pixels(grid: np.ndarray, maps: tuple[np.ndarray, np.ndarray], garment_model_size: tuple[int, int],
                  garment_transform: Transform) -> tuple[np.ndarray, np.ndarray]:
    """Full-resolution garment pixel to sample for every full-resolution person pixel.

    The grid is upsampled as a *flow* (grid − identity) and added to the exact identity at each full-resolution
    position, so a still region is reproduced exactly and the outermost half pixel does not clamp.

    Args:
        grid: (h, w, 2) float32 sampling grid in [-1, 1] (x then y) in the person's model frame.
        maps: full-resolution person pixel centres in the model frame (:func:`model_coords`).
        garment_model_size: (height, width) of the garment model input the grid addresses.
        garment_transform: full-resolution garment -> garment model frame (see :data:`Transform`).

    Returns:
        (map_x, map_y), each (H, W) float32 in full-resolution garment pixels.
    """
    h, w = grid.shape[:2]
    flow = grid.astype(np.float32) - identity_grid(h, w)  # (h, w, 2) in normalised units
    flow_full = upsample(flow, maps)  # (H, W, 2)
    gh, gw = garment_model_size
    sx, sy, ox, oy = garment_transform
    # Exact identity at the continuous model-frame position x of each full-resolution pixel centre,
    # g = (2x + 1) / w - 1 + flow, then garment model pixel u = ((g + 1) * gw - 1) / 2 and full-resolution
    # garment pixel (u - ox) / sx, folded into one multiply-add per pixel (in place: these are full-size arrays).
    src_x = maps[0] * np.float32(2.0 / w)
    src_x += flow_full[..., 0]
    src_x *= np.float32(gw / (2.0 * sx))
    src_x += np.float32(((1.0 / w) * gw / 2.0 - 0.5 - ox) / sx)
    src_y = maps[1] * np.float32(2.0 / h)
    src_y += flow_full[..., 1]
    src_y *= np.float32(gh / (2.0 * sy))
    src_y += np.float32(((1.0 / h) * gh / 2.0 - 0.5 - oy) / sy)
    return src_x, src_y


def paste_back(person: np.ndarray, garment: np.ndarray, *, grid: np.ndarray, composition_mask: np.ndarray,
               render: np.ndarray, person_low: np.ndarray, person_transform: Transform | None = None,
               garment_transform: Transform | None = None, garment_model_size: tuple[int, int] | None = None,
               fill: int = 255) -> np.ndarray:
    """Rebuild the student's try-on at the person photo's own resolution.

    ``out = m · remap(garment_full, grid↑) + (1 − m) · (person_full + (render − person_low)↑)`` with
    ``m = composition_mask↑`` (↑: bilinear upsampling to the full-resolution person frame).

    Args:
        person: (H, W, 3) uint8 RGB full-resolution person photo.
        garment: (Hg, Wg, 3) uint8 RGB full-resolution garment photo (the one that was letterboxed for the model).
        grid: (h, w, 2) float32 in [-1, 1], x then y, ``grid_sample`` convention with ``align_corners=False``;
            maps each model-frame output pixel to a location in the garment model input.
        composition_mask: (h, w) float32 in [0, 1], 1 where the output shows the warped garment.
        render: (h, w, 3) uint8 RGB: the student's ``tryon`` output in the model frame.
        person_low: (h, w, 3) uint8 RGB: the person input the student saw (same frame as ``render``).
        person_transform: full-resolution person -> model frame; default a plain resize to (h, w).
        garment_transform: full-resolution garment -> garment model frame; default a plain resize to
            ``garment_model_size``.
        garment_model_size: (height, width) of the garment model input; default (h, w).
        fill: value of garment samples that fall outside the garment photo.

    Returns:
        (H, W, 3) uint8 RGB try-on at the person photo's resolution.

    Raises:
        ValueError: shapes disagree.
    """
    h, w = grid.shape[:2]
    if grid.shape != (h, w, 2) or composition_mask.shape != (h, w) or render.shape != (h, w, 3) \
            or person_low.shape != (h, w, 3):
        raise ValueError(f"grid {grid.shape}, composition_mask {composition_mask.shape}, render {render.shape} and "
                         f"person_low {person_low.shape} must share the model frame (h, w) = ({h}, {w})")
    if person.ndim != 3 or person.shape[2] != 3 or garment.ndim != 3 or garment.shape[2] != 3:
        raise ValueError(f"person {person.shape} and garment {garment.shape} must be (H, W, 3) RGB")
    full = person.shape[:2]
    gsize = garment_model_size or (h, w)
    pt = person_transform or resize_transform(full, (h, w))
    gt = garment_transform or resize_transform(garment.shape[:2], gsize)

    maps = model_coords(full, pt)
    src_x, src_y = source_pixels(grid, maps, gsize, gt)
    warped = cv2.remap(garment, src_x, src_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                       borderValue=(fill, fill, fill)).astype(np.float32)  # (H, W, 3)
    mask = np.clip(upsample(composition_mask, maps), 0.0, 1.0)[..., None]  # (H, W, 1)
    out = person.astype(np.float32)  # becomes the base, then the result (in place: full-size arrays)
    residual_low = render.astype(np.float32) - person_low.astype(np.float32)  # (h, w, 3)
    if np.any(residual_low):
        out += upsample(residual_low, maps)
    warped -= out
    warped *= mask
    out += warped  # = mask * warped + (1 - mask) * base
    out += 0.5
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)
