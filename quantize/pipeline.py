"""One call behind ``tryon quantize``: convert a model in several modes, then measure every file the same way.

For each mode the converted file is written next to the others in ``out_dir`` as ``<stem><suffix>.onnx``
(:data:`OUTPUT_SUFFIX`, the transformers.js names: ``_fp16``, ``_int8``, ``_quantized`` for dynamic), then run
on the same real inputs as the fp32 model (accuracy, :mod:`tryon.quantize.gate`) and timed on onnxruntime CPU
(:mod:`tryon.quantize.session`).
"""

from __future__ import annotations

import dataclasses

import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnx

from tryon.errors import DataError, UsageError
from tryon.manifest import FP16, INT8, INT8_DYNAMIC, FileEntry, Manifest
from tryon.quantize.calibration import load_samples, student_input_size
from tryon.quantize.dynamic import quantize_dynamic_int8
from tryon.quantize.fp16 import convert_fp16
from tryon.quantize.gate import compare_outputs
from tryon.quantize.graph import KEEP_FLOAT_PATTERNS, grid_path_nodes, matching_nodes, op_histogram
from tryon.quantize.int8 import StaticQuantConfig, quantize_int8
from tryon.quantize.onnx_io import ensure_not_input, load_model, model_bytes
from tryon.quantize.report import ModeResult, QuantizeReport
from tryon.quantize.session import create_session, dummy_feeds, run_session, time_session

__all__ = ["MODES", "OUTPUT_SUFFIX", "output_path", "quantize_model"]

log = logging.getLogger(__name__)

MODES = ("fp16", "int8", "dynamic")
"""fp16: WebGPU with shader-f16; int8: static QDQ for WASM; dynamic: calibration-free int8 (WASM)."""

OUTPUT_SUFFIX = {"fp16": "_fp16", "int8": "_int8", "dynamic": "_quantized"}


MANIFEST_DTYPE = {"fp16": FP16, "int8": INT8, "dynamic": INT8_DYNAMIC}
"""The ``dtype`` each mode's file gets in ``manifest.json`` (the widget takes ``fp16`` on WebGPU with
``shader-f16``, and on WASM ``int8``, else ``int8_dynamic``)."""


def _register_in_manifest(src: Path, out: Path, modes: Sequence[str]) -> None:
    """List the converted files in ``out/manifest.json`` (sha256, bytes, dtype) when the model was exported
    there by ``tryon export``, so the server and the widget can find and verify them."""
    if not (out / "manifest.json").exists() or src.resolve().parent != out.resolve():
        return
    manifest = Manifest.load(out)
    names = {output_path(src, out, m).name: MANIFEST_DTYPE[m] for m in modes}
    kept = tuple(f for f in manifest.files if f.path not in names)
    added = tuple(FileEntry.from_path(out, name, dtype=dtype) for name, dtype in names.items())
    dataclasses.replace(manifest, files=kept + added).save(out)


def output_path(model: str | os.PathLike, out_dir: str | os.PathLike, mode: str) -> Path:
    """Where ``mode`` writes its file: ``out_dir/<model stem><suffix>.onnx``."""
    return Path(out_dir) / f"{Path(model).stem}{OUTPUT_SUFFIX[mode]}.onnx"


def _outputs(path: Path, samples: Sequence[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
    sess = create_session(path, threads=1)
    return [run_session(sess, s) for s in samples]


def quantize_model(model: str | os.PathLike, out_dir: str | os.PathLike, modes: Sequence[str], *,
                   calibration: str | os.PathLike | None = None, eval_source: str | os.PathLike | None = None,
                   samples: int = 8, eval_samples: int = 4, size: tuple[int, int] | None = None,
                   runs: int = 20, warmup: int = 3, threads: int = 1, keep_grid_float: bool = True,
                   int8_config: StaticQuantConfig | None = None,
                   on_step: Callable[[str], None] | None = None) -> QuantizeReport:
    """Convert ``model`` in every mode of ``modes`` and measure size, accuracy vs fp32 and CPU latency.

    Args:
        model: the fp32 ONNX model (student I/O: ``person``, ``garment``, ``garment_mask`` -> ``tryon``, ...).
        out_dir: folder for the converted files (created; may be the model's own folder).
        modes: any of :data:`MODES`, in the order to run them.
        calibration: a ``person/``+``garment/`` folder or a pairs CSV (see :mod:`tryon.quantize.calibration`);
            required by ``int8``, and the default source of evaluation inputs.
        eval_source: where to take the real inputs for the accuracy figures (default: ``calibration``, drawn
            with another seed). Without either, accuracy is not measured.
        samples: calibration samples for ``int8``.
        eval_samples: real inputs for the accuracy figures.
        size: (height, width) for a model with dynamic spatial input dimensions.
        runs: timed runs per file (0 skips latency).
        warmup: untimed runs before timing.
        threads: onnxruntime intra-op threads for the latency figure.
        keep_grid_float: keep the GridSample grid path in float in every mode (see :mod:`tryon.quantize.graph`).
        int8_config: settings for ``int8`` (default :class:`StaticQuantConfig` with ``keep_grid_float``).
        on_step: called with a short description before each step (progress display).

    Returns:
        The report; the fp32 input is its first row.

    Raises:
        UsageError: an unknown mode, no mode, or ``int8`` without ``calibration``.
        DataError: ``model`` is not ONNX, or the samples cannot be made for it.
        OutputError: an output would overwrite ``model`` or cannot be written.
    """
    step = on_step or (lambda _msg: None)
    modes = list(dict.fromkeys(modes))
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise UsageError(f"unknown mode(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(MODES)}")
    if "int8" in modes and calibration is None:
        raise UsageError("int8 is calibrated on real inputs: give --calibration DIR (a folder with person/ and "
                         "garment/ photos, or a pairs CSV)")
    src = Path(model)
    out = Path(out_dir)
    for m in modes:
        ensure_not_input(output_path(src, out, m), src)
    step("reading the model")
    proto = load_model(src)
    input_size = None
    calib: list[dict[str, np.ndarray]] = []
    if calibration is not None and "int8" in modes:
        step("preparing calibration samples")
        calib = load_samples(calibration, proto, limit=samples, size=size, seed=0)
    ev_src = eval_source if eval_source is not None else calibration
    evals: list[dict[str, np.ndarray]] = []
    if ev_src is not None and eval_samples > 0:
        step("preparing evaluation inputs")
        evals = load_samples(ev_src, proto, limit=eval_samples, size=size, seed=1)
    if calib or evals:
        input_size = student_input_size(proto, size)
    float_nodes = len(grid_path_nodes(proto)) if keep_grid_float else 0
    base_bytes = model_bytes(src)

    step("running fp32")
    ref = _outputs(src, evals) if evals else []
    if runs > 0:
        if evals:
            lat_feeds = evals[0]
        else:
            try:
                lat_feeds = dummy_feeds(create_session(src), size=size)
            except ValueError as exc:
                raise DataError(f"{src}: cannot time the model: {exc}") from None

    def measure(mode: str, path: Path, seconds: float, kept: int) -> ModeResult:
        res = ModeResult(mode, path, model_bytes(path), base_bytes, kept_float_nodes=kept, seconds=seconds,
                         ops=op_histogram(onnx.load(str(path), load_external_data=False)))
        if evals and mode != "fp32":
            step(f"checking {mode} against fp32")
            res.accuracy = compare_outputs(ref, _outputs(path, evals))
        if runs > 0:
            step(f"timing {mode}")
            res.latency = time_session(create_session(path, threads=threads), lat_feeds, runs=runs, warmup=warmup)
        return res

    results = [measure("fp32", src, 0.0, 0)]
    cfg = int8_config or StaticQuantConfig(keep_grid_float=keep_grid_float)
    for m in modes:
        dst = output_path(src, out, m)
        step(f"converting to {m}")
        t0 = time.perf_counter()
        if m == "fp16":
            convert_fp16(src, dst, keep_grid_float=keep_grid_float)
        elif m == "int8":
            quantize_int8(src, dst, calib, cfg)
        else:
            quantize_dynamic_int8(src, dst, keep_grid_float=keep_grid_float)
        log.info("%s: wrote %s", m, dst)
        kept = float_nodes if (cfg.keep_grid_float if m == "int8" else keep_grid_float) else 0
        if m != "fp16":
            kept += len(matching_nodes(proto, cfg.keep_float_patterns if m == "int8" else KEEP_FLOAT_PATTERNS))
        results.append(measure(m, dst, time.perf_counter() - t0, kept))
    _register_in_manifest(src, out, modes)
    return QuantizeReport(src, input_size, results,
                          calibration_source=str(calibration) if calibration is not None else None,
                          calibration_samples=len(calib), eval_source=str(ev_src) if evals else None,
                          eval_samples=len(evals), runs=runs, warmup=warmup, threads=threads)
