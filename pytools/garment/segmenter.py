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

__all__ = ["GarmentSegmenter", "default_segmenter", "default_weights_path", "export_onnx", "attach_segmenter",
           "browser_rules", "MIN_COMPONENT", "ONNX_NAME", "PEELED_CATEGORIES"]

MIN_COMPONENT = 0.05
"""Smallest kept component of the learned mask, as a fraction of the largest one's area."""

ONNX_NAME = "garment_seg.onnx"
"""File name of the exported segmenter in a deployed student's folder (:func:`attach_segmenter`)."""

PEELED_CATEGORIES = ("tops", "one-pieces")
"""Garment categories (FASHN's names) whose computed mask a student is given peeled by the teacher's
:func:`tryon.garment.landmarks_onepiece.trim_backdrop_fringe` (:class:`tryon.student_runner.StudentRunner`, the
widget): the teacher draws tops and one-pieces from a peeled mask, bottoms from the whole one."""


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


def export_onnx(weights: str | os.PathLike | None, dst: str | os.PathLike) -> dict[str, float]:
    """Export float16 segmenter weights to ONNX (fp32 graph, input ``image`` (1, 3, h, w) in [-1, 1], output
    ``logits`` (1, 1, h, w); h, w = the training size) with the project's recipe
    (:func:`tryon.export.onnx_export.export_graph`: legacy exporter, onnxsim, checks, onnxruntime parity).

    Args:
        weights: the ``.pt`` written by :func:`tryon.train.garseg.save_inference_weights`; None = the shipped one.
        dst: the ``.onnx`` file to write.

    Returns:
        ``{"logits": max abs difference}``, onnxruntime vs PyTorch, on a random image.

    Raises:
        MissingModelError: unreadable weights. OutputError: export or parity failed (nothing written).
    """
    from tryon.export.onnx_export import export_graph
    from tryon.processing import atomic_write

    seg = GarmentSegmenter(weights)
    h, w = seg.size
    x = np.random.default_rng(0).uniform(-1, 1, (1, 3, h, w)).astype(np.float32)
    data, max_abs, _, _ = export_graph(seg.model, {"image": x}, input_names=("image",), output_names=("logits",))
    atomic_write(Path(dst), lambda f: f.write(data))
    return max_abs


def browser_rules(size: tuple[int, int]) -> dict:
    """The combination rule of :func:`tryon.garment.mask.garment_mask` as data, for the widget's own cut-out
    (``web/src/garment-mask.js``): its flood fill is kept where it is sure of itself, the segmenter's mask is
    used elsewhere. One source of truth: the constants are read from ``tryon.garment.mask`` and this module.

    Args:
        size: the segmenter's input (h, w) (its training size).

    Returns:
        JSON-ready dict: ``model`` (file name), ``size`` [h, w], ``input_range`` [-1, 1], ``confident``,
        ``confidence_scales``, ``min_component``, ``max_border_cover``, ``smooth_border_noise`` (CIELAB units,
        chroma halved), ``plain_border_fraction``, ``min_extent``, ``hanger_peak``, ``hanger_hook``,
        ``hanger_contrast`` (:func:`tryon.garment.mask.drop_hanger`), ``strap_tol``, ``strap_wall``
        (:func:`tryon.garment.mask.drop_strap_loops`), and the teacher's peel of the backdrop fringe, the garment's
        shadow and the paper tinted by the garment's colour
        (:func:`tryon.garment.landmarks_onepiece.trim_backdrop_fringe`, which the widget applies to the mask it
        computes, as :class:`tryon.student_runner.StudentRunner` does): ``fringe_depth`` (share of the mask's
        widest row), ``fringe_de`` (CIELAB units), ``bleed_l`` (L* units), ``bleed_share``, ``bleed_min_chroma``
        (a*b* units), ``bleed_rings`` (pixels), ``shadow_chroma`` (a*b* units), ``shadow_l`` [least, most] (L*
        units darker than the backdrop), ``shadow_apart`` (CIELAB units), ``shadow_below`` (share of the garment's
        height) and ``shadow_colours`` (k-means centres); ``peeled_categories`` (:data:`PEELED_CATEGORIES`).
    """
    from tryon.garment import landmarks_onepiece as O
    from tryon.garment import mask as M

    return {"model": ONNX_NAME, "size": [int(size[0]), int(size[1])], "input_range": [-1.0, 1.0],
            "confident": M.CONFIDENT, "confidence_scales": list(M.CONFIDENCE_SCALES), "min_component": MIN_COMPONENT,
            "max_border_cover": M.MAX_BORDER_COVER, "smooth_border_noise": M.SMOOTH_BORDER_NOISE,
            "plain_border_fraction": M._MIN_BG_BORDER_FRACTION, "min_extent": M.MIN_EXTENT,
            "hanger_peak": M.HANGER_PEAK, "hanger_hook": M.HANGER_HOOK, "hanger_contrast": M.HANGER_CONTRAST,
            "strap_tol": M.STRAP_TOL, "strap_wall": M.STRAP_WALL,
            "fringe_depth": O._FRINGE_DEPTH, "fringe_de": O._FRINGE_DE, "bleed_l": O._BLEED_L,
            "bleed_share": O._BLEED_SHARE, "bleed_min_chroma": O._BLEED_MIN_CHROMA, "bleed_rings": O._BLEED_RINGS,
            "shadow_chroma": O._SHADOW_CHROMA, "shadow_l": list(O._SHADOW_L), "shadow_apart": O._SHADOW_APART,
            "shadow_below": O._SHADOW_BELOW, "shadow_colours": O._SHADOW_COLOURS,
            "peeled_categories": list(PEELED_CATEGORIES)}


def attach_segmenter(folder: str | os.PathLike, weights: str | os.PathLike | None = None):
    """Deploy the learned garment segmenter with a student: ``folder/garment_seg.onnx`` and the manifest's
    ``garment_mask`` rules (:func:`browser_rules`) and ``garment_mask_files``.

    The widget then cuts an uploaded garment photo out as :func:`tryon.garment.mask.garment_mask` does: its own
    flood fill where that is sure of itself, the segmenter where it is not (white on white, tinted or graded
    paper). The file is about 0.6 MB (fp32, 152,853 parameters, 0.015 GMAC at 128×96) and carries the weights'
    licence: non-commercial research use only (``models/weights/garment_seg.md``).

    Args:
        folder: an exported student folder (``manifest.json`` + model files).
        weights: segmenter weights (None = the shipped ``garment_seg.pt``).

    Returns:
        The updated :class:`tryon.manifest.Manifest` (also saved).

    Raises:
        MissingModelError: the weights are missing or unreadable.
        DataError: the folder has no readable manifest.
        OutputError: the export failed its parity check or the folder cannot be written.
    """
    import dataclasses

    from tryon.manifest import FileEntry, Manifest

    out = Path(folder)
    manifest = Manifest.load(out)
    seg = GarmentSegmenter(weights)
    max_abs = export_onnx(seg.weights_path, out / ONNX_NAME)
    rules = {**browser_rules(seg.size), "parity_max_abs": float(max(max_abs.values())),
             "licence": "non-commercial research use only (models/weights/garment_seg.md)"}
    manifest = dataclasses.replace(manifest, garment_mask=rules, garment_mask_files=(FileEntry.from_path(out, ONNX_NAME),))
    manifest.save(out)
    return manifest
