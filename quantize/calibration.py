"""Real try-on inputs for calibration and accuracy checks, preprocessed exactly as the runtime does.

A *sample* is one feed dict for the student network: ``person`` and ``garment`` (1, 3, H, W) float32 in [-1, 1],
letterboxed on white to the model's input size with :func:`tryon.processing.letterbox` /
:func:`tryon.processing.to_nchw`, and ``garment_mask`` (1, 1, H, W) float32 in [0, 1] letterboxed with 0.

Where samples come from (``source``):

- a folder holding ``person/`` and ``garment/`` sub-folders (the layout of ``../shared/data/vton-samples``);
  pairs are drawn from all person x garment combinations, shuffled by a seed
  (:func:`tryon.data.pairs.make_pairs`, unpaired);
- a pairs CSV with ``person`` and ``garment`` columns (:func:`tryon.data.pairs.read_pairs`).

Garment masks: a file of the same name in a ``garment_mask/`` folder next to ``garment/`` when there is one,
else :func:`tryon.garment.mask.garment_mask`. Only if that module cannot be imported does a plain
white-background threshold (:func:`white_background_mask`) stand in; a warning is logged when it does.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import onnx

from tryon.data.pairs import IMAGE_SUFFIXES, Pair, make_pairs, read_pairs
from tryon.errors import DataError, TryonError
from tryon.processing import letterbox, load_image, to_nchw
from tryon.quantize.onnx_io import input_specs

__all__ = ["STUDENT_INPUTS", "student_input_size", "find_pairs", "load_sample", "load_samples",
           "white_background_mask"]

log = logging.getLogger(__name__)

STUDENT_INPUTS: dict[str, int] = {"person": 3, "garment": 3, "garment_mask": 1}
"""The student's input names and channel counts (NCHW)."""


def student_input_size(model: onnx.ModelProto, size: tuple[int, int] | None = None) -> tuple[int, int]:
    """Check that a model takes the student's inputs and return its input (height, width).

    Args:
        model: the ONNX model.
        size: (height, width) to use when the model's spatial dimensions are dynamic; when they are static it
            must agree with them.

    Raises:
        DataError: an input is not one of :data:`STUDENT_INPUTS`, has the wrong rank or channel count, the inputs
            disagree on their size, or the size is dynamic and ``size`` was not given.
    """
    specs = input_specs(model)
    if not specs:
        raise DataError("cannot calibrate: the model has no inputs")
    hw: set[tuple[int | str, int | str]] = set()
    for s in specs:
        if s.name not in STUDENT_INPUTS:
            raise DataError(f"cannot calibrate: model input {s.name!r} is not a try-on student input "
                            f"(expected {', '.join(STUDENT_INPUTS)})")
        channels = s.shape[1] if len(s.shape) == 4 else None
        if s.dtype != "float32" or len(s.shape) != 4 or (isinstance(channels, int)
                                                          and channels != STUDENT_INPUTS[s.name]):
            raise DataError(f"cannot calibrate: model input {s.name!r} is {s.dtype} {list(s.shape)}, expected "
                            f"float32 [1, {STUDENT_INPUTS[s.name]}, H, W]")
        hw.add((s.shape[2], s.shape[3]))
    if len(hw) != 1:
        raise DataError(f"cannot calibrate: the model inputs disagree on their size: {sorted(map(str, hw))}")
    h, w = next(iter(hw))
    if isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0:
        if size is not None and tuple(size) != (h, w):
            raise DataError(f"the model's input size is {h}x{w}, not the requested {size[0]}x{size[1]}")
        return h, w
    if size is None:
        raise DataError(f"the model's input size is dynamic ({h}x{w}); give the size to calibrate at (--size HxW)")
    return int(size[0]), int(size[1])


def find_pairs(source: str | os.PathLike, *, limit: int | None = None, seed: int = 0) -> list[Pair]:
    """(person, garment) pairs from a ``person/`` + ``garment/`` folder or a pairs CSV; see the module docstring.

    Raises:
        DataError: the source is neither, or holds no images.
    """
    src = Path(source)
    if src.is_file() and src.suffix.lower() == ".csv":
        pairs = read_pairs(src)
        return pairs[:limit] if limit else pairs
    if src.is_dir():
        if (src / "person").is_dir() and (src / "garment").is_dir():
            # Every person x garment combination, shuffled by the seed: calibration (seed 0) and evaluation
            # (seed 1) then draw different pairs spread over the whole folder, not its first persons.
            return make_pairs(src / "person", src / "garment", limit=limit, seed=seed, all_combinations=True)
        raise DataError(f"{src}: expected a folder with person/ and garment/ sub-folders of photos "
                        "(or a pairs CSV with person,garment columns)")
    raise DataError(f"{src}: no such folder or pairs CSV")


def white_background_mask(image: np.ndarray, threshold: int = 235) -> np.ndarray:
    """Crude garment mask: pixels darker than ``threshold`` in some channel. Fallback only (see module docstring).

    Args:
        image: (H, W, 3) uint8 RGB on a white background.

    Returns:
        (H, W) float32 in {0, 1}.
    """
    return (image.min(axis=2) < threshold).astype(np.float32)


def _mask_file(garment: Path) -> Path | None:
    folder = garment.parent.parent / "garment_mask"
    if not folder.is_dir():
        return None
    for suffix in (garment.suffix, *IMAGE_SUFFIXES):
        f = folder / (garment.stem + suffix)
        if f.is_file():
            return f
    return None


def _garment_mask(garment_path: Path, image: np.ndarray) -> np.ndarray:
    mf = _mask_file(garment_path)
    if mf is not None:
        m = load_image(mf, min_side=1).astype(np.float32).mean(axis=2) / 255.0
        if m.shape == image.shape[:2]:
            return m
        log.warning("%s: mask size %s differs from the garment's %s; computing the mask instead",
                    mf, m.shape, image.shape[:2])
    try:
        from tryon.garment.mask import garment_mask
    except ImportError:
        log.warning("tryon.garment.mask is unavailable: using a white-background threshold for %s", garment_path)
        return white_background_mask(image)
    return garment_mask(image)


def load_sample(pair: Pair, size: tuple[int, int], names: tuple[str, ...] = tuple(STUDENT_INPUTS)
                ) -> dict[str, np.ndarray]:
    """Preprocess one pair into a feed dict holding the inputs in ``names``.

    Raises:
        TryonError: an image cannot be read (``UnreadableImageError`` …) or the garment cannot be cut out
            (``BusyBackgroundError``).
    """
    person, _ = letterbox(load_image(pair.person), size, fill=255)
    garment_img = load_image(pair.garment)
    garment, _ = letterbox(garment_img, size, fill=255)
    feeds = {"person": to_nchw(person), "garment": to_nchw(garment)}
    if "garment_mask" in names:
        mask, _ = letterbox(_garment_mask(pair.garment, garment_img).astype(np.float32), size, fill=0.0)
        feeds["garment_mask"] = np.ascontiguousarray(np.clip(mask, 0.0, 1.0)[None, None], dtype=np.float32)
    return {k: v for k, v in feeds.items() if k in names}


def load_samples(source: str | os.PathLike, model: onnx.ModelProto, *, limit: int = 8,
                 size: tuple[int, int] | None = None, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Up to ``limit`` preprocessed samples for ``model`` from ``source``; unusable pairs are skipped with a warning.

    Raises:
        DataError: the model's inputs are not the student's, the source holds no pairs, or no pair could be
            preprocessed.
    """
    hw = student_input_size(model, size)
    names = tuple(s.name for s in input_specs(model))
    # Draw a few spare pairs: some garments are refused (busy backgrounds).
    pairs = find_pairs(source, limit=2 * limit + 4, seed=seed)
    samples: list[dict[str, np.ndarray]] = []
    for pair in pairs:
        if len(samples) >= limit:
            break
        try:
            samples.append(load_sample(pair, hw, names))
        except TryonError as exc:
            log.warning("skipping %s: %s", pair.name, exc.message)
    if not samples:
        raise DataError(f"{source}: none of the {len(pairs)} pairs could be used as a try-on input")
    return samples
