"""``tryon bench``: params, GMAC, file sizes (fp32/fp16/int8) and CPU latency of the students vs the reference.

Each model is built from the registry (untrained weights unless a checkpoint is registered: size, compute and
latency do not depend on the weights), exported with :func:`tryon.export.export_model` into a temporary folder,
converted with :mod:`tryon.quantize` and timed with :func:`tryon.bench.latency.measure_latency`. Every figure
is also shown as a ratio to the reference measured in the same run. torch and onnxruntime are imported inside
the handler.
"""

from __future__ import annotations

import logging
import platform
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from tryon.cli.options import parse_model_args, parse_size
from tryon.errors import UsageError

__all__ = ["register", "bench_command", "default_models", "parse_model_spec", "DEPLOYED"]

_LAT = "Latency"

REFERENCE = "dmvton_ref"


#: The committed default student as deployed (models/weights/afn_student_s.pt): its flip ensemble costs compute.
DEPLOYED = "afn_student_s:flip_ensemble=true:mask_sharpness=6"


def default_models() -> list[str]:
    """The registered student variants (``afn_student*``) and the deployed default configuration."""
    from tryon.models import list_models

    return [*list_models("afn_student*"), DEPLOYED]


def parse_model_spec(spec: str) -> tuple[str, dict]:
    """``"afn_student_s:flip_ensemble=true:mask_sharpness=6"`` -> ("afn_student_s", {...}): a registered
    variant with configuration overrides (:func:`tryon.cli.options.parse_model_args` values).

    Raises:
        UsageError: an override that is not NAME=VALUE.
    """
    name, *items = spec.split(":")
    return name, parse_model_args(items, flag=f"--model {name}: override")


def _bench_one(name: str, size: tuple[int, int], work: Path, *, runs: int, warmup: int,
               calibration: Path | None, samples: int, on_step) -> object:
    from tryon.bench.complexity import complexity
    from tryon.bench.latency import measure_latency
    from tryon.bench.table import BenchRow
    from tryon.export import export_model, procedural_inputs
    from tryon.models import create_model
    from tryon.quantize.calibration import load_samples
    from tryon.quantize.fp16 import convert_fp16
    from tryon.quantize.int8 import quantize_int8
    from tryon.quantize.onnx_io import load_model, model_bytes

    row = BenchRow(name)
    on_step(f"{name}: building")
    variant, args = parse_model_spec(name)
    try:
        model = create_model(variant, **args).eval()
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--model {name!r}: {exc}") from None
    c = complexity(model, size)
    row.params, row.gmacs = c.params, c.gmacs
    on_step(f"{name}: exporting")
    folder = work / name.replace(":", "_").replace("=", "-")
    res = export_model(model, folder, name=variant, size=size)
    fp32 = res.onnx_path
    row.bytes_fp32 = model_bytes(fp32)
    on_step(f"{name}: fp16")
    row.bytes_fp16 = model_bytes(convert_fp16(fp32, folder / "model_fp16.onnx"))
    on_step(f"{name}: int8")
    if calibration is not None:
        calib = load_samples(calibration, load_model(fp32), limit=samples)
    else:
        # File size does not depend on the calibration data: project-made procedural inputs suffice here.
        calib = [procedural_inputs(size, seed=s) for s in range(samples)]
        row.notes.append("int8 calibrated on procedural inputs")
    row.bytes_int8 = model_bytes(quantize_int8(fp32, folder / "model_int8.onnx", calib))
    if runs > 0:
        on_step(f"{name}: timing")
        lat = measure_latency(fp32, threads=(1, 2), runs=runs, warmup=warmup, feeds=procedural_inputs(size, seed=0))
        row.latency_ms_1t, row.latency_ms_2t = lat[1].median_ms, lat[2].median_ms
    return row


def bench_command(
    models: Annotated[list[str] | None, typer.Option(
        "--model", help="Registered variant to benchmark, with optional overrides NAME:KEY=VALUE[:KEY=VALUE], "
        "repeatable (default: every afn_student* variant and the deployed default, " + DEPLOYED + ").",
        show_default=False)] = None,
    reference: Annotated[str, typer.Option(
        "--reference", help="Registered variant every figure is divided by.")] = REFERENCE,
    size: Annotated[str, typer.Option("--size", help="Input HEIGHTxWIDTH.")] = "256x192",
    runs: Annotated[int, typer.Option(
        "--runs", min=0, help="Timed onnxruntime CPU runs per model and thread count (median; 0 skips timing).",
        rich_help_panel=_LAT)] = 20,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed runs first.", rich_help_panel=_LAT)] = 3,
    calibration: Annotated[Path | None, typer.Option(
        "--calibration", help="Real photos for the int8 calibration (person/ + garment/ folder or pairs CSV); "
        "default: procedural inputs (the file size does not depend on them).", exists=True,
        show_default=False)] = None,
    samples: Annotated[int, typer.Option("--samples", min=1, max=64, help="int8 calibration samples.")] = 4,
    keep: Annotated[Path | None, typer.Option(
        "--keep", help="Keep the exported and converted files in this folder (default: a temporary folder).",
        file_okay=False, show_default=False)] = None,
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="Also write the table's data as JSON to this file.", dir_okay=False,
        show_default=False)] = None,
) -> None:
    """Benchmark the student variants against the reference: params, GMAC, bytes, onnxruntime CPU latency.

    A command, not a test: it exports every model (the reference takes about a minute) and times it with
    1 and 2 threads. Each figure is followed by its ratio to the reference (measured in the same run).
    """
    from rich.console import Console
    from rich.logging import RichHandler
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tryon.bench.table import render_bench_table, write_bench_json
    from tryon.models import is_model

    hw = parse_size(size, min_side=32)
    names = list(dict.fromkeys(models or default_models()))
    unknown = [n for n in [*names, reference] if not is_model(parse_model_spec(n)[0])]
    if unknown:
        raise UsageError(f"unknown model(s) {', '.join(unknown)}; `tryon.models.list_models()` names the variants")
    if reference not in names:
        names.append(reference)
    err = Console(stderr=True)
    handler = RichHandler(console=err, show_time=False, show_path=False, level=logging.ERROR)
    loggers = [logging.getLogger(n) for n in ("tryon.export", "tryon.quantize")]
    for lg in loggers:
        lg.addHandler(handler)
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="tryon-bench-") as tmp, \
                Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                         transient=True) as progress:
            task = progress.add_task("bench", total=None)
            work = keep if keep is not None else Path(tmp)
            for n in names:
                rows.append(_bench_one(n, hw, work, runs=runs, warmup=warmup, calibration=calibration,
                                       samples=samples, on_step=lambda m: progress.update(task, description=m)))
    finally:
        for lg in loggers:
            lg.removeHandler(handler)
    import onnxruntime

    caption = (f"{hw[0]}x{hw[1]}; latency: fp32, onnxruntime {onnxruntime.__version__} CPU, median of {runs} after "
               f"{warmup} warm-up; (x×) = ratio to {reference}; untrained weights")
    Console().print(render_bench_table(rows, reference, caption=caption))
    if json_path is not None:
        meta = {"size": list(hw), "runs": runs, "warmup": warmup, "onnxruntime": onnxruntime.__version__,
                "machine": platform.machine(), "processor": platform.processor() or None,
                "calibration": str(calibration) if calibration else "procedural"}
        write_bench_json(rows, reference, json_path, meta)


def register(app: typer.Typer) -> None:
    """Add ``tryon bench`` to the app."""
    app.command("bench")(bench_command)
