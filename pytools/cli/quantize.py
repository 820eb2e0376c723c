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

__all__ = ["register", "quantize_command", "Mode", "Preset"]


class Mode(enum.StrEnum):
    """Conversion modes (see ``tryon.quantize.MODES``)."""

    fp16 = "fp16"
    int8 = "int8"
    dynamic = "dynamic"


class Preset(enum.StrEnum):
    """optimum ``AutoQuantizationConfig`` targets (see ``tryon.quantize.config.PRESETS``)."""

    arm64 = "arm64"
    avx2 = "avx2"
    avx512 = "avx512"
    avx512_vnni = "avx512_vnni"
    ppc64le = "ppc64le"
    tensorrt = "tensorrt"


class CalibMethod(enum.StrEnum):
    """onnxruntime calibration methods."""

    MinMax = "MinMax"
    Entropy = "Entropy"
    Percentile = "Percentile"


class QType(enum.StrEnum):
    """onnxruntime quantization types."""

    QUInt8 = "QUInt8"
    QInt8 = "QInt8"


_CONV = "Conversion (int8 settings: optimum's QuantizationConfig fields)"
_CALIB = "Calibration and evaluation inputs"
_GATE = "Quality gate"
_LAT = "Latency"


def quantize_command(
    model: Annotated[Path, typer.Argument(
        help="Any fp32 ONNX model (opset 13+), e.g. export/model.onnx from `tryon export` or your own.",
        exists=True, dir_okay=False, readable=True, show_default=False)],
    out_dir: Annotated[Path, typer.Option(
        "-o", "--out", help="Folder for the converted files <stem>_fp16.onnx, <stem>_int8.onnx, "
        "<stem>_quantized.onnx (dynamic), each int8 one with its <file>.ort_config.json; may be the model's own "
        "folder, never the model file itself.", file_okay=False, show_default=False)],
    modes: Annotated[list[Mode], typer.Option(
        "--mode", help="Conversion, repeatable: fp16 (float32 I/O; WebGPU shader-f16), int8 (static QDQ "
        "calibrated on sample inputs, uint8 activations: WASM), dynamic (int8 weights, no calibration: WASM).",
        case_sensitive=False, show_default=False)],
    calibration: Annotated[Path | None, typer.Option(
        "--calibration", help="Calibration inputs for int8: a .npz with one array per model input name (shape of "
        "the input, or a stack with one more leading axis), or a folder of .npz files; for the try-on student also "
        "a folder with person/ and garment/ photos or a pairs CSV. Also the default evaluation inputs.",
        exists=True, rich_help_panel=_CALIB, show_default=False)] = None,
    random_calibration: Annotated[int, typer.Option(
        "--random-calibration", min=0, max=512, help="Without --calibration: this many random inputs (uniform "
        "[0, 1)) for calibration, and for accuracy when there is no --eval. Prints a warning: the figures are then "
        "weak.", rich_help_panel=_CALIB)] = 0,
    samples: Annotated[int, typer.Option(
        "--samples", min=1, max=512, help="Calibration samples for int8.", rich_help_panel=_CALIB)] = 8,
    eval_source: Annotated[Path | None, typer.Option(
        "--eval", help="Inputs for the accuracy figures, same layouts as --calibration (default: --calibration; "
        "for photos, other pairs).", exists=True, rich_help_panel=_CALIB, show_default=False)] = None,
    eval_samples: Annotated[int, typer.Option(
        "--eval-samples", min=1, max=256, help="Inputs for the accuracy figures.", rich_help_panel=_CALIB)] = 4,
    size: Annotated[str | None, typer.Option(
        "--size", help="HEIGHTxWIDTH, only for a model with dynamic input size (exported models have a fixed one).",
        rich_help_panel=_CALIB, show_default=False)] = None,
    preset: Annotated[Preset | None, typer.Option(
        "--preset", help="Start from optimum's AutoQuantizationConfig.<preset>(is_static=...) for int8 and dynamic "
        "(its operator list is every quantizable op unless --op-types); the flags below override it. Imports "
        "optimum (and so torch): a few seconds.", rich_help_panel=_CONV, show_default=False)] = None,
    config_path: Annotated[Path | None, typer.Option(
        "--config", help="Start from an optimum ORTConfig file (ort_config.json, or a folder holding one, e.g. one "
        "this command wrote); its quantization section is used for int8 and dynamic, and the flags below override "
        "it.", exists=True, rich_help_panel=_CONV, show_default=False)] = None,
    per_channel: Annotated[bool | None, typer.Option(
        "--per-channel/--per-tensor", help="Weight scales per output channel or per tensor (default: per-channel "
        "for int8, per-tensor for dynamic).", rich_help_panel=_CONV, show_default=False)] = None,
    reduce_range: Annotated[bool | None, typer.Option(
        "--reduce-range/--full-range", help="7-bit weights, for AVX2/AVX512 CPUs without VNNI (default: "
        "full-range).", rich_help_panel=_CONV, show_default=False)] = None,
    calibrate_method: Annotated[CalibMethod | None, typer.Option(
        "--calibration-method", help="How int8 activation ranges are set from the calibration inputs (default: "
        "MinMax).", rich_help_panel=_CONV, show_default=False)] = None,
    activation_type: Annotated[QType | None, typer.Option(
        "--activation-type", help="int8 activations (default: QUInt8, asymmetric: what the WASM kernels run; "
        "QInt8 is symmetric).", rich_help_panel=_CONV, show_default=False)] = None,
    weight_type: Annotated[QType | None, typer.Option(
        "--weight-type", help="Weights (default: QInt8 symmetric for int8; for dynamic QUInt8 when the model has "
        "convolutions (ConvInteger), else QInt8).", rich_help_panel=_CONV, show_default=False)] = None,
    op_types: Annotated[list[str] | None, typer.Option(
        "--op-types", help="Op types to quantize, repeatable or comma-separated (default: Conv, ConvTranspose, "
        "MatMul, Gemm; 'all': every op onnxruntime can quantize).", rich_help_panel=_CONV,
        show_default=False)] = None,
    keep_float_ops: Annotated[list[str] | None, typer.Option(
        "--keep-float-op", help="Op types left in float in every mode (int8: every node of the type is excluded; "
        "fp16: added to the block list), repeatable or comma-separated (default: none).", rich_help_panel=_CONV,
        show_default=False)] = None,
    exclude_nodes: Annotated[list[str] | None, typer.Option(
        "--exclude-node", help="Node names left in float in int8 and dynamic, repeatable or comma-separated "
        "(passed to onnxruntime's quantizer directly, as optimum's nodes_to_exclude; default: none).",
        rich_help_panel=_CONV, show_default=False)] = None,
    keep_grid_float: Annotated[bool, typer.Option(
        "--keep-grid-float/--quantize-grid", help="Keep GridSample and the flow layers that compute its grid in "
        "float32 (8-bit or fp16 grids move every warped pixel); found by a graph walk onnxruntime's quantizer is "
        "then told to skip.", rich_help_panel=_CONV)] = True,
    max_delta: Annotated[float | None, typer.Option(
        "--max-delta", min=0.0, help="Fail (exit 60) when the max abs diff vs fp32 of a judged output exceeds this, "
        "in the output's units (the student's try-on image: [-1, 1], 1/127.5 ≈ 0.0078 is one 8-bit level). "
        "Judged: the student's try-on image, every output of any other model. A failing file is written nowhere.",
        rich_help_panel=_GATE, show_default=False)] = None,
    min_psnr: Annotated[float | None, typer.Option(
        "--min-psnr", help="Fail (exit 60) when the PSNR (dB) of a judged image-like output vs fp32 is below this.",
        rich_help_panel=_GATE, show_default=False)] = None,
    min_cosine: Annotated[float | None, typer.Option(
        "--min-cosine", min=-1.0, max=1.0, help="Fail (exit 60) when the cosine similarity of a judged non-image "
        "output (landmarks, logits, a grid) vs fp32 is below this.", rich_help_panel=_GATE,
        show_default=False)] = None,
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
    """Convert any ONNX model to fp16 / int8 / dynamic int8 and compare every output of each file with fp32.

    Prints one row per file (size, size ratio, accuracy of the judged outputs vs fp32, onnxruntime CPU latency)
    and one per output (max |Δ|, PSNR for images, cosine otherwise). The quantizers are onnxruntime's
    (quantize_static / quantize_dynamic) driven by optimum's QuantizationConfig fields, so that node and grid-path
    exclusion work; --preset and --config read optimum's own presets and files. Exits 60 (QualityGateError) when
    --max-delta / --min-psnr / --min-cosine fail: the failing files are written nowhere (nor listed in
    manifest.json), the table and the JSON are.
    """
    import dataclasses

    from rich.console import Console
    from rich.logging import RichHandler
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tryon.quantize import QualityGateError, quantize_model, render_table, write_json
    from tryon.quantize.config import QuantConfig, load_ort_config, preset_config
    from tryon.quantize.dynamic import dynamic_defaults
    from tryon.quantize.gate import GateLimits
    from tryon.quantize.onnx_io import ensure_not_input, load_model
    from tryon.quantize.report import render_outputs_table

    hw = parse_size(size, min_side=16) if size is not None else None
    if preset is not None and config_path is not None:
        raise UsageError("--preset and --config both set the int8 settings: give one")
    if calibration is not None and random_calibration:
        raise UsageError("--random-calibration is for when there are no real inputs: drop it or --calibration")
    gate = GateLimits(max_delta, min_psnr, min_cosine)
    if gate.active and calibration is None and eval_source is None and not random_calibration:
        raise UsageError("--max-delta/--min-psnr/--min-cosine compare against fp32 on sample inputs: give --eval or "
                         "--calibration (.npz arrays, or photos for the try-on student), or --random-calibration N")
    if json_path is not None:
        ensure_not_input(json_path, model)

    def split(items: list[str] | None) -> tuple[str, ...] | None:
        return None if items is None else tuple(x.strip() for i in items for x in i.split(",") if x.strip())

    def settings(is_static: bool) -> QuantConfig | None:
        base = QuantConfig(keep_grid_float=keep_grid_float)
        if not is_static and preset is None and config_path is None:
            base = None  # dynamic's own defaults (tryon.quantize.dynamic), unless a flag below changes one
        if preset is not None:
            base = preset_config(preset.value, is_static=is_static,
                                 per_channel=per_channel if per_channel is not None else True, base=QuantConfig(
                                     keep_grid_float=keep_grid_float))
        elif config_path is not None:
            base = load_ort_config(config_path, base=QuantConfig(keep_grid_float=keep_grid_float),
                                   is_static=is_static)[0]
        ops = split(op_types)
        over = {"per_channel": per_channel, "reduce_range": reduce_range,
                "calibrate_method": calibrate_method.value if calibrate_method else None,
                "activations_dtype": activation_type.value if activation_type else None,
                "activations_symmetric": (activation_type == QType.QInt8) if activation_type else None,
                "weights_dtype": weight_type.value if weight_type else None,
                "operators_to_quantize": () if ops == ("all",) else ops,
                "keep_float_ops": split(keep_float_ops)}
        over = {k: v for k, v in over.items() if v is not None}
        nodes = split(exclude_nodes)
        if base is None and not over and not nodes:
            return None
        if base is None:
            base = dynamic_defaults(load_model(model), keep_grid_float=keep_grid_float)
        if nodes:
            over["nodes_to_exclude"] = tuple(base.nodes_to_exclude) + nodes
        return dataclasses.replace(base, **over)

    int8_cfg = settings(True) if Mode.int8 in modes else None
    dyn_cfg = settings(False) if Mode.dynamic in modes else None
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
                samples=samples, eval_samples=eval_samples, random_calibration=random_calibration, size=hw,
                runs=runs, warmup=warmup, threads=threads, keep_grid_float=keep_grid_float, int8_config=int8_cfg,
                dynamic_config=dyn_cfg, fp16_keep_ops=split(keep_float_ops) or (), gate=gate,
                on_step=lambda msg: progress.update(task, description=msg))
    finally:
        logger.removeHandler(handler)
    from tryon.cli.tables import print_table

    print_table(render_table(report))
    per_output = render_outputs_table(report)
    if per_output is not None:
        print_table(per_output)
    if json_path is not None:
        write_json(report, json_path)
    if report.gate is not None and not report.gate["passed"]:
        failures = [f"{r.mode}: {f}" for r in report.results for f in r.gate_failures]
        raise QualityGateError(f"quality gate failed vs fp32 ({report.eval_samples} inputs), not written: "
                               + "; ".join(failures))


def register(app: typer.Typer) -> None:
    """Add ``tryon quantize`` to the app."""
    app.command("quantize")(quantize_command)
