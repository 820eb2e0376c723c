"""The server's try-on pipeline around one onnxruntime session of the exported student.

Steps per job (all numpy/OpenCV, no torch): garment mask (:func:`tryon.garment.mask.garment_mask`), letterbox
person and garment to the model's input size (:func:`tryon.processing.letterbox`, white padding, mask padded
with 0 — as ``tryon export`` feeds its parity inputs), one model step, then :func:`tryon.pasteback.paste_back`
at the person photo's own resolution. The input size, tensor names and the file to load come from the model
folder's ``manifest.json`` (:class:`tryon.manifest.Manifest`), never from constants here.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tryon.errors import MissingModelError
from tryon.manifest import Manifest
from tryon.pasteback import Transform, paste_back
from tryon.processing import letterbox, to_nchw

__all__ = ["REQUIRED_INPUTS", "REQUIRED_OUTPUTS", "Prepared", "TryonModel", "select_providers", "encode_image"]

log = logging.getLogger(__name__)

REQUIRED_INPUTS = ("person", "garment", "garment_mask")
REQUIRED_OUTPUTS = ("tryon", "grid", "composition_mask")


def select_providers(preference: str) -> list[Any]:
    """onnxruntime providers for ``preference`` (``auto``, ``cuda`` or ``cpu``).

    Raises:
        MissingModelError: ``cuda`` was asked for but this onnxruntime build has no CUDAExecutionProvider.
    """
    import onnxruntime as ort

    available = ort.get_available_providers()
    if preference == "cpu":
        return ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" in available:
        return [("CUDAExecutionProvider", {"device_id": 0, "arena_extend_strategy": "kSameAsRequested",
                                           "cudnn_conv_algo_search": "HEURISTIC"}), "CPUExecutionProvider"]
    if preference == "cuda":
        raise MissingModelError("providers=cuda, but this onnxruntime has no CUDAExecutionProvider "
                                f"(available: {', '.join(available)}); install onnxruntime-gpu or use providers=auto")
    return ["CPUExecutionProvider"]


def encode_image(image: np.ndarray, fmt: str = "png") -> str:
    """(H, W, 3) uint8 RGB -> ``data:image/png;base64,...`` (or JPEG, quality 92), in memory only."""
    import base64

    from PIL import Image

    buf = io.BytesIO()
    if fmt == "jpeg":
        Image.fromarray(image).save(buf, format="JPEG", quality=92)
    else:
        # Level 1: a 2 MP PNG encodes ~5x faster than the default 6 for a few percent more bytes.
        Image.fromarray(image).save(buf, format="PNG", compress_level=1)
    return f"data:image/{fmt};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


@dataclass
class Prepared:
    """One job's model feeds plus what paste-back needs.

    Attributes:
        feeds: ONNX input name -> (1, C, h, w) array.
        person: (H, W, 3) uint8 full-resolution person.
        garment: (Hg, Wg, 3) uint8 full-resolution garment.
        person_low: (h, w, 3) uint8 letterboxed person (what the model saw).
        person_transform: full-resolution person -> model frame.
        garment_transform: full-resolution garment -> model frame.
    """

    feeds: dict[str, np.ndarray]
    person: np.ndarray
    garment: np.ndarray
    person_low: np.ndarray
    person_transform: Transform
    garment_transform: Transform


class TryonModel:
    """The exported student in one onnxruntime session, with its pre- and post-processing.

    Args:
        model_dir: folder with ``manifest.json`` and the model files.
        dtype: which file of the manifest to load, one of :data:`tryon.manifest.DTYPES`.
        providers: ``auto``, ``cuda`` or ``cpu`` (see :func:`select_providers`).
        intra_op_threads: onnxruntime intra-op threads (0 = default).

    Raises:
        MissingModelError: no manifest, no file of that dtype, a file missing or altered (sha256), or the graph
            lacks the student's inputs/outputs.
    """

    def __init__(self, model_dir: str | os.PathLike, dtype: str = "fp32", providers: str = "auto",
                 intra_op_threads: int = 0):
        import onnxruntime as ort

        from tryon.errors import DataError

        folder = Path(model_dir)
        try:
            self.manifest = Manifest.load(folder)
            entry = self.manifest.file(dtype)
            Manifest(name=self.manifest.name, version=self.manifest.version, inputs=(), outputs=(),
                     files=(entry,)).verify_files(folder)
        except DataError as exc:
            raise MissingModelError(f"model folder {folder}: {exc.message} (write it with `tryon export`)") from None
        except KeyError as exc:
            raise MissingModelError(f"model folder {folder}: {exc.args[0]}") from None
        self.dtype = dtype
        self.path = folder / entry.path
        opts = ort.SessionOptions()
        if intra_op_threads:
            opts.intra_op_num_threads = intra_op_threads
        wanted = select_providers(providers)
        self.session = ort.InferenceSession(str(self.path), opts, providers=wanted)
        self.providers: list[str] = list(self.session.get_providers())
        self.provider = self.providers[0]
        first = wanted[0] if isinstance(wanted[0], str) else wanted[0][0]
        if self.provider != first:
            # onnxruntime falls back to CPU with only a log line when CUDA libraries are missing.
            if providers == "cuda":
                raise MissingModelError(f"asked for {first} but onnxruntime bound {self.provider}; "
                                        "check the CUDA/cuDNN libraries")
            log.warning("asked for %s, onnxruntime bound %s", first, self.provider)

        ins = {i.name: i for i in self.session.get_inputs()}
        outs = [o.name for o in self.session.get_outputs()]
        missing = [n for n in REQUIRED_INPUTS if n not in ins] + [n for n in REQUIRED_OUTPUTS if n not in outs]
        if missing:
            raise MissingModelError(f"{self.path}: not a try-on student graph, missing tensors {missing} "
                                    f"(inputs {list(ins)}, outputs {outs})")
        self.output_names = outs
        self._input_dtypes = {n: (np.float16 if "float16" in i.type else np.float32) for n, i in ins.items()}
        person_shape = self.manifest.input("person").shape  # (1, 3, h, w)
        garment_shape = self.manifest.input("garment").shape
        self.size: tuple[int, int] = (int(person_shape[2]), int(person_shape[3]))
        self.garment_size: tuple[int, int] = (int(garment_shape[2]), int(garment_shape[3]))
        batch_dim = ins["person"].shape[0]
        self.dynamic_batch = not isinstance(batch_dim, int)
        log.info("loaded %s %s (%s) on %s, input %s, dynamic batch %s", self.manifest.name, self.manifest.version,
                 dtype, self.provider, self.size, self.dynamic_batch)

    # ------------------------------------------------------------------ steps
    def prepare(self, person: np.ndarray, garment: np.ndarray, garment_mask: np.ndarray | None = None) -> Prepared:
        """Letterbox both photos to the model size and build the feeds.

        Args:
            person: (H, W, 3) uint8 RGB person photo.
            garment: (Hg, Wg, 3) uint8 RGB in-shop garment photo.
            garment_mask: (Hg, Wg) float32 in [0, 1]; computed with ``garment_mask`` when ``None``.

        Raises:
            BusyBackgroundError: the garment photo's background is not plain (from ``garment_mask``).
        """
        if garment_mask is None:
            from tryon.garment.mask import garment_mask as compute_mask

            garment_mask = compute_mask(garment)
        person_low, pt = letterbox(person, self.size, fill=255)
        garment_low, gt = letterbox(garment, self.garment_size, fill=255)
        mask_low, _ = letterbox(garment_mask.astype(np.float32), self.garment_size, fill=0)
        feeds = {
            "person": to_nchw(person_low),  # (1, 3, h, w) in [-1, 1]
            "garment": to_nchw(garment_low),  # (1, 3, h, w) in [-1, 1]
            "garment_mask": np.ascontiguousarray(mask_low[None, None], dtype=np.float32),  # (1, 1, h, w) in [0, 1]
        }
        feeds = {k: v.astype(self._input_dtypes[k], copy=False) for k, v in feeds.items()}
        return Prepared(feeds, person, garment, person_low, pt, gt)

    def run(self, feeds: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
        """One model step per job, or one stacked step when the graph has a dynamic batch axis.

        Returns:
            per job: output name -> array with a leading batch axis of 1, float32.
        """
        if self.dynamic_batch and len(feeds) > 1:
            stacked = {k: np.concatenate([f[k] for f in feeds]) for k in feeds[0]}
            outs = self.session.run(self.output_names, stacked)
            return [{n: o[i:i + 1].astype(np.float32, copy=False) for n, o in zip(self.output_names, outs, strict=True)}
                    for i in range(len(feeds))]
        results = []
        for f in feeds:
            outs = self.session.run(self.output_names, f)
            results.append({n: o.astype(np.float32, copy=False) for n, o in zip(self.output_names, outs, strict=True)})
        return results

    def finish(self, prepared: Prepared, outputs: dict[str, np.ndarray]) -> np.ndarray:
        """Paste the model's result back at the person photo's resolution: (H, W, 3) uint8 RGB."""
        render = np.clip((outputs["tryon"][0].transpose(1, 2, 0) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
        return paste_back(prepared.person, prepared.garment, grid=outputs["grid"][0],  # (h, w, 2)
                          composition_mask=outputs["composition_mask"][0, 0],  # (h, w)
                          render=render, person_low=prepared.person_low, person_transform=prepared.person_transform,
                          garment_transform=prepared.garment_transform, garment_model_size=self.garment_size)

    def __call__(self, person: np.ndarray, garment: np.ndarray) -> np.ndarray:
        """Whole pipeline for one pair: (H, W, 3) uint8 RGB try-on at the person's resolution."""
        prepared = self.prepare(person, garment)
        return self.finish(prepared, self.run([prepared.feeds])[0])

    def warmup(self) -> None:
        """One model step on neutral inputs (first-run allocations, CUDA kernel selection)."""
        h, w = self.size
        feeds = {"person": np.zeros((1, 3, h, w)), "garment": np.zeros((1, 3) + self.garment_size),
                 "garment_mask": np.zeros((1, 1) + self.garment_size)}
        self.run([{k: v.astype(self._input_dtypes[k]) for k, v in feeds.items()}])
