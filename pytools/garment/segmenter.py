"""The learned garment segmenter at inference: photo in, soft garment mask out (``models/garment_seg.py``).

:func:`tryon.garment.mask.garment_mask` calls it where the classical cut-out is unsure of itself; the method,
training data, licence and figures are in ``docs/garment-mask.md`` and ``models/weights/garment_seg.md``.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import cv2
import numpy as np

from tryon.errors import MissingModelError, UsageError

__all__ = ["GarmentSegmenter", "default_segmenter", "default_weights_path", "MIN_COMPONENT"]

MIN_COMPONENT = 0.05
"""Smallest kept component of the learned mask, as a fraction of the largest one's area."""


def default_weights_path() -> Path:
    """``tryon/models/weights/garment_seg.pt`` (shipped with the package)."""
    import tryon.models

    return Path(tryon.models.__file__).resolve().parent / "weights" / "garment_seg.pt"


class GarmentSegmenter:
    """Runs the exported ``garment_seg_*`` weights on a garment photo.

    The photo is resized (squashed, no letterbox: training did the same) to the weights' training size
    ``(h, w)``, the network's probability is resized back with bilinear interpolation.

    Args:
        weights: file written by ``tryon.train.garseg.save_inference_weights``; None = the shipped one.
        threads: torch CPU threads for inference (None = torch's default). One is enough at 128×96 and
            never stalls on a busy machine, where OpenMP threads waiting on each other cost far more.

    Raises:
        MissingModelError: the weights file does not exist, is unreadable or does not fit the model.
    """

    def __init__(self, weights: str | os.PathLike | None = None, *, threads: int | None = 1):
        import torch

        from tryon.models import create_model

        path = Path(weights) if weights is not None else default_weights_path()
        if not path.is_file():
            raise MissingModelError(
                f"garment segmenter weights not found: {path}. Train them with `python -m tryon.train.garseg "
                "train --out DIR --export models/weights/garment_seg.pt` or pass learned=False")
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
            arch = {k: tuple(v) if isinstance(v, list) else v for k, v in obj["arch"].items()}
            model = create_model(obj["variant"], **arch)
            model.load_state_dict({k: v.float() for k, v in obj["state_dict"].items()})
        except Exception as exc:  # torch raises many types for a bad file; all mean "cannot use it"
            raise MissingModelError(f"garment segmenter weights {path} are unreadable or do not match the model: "
                                    f"{type(exc).__name__}: {exc}") from None
        self.model = model.eval()
        self.size = tuple(int(v) for v in obj["train_size"])
        self.weights_path = path
        self.threads = threads

    def probability(self, image: np.ndarray) -> np.ndarray:
        """Garment probability at the network's resolution.

        Args:
            image: (H, W, 3) uint8 RGB.

        Returns:
            (h, w) float32 in [0, 1], ``(h, w)`` = the training size (e.g. 192×144).

        Raises:
            UsageError: not an (H, W, 3) uint8 image.
        """
        import torch

        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise UsageError(f"the garment segmenter needs an (H, W, 3) uint8 RGB image, got {image.shape} "
                             f"{image.dtype}")
        from tryon.garment.mask import strip_frame

        h, w = self.size
        # Shop images often carry a 1-3 px frame rule; training photos had none, and one confuses the network.
        image = strip_frame(image)
        x = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 127.5 - 1.0
        t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
        prev = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            with torch.inference_mode():
                p = torch.sigmoid(self.model(t))[0, 0].numpy()
        finally:
            torch.set_num_threads(prev)
        return p.astype(np.float32)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """Soft garment mask: (H, W, 3) uint8 RGB → (H, W) float32 in [0, 1] at the photo's size.

        Components smaller than :data:`MIN_COMPONENT` of the largest are dropped (a shop's logo in a corner,
        a price tag), as the classical cut-out does.
        """
        p = self.probability(image)
        n, lbl, stats, _ = cv2.connectedComponentsWithStats((p > 0.5).astype(np.uint8), connectivity=8)
        if n > 2:
            areas = stats[1:, cv2.CC_STAT_AREA]
            keep = np.isin(lbl, np.flatnonzero(areas >= MIN_COMPONENT * areas.max()) + 1).astype(np.uint8)
            # The soft rim just outside a kept component stays; everything else goes.
            p = p * cv2.dilate(keep, np.ones((3, 3), np.uint8))
        out = cv2.resize(p, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
        return np.clip(out, 0.0, 1.0).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _shipped() -> GarmentSegmenter | None:
    try:
        return GarmentSegmenter()
    except MissingModelError:
        return None


def default_segmenter(required: bool = False) -> GarmentSegmenter | None:
    """The shipped segmenter, loaded once per process.

    Args:
        required: raise instead of returning None when the weights are missing.

    Raises:
        MissingModelError: ``required`` and the shipped weights are missing or unreadable.
    """
    seg = _shipped()
    if seg is None and required:
        GarmentSegmenter()  # raises with the message that says what to do
    return seg
