"""``tryon quantize``: fp16 / int8 / dynamic-int8 variants of an exported model, each checked against fp32.

Thin adapter over :func:`tryon.quantize.quantize_model`; onnxruntime is imported inside the handler so that
``tryon --help`` stays instant. Flags are grouped as in optimum's export command (required / calibration /
quality gate / latency); like optimum's quantize command it refuses to write over its input.
"""

from __future__ import annotations

import enum
import logging
from pathlib import Path
from typing import Annotated

import typer

from tryon.cli.options import parse_size
from tryon.errors import UsageError

__all__ = ["register", "quantize_command", "Mode"]


class Mode(enum.StrEnum):
    """Conversion modes (see ``tryon.quantize.MODES``)."""

    fp16 = "fp16"
    int8 = "int8"
    dynamic = "dynamic"


_CONV = "Conversion"
_CALIB = "Calibration and evaluation inputs"
_GATE = "Quality gate"
_LAT = "Latency"


def quantize_command(
    model: Annotated[Path, typer.Argument(
        help="The fp32 ONNX model (e.g. artifacts/afn_student_m/model.onnx from `tryon export`).",
        exists=True, dir_okay=False, readable=True, show_default=False)],
    out_dir: Annotated[Path, typer.Option(
        "-o", "--out", help="Folder for the converted files <stem>_fp16.onnx, <stem>_int8.onnx, "
        "<stem>_quantized.onnx (dynamic); may be the model's own folder, never the model file itself.",
        file_okay=False, show_default=False)],
    modes: Annotated[list[Mode], typer.Option(
        "--mode", help="Conversion, repeatable: fp16 (WebGPU shader-f16), int8 (static QDQ calibrated on real "
        "photos, uint8 activations: WASM), dynamic (int8 weights, no calibration: WASM).",
        case_sensitive=False, show_default=False)],
    calibration: Annotated[Path | None, typer.Option(
        "--calibration", help="Real inputs: a folder with person/ and garment/ photos (optional garment_mask/), or "
        "a pairs CSV (person,garment). Required by int8; also the default source of evaluation inputs.",
        exists=True, rich_help_panel=_CALIB)] = None,
    samples: Annotated[int, typer.Option(
        "--samples", min=1, max=512, help="Calibration pairs for int8.", rich_help_panel=_CALIB)] = 8,
    eval_source: Annotated[Path | None, typer.Option(
        "--eval", help="Real inputs for the accuracy figures, same layouts as --calibration "
        "(default: --calibration, other pairs).", exists=True, rich_help_panel=_CALIB)] = None,
    eval_samples: Annotated[int, typer.Option(
        "--eval-samples", min=1, max=256, help="Pairs for the accuracy figures.", rich_help_panel=_CALIB)] = 4,
    size: Annotated[str | None, typer.Option(
        "--size", help="HEIGHTxWIDTH, only for a model with dynamic input size (exported models have a fixed one).",
        rich_help_panel=_CALIB, show_default=False)] = None,
    max_delta: Annotated[float | None, typer.Option(
        "--max-delta", min=0.0, help="Fail (exit 60) when the max abs diff of the try-on image vs fp32 exceeds "
        "this, in [-1, 1] units (1/127.5 ≈ 0.0078 is one 8-bit level).", rich_help_panel=_GATE,
        show_default=False)] = None,
    min_psnr: Annotated[float | None, typer.Option(
        "--min-psnr", help="Fail (exit 60) when the PSNR of the try-on image vs fp32 is below this (dB).",
        rich_help_panel=_GATE, show_default=False)] = None,
    keep_grid_float: Annotated[bool, typer.Option(
        "--keep-grid-float/--quantize-grid", help="Keep GridSample and the flow layers that compute its grid in "
        "float32 (8-bit or fp16 grids move every warped pixel).", rich_help_panel=_CONV)] = True,
    runs: Annotated[int, typer.Option(
        "--runs", min=0, help="Timed onnxruntime CPU runs per file (median reported; 0 skips timing).",
        rich_help_panel=_LAT)] = 20,
    warmup: Annotated[int, typer.Option(
        "--warmup", min=0, help="Untimed runs before timing.", rich_help_panel=_LAT)] = 3,
    threads: Annotated[int, typer.Option(
        "--threads", min=1, max=64, help="onnxruntime intra-op threads while timing.", rich_help_panel=_LAT)] = 1,
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="Also write the table's data as JSON to this file.", dir_okay=False,
        show_default=False)] = None,
) -> None:
    """Convert an exported ONNX model to fp16 / int8 / dynamic int8 and compare each file with fp32.

    Prints one row per file: size, size ratio, max abs diff and PSNR of the try-on image vs fp32 on real
    inputs, and the onnxruntime CPU latency. Exits 60 (QualityGateError) when --max-delta / --min-psnr fail,
    after the files, the table and the JSON are written.
    """
    from rich.console import Console
    from rich.logging import RichHandler
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tryon.quantize import check_gate, quantize_model, render_table, write_json
    from tryon.quantize.onnx_io import ensure_not_input

    hw = parse_size(size, min_side=16) if size is not None else None
    if (max_delta is not None or min_psnr is not None) and calibration is None and eval_source is None:
        raise UsageError("--max-delta/--min-psnr compare against fp32 on real inputs: give --calibration or --eval")
    if json_path is not None:
        ensure_not_input(json_path, model)
    err = Console(stderr=True)
    logger = logging.getLogger("tryon.quantize")
    handler = RichHandler(console=err, show_time=False, show_path=False, level=logging.WARNING)
    logger.addHandler(handler)
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                      transient=True) as progress:
            task = progress.add_task("quantize", total=None)
            report = quantize_model(
                model, out_dir, [m.value for m in modes], calibration=calibration, eval_source=eval_source,
                samples=samples, eval_samples=eval_samples, size=hw, runs=runs, warmup=warmup, threads=threads,
                keep_grid_float=keep_grid_float, on_step=lambda msg: progress.update(task, description=msg))
    finally:
        logger.removeHandler(handler)
    gate_error = None
    if max_delta is not None or min_psnr is not None:
        from tryon.quantize import QualityGateError

        try:
            check_gate(report.accuracies(), max_delta=max_delta, min_psnr=min_psnr)
        except QualityGateError as exc:
            gate_error = exc
        report.gate = {"max_delta": max_delta, "min_psnr": min_psnr, "passed": gate_error is None}
    Console().print(render_table(report))
    if json_path is not None:
        write_json(report, json_path)
    if gate_error is not None:
        raise gate_error


def register(app: typer.Typer) -> None:
    """Add ``tryon quantize`` to the app."""
    app.command("quantize")(quantize_command)
