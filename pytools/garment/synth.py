"""Procedural garment variations for distillation records: many product photos of one category, no photo needed.

The garments of ``../shared`` are nearly all tops (423 of 440 the classifier reads; 17 dresses, no bottoms), so the
bottoms and one-pieces students have few or no real product photos to learn from. The catalogue's bottoms templates
(:mod:`tryon.garment.catalogue`: a waistband and two legs, or a flared skirt, with denim twill, fly, pockets,
pleats, folds, rim shading and a drop shadow) are varied here instead: kind (trousers, shorts, skirt), cut
(slim to wide legs, mini to midi skirts, pleats or none), fabric colour from a palette of what shops sell, the
backdrop (white, light grey, beige, a pale tint: the product photos of ``wild-dev`` use all four) and the
garment's size and place in the photo. Dresses vary the catalogue's shift dress on the top template (sleeves,
neckline, length, flare, stripes or a print). The teacher dresses real persons in them; the student then learns the
lower-body warp and composition from real bodies, with garments whose shapes are known.

Each variation is a pure function of its seed (``numpy.random.default_rng(seed)``), so a records folder names
its garments by seed and can be rebuilt. The rendered garments are the project's own (no photo, no licence).
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.errors import UsageError
from tryon.garment.catalogue import _Lower, _render_spec, _Spec

__all__ = ["SYNTH_CATEGORIES", "synth_spec", "render_synth"]

SYNTH_CATEGORIES = ("bottoms", "one-pieces")
"""Categories :func:`render_synth` varies (FASHN's names)."""

# Fabric colours (RGB) shops sell bottoms in: denim washes, black and greys, khaki and stone, navy, olive, brown,
# white and cream, and a few brights. Each draw jitters its pick a little.
_PALETTE = (
    (58, 86, 132), (40, 58, 96), (92, 122, 168), (126, 152, 190), (28, 34, 52),  # denim washes
    (26, 26, 28), (54, 54, 58), (96, 96, 100), (150, 150, 152),  # black, charcoal, greys
    (186, 164, 118), (204, 190, 160), (150, 128, 92),  # khaki, stone, tan
    (36, 44, 72), (84, 92, 56), (96, 64, 44),  # navy, olive, brown
    (236, 234, 226), (226, 214, 190),  # white, cream
    (150, 36, 48), (112, 44, 82), (214, 150, 160), (60, 110, 90),  # red, plum, pink, green
)

# Dress colours: the bottoms' palette's brights and darks, and florals' and pastels' base colours.
_DRESS_PALETTE = (
    (26, 26, 28), (38, 52, 96), (150, 36, 48), (112, 44, 82), (214, 150, 160), (60, 110, 90), (236, 234, 226),
    (226, 214, 190), (196, 30, 42), (236, 200, 64), (120, 170, 210), (170, 140, 200), (84, 92, 56), (200, 120, 80),
)

# Backdrops of product photos (RGB at the photo's top; the renderer darkens 8 levels towards the bottom).
_BACKDROPS = ((250, 250, 250), (236, 236, 236), (224, 224, 226), (238, 230, 214), (230, 222, 206),
              (232, 236, 242), (240, 232, 232))


def synth_spec(category: str, seed: int) -> _Spec:
    """The design-space spec of one variation (see :func:`render_synth`): for bottoms a waistband and legs or a
    skirt (the catalogue's ``_Lower`` outline), for one-pieces a dress on the top template.

    Raises:
        UsageError: ``category`` is not in :data:`SYNTH_CATEGORIES`.
    """
    from tryon.garment.category import normalise_category

    cat = normalise_category(category)
    if cat not in SYNTH_CATEGORIES:
        raise UsageError(f"no procedural variations of {category!r} garments; "
                         f"choose one of: {', '.join(SYNTH_CATEGORIES)}")
    rng = np.random.default_rng(seed)
    backdrop = _BACKDROPS[rng.integers(len(_BACKDROPS))]
    if cat == "one-pieces":
        return _dress_spec(rng, int(seed), backdrop)
    colour = np.clip(np.array(_PALETTE[rng.integers(len(_PALETTE))], float) + rng.normal(0, 6, 3), 8, 246)
    kind = rng.choice(["trousers", "shorts", "skirt"], p=[0.45, 0.25, 0.30])
    waist_w = rng.uniform(128, 160)
    waist_y = rng.uniform(100, 150)
    if kind == "skirt":
        hem_y = rng.uniform(560, 980)  # mini to midi
        lo = _Lower(waist_w=waist_w, waist_y=waist_y, hip_w=waist_w + rng.uniform(25, 50),
                    hip_y=waist_y + rng.uniform(190, 250), hem_w=waist_w + rng.uniform(40, 170), hem_y=hem_y,
                    band=rng.uniform(26, 44), pleats=int(rng.choice([0, 0, 8, 12, 16])))
    else:
        hip_w = waist_w + rng.uniform(12, 32)
        crotch_y = waist_y + rng.uniform(290, 340)
        if kind == "shorts":
            hem_y = crotch_y + rng.uniform(120, 260)
            hem_w = hip_w + rng.uniform(0, 30)
            leg_w = hem_w - rng.uniform(10, 30)
        else:
            hem_y = rng.uniform(900, 990)
            hem_w = hip_w + rng.uniform(-40, 25)  # slim to wide legs
            leg_w = np.clip(hem_w * rng.uniform(0.55, 0.85), 70, hem_w - 12)
        lo = _Lower(waist_w=waist_w, waist_y=waist_y, hip_w=hip_w, hip_y=waist_y + rng.uniform(190, 230),
                    crotch_y=crotch_y, hem_w=hem_w, hem_y=hem_y, leg_w=float(leg_w), band=rng.uniform(28, 40))
    return _Spec(colour=tuple(int(c) for c in colour), sleeve="none", rib=False, seed=int(seed) + 100,
                 category="bottoms", kind="skirt" if kind == "skirt" else "trousers",
                 background=tuple(float(c) for c in backdrop), extra={"lower": lo})


def _dress_spec(rng: np.random.Generator, seed: int, backdrop) -> _Spec:
    """A dress on the catalogue's top template (``navy-shift-dress``'s proportions, varied): sleeveless, short or
    long sleeves, crew or V neck, knee to calf length, straight to flared, plain, striped or printed. Neck-to-hem over
    the torso width stays above 2.6, where the classifier's dresses start (2.4)."""
    colour = np.clip(np.array(_DRESS_PALETTE[rng.integers(len(_DRESS_PALETTE))], float) + rng.normal(0, 8, 3), 8, 246)
    sleeve = str(rng.choice(["none", "short", "long"], p=[0.35, 0.4, 0.25]))
    shoulder_w = rng.uniform(128, 156) if sleeve == "none" else rng.uniform(142, 162)
    armpit_w = rng.uniform(128, 146)
    armpit_y = rng.uniform(368, 398)
    hem_y = rng.uniform(880, 1005)
    hem_w = armpit_w + rng.uniform(15, 120)
    extra: dict = {}
    pattern = str(rng.choice(["plain", "stripes", "print"], p=[0.7, 0.15, 0.15]))
    if pattern == "stripes":
        extra["stripe"] = tuple(int(c) for c in np.clip(255 - colour * 0.3, 0, 255))
    kw: dict = {}
    if sleeve == "short":
        kw = {"sleeve_outer": (shoulder_w + rng.uniform(60, 95), armpit_y - rng.uniform(0, 20)),
              "sleeve_inner": (armpit_w + rng.uniform(40, 60), armpit_y + rng.uniform(35, 55))}
    elif sleeve == "long":
        kw = {"sleeve_outer": (shoulder_w + rng.uniform(85, 110), rng.uniform(760, 820)),
              "sleeve_inner": (armpit_w + rng.uniform(45, 60), rng.uniform(780, 830))}
    neck = "v" if sleeve == "none" and rng.random() < 0.5 else "crew"
    return _Spec(colour=tuple(int(c) for c in colour), sleeve=sleeve, neck=neck, pattern=pattern,
                 neck_w=rng.uniform(56, 90) if neck == "v" else rng.uniform(56, 70),
                 neck_depth=rng.uniform(110, 160) if neck == "v" else rng.uniform(48, 64),
                 shoulder_w=shoulder_w, armpit_w=armpit_w, armpit_y=armpit_y, hem_w=hem_w, hem_y=hem_y, rib=False,
                 seed=seed + 100, extra=extra, category="one-pieces", background=tuple(float(c) for c in backdrop),
                 **kw)


def render_synth(category: str, seed: int, size: tuple[int, int] = (1024, 768)) -> tuple[np.ndarray, np.ndarray]:
    """Render one procedural variation of a ``category`` garment as a product photo.

    The garment is drawn as :func:`tryon.garment.catalogue.render_garment` draws a catalogue bottom, then
    zoomed out by 0.78-1.0 about a point jittered by up to 4 % of the photo (product photos differ in margins),
    the uncovered border continuing the backdrop's edge rows and columns.

    Args:
        category: a category of :data:`SYNTH_CATEGORIES` (any spelling
            :func:`tryon.garment.category.normalise_category` accepts).
        seed: the variation's seed (any int >= 0); the same seed gives the same picture.
        size: (H, W) of the photo in pixels.

    Returns:
        ``(image, mask)``: (H, W, 3) uint8 RGB, and (H, W) float32 [0, 1] garment coverage.

    Raises:
        UsageError: ``category`` is not in :data:`SYNTH_CATEGORIES`.
    """
    sp = synth_spec(category, seed)
    img, mask = _render_spec(sp, size)
    rng = np.random.default_rng([seed, 1])
    H, W = mask.shape
    s = rng.uniform(0.78, 1.0)
    tx = W / 2 * (1 - s) + rng.uniform(-0.04, 0.04) * W
    ty = H / 2 * (1 - s) + rng.uniform(-0.04, 0.04) * H
    m = np.array([[s, 0, tx], [0, s, ty]], np.float32)
    img = cv2.warpAffine(img, m, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    mask = cv2.warpAffine(mask, m, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return img, mask
