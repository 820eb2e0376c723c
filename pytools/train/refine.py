"""Self-supervised training of the teacher's inpainting refiner (``tryon.models.teacher_refine``).

Hide a region of a real person photo, ask the network to reconstruct it, repeat. The hidden regions are
shaped like the holes the geometric teacher leaves (see ``docs/teacher-prototype.md``):

* arm capsules running down from the shoulders along the silhouette (an old long sleeve removed),
* bare skin hidden whole or in part (arms, neck, chest: the fill must be skin in the person's own tone),
* neck/chest blobs and V shapes (a lower neckline),
* thin bands along the silhouette and along random curves (background slivers, seams of the new garment),
* free-form brush strokes (the generic inpainting prior of Yu et al., "Free-Form Image Inpainting with Gated
  Convolution", ICCV 2019).

A one-channel hint tells the network whether a hidden pixel is skin (+1) or not (-1); in training it comes
from a YCrCb skin-colour rule on the hidden pixels (Chai & Ngan, "Face segmentation using skin-color map in
videothone applications", IEEE TCSVT 1999) and is dropped at random, at teacher time from the parse map.

Losses: L1 inside the hole, a small L1 outside (keeps the raw output an image), and an L1 on image gradients
in and around the hole (shading and edges rather than a flat average colour). No perceptual term: no VGG is
available here and EfficientNet-Lite0 features cost more than the whole network on a CPU.

Photos are decoded once into a uint8 cache (``photo_cache.npz`` in the output folder, never in the repo: the
photos are for non-commercial research only, and so are weights trained on them).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import cv2
import numpy as np
import typer  # light; annotations of the CLI command are resolved against module globals

from tryon.errors import DataError, UsageError
from tryon.processing import load_image, save_image
from tryon.teacher.refine import skin_mask  # the same rule defines the hint at training and teacher time

__all__ = [
    "RefineTrainConfig", "default_data_roots", "find_person_photos", "estimate_person_mask", "skin_mask",
    "prepare_photo", "build_photo_cache", "sample_hole", "make_batch", "refine_loss", "train_refiner",
    "export_weights", "save_inference_weights", "register_refine_command",
]

log = logging.getLogger(__name__)

_IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


def default_data_roots() -> tuple[str, ...]:
    """The person photos under ``$TRYON_SHARED_DIR`` (default ``<repo>/../shared``)/data."""
    from tryon.assets import shared_dir

    shared = shared_dir()
    return (str(shared / "data" / "more-photos"), str(shared / "data" / "vton-samples" / "person"))


@dataclass(frozen=True)
class RefineTrainConfig:
    """Everything that decides a training run (saved in every checkpoint).

    Attributes:
        data_roots: folders of person photos; a folder with a ``manifest.csv`` that has a ``role`` column
            contributes its ``role == person`` rows, any other folder every image below it.
        model: registered variant name (``tryon.models.list_models("teacher_refine_*")``).
        height, width: training crop size in pixels (multiples of 8).
        cache_height, cache_width: size of the decoded photo cache (3:4, upper body).
        batch_size: photos per step.
        steps: optimiser steps of the full schedule.
        max_minutes: wall-clock budget; training stops cleanly (and the learning-rate schedule follows
            whichever of steps or time runs out first). 0 = no limit.
        lr, lr_min: peak and final Adam learning rate (cosine decay after ``warmup_steps``).
        w_hole, w_valid, w_grad: loss weights (L1 in the hole, L1 outside, gradient L1 near the hole).
        hint_dropout: probability of training a sample with an all-zero ("unknown") hint.
        checkpoint_every: steps between checkpoints (+ loss curve + validation grid).
        log_every: steps between log lines.
        val_count: held-out photos for the validation loss and grid.
        max_images: use only the first N photos (tests); None = all.
        num_threads: torch CPU threads (the machine is shared: 1).
        seed: seeds numpy and torch.
        resume: continue from ``<out_dir>/last.pt`` when it exists.
        cache_path: photo cache file; None = ``<out_dir>/photo_cache.npz``.
    """

    data_roots: tuple[str, ...] = field(default_factory=default_data_roots)
    model: str = "teacher_refine_small"
    height: int = 128
    width: int = 96
    cache_height: int = 256
    cache_width: int = 192
    batch_size: int = 8
    steps: int = 6000
    max_minutes: float = 30.0
    lr: float = 2e-3
    lr_min: float = 5e-5
    warmup_steps: int = 100
    w_hole: float = 1.0
    w_valid: float = 0.1
    w_grad: float = 1.0
    hint_dropout: float = 0.3
    checkpoint_every: int = 250
    log_every: int = 50
    val_count: int = 8
    max_images: int | None = None
    num_threads: int = 1
    seed: int = 0
    resume: bool = False
    cache_path: str | None = None

    def validate(self) -> None:
        """Raise ``UsageError`` for values the training loop cannot work with."""
        if self.height % 8 or self.width % 8 or self.height < 16 or self.width < 16:
            raise UsageError(f"height and width must be multiples of 8, at least 16 (got {self.height}x{self.width})")
        if self.batch_size < 1 or self.steps < 1 or self.checkpoint_every < 1 or self.log_every < 1:
            raise UsageError("batch size, steps, checkpoint and log intervals must be positive")
        if not (0.0 <= self.hint_dropout <= 1.0):
            raise UsageError(f"hint dropout must be in [0, 1] (got {self.hint_dropout})")
        if self.lr <= 0 or self.lr_min < 0:
            raise UsageError("learning rates must be positive")


# ------------------------------------------------------------------------------------------------ data
def find_person_photos(roots: Sequence[str | os.PathLike]) -> list[Path]:
    """List the person photos under ``roots`` (sorted, deduplicated).

    Raises:
        DataError: a root does not exist, or no photo was found at all.
    """
    found: list[Path] = []
    for root in map(Path, roots):
        if not root.exists():
            raise DataError(f"training photos folder not found: {root}")
        manifest = root / "manifest.csv"
        rows = None
        if manifest.is_file():
            with manifest.open(newline="") as fh:
                reader = csv.DictReader(fh)
                if reader.fieldnames and "role" in reader.fieldnames and "file" in reader.fieldnames:
                    rows = [r for r in reader if r["role"] == "person"]
        if rows is not None:
            found += [root / r["file"] for r in rows if (root / r["file"]).is_file()]
        else:
            found += [p for p in root.rglob("*") if p.suffix.lower() in _IMAGE_EXTS and p.is_file()]
    found = sorted(set(found))
    if not found:
        raise DataError(f"no person photos found under {', '.join(map(str, roots))}")
    return found


def estimate_person_mask(image: np.ndarray) -> np.ndarray:
    """Rough person silhouette of a photo on a plain-ish background, without any model.

    Colour distance (CIE Lab) to the median border colour, cleaned by morphology, largest component,
    holes filled. Good on studio shots; only rough on busy backgrounds, which is enough to place holes.

    Args:
        image: (H, W, 3) uint8 RGB.

    Returns:
        (H, W) bool, True on the person.
    """
    h, w = image.shape[:2]
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    border = np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]])
    dist = np.linalg.norm(lab - np.median(border, axis=0), axis=2)
    fg = (dist > 18.0).astype(np.uint8)
    k = max(3, (min(h, w) // 64) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, kernel)
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, kernel, iterations=2)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if n <= 1:
        return np.zeros((h, w), bool)
    keep = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    fg = (labels == keep).astype(np.uint8)
    # Fill holes: flood the background from the border, whatever is not reached is person.
    flood = np.pad(1 - fg, 1, constant_values=1).astype(np.uint8)
    cv2.floodFill(flood, None, (0, 0), 2)
    return (flood[1:-1, 1:-1] != 2)


def prepare_photo(image: np.ndarray, size: tuple[int, int] = (256, 192), *,
                  squashed_square: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Crop a person photo to a 3:4 upper-body frame and resize it for the cache.

    Args:
        image: (H, W, 3) uint8 RGB.
        size: (height, width) of the result.
        squashed_square: the photo is a 3:4 shot squashed to a square (fashion-product-images); it is
            first stretched back to 3:4.

    Returns:
        (image (h, w, 3) uint8, person mask (h, w) bool).
    """
    th, tw = size
    if squashed_square:
        h = image.shape[0]
        image = cv2.resize(image, (h * 3 // 4, h), interpolation=cv2.INTER_AREA)
    h, w = image.shape[:2]
    scale = 512.0 / max(h, w)
    small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA) \
        if scale < 1 else image
    person = estimate_person_mask(small)
    ys, xs = np.nonzero(person)
    s = small.shape[0] / h
    if len(ys):
        top, cx = ys.min() / s, xs.mean() / s
    else:
        top, cx = 0.0, w / 2
    if h * tw > w * th:           # taller than 3:4: keep the top (head and upper body)
        ch = w * th / tw
        y0 = int(np.clip(top - 0.04 * ch, 0, h - ch))
        crop = image[y0:y0 + round(ch)]
    else:                         # wider: centre on the person
        cw = h * tw / th
        x0 = int(np.clip(cx - cw / 2, 0, w - cw))
        crop = image[:, x0:x0 + round(cw)]
    crop = cv2.resize(crop, (tw, th), interpolation=cv2.INTER_AREA)
    return crop, estimate_person_mask(crop)


def build_photo_cache(paths: Sequence[Path], cache_path: Path, size: tuple[int, int] = (256, 192)) -> dict:
    """Decode every photo once into ``cache_path`` (npz: images (N,h,w,3) u8, persons (N,h,w) bool, names).

    ``requested`` (the full path list) decides reuse, so skipped files do not force a rebuild.

    Unreadable files are skipped with a warning. Written atomically; reused when it exists and matches.

    Raises:
        DataError: no photo could be decoded.
    """
    cache_path = Path(cache_path)
    if cache_path.is_file():
        with np.load(cache_path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        if data["images"].shape[1:3] == tuple(size) and list(data["requested"]) == [str(p) for p in paths]:
            return data
        log.info("photo cache %s does not match the photo list; rebuilding", cache_path)
    from rich.progress import Progress

    images, persons, names = [], [], []
    with Progress(transient=True) as progress:
        task = progress.add_task("decoding photos", total=len(paths))
        for p in paths:
            try:
                img = load_image(p, min_side=32)
            except Exception as exc:  # noqa: BLE001  a bad photo must not end a long run
                log.warning("skipping %s: %s", p, exc)
                progress.advance(task)
                continue
            squashed = "fashion-product-images" in p.parts and abs(img.shape[0] - img.shape[1]) <= 2
            crop, person = prepare_photo(img, size, squashed_square=squashed)
            images.append(crop)
            persons.append(person)
            names.append(str(p))
            progress.advance(task)
    if not images:
        raise DataError("none of the training photos could be decoded")
    data = {"images": np.stack(images), "persons": np.stack(persons), "names": np.array(names),
            "requested": np.array([str(p) for p in paths])}
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_path.with_name(cache_path.name + ".tmp.npz")
    np.savez(tmp, **data)
    os.replace(tmp, cache_path)
    return data


# ----------------------------------------------------------------------------------------------- holes
def _capsule(mask: np.ndarray, pts: Sequence[tuple[float, float]], radius: float) -> None:
    pts_i = np.round(np.asarray(pts)).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(mask, [pts_i], False, 1, thickness=max(1, int(round(2 * radius))), lineType=cv2.LINE_8)


def _arm_capsules(person: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Capsules from the shoulder region down along the silhouette's sides, sometimes bent at an elbow."""
    h, w = person.shape
    hole = np.zeros((h, w), np.uint8)
    rows = np.nonzero(person.any(1))[0]
    top = rows[0] if len(rows) else 0
    sides = [s for s in (0, 1) if rng.random() < 0.6] or [int(rng.integers(2))]
    for side in sides:
        y = int(np.clip(top + rng.uniform(0.15, 0.35) * h, 0, h - 1))
        xs = np.nonzero(person[y])[0]
        r = rng.uniform(0.045, 0.09) * w
        if len(xs):
            x = xs[0] + r * rng.uniform(0.6, 1.4) if side == 0 else xs[-1] - r * rng.uniform(0.6, 1.4)
        else:
            x = rng.uniform(0.15, 0.35) * w if side == 0 else rng.uniform(0.65, 0.85) * w
        out = -1.0 if side == 0 else 1.0
        ang = math.radians(rng.uniform(-12, 30)) * out
        length = rng.uniform(0.2, 0.55) * h
        pts = [(x, y)]
        seg = length * rng.uniform(0.45, 0.6) if rng.random() < 0.5 else length
        pts.append((pts[-1][0] + seg * math.sin(ang), pts[-1][1] + seg * math.cos(ang)))
        if seg < length:
            ang2 = ang - out * math.radians(rng.uniform(0, 60))
            rest = length - seg
            pts.append((pts[-1][0] + rest * math.sin(ang2), pts[-1][1] + rest * math.cos(ang2)))
        _capsule(hole, pts, r)
    return hole.astype(bool)


def _skin_cover(image: np.ndarray, person: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """Hide a bare-skin region below the face (arm, neck, chest), in full or a random part of it."""
    h, w = person.shape
    skin = (skin_mask(image) & person).astype(np.uint8)
    rows = np.nonzero(person.any(1))[0]
    top = rows[0] if len(rows) else 0
    # The face is not a teacher hole: cut skin above about chin level (head ≈ top fifth of an upper-body shot).
    skin[: int(top + 0.2 * h)] = 0
    skin = cv2.morphologyEx(skin, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, labels, stats, _centroids = cv2.connectedComponentsWithStats(skin, connectivity=8)
    # Very large "skin" regions are skin-coloured clothes (beige, yellow): skip them.
    cand = [i for i in range(1, n) if max(12, h * w // 400) <= stats[i, cv2.CC_STAT_AREA] <= 0.12 * h * w]
    if not cand:
        return None
    i = int(rng.choice(cand))
    comp = labels == i
    if rng.random() < 0.5:       # part of it: a band across the component
        x0, y0, bw, bh = stats[i, :4]
        frac = rng.uniform(0.4, 0.9)
        if bh >= bw:
            ys = int(y0 + rng.uniform(0, 1 - frac) * bh)
            part = np.zeros_like(comp)
            part[ys:ys + max(2, int(frac * bh))] = True
        else:
            xs = int(x0 + rng.uniform(0, 1 - frac) * bw)
            part = np.zeros_like(comp)
            part[:, xs:xs + max(2, int(frac * bw))] = True
        comp &= part
    k = int(rng.integers(1, 4)) * 2 + 1
    return cv2.dilate(comp.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)


def _neck_blob(person: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An ellipse or a V below the chin: what a lower neckline uncovers."""
    h, w = person.shape
    hole = np.zeros((h, w), np.uint8)
    rows = np.nonzero(person.any(1))[0]
    top = rows[0] if len(rows) else 0
    band = person[top:top + max(1, int(0.3 * h))]
    cx = float(np.nonzero(band)[1].mean()) if band.any() else w / 2
    cy = top + rng.uniform(0.22, 0.4) * h
    if rng.random() < 0.5:
        axes = (max(2, int(rng.uniform(0.08, 0.2) * w)), max(2, int(rng.uniform(0.04, 0.12) * h)))
        cv2.ellipse(hole, (int(cx), int(cy)), axes, 0, 0, 360, 1, -1)
    else:
        hw, depth = rng.uniform(0.08, 0.2) * w, rng.uniform(0.08, 0.2) * h
        pts = np.array([[cx - hw, cy - depth / 3], [cx + hw, cy - depth / 3], [cx, cy + depth]], np.int32)
        cv2.fillPoly(hole, [pts], 1)
    return hole.astype(bool)


def _contour_band(person: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A thin band along part of the silhouette (background sliver) or along a random curve (a seam)."""
    h, w = person.shape
    hole = np.zeros((h, w), np.uint8)
    thick = int(rng.integers(2, max(3, int(0.07 * w)) + 1))
    contours, _ = cv2.findContours(person.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if contours and rng.random() < 0.6:
        c = max(contours, key=len)[:, 0]
        n = len(c)
        if n >= 8:
            start, length = int(rng.integers(n)), int(n * rng.uniform(0.1, 0.4))
            seg = c[(start + np.arange(length)) % n]
            cv2.polylines(hole, [seg.reshape(-1, 1, 2).astype(np.int32)], False, 1, thickness=thick)
            return hole.astype(bool)
    # A smooth random curve (quadratic Bézier) across the upper body.
    p = rng.uniform([0.1 * w, 0.15 * h], [0.9 * w, 0.85 * h], size=(3, 2))
    t = np.linspace(0, 1, 40)[:, None]
    curve = (1 - t) ** 2 * p[0] + 2 * (1 - t) * t * p[1] + t ** 2 * p[2]
    cv2.polylines(hole, [curve.reshape(-1, 1, 2).astype(np.int32)], False, 1, thickness=thick)
    return hole.astype(bool)


def _strokes(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Free-form brush strokes (DeepFill v2 style)."""
    h, w = shape
    hole = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        pts = [(x, y)]
        for _ in range(int(rng.integers(2, 6))):
            a, ln = rng.uniform(0, 2 * math.pi), rng.uniform(0.08, 0.25) * h
            x, y = np.clip(x + ln * math.cos(a), 0, w - 1), np.clip(y + ln * math.sin(a), 0, h - 1)
            pts.append((x, y))
        _capsule(hole, pts, rng.uniform(0.02, 0.06) * w)
    return hole.astype(bool)


HOLE_KINDS = ("arm", "skin", "neck", "band", "stroke")
_HOLE_P = np.array([0.3, 0.3, 0.15, 0.15, 0.1])


def sample_hole(image: np.ndarray, person: np.ndarray, rng: np.random.Generator,
                kind: str | None = None) -> np.ndarray:
    """Sample one training hole shaped like the teacher's holes.

    Args:
        image: (H, W, 3) uint8 RGB crop (for the skin detector).
        person: (H, W) bool rough person mask of the crop.
        rng: numpy generator.
        kind: one of ``HOLE_KINDS``; None = random (arm 30 %, skin 30 %, neck 15 %, band 15 %, stroke 10 %).

    Returns:
        (H, W) bool hole covering between about 0.5 % and 45 % of the crop.
    """
    h, w = person.shape
    for _ in range(8):
        k = kind or str(rng.choice(HOLE_KINDS, p=_HOLE_P))
        if k == "arm":
            hole = _arm_capsules(person, rng)
        elif k == "skin":
            hole = _skin_cover(image, person, rng)
            if hole is None:
                hole = _arm_capsules(person, rng)
        elif k == "neck":
            hole = _neck_blob(person, rng)
        elif k == "band":
            hole = _contour_band(person, rng)
        else:
            hole = _strokes((h, w), rng)
        if kind is None and rng.random() < 0.2:  # sometimes two kinds at once, as in a real try-on
            hole |= _contour_band(person, rng)
        frac = hole.mean()
        if 0.005 <= frac <= 0.45:
            return hole
    return _strokes((h, w), rng)


def make_batch(images: np.ndarray, persons: np.ndarray, idx: Sequence[int], cfg: RefineTrainConfig,
               rng: np.random.Generator, *, augment: bool = True,
               kinds: Sequence[str | None] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crop, augment and hole-punch a batch.

    Returns:
        image (N, 3, h, w) float32 [-1, 1] (the original, the target), hole (N, 1, h, w) float32 {0, 1},
        hint (N, 1, h, w) float32 in {-1, 0, 1} (+1 hidden skin, -1 hidden non-skin, 0 outside / dropped).
    """
    n, (th, tw) = len(idx), (cfg.height, cfg.width)
    out_img = np.empty((n, th, tw, 3), np.uint8)
    out_hole = np.empty((n, th, tw), np.float32)
    out_hint = np.zeros((n, th, tw), np.float32)
    ch, cw = images.shape[1:3]
    for j, i in enumerate(idx):
        img, per = images[i], persons[i]
        if augment and rng.random() < 0.6:
            s = rng.uniform(0.55, 1.0)
            hh, ww = int(ch * s), int(cw * s)
            y0, x0 = int(rng.integers(0, ch - hh + 1)), int(rng.integers(0, cw - ww + 1))
            img, per = img[y0:y0 + hh, x0:x0 + ww], per[y0:y0 + hh, x0:x0 + ww]
        img = cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA)
        per = cv2.resize(per.astype(np.uint8), (tw, th), interpolation=cv2.INTER_NEAREST).astype(bool)
        if augment and rng.random() < 0.5:
            img, per = img[:, ::-1], per[:, ::-1]
        if augment:
            gain = rng.uniform(0.9, 1.1)
            img = np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)
        img = np.ascontiguousarray(img)
        per = np.ascontiguousarray(per)
        hole = sample_hole(img, per, rng, kind=None if kinds is None else kinds[j])
        out_img[j], out_hole[j] = img, hole
        if not augment or rng.random() >= cfg.hint_dropout:
            out_hint[j] = np.where(hole, np.where(skin_mask(img), 1.0, -1.0), 0.0)
    x = out_img.transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0
    return x, out_hole[:, None], out_hint[:, None]


# ---------------------------------------------------------------------------------------------- losses
def refine_loss(pred, target, hole, cfg: RefineTrainConfig):
    """Weighted training loss.

    Args:
        pred, target: (N, 3, H, W) torch float32 in [-1, 1]; hole: (N, 1, H, W) {0, 1}.

    Returns:
        (total loss tensor, dict of float components: hole, valid, grad).
    """
    import torch.nn.functional as F

    err = (pred - target).abs()
    l_hole = (err * hole).sum() / (hole.sum() * 3 + 1e-6)
    l_valid = (err * (1 - hole)).mean()
    comp = target * (1 - hole) + pred * hole
    near = F.max_pool2d(hole, 3, stride=1, padding=1)
    gx = lambda t: t[..., :, 1:] - t[..., :, :-1]  # noqa: E731
    gy = lambda t: t[..., 1:, :] - t[..., :-1, :]  # noqa: E731
    wx, wy = near[..., :, 1:], near[..., 1:, :]
    l_grad = ((gx(comp) - gx(target)).abs() * wx).sum() / (wx.sum() * 3 + 1e-6) \
        + ((gy(comp) - gy(target)).abs() * wy).sum() / (wy.sum() * 3 + 1e-6)
    total = cfg.w_hole * l_hole + cfg.w_valid * l_valid + cfg.w_grad * l_grad
    parts = {"hole": float(l_hole.detach()), "valid": float(l_valid.detach()), "grad": float(l_grad.detach())}
    return total, parts


# --------------------------------------------------------------------------------------- visual output
def _to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip((x.transpose(1, 2, 0) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


def save_val_grid(path: Path, target: np.ndarray, hole: np.ndarray, comp: np.ndarray, scale: int = 2) -> None:
    """Rows of masked input (hole in magenta) | output | original, upscaled ``scale``× (nearest)."""
    rows = []
    for t, m, c in zip(target, hole, comp, strict=True):
        orig, out = _to_u8(t), _to_u8(c)
        masked = orig.copy()
        masked[m[0] > 0.5] = (255, 0, 255)
        rows.append(np.concatenate([masked, out, orig], axis=1))
    grid = np.concatenate(rows, axis=0)
    grid = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    save_image(path, grid)


def save_loss_curve(path: Path, history: list[dict], val_history: list[dict]) -> None:
    """Plot the training loss (moving average) and the validation loss against samples seen (Pillow only)."""
    from PIL import Image, ImageDraw

    W, H, pad = 720, 400, 50
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    if not history:
        img.save(path)
        return
    xs = np.array([h["samples"] for h in history], np.float64)
    ys = np.array([h["loss"] for h in history], np.float64)
    k = max(1, len(ys) // 50)
    ys_s = np.convolve(ys, np.ones(k) / k, mode="valid")
    xs_s = xs[k - 1:]
    vx = np.array([v["samples"] for v in val_history], np.float64)
    vy = np.array([v["loss"] for v in val_history], np.float64)
    all_y = np.concatenate([ys_s, vy]) if len(vy) else ys_s
    y_lo, y_hi = float(all_y.min()) * 0.95, float(np.percentile(all_y, 98)) * 1.05 + 1e-9
    x_hi = max(float(xs.max()), 1.0)

    def pt(x, y):
        return (pad + (W - 2 * pad) * x / x_hi, H - pad - (H - 2 * pad) * (min(y, y_hi) - y_lo) / (y_hi - y_lo))

    d.rectangle([pad, pad, W - pad, H - pad], outline="black")
    for f in np.linspace(0, 1, 5):
        yv = y_lo + f * (y_hi - y_lo)
        d.text((4, pt(0, yv)[1] - 6), f"{yv:.3f}", fill="black")
        d.text((pt(f * x_hi, y_lo)[0] - 15, H - pad + 6), f"{int(f * x_hi)}", fill="black")
    d.line([pt(x, y) for x, y in zip(xs_s, ys_s, strict=True)], fill=(31, 119, 180), width=2)
    if len(vx):
        if len(vx) > 1:
            d.line([pt(x, y) for x, y in zip(vx, vy, strict=True)], fill=(214, 39, 40), width=2)
        for x, y in zip(vx, vy, strict=True):
            cx, cy = pt(x, y)
            d.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=(214, 39, 40))
    d.text((pad, 15), "refiner loss vs samples seen  (blue: train, moving avg; red: validation)", fill="black")
    tmp = Path(str(path) + ".tmp.png")
    img.save(tmp)
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------------- training
def _atomic_torch_save(obj: Any, path: Path) -> None:
    import torch

    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _lr_at(cfg: RefineTrainConfig, step: int, progress: float) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    return cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * min(1.0, progress)))


def train_refiner(config: RefineTrainConfig, out_dir: str | os.PathLike) -> Path:
    """Train (or resume training) the refiner; returns the path of the final checkpoint ``last.pt``.

    Writes into ``out_dir``: ``last.pt`` (atomic, every ``checkpoint_every`` steps and at the end),
    ``loss_curve.png``, ``val_grid.png`` (masked input | output | original on fixed held-out photos and
    holes), ``history.json`` and ``photo_cache.npz`` unless ``config.cache_path`` names another place.

    Raises:
        UsageError: invalid configuration, or ``resume`` with a checkpoint from another model variant.
        DataError: no usable training photos.
    """
    import torch

    from tryon.models import is_model

    config.validate()
    if not is_model(config.model):
        raise UsageError(f"unknown model variant {config.model!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(config.num_threads)
    try:
        return _train(config, out)
    finally:
        torch.set_num_threads(threads)


def _train(config: RefineTrainConfig, out: Path) -> Path:
    import torch
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
        TimeRemainingColumn

    from tryon.models import create_model

    torch.manual_seed(config.seed)

    paths = find_person_photos(config.data_roots)
    if config.max_images:
        paths = paths[: config.max_images]
    cache = build_photo_cache(paths, Path(config.cache_path) if config.cache_path else out / "photo_cache.npz",
                              (config.cache_height, config.cache_width))
    images, persons = cache["images"], cache["persons"]
    n = len(images)
    perm = np.random.default_rng(1234).permutation(n)
    n_val = min(config.val_count, max(1, n // 5)) if n > 1 else 0
    val_idx, train_idx = perm[:n_val], (perm[n_val:] if n > n_val else perm)
    vrng = np.random.default_rng(4321)
    val_kinds = [("skin", "arm", "skin", "neck", "skin", "arm", "band", "skin")[i % 8] for i in range(n_val)]
    val_batch = make_batch(images, persons, val_idx, config, vrng, augment=False, kinds=val_kinds) \
        if n_val else None

    model = create_model(config.model).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, betas=(0.9, 0.99))
    step, samples, elapsed = 0, 0, 0.0
    history: list[dict] = []
    val_history: list[dict] = []
    rng = np.random.default_rng(config.seed)
    ckpt_path = out / "last.pt"
    if config.resume and ckpt_path.is_file():
        ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        if ck["config"]["model"] != config.model:
            raise UsageError(f"{ckpt_path} holds {ck['config']['model']}, not {config.model}")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optim"])
        step, samples, elapsed = ck["step"], ck["samples"], ck["elapsed"]
        history, val_history = ck["history"], ck["val_history"]
        rng.bit_generator.state = ck["rng"]
        torch.set_rng_state(ck["torch_rng"])
        log.info("resumed from %s at step %d (%d samples, %.1f min)", ckpt_path, step, samples, elapsed / 60)

    def to_t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a).contiguous(memory_format=torch.channels_last)

    def checkpoint() -> None:
        if val_batch is not None:
            model.eval()
            with torch.no_grad():
                x, m, hint = map(to_t, val_batch)
                pred = model(x, m, hint)
                vloss, vparts = refine_loss(pred, x, m, config)
                comp = (x * (1 - m) + pred * m).numpy()
            model.train()
            val_history.append({"step": step, "samples": samples, "loss": float(vloss), **vparts})
            save_val_grid(out / "val_grid.png", val_batch[0], val_batch[1], comp)
            log.info("step %d  val loss %.4f (hole %.4f, grad %.4f)", step, float(vloss), vparts["hole"],
                     vparts["grad"])
        _atomic_torch_save({
            "model": model.state_dict(), "optim": opt.state_dict(), "step": step, "samples": samples,
            "elapsed": elapsed, "history": history, "val_history": val_history,
            "config": dataclasses.asdict(config), "rng": rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
        }, ckpt_path)
        save_loss_curve(out / "loss_curve.png", history, val_history)
        tmp = out / "history.json.tmp"
        tmp.write_text(json.dumps({"train": history, "val": val_history}))
        os.replace(tmp, out / "history.json")

    budget = config.max_minutes * 60.0
    model.train()
    start_step = last_ckpt = step
    start_elapsed = elapsed
    with Progress(TextColumn("[bold]train-refine"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn()) as progress:
        task = progress.add_task("train", total=config.steps, completed=step, info="")
        t_last = time.perf_counter()
        while step < config.steps and not (budget and elapsed >= budget):
            frac = max(step / config.steps, elapsed / budget if budget else 0.0)
            lr = _lr_at(config, step, frac)
            for g in opt.param_groups:
                g["lr"] = lr
            idx = rng.choice(train_idx, size=config.batch_size, replace=len(train_idx) < config.batch_size)
            x, m, hint = map(to_t, make_batch(images, persons, idx, config, rng))
            pred = model(x, m, hint)
            loss, parts = refine_loss(pred, x, m, config)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            samples += config.batch_size
            now = time.perf_counter()
            elapsed += now - t_last
            t_last = now
            history.append({"step": step, "samples": samples, "loss": float(loss.detach()), "lr": lr, **parts})
            progress.update(task, completed=step, info=f"loss {float(loss.detach()):.4f} lr {lr:.1e}")
            if step % config.log_every == 0:
                recent = history[-config.log_every:]
                log.info("step %d  samples %d  loss %.4f (hole %.4f)  lr %.2e  %.2f s/step  %.1f min", step,
                         samples, np.mean([h["loss"] for h in recent]), np.mean([h["hole"] for h in recent]),
                         lr, (elapsed - start_elapsed) / max(1, step - start_step), elapsed / 60)
            if step % config.checkpoint_every == 0:
                checkpoint()
                last_ckpt = step
                t_last = time.perf_counter()   # checkpoint time does not eat the training budget
    if step != last_ckpt:
        checkpoint()
    log.info("finished at step %d, %d samples, %.1f min", step, samples, elapsed / 60)
    return ckpt_path


def save_inference_weights(model, dst: str | os.PathLike, *, variant: str, train_size: tuple[int, int] = (128, 96),
                           **meta: Any) -> Path:
    """Write a model's inference weights (float16) in the format ``tryon.teacher.refine.Refiner`` loads.

    The file loads with ``torch.load(dst, weights_only=True)``: keys ``variant``, ``arch``, ``state_dict``
    (float16 tensors), ``train_size`` [h, w], plus ``meta`` (samples, steps, val_loss, ...).
    """
    arch = {k: list(v) if isinstance(v, tuple) else v for k, v in model.default_cfg["arch"].items()}
    state = {k: v.detach().half() for k, v in model.state_dict().items()}
    obj = {"variant": variant, "arch": arch, "state_dict": state, "train_size": list(train_size), **meta}
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    _atomic_torch_save(obj, dst)
    return dst


def export_weights(checkpoint: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Write the float16 inference weights of a training checkpoint (see :func:`save_inference_weights`)."""
    import torch

    from tryon.models import create_model

    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
    model = create_model(ck["config"]["model"])
    model.load_state_dict(ck["model"])
    return save_inference_weights(
        model, dst, variant=ck["config"]["model"], train_size=(ck["config"]["height"], ck["config"]["width"]),
        samples=ck["samples"], steps=ck["step"],
        val_loss=ck["val_history"][-1]["loss"] if ck["val_history"] else None)


# ------------------------------------------------------------------------------------------------- CLI
def register_refine_command(teacher_app: typer.Typer) -> None:
    """Add ``train-refine`` to the ``tryon teacher`` Typer sub-app (every flag has help text)."""
    defaults = RefineTrainConfig()

    @teacher_app.command("train-refine")
    def train_refine_cmd(
        out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: checkpoint, loss curve, validation "
                                          "grid, photo cache (keep it outside the repository: non-commercial "
                                          "data).")],
        data: Annotated[list[Path] | None, typer.Option(
            "--data", help="Person photo folder (repeatable). Default: ../shared/data/more-photos and "
            "../shared/data/vton-samples/person.")] = None,
        model: Annotated[str, typer.Option(help="Registered model variant (teacher_refine_*).")] = defaults.model,
        steps: Annotated[int, typer.Option(min=1, help="Optimiser steps of the full schedule.")] = defaults.steps,
        max_minutes: Annotated[float, typer.Option(
            min=0.0, help="Wall-clock budget in minutes (0 = none); stops cleanly.")] = defaults.max_minutes,
        batch_size: Annotated[int, typer.Option(min=1, help="Photos per step.")] = defaults.batch_size,
        height: Annotated[int, typer.Option(help="Training crop height, pixels (multiple of 8).")] = defaults.height,
        width: Annotated[int, typer.Option(help="Training crop width, pixels (multiple of 8).")] = defaults.width,
        lr: Annotated[float, typer.Option(help="Peak Adam learning rate.")] = defaults.lr,
        checkpoint_every: Annotated[int, typer.Option(
            min=1, help="Steps between checkpoints and validation grids.")] = defaults.checkpoint_every,
        threads: Annotated[int, typer.Option(min=1, help="torch CPU threads.")] = defaults.num_threads,
        seed: Annotated[int, typer.Option(help="Random seed.")] = defaults.seed,
        max_images: Annotated[int | None, typer.Option(
            min=1, help="Use only the first N photos (smoke tests).")] = None,
        resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT/last.pt when it exists.")] = False,
        export: Annotated[Path | None, typer.Option(
            help="Also write float16 inference weights here (e.g. models/weights/teacher_refine.pt).")] = None,
    ) -> None:
        """Train the teacher's inpainting refiner self-supervised on real person photos (CPU-friendly)."""
        cfg_kw: dict[str, Any] = dict(model=model, steps=steps, max_minutes=max_minutes, batch_size=batch_size,
                                      height=height, width=width, lr=lr, checkpoint_every=checkpoint_every,
                                      num_threads=threads, seed=seed, max_images=max_images, resume=resume)
        if data:
            cfg_kw["data_roots"] = tuple(str(d) for d in data)
        ckpt = train_refiner(RefineTrainConfig(**cfg_kw), out)
        if export:
            export_weights(ckpt, export)
        log.info("checkpoint: %s", ckpt)


def _main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    app = typer.Typer(add_completion=False)
    register_refine_command(app)

    @app.callback()
    def _cb() -> None:
        """Standalone entry point (`python -m tryon.train.refine train-refine ...`)."""

    app()


if __name__ == "__main__":
    _main()
