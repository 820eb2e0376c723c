"""Training of the learned garment segmenter (``tryon.models.garment_seg``) on the project's garment photos.

Labels (``docs/garment-mask.md``):

* pseudo-labels: the classical cut-out (:func:`tryon.garment.mask.classical_mask`) of every garment photo of
  ``../shared/data`` whose own confidence (stability under halved/doubled background tolerances) is at least
  ``min_confidence``; the 27 reference-mask garments (and their raw originals) and all of wild-dev are held out
  for evaluation;
* exact labels: the project's procedural catalogue garments (``tryon.garment.catalogue``).

Hard cases get labels by compositing (Dwibedi et al., "Cut, Paste and Learn", ICCV 2017): a confident garment
is pasted, with its soft mask as alpha, onto a synthetic shop background — white, grey, beige or a pastel tint,
a linear or radial gradient, a soft drop shadow, sensor noise, and with probability ``p_same`` a background of
nearly the garment's own colour (white on white, navy on navy). The rest of the batch is the photo itself.

Photos are decoded once into a uint8 cache (``garseg_cache.npz`` in the output folder, never in the repo: the
photos are for non-commercial research only, and so are weights trained on them).
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import cv2
import numpy as np
import typer  # light; annotations of the CLI command are resolved against module globals

from tryon.assets import shared_dir
from tryon.errors import BusyBackgroundError, DataError
from tryon.garment.segmenter import export_onnx  # re-exported: `python -m tryon.train.garseg onnx`
from tryon.processing import load_image, save_image

__all__ = ["GarsegTrainConfig", "training_photos", "held_out_names", "build_cache", "augment", "make_batch",
           "seg_loss", "train_garseg", "save_inference_weights", "export_onnx"]

log = logging.getLogger(__name__)

_IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp"}


@dataclass
class GarsegTrainConfig:
    """Every setting of a training run (one source of truth; the CLI forwards to it).

    Attributes:
        data_root: the shared data folder (``vton-samples``, ``more-photos`` inside).
        model: registered ``garment_seg_*`` variant.
        height, width: training size in pixels (multiples of 16; the photo is squashed to it).
        min_confidence: the classical cut-out's confidence from which a photo's pseudo-label is used.
        steps, batch_size, lr: optimiser steps, photos per step, peak Adam learning rate (cosine decay).
        max_minutes: wall-clock budget (0 = none); whichever of steps or budget ends first ends the run.
        p_composite: share of samples pasted onto a synthetic background; p_same: of those, the share whose
            background is nearly the garment's own colour.
        threads: torch CPU threads (1 by default: on a shared, oversubscribed CPU two OpenMP threads waiting
            on each other ran 15-20x slower per step than one, measured 6.6 s vs 0.37 s at load 16 on 2 cores).
        seed: random seed.
    """

    data_root: str = str(shared_dir() / "data")
    model: str = "garment_seg_small"
    height: int = 128
    width: int = 96
    min_confidence: float = 0.8
    steps: int = 3000
    batch_size: int = 8
    lr: float = 3e-3
    max_minutes: float = 25.0
    p_composite: float = 0.7
    p_same: float = 0.3
    threads: int = 1
    seed: int = 0


def held_out_names(data_root: str | os.PathLike) -> set[str]:
    """File names of the reference-mask garments (``vton-samples/garment_mask``), never trained on."""
    d = Path(data_root) / "vton-samples" / "garment_mask"
    return {p.name for p in d.iterdir()} if d.is_dir() else set()


def training_photos(data_root: str | os.PathLike) -> list[Path]:
    """Garment photos to pseudo-label: ``vton-samples/garment`` less the reference-mask garments and every
    maple-cpvton photo (their raw originals are the same garments), plus ``more-photos`` rows of role
    ``garment``. wild-dev is never used.

    Raises:
        DataError: no photo found under ``data_root``.
    """
    root = Path(data_root)
    held = held_out_names(root)
    out = [p for p in sorted((root / "vton-samples" / "garment").glob("*"))
           if p.suffix.lower() in _IMAGE_EXTS and p.name not in held and not p.name.startswith("maple-cpvton")]
    man = root / "more-photos" / "manifest.csv"
    if man.is_file():
        with man.open() as f:
            out += [root / "more-photos" / r["file"] for r in csv.DictReader(f) if r["role"] == "garment"]
    out = [p for p in out if p.is_file()]
    if not out:
        raise DataError(f"no garment photos under {root} (vton-samples/garment, more-photos): pass --data")
    return out


def build_cache(paths: list[Path], cache: Path, size: tuple[int, int], min_confidence: float) -> dict[str, Any]:
    """Pseudo-label every photo once and keep the confident ones (plus the catalogue garments) in ``cache``.

    Returns:
        ``{"images": (N, h, w, 3) uint8, "masks": (N, h, w) uint8 0..255, "names": (N,) str,
        "confidence": (N,) float32}``; the catalogue garments have confidence 1.
    """
    from rich.progress import track

    from tryon.garment import catalogue
    from tryon.garment.mask import classical_mask

    h, w = size
    if cache.is_file():
        with np.load(cache) as z:
            out = {k: z[k] for k in z.files}
        if out["images"].shape[1:3] != (h, w):  # a cache made at another size: resize, no re-labelling
            out["images"] = np.stack([cv2.resize(i, (w, h), interpolation=cv2.INTER_AREA) for i in out["images"]])
            out["masks"] = np.stack([cv2.resize(m, (w, h), interpolation=cv2.INTER_AREA) for m in out["masks"]])
        return out
    images, masks, names, conf = [], [], [], []
    refused = 0
    for p in track(paths, description="pseudo-labelling"):
        img = load_image(p, min_side=1)
        try:
            m, c = classical_mask(img)
        except BusyBackgroundError:
            refused += 1
            continue
        if c < min_confidence:
            continue
        images.append(cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA))
        masks.append(np.round(cv2.resize(m, (w, h), interpolation=cv2.INTER_AREA) * 255).astype(np.uint8))
        names.append(str(p.relative_to(p.parents[1])))
        conf.append(c)
    log.info("%d photos, %d refused (busy background), %d confident (>= %.2f)", len(paths), refused, len(images),
             min_confidence)
    for name in catalogue.list_garments():
        img, truth = catalogue.render_garment(name, size=(4 * h, 4 * w))
        images.append(cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA))
        masks.append(np.round(cv2.resize(truth, (w, h), interpolation=cv2.INTER_AREA) * 255).astype(np.uint8))
        names.append(f"catalogue/{name}")
        conf.append(1.0)
    out = {"images": np.stack(images), "masks": np.stack(masks), "names": np.array(names),
           "confidence": np.array(conf, np.float32)}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **out)
    return out


def _background(h: int, w: int, garment_rgb: np.ndarray, rng: np.random.Generator, p_same: float) -> np.ndarray:
    """A synthetic studio background (h, w, 3) float32 in [0, 255]."""
    kind = rng.random()
    if rng.random() < p_same:
        base = np.clip(garment_rgb + rng.normal(0, 6, 3), 0, 255)        # white on white, navy on navy
    elif kind < 0.3:
        base = np.full(3, rng.uniform(225, 255))                          # white / off-white paper
    elif kind < 0.5:
        base = np.full(3, rng.uniform(120, 225))                          # grey
    elif kind < 0.7:
        base = np.array([rng.uniform(215, 245), rng.uniform(200, 230), rng.uniform(170, 210)])  # beige
    else:
        hue = np.uint8(rng.integers(0, 180))                              # pastel or saturated tint
        hsv = np.array([[[hue, rng.integers(30, 160), rng.integers(120, 250)]]], np.uint8)
        base = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)
    bg = np.broadcast_to(base.astype(np.float32), (h, w, 3)).copy()
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    g = rng.random()
    if g < 0.4:                                                           # linear gradient
        a = rng.uniform(0, 2 * math.pi)
        t = ((xx / w - 0.5) * math.cos(a) + (yy / h - 0.5) * math.sin(a))
        bg += (t * rng.uniform(-60, 60))[..., None]
    elif g < 0.7:                                                         # radial vignette / spotlight
        cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
        r = np.sqrt(((xx - cx) / w) ** 2 + ((yy - cy) / h) ** 2)
        bg += (r * rng.uniform(-80, 30))[..., None]
    return bg


def augment(image: np.ndarray, mask: np.ndarray, rng: np.random.Generator, cfg: GarsegTrainConfig
            ) -> tuple[np.ndarray, np.ndarray]:
    """One training sample from a cached photo.

    Args:
        image: (h, w, 3) uint8; mask: (h, w) uint8 0..255 (garment = 255).

    Returns:
        ``(image, mask)``: (h, w, 3) uint8 and (h, w) float32 in [0, 1].
    """
    h, w = mask.shape
    a = mask.astype(np.float32) / 255.0
    img = image.astype(np.float32)
    if rng.random() < 0.5:
        img, a = img[:, ::-1], a[:, ::-1]
    s = rng.uniform(0.7, 1.1)
    ang = rng.uniform(-8, 8)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), ang, s)
    m[:, 2] += (rng.uniform(-0.1, 0.1) * w, rng.uniform(-0.1, 0.1) * h)
    composite = rng.random() < cfg.p_composite
    img = cv2.warpAffine(np.ascontiguousarray(img), m, (w, h), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    a = cv2.warpAffine(np.ascontiguousarray(a), m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    if composite:
        core = a > 0.9
        colour = np.median(img[core], axis=0) if core.any() else np.full(3, 240.0)
        bg = _background(h, w, colour, rng, cfg.p_same)
        if rng.random() < 0.6:                                            # soft drop shadow
            off = rng.integers(-6, 7, 2)
            sh = cv2.warpAffine(a, np.float32([[1, 0, off[0]], [0, 1, off[1]]]), (w, h))
            sh = cv2.GaussianBlur(sh, (0, 0), rng.uniform(2, 7))
            bg *= 1.0 - rng.uniform(0.1, 0.45) * sh[..., None]
        # Slightly hard alpha: the pseudo-label's soft rim holds the original paper's colour.
        alpha = np.clip((a - 0.5) * 2.0 + 0.5, 0, 1)[..., None]
        img = img * alpha + bg * (1 - alpha)
    img = img * rng.uniform(0.85, 1.15) + rng.uniform(-15, 15)
    img = img + rng.normal(0, rng.uniform(0, 3), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), (a > 0.5).astype(np.float32)


def make_batch(cache: dict[str, Any], idx: np.ndarray, rng: np.random.Generator, cfg: GarsegTrainConfig,
               augment_it: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3, h, w) float32 images in [-1, 1] and (N, 1, h, w) float32 {0, 1} masks."""
    xs, ys = [], []
    for i in idx:
        if augment_it:
            img, m = augment(cache["images"][i], cache["masks"][i], rng, cfg)
        else:
            img, m = cache["images"][i], (cache["masks"][i] > 127).astype(np.float32)
        xs.append(img.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0)
        ys.append(m[None])
    return np.stack(xs), np.stack(ys)


def seg_loss(logits, target):
    """Binary cross-entropy + soft Dice (Milletari et al., V-Net, 3DV 2016); both NCHW tensors."""
    import torch
    import torch.nn.functional as F

    bce = F.binary_cross_entropy_with_logits(logits, target)
    p = torch.sigmoid(logits)
    inter = (p * target).sum(dim=(1, 2, 3))
    dice = 1 - (2 * inter + 1) / (p.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3)) + 1)
    return bce + dice.mean()


def save_inference_weights(model, dst: str | os.PathLike, *, variant: str, train_size: tuple[int, int],
                           **meta: Any) -> Path:
    """Write float16 inference weights that :class:`tryon.garment.segmenter.GarmentSegmenter` loads
    (``torch.load(..., weights_only=True)``: ``variant``, ``arch``, ``state_dict``, ``train_size`` [h, w], meta)."""
    import torch

    arch = {k: list(v) if isinstance(v, tuple) else v for k, v in model.default_cfg["arch"].items()}
    state = {k: (v.detach().half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".tmp")
    torch.save({"variant": variant, "arch": arch, "state_dict": state, "train_size": list(train_size), **meta}, tmp)
    os.replace(tmp, dst)
    return dst


def _sheet(path: Path, x: np.ndarray, y: np.ndarray, p: np.ndarray, n: int = 8) -> None:
    tiles = []
    for i in range(min(n, len(x))):
        img = ((x[i].transpose(1, 2, 0) + 1) * 127.5).astype(np.uint8)
        over = img.copy()
        over[p[i, 0] > 0.5] = (0.5 * over[p[i, 0] > 0.5] + (0, 127, 0)).astype(np.uint8)
        tiles.append(np.concatenate([img, np.repeat((y[i, 0] * 255).astype(np.uint8)[..., None], 3, 2), over], 0))
    save_image(path, np.concatenate(tiles, 1))


def train_garseg(cfg: GarsegTrainConfig, out_dir: str | os.PathLike, export: str | os.PathLike | None = None
                 ) -> Path:
    """Pseudo-label, then train; writes ``last.pt`` (state dict + config), ``samples.png`` (augmented batch,
    label, prediction) and, with ``export``, the float16 inference weights.

    Returns:
        The checkpoint path.

    Raises:
        DataError: no training photo found.
    """
    import torch


    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    prev_threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        return _train(cfg, out, export)
    finally:
        torch.set_num_threads(prev_threads)


def _train(cfg: GarsegTrainConfig, out: Path, export: str | os.PathLike | None) -> Path:
    import torch
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tryon.models import create_model

    cache = build_cache(training_photos(cfg.data_root), out / "garseg_cache.npz", (cfg.height, cfg.width),
                        cfg.min_confidence)
    n = len(cache["images"])
    rng = np.random.default_rng(cfg.seed)
    model = create_model(cfg.model)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    budget = cfg.max_minutes * 60
    t0 = time.perf_counter()
    step, losses = 0, []
    model.train()
    with Progress(TextColumn("[bold]train-garseg"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[info]}"), TimeElapsedColumn()) as progress:
        task = progress.add_task("train", total=cfg.steps, info="")
        while step < cfg.steps:
            elapsed = time.perf_counter() - t0
            if budget and elapsed >= budget:
                break
            frac = max(step / cfg.steps, elapsed / budget if budget else 0.0)
            lr = cfg.lr * (min(1.0, (step + 1) / 50) * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))) + 0.01)
            for g in opt.param_groups:
                g["lr"] = lr
            x, y = make_batch(cache, rng.integers(0, n, cfg.batch_size), rng, cfg)
            logits = model(torch.from_numpy(x))
            loss = seg_loss(logits, torch.from_numpy(y))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            losses.append(float(loss.detach()))
            progress.update(task, completed=step, info=f"loss {np.mean(losses[-50:]):.4f} lr {lr:.1e}")
            if step % 25 == 0:
                log.info("step %d loss %.4f (%.1f min)", step, np.mean(losses[-25:]), elapsed / 60)
    model.eval()
    x, y = make_batch(cache, rng.integers(0, n, 8), rng, cfg)
    with torch.no_grad():
        p = torch.sigmoid(model(torch.from_numpy(x))).numpy()
    _sheet(out / "samples.png", x, y, p)
    ckpt = out / "last.pt"
    torch.save({"model": model.state_dict(), "config": dataclasses.asdict(cfg), "step": step,
                "samples": step * cfg.batch_size, "loss": losses}, ckpt)
    if export:
        save_inference_weights(model, export, variant=cfg.model, train_size=(cfg.height, cfg.width),
                               steps=step, samples=step * cfg.batch_size, photos=int(n))
    log.info("finished at step %d (%d samples, %.1f min), %d training photos", step, step * cfg.batch_size,
             (time.perf_counter() - t0) / 60, n)
    return ckpt


def _main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    app = typer.Typer(add_completion=False)
    d = GarsegTrainConfig()

    @app.command()
    def train(
        out: Annotated[Path, typer.Option(help="Output folder (outside the repository: research-only data).")],
        export: Annotated[Path | None, typer.Option(
            help="Also write float16 weights here (models/weights/garment_seg.pt).")] = None,
        data: Annotated[Path, typer.Option(help="Shared data folder.")] = Path(d.data_root),
        steps: Annotated[int, typer.Option(min=1, help="Optimiser steps.")] = d.steps,
        max_minutes: Annotated[float, typer.Option(min=0.0, help="Wall-clock budget (0 = none).")] = d.max_minutes,
        batch_size: Annotated[int, typer.Option(min=1, help="Photos per step.")] = d.batch_size,
        min_confidence: Annotated[float, typer.Option(help="Pseudo-label confidence floor.")] = d.min_confidence,
        threads: Annotated[int, typer.Option(min=1, help="torch CPU threads.")] = d.threads,
    ) -> None:
        """Train the garment segmenter on pseudo-labelled garment photos (CPU, minutes)."""
        cfg = dataclasses.replace(d, data_root=str(data), steps=steps, max_minutes=max_minutes,
                                  batch_size=batch_size, min_confidence=min_confidence, threads=threads)
        train_garseg(cfg, out, export)

    @app.command("onnx")
    def onnx_cmd(
        dst: Annotated[Path, typer.Argument(help="The .onnx file to write.")],
        weights: Annotated[Path | None, typer.Option(help="Segmenter weights (default: the shipped ones).")] = None,
    ) -> None:
        """Export the segmenter to ONNX (onnxruntime parity checked; nothing written when it fails)."""
        log.info("wrote %s, parity %s", dst, export_onnx(weights, dst))

    @app.callback()
    def _cb() -> None:
        """Standalone entry point (`python -m tryon.train.garseg train ...`)."""

    app()


if __name__ == "__main__":
    _main()
