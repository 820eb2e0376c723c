"""One call behind ``tryon quantize``: convert any ONNX model in several modes, measure every file the same way.

For each mode the converted file is made in a hidden folder inside ``out_dir``, run on the same inputs as the
fp32 model (accuracy of every output, :mod:`tryon.quantize.gate`), timed on onnxruntime CPU
(:mod:`tryon.quantize.session`), and only if it passes the quality gate moved to ``<stem><suffix>.onnx``
(:data:`OUTPUT_SUFFIX`, the transformers.js names: ``_fp16``, ``_int8``, ``_quantized`` for dynamic) and listed in
the export folder's ``manifest.json``.
"""

from __future__ import annotations

import dataclasses

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnx

from tryon.errors import DataError, UsageError
from tryon.manifest import FP16, FP32, INT8, INT8_DYNAMIC, FileEntry, Manifest
from tryon.quantize.calibration import student_input_size
from tryon.quantize.choice import candidates_from_report, choose_dtype
from tryon.quantize.config import QuantConfig, ort_config_path, write_ort_config
from tryon.quantize.dynamic import dynamic_defaults, quantize_dynamic_int8
from tryon.quantize.fp16 import convert_fp16
from tryon.quantize.gate import GateLimits, check_limits_fit, compare_outputs, gate_failures
from tryon.quantize.graph import KEEP_FLOAT_PATTERNS, grid_path_nodes, op_histogram
from tryon.quantize.inputs import is_student, load_inputs, random_samples
from tryon.quantize.int8 import excluded_nodes, quantize_int8
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


def _register_in_manifest(src: Path, out: Path, modes: Sequence[str], report: QuantizeReport | None = None,
                          gate: GateLimits | None = None) -> None:
    """List the converted files of ``modes`` in ``out/manifest.json`` (sha256, bytes, dtype) when the model was
    exported there by ``tryon export``, so the server and the widget can find and verify them; and record the
    run's CPU choice (:mod:`tryon.quantize.choice`) as ``preferred_dtype["cpu"]`` with its measurements in
    ``metrics["dtype_choice"]["cpu"]`` (dropped when the run timed nothing: the old figures no longer hold)."""
    if not modes or not (out / "manifest.json").exists() or src.resolve().parent != out.resolve():
        return  # nothing written (every file failed the gate), or not an export folder
    manifest = Manifest.load(out)
    names = {output_path(src, out, m).name: MANIFEST_DTYPE[m] for m in modes}
    kept = tuple(f for f in manifest.files if f.path not in names)
    added = tuple(FileEntry.from_path(out, name, dtype=dtype) for name, dtype in names.items())
    preferred = dict(manifest.preferred_dtype)
    metrics = dict(manifest.metrics)
    choices = dict(metrics.get("dtype_choice", {}))
    cands = candidates_from_report(report, {"fp32": FP32, **MANIFEST_DTYPE}, gate) if report is not None else []
    if report is not None and report.runs > 0 and any(c.median_ms is not None for c in cands):
        preferred["cpu"] = choose_dtype(cands)
        choices["cpu"] = {"backend": "onnxruntime CPU", "threads": report.threads, "runs": report.runs,
                          "chosen": preferred["cpu"], "candidates": [c.to_dict() for c in cands]}
    else:
        preferred.pop("cpu", None)
        choices.pop("cpu", None)
    if choices:
        metrics["dtype_choice"] = choices
    else:
        metrics.pop("dtype_choice", None)
    dataclasses.replace(manifest, files=kept + added, preferred_dtype=preferred, metrics=metrics).save(out)


def output_path(model: str | os.PathLike, out_dir: str | os.PathLike, mode: str) -> Path:
    """Where ``mode`` writes its file: ``out_dir/<model stem><suffix>.onnx``."""
    return Path(out_dir) / f"{Path(model).stem}{OUTPUT_SUFFIX[mode]}.onnx"


def _outputs(path: Path, samples: Sequence[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
    sess = create_session(path, threads=1)
    return [run_session(sess, s) for s in samples]


def _no_calibration_message(student: bool) -> str:
    real = ("a folder with person/ and garment/ photos, a pairs CSV, or .npz arrays" if student else
            "a .npz with one array per input name, or a folder of them")
    return (f"int8 is calibrated on sample inputs: give --calibration ({real}), or --random-calibration N "
            "(random inputs: a weak accuracy figure)")


def quantize_model(model: str | os.PathLike, out_dir: str | os.PathLike, modes: Sequence[str], *,
                   calibration: str | os.PathLike | None = None, eval_source: str | os.PathLike | None = None,
                   samples: int = 8, eval_samples: int = 4, random_calibration: int = 0,
                   size: tuple[int, int] | None = None, runs: int = 20, warmup: int = 3, threads: int = 1,
                   keep_grid_float: bool = True, config: QuantConfig | None = None,
                   int8_config: QuantConfig | None = None, dynamic_config: QuantConfig | None = None,
                   fp16_keep_ops: Sequence[str] = (), gate: GateLimits | None = None, write_config: bool = True,
                   on_step: Callable[[str], None] | None = None) -> QuantizeReport:
    """Convert ``model`` in every mode of ``modes``, measure size, accuracy vs fp32 and CPU latency, apply the gate.

    Files are converted into a hidden folder inside ``out_dir`` and moved to their place (:func:`output_path`)
    only when they pass ``gate``: a file that fails it is written nowhere and not listed in ``manifest.json``.
    Next to each int8 / dynamic file its settings are written as an optimum ``ORTConfig``
    (:func:`tryon.quantize.config.ort_config_path`).

    Args:
        model: any fp32 ONNX model (opset 13+ advised); for the student (inputs ``person``, ``garment``,
            ``garment_mask``) try-on photos can be the inputs and the gate judges ``tryon``.
        out_dir: folder for the converted files (created; may be the model's own folder).
        modes: any of :data:`MODES`, in the order to run them.
        calibration: the calibration inputs of ``int8`` (see :func:`tryon.quantize.inputs.load_inputs`: ``.npz``
            file or folder; for the student also photos), and the default source of evaluation inputs.
        eval_source: inputs for the accuracy figures (default: ``calibration``; for photos, other pairs).
        samples: calibration samples for ``int8``.
        eval_samples: inputs for the accuracy figures.
        random_calibration: when > 0 and no ``calibration``: this many random calibration inputs, and random
            evaluation inputs when there is no ``eval_source`` (a warning is logged: weak figures).
        size: (height, width) for a model with dynamic spatial input dimensions.
        runs: timed runs per file (0 skips latency).
        warmup: untimed runs before timing.
        threads: onnxruntime intra-op threads for the latency figure.
        keep_grid_float: keep the GridSample grid path in float in fp16 (and in int8 modes without ``config``).
        config: settings of both int8 modes (:class:`~tryon.quantize.config.QuantConfig`); default: the
            project's (weighted ops, per-channel, uint8 activations; for the student its pyramids kept float).
        int8_config / dynamic_config: settings for one of the two modes only (over ``config``).
        fp16_keep_ops: op types kept in float32 by fp16 (on top of onnxruntime's default block list).
        gate: accuracy limits; needs evaluation inputs.
        write_config: write the ``.ort_config.json`` next to each int8 / dynamic file.
        on_step: called with a short description before each step (progress display).

    Returns:
        The report; the fp32 input is its first row; ``report.gate`` holds the limits and ``passed``.

    Raises:
        UsageError: an unknown mode, no mode, ``int8`` without calibration inputs, a gate without evaluation
            inputs, photos for a model that is not the student, or a gate limit no output can be judged by.
        DataError: ``model`` is not ONNX, or the samples cannot be made for it.
        OutputError: an output would overwrite ``model`` or cannot be written.
    """
    step = on_step or (lambda _msg: None)
    modes = list(dict.fromkeys(modes))
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise UsageError(f"unknown mode(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(MODES)}")
    src = Path(model)
    out = Path(out_dir)
    for m in modes:
        ensure_not_input(output_path(src, out, m), src)
    step("reading the model")
    proto = load_model(src)
    student = is_student(proto)
    if "int8" in modes and calibration is None and random_calibration <= 0:
        raise UsageError(_no_calibration_message(student))
    ev_src = eval_source if eval_source is not None else calibration
    gate = gate or GateLimits()
    if gate.active and ev_src is None and random_calibration <= 0:
        raise UsageError("--max-delta/--min-psnr/--min-cosine compare against fp32 on sample inputs: give --eval or "
                         "--calibration (or --random-calibration N)")
    cfgs = {"int8": int8_config or config or QuantConfig(keep_grid_float=keep_grid_float),
            "dynamic": dynamic_config or config or dynamic_defaults(proto, keep_grid_float=keep_grid_float)}
    for m, c in cfgs.items():
        if not student and c.keep_float_patterns == KEEP_FLOAT_PATTERNS:
            cfgs[m] = dataclasses.replace(c, keep_float_patterns=())  # the student's pyramids: not another model's

    calib: list[dict[str, np.ndarray]] = []
    if "int8" in modes:
        step("preparing calibration samples")
        calib = (load_inputs(calibration, proto, limit=samples, size=size, seed=0) if calibration is not None
                 else random_samples(proto, random_calibration, size=size, seed=0))
    evals: list[dict[str, np.ndarray]] = []
    if eval_samples > 0 and (ev_src is not None or random_calibration > 0):
        step("preparing evaluation inputs")
        evals = (load_inputs(ev_src, proto, limit=eval_samples, size=size, seed=1) if ev_src is not None
                 else random_samples(proto, eval_samples, size=size, seed=1, warn=not calib))
    random_inputs = ev_src is None and bool(evals)
    input_size = student_input_size(proto, size) if student and (calib or evals) else None
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
            if gate.active:
                check_limits_fit(res.accuracy, gate)
                res.gate_failures = gate_failures(res.accuracy, gate)
        if runs > 0:
            step(f"timing {mode}")
            res.latency = time_session(create_session(path, threads=threads), lat_feeds, runs=runs, warmup=warmup)
        return res

    results = [measure("fp32", src, 0.0, 0)]
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".tryon-quantize-", dir=out))
    written: list[str] = []
    try:
        for m in modes:
            staged = stage / output_path(src, out, m).name
            step(f"converting to {m}")
            t0 = time.perf_counter()
            if m == "fp16":
                convert_fp16(src, staged, keep_grid_float=keep_grid_float, op_block_list=list(fp16_keep_ops))
                kept = float_nodes
            else:
                cfg = cfgs[m]
                if m == "int8":
                    quantize_int8(src, staged, calib, cfg)
                else:
                    quantize_dynamic_int8(src, staged, config=cfg)
                kept = (float_nodes if cfg.keep_grid_float else 0) + len(excluded_nodes(proto, dataclasses.replace(
                    cfg, keep_grid_float=False)))
            res = measure(m, staged, time.perf_counter() - t0, kept)
            dst = output_path(src, out, m)
            res.path = dst
            if res.gate_failures:
                log.warning("%s fails the quality gate (%s): not written", m, "; ".join(res.gate_failures))
                res.written = False
            else:
                os.replace(staged, dst)
                written.append(m)
                log.info("%s: wrote %s", m, dst)
                if write_config and m != "fp16":
                    write_ort_config(ort_config_path(dst), cfgs[m], is_static=m == "int8",
                                     opset=next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")),
                                                None))
            results.append(res)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    report = QuantizeReport(src, input_size, results,
                            calibration_source=(str(calibration) if calibration is not None else
                                                f"random x{random_calibration}" if calib else None),
                            calibration_samples=len(calib),
                            eval_source=str(ev_src) if ev_src is not None and evals else
                            ("random" if evals else None),
                            eval_samples=len(evals), runs=runs, warmup=warmup, threads=threads,
                            random_inputs=random_inputs)
    if gate.active:
        report.gate = {**gate.to_dict(), "passed": all(not r.gate_failures for r in results)}
    _register_in_manifest(src, out, written, report, gate)
    return report
