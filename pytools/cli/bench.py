"""``tryon bench``: params, GMAC, file sizes and CPU latency of fp32 / fp16 / int8 files, side by side and against a
reference model.

``--model`` takes a registered variant with overrides (``afn_student_s:flip_ensemble=true``), a training checkpoint
(``afn_student_s:checkpoint=runs/s1/last.pt`` or a bare ``.pt`` path: the weights do not change the figures, the
architecture it stores does), an ONNX file, or an export folder with a ``manifest.json`` (each file it lists is
benchmarked as it is). Models built in torch are exported with :func:`tryon.export.export_model` into a temporary
folder and converted with :mod:`tryon.quantize` (fp16, static QDQ int8 calibrated on procedural inputs or
``--calibration`` photos, dynamic int8); an fp32 ONNX file is converted the same way (static int8 only when it takes
the student's inputs: other graphs need calibration inputs, which ``tryon quantize`` takes). Every file is timed with
:func:`tryon.bench.latency.measure_latencies` (a model's files interleaved) on each backend available here:
onnxruntime CPU with 1 and 2 intra-op threads (the browser's backends are ``tryon bench-browser``'s). Figures are
shown as ratios to the reference measured in the same run, and each file as a ratio to its model's fp32 file.
torch and onnxruntime are imported inside the handler.
"""

from __future__ import annotations

import logging
import platform
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from tryon.cli.options import parse_model_args, parse_size
from tryon.errors import UsageError

__all__ = ["register", "bench_command", "default_models", "deployed_spec", "parse_model_spec", "resolve_model",
           "ModelSource"]

_LAT = "Latency"

REFERENCE = "dmvton_ref"

#: Files a torch model or an fp32 ONNX file is converted to, in table order (``--dtype`` picks among them).
BENCH_DTYPES = ("fp32", "fp16", "int8", "int8_dynamic")

_QUANTIZED_OPS = {"QuantizeLinear", "DynamicQuantizeLinear", "QLinearConv", "ConvInteger", "MatMulInteger"}


def _spec_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, tuple | list):
        return ",".join(_spec_value(x) for x in v)
    return str(v)


def deployed_spec() -> str:
    """The committed default student as deployed, as a ``--model`` spec read from its weight file
    (``models/weights/afn_student_s.pt``, via :func:`tryon.models.afn_student.deployed_config`), e.g.
    ``"afn_student_s:mask_sharpness=6:flip_ensemble=true"``: the one source of truth for its configuration."""
    from tryon.models.afn_student import deployed_config

    variant, cfg = deployed_config()
    return ":".join([variant, *(f"{k}={_spec_value(v)}" for k, v in cfg.items())])


def default_models() -> list[str]:
    """The registered student variants (``afn_student*``) and the deployed default configuration."""
    from tryon.models import list_models

    return [*list_models("afn_student*"), deployed_spec()]


def parse_model_spec(spec: str) -> tuple[str, dict]:
    """``"afn_student_s:flip_ensemble=true:mask_sharpness=6"`` -> ("afn_student_s", {...}): a registered
    variant with configuration overrides (:func:`tryon.cli.options.parse_model_args` values).

    Raises:
        UsageError: an override that is not NAME=VALUE.
    """
    name, *items = spec.split(":")
    return name, parse_model_args(items, flag=f"--model {name}: override")


@dataclass
class ModelSource:
    """What one ``--model`` spec names.

    Attributes:
        spec: the spec as given (the row's name).
        kind: ``"registry"`` (a variant with overrides), ``"checkpoint"``, ``"onnx"`` or ``"manifest"``.
        variant: the registered variant (registry, and checkpoint with ``variant:checkpoint=``), else None.
        args: configuration overrides (registry only).
        path: the checkpoint, ONNX file or export folder.
    """

    spec: str
    kind: str
    variant: str | None = None
    args: dict = field(default_factory=dict)
    path: Path | None = None


def resolve_model(spec: str) -> ModelSource:
    """Classify a ``--model`` spec: an existing folder (must hold ``manifest.json``), ``.onnx`` file or other file
    (a checkpoint), else a registered variant with overrides, where ``checkpoint=PATH`` names its weights.

    Raises:
        UsageError: a folder without a manifest, an unknown variant, a missing checkpoint, or ``checkpoint=``
            combined with other overrides (the checkpoint holds the architecture).
    """
    from tryon.manifest import MANIFEST_NAME
    from tryon.models import is_model, list_models

    p = Path(spec).expanduser()
    if p.is_dir():
        if not (p / MANIFEST_NAME).is_file():
            raise UsageError(f"--model {spec}: a folder must hold the {MANIFEST_NAME} `tryon export` writes")
        return ModelSource(spec, "manifest", path=p)
    if p.is_file():
        return ModelSource(spec, "onnx" if p.suffix.lower() == ".onnx" else "checkpoint", path=p)
    variant, args = parse_model_spec(spec)
    if not is_model(variant):
        raise UsageError(f"--model {spec!r}: not a registered variant ({', '.join(list_models())}), nor an existing "
                         ".onnx file, export folder with a manifest.json, or checkpoint file")
    if "checkpoint" in args:
        ckpt = Path(str(args.pop("checkpoint"))).expanduser()
        if args:
            raise UsageError(f"--model {spec!r}: checkpoint= cannot be combined with {', '.join(args)}: the "
                             "checkpoint holds the architecture")
        if not ckpt.is_file():
            raise UsageError(f"--model {spec!r}: no such checkpoint {ckpt}")
        return ModelSource(spec, "checkpoint", variant=variant, path=ckpt)
    return ModelSource(spec, "registry", variant=variant, args=args)


def _onnx_dtype(path: Path) -> str:
    """``fp32``, ``fp16`` or ``int8`` for a bare ONNX file, from its nodes and initialisers."""
    from tryon.quantize.onnx_io import load_model

    m = load_model(path, load_external_data=False)
    if any(n.op_type in _QUANTIZED_OPS for n in m.graph.node):
        return "int8"
    if any(t.data_type == 10 for t in m.graph.initializer):  # TensorProto.FLOAT16
        return "fp16"
    return "fp32"


def _student_inputs(path: Path) -> tuple[int, int] | None:
    """(H, W) when the ONNX file takes the try-on student's inputs with a fixed size, else None."""
    from tryon.quantize.onnx_io import input_specs, load_model

    specs = input_specs(load_model(path, load_external_data=False))
    if tuple(s.name for s in specs) != ("person", "garment", "garment_mask"):
        return None
    hw = tuple(specs[0].shape[-2:])
    return hw if all(isinstance(d, int) and d > 0 for d in hw) else None


def _convert(fp32: Path, folder: Path, dtypes: tuple[str, ...], row, *, calibration: Path | None, samples: int,
             on_step) -> None:
    """Add ``row.files`` for fp32 and each conversion of ``fp32`` in ``dtypes`` (written into ``folder``)."""
    from tryon.bench.table import FileFigures
    from tryon.quantize.onnx_io import model_bytes

    row.files.append(FileFigures("fp32", str(fp32), model_bytes(fp32)))
    if "fp16" in dtypes:
        from tryon.quantize.fp16 import convert_fp16

        on_step(f"{row.name}: fp16")
        out = convert_fp16(fp32, folder / "model_fp16.onnx")
        row.files.append(FileFigures("fp16", str(out), model_bytes(out)))
    if "int8" in dtypes:
        on_step(f"{row.name}: int8")
        hw = _student_inputs(fp32)
        if calibration is not None or hw is not None:
            from tryon.quantize.int8 import quantize_int8

            if calibration is not None:
                from tryon.quantize.calibration import load_samples
                from tryon.quantize.onnx_io import load_model

                calib = load_samples(calibration, load_model(fp32), limit=samples)
            else:
                from tryon.export.sample_inputs import procedural_inputs

                # Size and speed do not depend on the calibration data: project-made procedural inputs suffice.
                calib = [procedural_inputs(hw, seed=s) for s in range(samples)]
                row.notes.append("int8 calibrated on procedural inputs")
            out = quantize_int8(fp32, folder / "model_int8.onnx", calib)
            row.files.append(FileFigures("int8", str(out), model_bytes(out)))
        else:
            row.notes.append("no static int8: not a try-on student (use `tryon quantize` with calibration inputs)")
    if "int8_dynamic" in dtypes:
        from tryon.quantize.dynamic import quantize_dynamic_int8

        on_step(f"{row.name}: dynamic int8")
        out = quantize_dynamic_int8(fp32, folder / "model_int8_dynamic.onnx")
        row.files.append(FileFigures("int8_dynamic", str(out), model_bytes(out)))


def _bench_one(src: ModelSource, size: tuple[int, int], work: Path, *, dtypes: tuple[str, ...], runs: int,
               warmup: int, calibration: Path | None, samples: int, on_step, fp32_only: bool = False) -> object:
    """Build, export, convert and time one model (see the module docstring); ``fp32_only`` times only its fp32
    file (the reference: its other files count for their sizes). Returns a :class:`tryon.bench.table.BenchRow`."""
    from tryon.bench.latency import measure_latencies
    from tryon.bench.table import THREADS, BenchRow, FileFigures

    row = BenchRow(src.spec)
    folder = work / "".join(c if c.isalnum() or c in "._-" else "_" for c in src.spec)[-120:]
    folder.mkdir(parents=True, exist_ok=True)
    if src.kind in ("registry", "checkpoint"):
        from tryon.bench.complexity import complexity
        from tryon.export import export_model, model_from_checkpoint
        from tryon.models import create_model

        on_step(f"{src.spec}: building")
        if src.kind == "checkpoint":
            model, variant = model_from_checkpoint(src.path, name=src.variant)
        else:
            try:
                model, variant = create_model(src.variant, **src.args).eval(), src.variant
            except (TypeError, ValueError) as exc:
                raise UsageError(f"--model {src.spec!r}: {exc}") from None
        try:
            c = complexity(model, size)
        except (RuntimeError, ValueError) as exc:  # e.g. a pyramid whose levels do not divide the size
            raise UsageError(f"--model {src.spec!r} does not run at --size {size[0]}x{size[1]}: {exc}") from None
        row.params, row.gmacs = c.params, c.gmacs
        on_step(f"{src.spec}: exporting")
        fp32 = export_model(model, folder, name=variant, size=size, overwrite=True).onnx_path
        _convert(fp32, folder, dtypes, row, calibration=calibration, samples=samples, on_step=on_step)
    elif src.kind == "onnx":
        dtype = _onnx_dtype(src.path)
        if dtype == "fp32":
            _convert(src.path, folder, dtypes, row, calibration=calibration, samples=samples, on_step=on_step)
        else:
            row.notes.append(f"{src.path.name} is already {dtype}: benchmarked as it is, not converted")
            row.files.append(FileFigures(dtype, str(src.path), src.path.stat().st_size))
    else:
        from tryon.manifest import Manifest

        m = Manifest.load(src.path)
        row.params, row.gmacs = m.metrics.get("params"), m.metrics.get("gmacs")
        for f in m.files:
            if f.dtype in dtypes or f.dtype not in BENCH_DTYPES:
                p = src.path / f.path
                if not p.is_file():
                    raise UsageError(f"--model {src.spec}: the manifest lists {f.path}, which is missing")
                row.files.append(FileFigures(f.dtype, str(p), p.stat().st_size))
        if not row.files:
            raise UsageError(f"--model {src.spec}: its manifest lists no {' / '.join(dtypes)} file")
    row.files = [f for f in row.files if f.dtype in dtypes or f.dtype not in BENCH_DTYPES]
    for f in row.files:
        row.bytes_fp32 = f.bytes if f.dtype == "fp32" else row.bytes_fp32
        row.bytes_fp16 = f.bytes if f.dtype == "fp16" else row.bytes_fp16
        row.bytes_int8 = f.bytes if f.dtype == "int8" else row.bytes_int8
    timed = [f for f in row.files if f.dtype == "fp32" or not fp32_only]
    if runs > 0 and timed:
        on_step(f"{src.spec}: timing {', '.join(f.dtype for f in timed)}")
        # Interleaved, so the ratios between a model's files hold on a machine whose load changes meanwhile.
        for f, lat in zip(timed, measure_latencies([f.path for f in timed], threads=THREADS, runs=runs,
                                                   warmup=warmup, size=size), strict=True):
            f.latency_ms = {t: s.median_ms for t, s in lat.items()}
            if f.dtype == "fp32":
                row.latency_ms_1t, row.latency_ms_2t = (f.latency_ms.get(t) for t in THREADS)
    return row


def bench_command(
    models: Annotated[list[str] | None, typer.Option(
        "--model", help="What to benchmark, repeatable: a registered variant with optional overrides "
        "NAME:KEY=VALUE[:KEY=VALUE], a checkpoint (NAME:checkpoint=PATH or a .pt path), an ONNX file, or an "
        "export folder with a manifest.json (each file it lists). Default: every afn_student* variant and the "
        "deployed default read from models/weights/afn_student_s.pt.", show_default=False)] = None,
    reference: Annotated[str, typer.Option(
        "--reference", help="Registered variant every figure is divided by (its fp32 file is timed); 'none' for "
        "no reference.")] = REFERENCE,
    dtypes: Annotated[list[str] | None, typer.Option(
        "--dtype", help=f"Files to benchmark, repeatable: {', '.join(BENCH_DTYPES)} (default: all). fp16 and int8 "
        "files are converted from the fp32 one; an export folder's files are taken as listed.",
        show_default=False)] = None,
    size: Annotated[str, typer.Option("--size", help="Input HEIGHTxWIDTH of models built here.")] = "256x192",
    runs: Annotated[int, typer.Option(
        "--runs", min=0, help="Timed onnxruntime CPU runs per file and thread count (median; 0 skips timing).",
        rich_help_panel=_LAT)] = 20,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed runs first.", rich_help_panel=_LAT)] = 3,
    calibration: Annotated[Path | None, typer.Option(
        "--calibration", help="Real photos for the int8 calibration (person/ + garment/ folder or pairs CSV); "
        "default: procedural inputs (size and speed do not depend on them).", exists=True,
        show_default=False)] = None,
    samples: Annotated[int, typer.Option("--samples", min=1, max=64, help="int8 calibration samples.")] = 4,
    keep: Annotated[Path | None, typer.Option(
        "--keep", help="Keep the exported and converted files in this folder (default: a temporary folder).",
        file_okay=False, show_default=False)] = None,
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="Also write the tables' data as JSON to this file.", dir_okay=False,
        show_default=False)] = None,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Also draw every timed file's latency (bars per thread count, ratio to fp32) into this PNG.",
        dir_okay=False, show_default=False)] = None,
) -> None:
    """Benchmark models against the reference: params, GMAC, MB, onnxruntime CPU latency of fp32/fp16/int8 files.

    A command, not a test: it exports every model built here (the reference takes about a minute) and times each
    file with 1 and 2 threads. Each figure is followed by its ratio to the reference and each file by its ratio
    to the same model's fp32 file (all measured in the same run); * marks the fastest file per thread count.
    """
    from rich.console import Console
    from rich.logging import RichHandler
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tryon.bench.table import (
        THREADS, fastest, plot_files, render_bench_table, render_file_table, write_bench_json,
    )
    from tryon.cli.tables import print_table

    hw = parse_size(size, min_side=32)
    chosen = tuple(d for d in BENCH_DTYPES if d in (dtypes or BENCH_DTYPES))
    bad = sorted(set(dtypes or ()) - set(BENCH_DTYPES))
    if bad:
        raise UsageError(f"--dtype {', '.join(bad)}: choose among {', '.join(BENCH_DTYPES)}")
    if "fp32" not in chosen and any(resolve_model(n).kind != "manifest" for n in models or default_models()):
        raise UsageError("--dtype: fp16 and int8 files are converted from fp32; add --dtype fp32")
    sources = [resolve_model(n) for n in dict.fromkeys(models or default_models())]
    ref = None if reference.lower() == "none" else reference
    if ref is not None:
        ref_src = resolve_model(ref)
        if ref_src.kind != "registry":
            raise UsageError(f"--reference {ref!r}: must be a registered variant, or 'none'")
        if ref not in [s.spec for s in sources]:
            sources.append(ref_src)
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
            for src in sources:
                rows.append(_bench_one(src, hw, work, dtypes=chosen, runs=runs, warmup=warmup,
                                       calibration=calibration, samples=samples, fp32_only=src.spec == ref,
                                       on_step=lambda m: progress.update(task, description=m)))
    finally:
        for lg in loggers:
            lg.removeHandler(handler)
    import onnxruntime

    backend = f"onnxruntime {onnxruntime.__version__} CPU"
    caption = (f"{hw[0]}x{hw[1]} (models built here); MB = 10^6 bytes; latency: {backend}, median of {runs} after "
               f"{warmup} warm-up" + (f"; (x×) = ratio to {ref}" if ref else "") + "; weights do not change the "
               "figures (untrained unless a checkpoint)")
    print_table(render_bench_table(rows, ref, caption=caption))
    print_table(render_file_table([r for r in rows if r.name != ref], caption=f"MB = 10^6 bytes; (x×) = ratio to the "
                                  f"model's fp32 file; * = fastest per thread count, {backend}"))
    for r in rows:
        if r.name != ref and runs > 0 and len(r.files) > 1:
            best = fastest(r)
            typer.echo(f"{r.name}: fastest on {backend} " + ", ".join(
                f"{t} thread{'s' if t > 1 else ''}: {best[t]}" for t in THREADS if t in best))
        for note in r.notes:
            Console(stderr=True).print(f"[yellow]{r.name}: {note}")
    if plot is not None:
        if plot_files([r for r in rows if r.name != ref], plot) is None:
            typer.echo("(no plot: nothing was timed, or matplotlib is not installed)", err=True)
    if json_path is not None:
        meta = {"size": list(hw), "runs": runs, "warmup": warmup, "threads": list(THREADS),
                "backend": backend, "onnxruntime": onnxruntime.__version__, "machine": platform.machine(),
                "processor": platform.processor() or None, "mb": 10**6,
                "calibration": str(calibration) if calibration else "procedural"}
        write_bench_json(rows, ref, json_path, meta)


def register(app: typer.Typer) -> None:
    """Add ``tryon bench`` to the app."""
    app.command("bench")(bench_command)
