"""Image-like inputs for export parity checks: procedural (project-made, no photos) or from files.

Random noise is a poor parity probe: it drives features into ranges no photo reaches and hides errors in
smooth regions. :func:`procedural_inputs` draws a person-like figure on a graded background and a T-shirt-like
garment on white with its mask, with a little texture, deterministically from a seed.
"""

from __future__ import annotations

import numpy as np

__all__ = ["procedural_inputs", "photo_inputs"]


def _ellipse(h: int, w: int, cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return ((((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2) <= 1.0).astype(np.float32)


def _soft(mask: np.ndarray, passes: int = 2) -> np.ndarray:
    """Cheap blur (box, separable) so edges are anti-aliased like a photo's."""
    m = mask
    for _ in range(passes):
        m = (np.roll(m, 1, 0) + m + np.roll(m, -1, 0)) / 3
        m = (np.roll(m, 1, 1) + m + np.roll(m, -1, 1)) / 3
    return m


def procedural_inputs(size: tuple[int, int] = (256, 192), seed: int = 0,
                      batch: int = 1) -> dict[str, np.ndarray]:
    """Person, garment and garment mask drawn procedurally.

    Args:
        size: (height, width).
        seed: RNG seed (colours, placement, texture).
        batch: number of samples (each drawn with its own colours).

    Returns:
        ``{"person": (N, 3, H, W), "garment": (N, 3, H, W)}`` float32 in [-1, 1] and
        ``{"garment_mask": (N, 1, H, W)}`` float32 in [0, 1].
    """
    h, w = size
    rng = np.random.default_rng(seed)
    people, garments, masks = [], [], []
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(batch):
        bg = rng.uniform(0.3, 0.9, 3).astype(np.float32)
        grad = (0.8 + 0.2 * yy / h)[..., None]
        person = np.broadcast_to(bg * grad, (h, w, 3)).copy()
        skin = rng.uniform([0.55, 0.4, 0.3], [0.95, 0.8, 0.7]).astype(np.float32)
        shirt = rng.uniform(0, 1, 3).astype(np.float32)
        body = np.maximum(_ellipse(h, w, 0.55 * h, 0.5 * w, 0.32 * h, 0.22 * w),
                          _ellipse(h, w, 0.9 * h, 0.5 * w, 0.2 * h, 0.16 * w))
        head = _ellipse(h, w, 0.16 * h, 0.5 * w, 0.1 * h, 0.09 * w)
        arms = np.maximum(_ellipse(h, w, 0.55 * h, 0.22 * w, 0.25 * h, 0.05 * w),
                          _ellipse(h, w, 0.55 * h, 0.78 * w, 0.25 * h, 0.05 * w))
        for m, colour in ((_soft(arms), skin), (_soft(body), shirt), (_soft(head), skin)):
            person = person * (1 - m[..., None]) + m[..., None] * colour
        stripes = 0.08 * np.sin(xx * rng.uniform(0.2, 0.6))[..., None]
        person = person + stripes * _soft(body)[..., None] + rng.normal(0, 0.01, person.shape).astype(np.float32)

        gcol = rng.uniform(0, 1, 3).astype(np.float32)
        torso = ((np.abs(xx - 0.5 * w) < 0.27 * w) & (yy > 0.15 * h) & (yy < 0.9 * h)).astype(np.float32)
        sleeves = ((np.abs(xx - 0.5 * w) < 0.45 * w) & (yy > 0.15 * h) & (yy < 0.38 * h)).astype(np.float32)
        neck = _ellipse(h, w, 0.15 * h, 0.5 * w, 0.06 * h, 0.1 * w)
        gmask = _soft(np.clip(np.maximum(torso, sleeves) - neck, 0, 1))
        pattern = 0.15 * np.sin(xx * 0.3 + yy * 0.2)[..., None] * np.cos(yy * rng.uniform(0.1, 0.4))[..., None]
        garment = np.ones((h, w, 3), np.float32) * (1 - gmask[..., None]) + gmask[..., None] * (gcol + pattern)

        people.append(np.clip(person, 0, 1))
        garments.append(np.clip(garment, 0, 1))
        masks.append(gmask)

    def to_nchw(images: list[np.ndarray]) -> np.ndarray:
        return np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2) * 2 - 1, dtype=np.float32)

    return {"person": to_nchw(people), "garment": to_nchw(garments),
            "garment_mask": np.clip(np.stack(masks)[:, None], 0, 1).astype(np.float32)}


def photo_inputs(person_path: str, garment_path: str, mask_path: str | None,
                 size: tuple[int, int] = (256, 192)) -> dict[str, np.ndarray]:
    """Inputs from image files, letterboxed to ``size`` = (height, width) with ``tryon.processing``.

    The mask file (greyscale, white = garment) is optional; without it the garment's non-white pixels are used.

    Raises:
        UnreadableImageError, NotAnImageError: from ``tryon.processing.load_image``.
    """
    from tryon.processing import letterbox, load_image, to_nchw

    person, _ = letterbox(load_image(person_path, min_side=16), size, fill=255)
    garment, _ = letterbox(load_image(garment_path, min_side=16), size, fill=255)
    if mask_path is not None:
        m, _ = letterbox(load_image(mask_path, min_side=16), size, fill=0)
        mask = m.mean(axis=2).astype(np.float32) / 255.0
    else:
        mask = (garment.min(axis=2) < 245).astype(np.float32)
    return {"person": to_nchw(person), "garment": to_nchw(garment),
            "garment_mask": np.clip(mask, 0, 1)[None, None].astype(np.float32)}
