"""Live mode's graphs: the garment pyramid once per garment, the rest of the student once per webcam frame.

In live mode the garment stays the same from frame to frame and only the person changes. The deployed student
spends 29 % of its multiply-adds on the garment pyramid (two of them with the flip ensemble) and 44 % on the
mirrored flow of the flip ensemble. ``attach_live`` exports, next to an exported student:

* ``garment_features.onnx`` — ``garment`` (1, 3, H, W), ``garment_mask`` (1, 1, H, W) → ``garment_features_i``
  (1, C, H/2^(i+1), W/2^(i+1)), fine first (:class:`tryon.models.afn_student.GarmentFeatureGraph`);
* ``model_live.onnx`` — the student's inputs plus those features → the student's outputs, without the flip
  ensemble (:class:`tryon.models.afn_student.LiveStudentGraph`),

and records them in the manifest (``live``, ``live_files``). The widget's worker runs the first once when the
garment changes and the second on every frame (``web/src/worker.js``); photos keep the deployed student.
Both graphs go through the same recipe as the student (``tryon.export.onnx_export.export_graph``: legacy
exporter, onnxsim, checker, parity with PyTorch) and stay fp32: on WASM here int8 is no faster.

The caching of the constant branch is what MediaPipe's and DM-VTON's real-time demos do with whatever does not
change between frames; see ``docs/web-runtime.md`` (live mode).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tryon.errors import UsageError
from tryon.export.onnx_export import export_graph
from tryon.export.sample_inputs import procedural_inputs
from tryon.manifest import FileEntry, Manifest, TensorSpec
from tryon.processing import atomic_write_bytes

__all__ = ["GARMENT_ENCODER_FILE", "LIVE_MODEL_FILE", "attach_live"]

log = logging.getLogger(__name__)

GARMENT_ENCODER_FILE = "garment_features.onnx"
LIVE_MODEL_FILE = "model_live.onnx"


def attach_live(folder: str | os.PathLike, model: nn.Module, *, atol: float = 1e-4, seed: int = 0) -> Manifest:
    """Export live mode's two graphs of ``model`` into ``folder`` and list them in its manifest.

    Args:
        folder: an exported student folder (``manifest.json``, from :func:`tryon.export.export_model`) whose
            inputs fix the size.
        model: the student that was exported there (an ``AFNStudent``; its weights are shared, not copied).
        atol: largest accepted max abs difference ORT vs PyTorch per output, as for the student.
        seed: seed of the procedural parity images.

    Returns:
        The updated manifest (also saved). ``live.metrics`` holds the parity and the multiply-adds per frame
        (live graph) and per garment (encoder) in GMAC.

    Raises:
        UsageError: ``model`` has no garment pyramid (not an appearance-flow student).
        OutputError: parity or checks fail (nothing is written then), or the folder cannot be written.
        DataError: the folder has no readable manifest.
    """
    from tryon.models.afn_student import AFNStudent, live_graphs

    if not isinstance(model, AFNStudent):
        raise UsageError(f"live graphs need an appearance-flow student (AFNStudent), not {type(model).__name__}")
    out = Path(folder)
    manifest = Manifest.load(out)
    h, w = manifest.input("person").shape[-2:]
    encoder, live = live_graphs(model)
    inputs = procedural_inputs((h, w), seed=seed)
    with torch.no_grad():
        feats = encoder(torch.from_numpy(inputs["garment"]), torch.from_numpy(inputs["garment_mask"]))
    features = {name: f.numpy() for name, f in zip(encoder.output_names, feats, strict=True)}

    log.info("exporting live mode's garment encoder and frame graph at %dx%d", h, w)
    enc_bytes, enc_abs, enc_issues, _ = export_graph(
        encoder, inputs, input_names=encoder.input_names, output_names=encoder.output_names,
        opset=manifest.opset, atol=atol)
    live_bytes, live_abs, live_issues, _ = export_graph(
        live, {**inputs, **features}, input_names=live.input_names, output_names=live.output_names,
        opset=manifest.opset, atol=atol)
    atomic_write_bytes(out / GARMENT_ENCODER_FILE, enc_bytes)
    atomic_write_bytes(out / LIVE_MODEL_FILE, live_bytes)

    metrics: dict[str, Any] = {"parity_max_abs": {**enc_abs, **live_abs}, "parity_atol": atol}
    try:
        from tryon.bench.complexity import count_macs

        metrics["gmacs_per_garment"] = count_macs(
            encoder, inputs=tuple(torch.from_numpy(inputs[k]) for k in encoder.input_names)) / 1e9
        metrics["gmacs_per_frame"] = count_macs(
            live, inputs=tuple(torch.from_numpy({**inputs, **features}[k]) for k in live.input_names)) / 1e9
    except Exception as exc:  # noqa: BLE001 - a counting failure must not block an export
        log.warning("MAC count failed: %s", exc)
    spec = {
        "garment_encoder": GARMENT_ENCODER_FILE,
        "model": LIVE_MODEL_FILE,
        "features": [TensorSpec(name=k, shape=tuple(v.shape), description=f"garment pyramid level {i}, fine first")
                     .to_dict() for i, (k, v) in enumerate(features.items())],
        "flip_ensemble": False,
        "webgpu_issues": [i.detail for i in (*enc_issues, *live_issues)],
        "metrics": metrics,
    }
    manifest = dataclasses.replace(manifest, live=spec, live_files=(
        FileEntry.from_path(out, GARMENT_ENCODER_FILE), FileEntry.from_path(out, LIVE_MODEL_FILE)))
    manifest.save(out)
    return manifest
