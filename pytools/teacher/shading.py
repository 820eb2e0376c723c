"""Shading transfer: carry the person photo's lighting and large folds onto the new garment.

The old garment's luminance is divided by its own local mean at a large scale (so only the relative light and
fold pattern remains, not the garment's colour), computed by normalised convolution over the old garment's torso
only (arms, hands and hair over it do not leak in), median filtered to remove print detail, then faded where
the old garment is textured or changes colour (prints, skin through sheer fabric would otherwise ghost
through), weakened when the whole garment is patterned, and clamped. This is the ratio-image idea of
intrinsic-image relighting used by classical try-on composites (e.g. the "shading" channel of
Yang et al., "Detailed Garment Recovery from a Single-View Image", 2016), kept deliberately weak.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["shading_map"]


def _norm_blur(x: np.ndarray, w: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    num = cv2.GaussianBlur(x * w, (0, 0), sigma)
    den = cv2.GaussianBlur(w, (0, 0), sigma)
    return num / np.maximum(den, 1e-4), den


def shading_map(image: np.ndarray, region: np.ndarray, *, scale_px: float, strength: float = 0.6,
                lo: float = 0.82, hi: float = 1.1, work_height: int = 192) -> np.ndarray:
    """Multiplicative shading (H, W) float32 to apply to the new garment; 1.0 outside ``region``.

    Args:
        image: (H, W, 3) uint8 RGB person photo.
        region: (H, W) bool where the old garment's shading is measured (old garment on the torso, without
            arms, hands and hair in front of it).
        scale_px: the body's scale in pixels (shoulder width); fold and lighting scales follow it.
        strength: fraction of the measured relative shading applied (0 = none).
        lo, hi: clamp of the final multiplier (bright highlights are rarer than shadows in photos).
        work_height: computed at this height, then upsampled (it is low-frequency by construction).

    Returns:
        (H, W) float32 multiplier, about 1 on average inside ``region``.
    """
    H, W = region.shape
    s = min(1.0, work_height / H)
    h, w = max(8, int(round(H * s))), max(8, int(round(W * s)))
    lum = cv2.cvtColor(cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    lum = lum.astype(np.float32) / 255.0 + 0.03
    m = cv2.resize(region.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
    m = (m > 0.6).astype(np.float32)
    if m.sum() < 20:
        return np.ones((H, W), np.float32)
    sw = max(scale_px * s, 4.0)
    k = int(max(3, round(sw * 0.08))) | 1
    med = cv2.medianBlur((np.clip(lum, 0, 1) * 255).astype(np.uint8), min(k, 7)).astype(np.float32) / 255 + 0.03
    small, _ = _norm_blur(med, m, sw * 0.08)
    large, cover = _norm_blur(med, m, sw * 0.6)
    ratio = small / np.maximum(large, 1e-3)
    # Texture energy of the old garment: prints and patterns make the ratio unreliable, fade it there.
    detail, _ = _norm_blur(np.abs(lum - small), m, sw * 0.08)
    trust = np.clip(1.0 - (detail - 0.03) / 0.07, 0.0, 1.0)
    # Light changes brightness, not colour: where the old garment's chroma departs from its own mean (a
    # colour print, skin through a sheer fabric, a bra under mesh) the brightness ratio is not shading.
    small_img = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small_img.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    ab = lab[..., 1:]
    sel = m > 0.5
    ab_mean = np.median(ab[sel], axis=0)
    chroma_dev, _ = _norm_blur(np.linalg.norm(ab - ab_mean, axis=-1), m, sw * 0.08)
    trust *= np.clip(1.0 - (chroma_dev - 4.0) / 8.0, 0.0, 1.0)
    # A garment whose relative brightness varies a lot overall is patterned, not lit: weaken everything.
    spread = float(np.std(ratio[sel])) if sel.sum() > 10 else 0.0
    if spread > 0.08:
        strength *= 0.08 / spread
    shade = 1.0 + strength * trust * (ratio - 1.0)
    shade = np.clip(shade, lo, hi)
    # Fade to 1 outside the measured region.
    fade, _ = _norm_blur(m, np.ones_like(m), max(1.0, sw * 0.04))
    shade = 1.0 + (shade - 1.0) * np.clip(fade * 1.5, 0, 1) * (cover > 1e-3)
    return cv2.resize(shade.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)
