"""``tryon export``: a registered model or a training checkpoint → model.onnx + manifest.json (parity-checked)."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from tryon.cli.options import parse_size
from tryon.errors import UsageError

__all__ = ["register", "export"]


def export(
    out: Annotated[Path, typer.Option(
        "-o", "--out", help="Artifact folder to write model.onnx and manifest.json into (created).",
        file_okay=False, rich_help_panel="Required arguments")],
    model: Annotated[str | None, typer.Option(
        "--model", help="Registered model name, e.g. afn_student_m (random weights unless --checkpoint). "
        "With --checkpoint, overrides the variant name stored in it.", rich_help_panel="Model (one of)")] = None,
    checkpoint: Annotated[Path | None, typer.Option(
        "--checkpoint", help="Training checkpoint (.pt with 'variant', 'arch', 'state_dict').", exists=True,
        dir_okay=False, rich_help_panel="Model (one of)")] = None,
    size: Annotated[str, typer.Option(
        "--size", help="Input HEIGHTxWIDTH baked into the graph (one export per resolution).",
        rich_help_panel="Input shapes")] = "256x192",
    opset: Annotated[int, typer.Option(
        "--opset", min=17, max=19, help="ONNX opset (17-19; GridSample leaves WebGPU at 20).",
        rich_help_panel="Optional arguments")] = 17,
    atol: Annotated[float, typer.Option(
        "--atol", help="Largest accepted max abs difference onnxruntime CPU vs PyTorch, per output.",
        rich_help_panel="Optional arguments")] = 1e-4,
    name: Annotated[str | None, typer.Option(
        "--name", help="Name recorded in the manifest (default: the model name, or the checkpoint's variant).",
        rich_help_panel="Optional arguments")] = None,
    version: Annotated[str | None, typer.Option(
        "--version", help="Artifact version recorded in the manifest (default: the toolkit version).",
        rich_help_panel="Optional arguments")] = None,
    no_simplify: Annotated[bool, typer.Option(
        "--no-simplify", help="Skip onnxsim simplification.", rich_help_panel="Optional arguments")] = False,
    strict_webgpu: Annotated[bool, typer.Option(
        "--strict-webgpu", help="Fail when the graph has ops outside the WebGPU allow-list or a 3x3 Conv on 6 or "
        "9 channels (otherwise a warning).", rich_help_panel="Optional arguments")] = False,
    seed: Annotated[int, typer.Option(
        "--seed", help="Seed for random weights (--model without --checkpoint) and the procedural parity inputs.",
        rich_help_panel="Optional arguments")] = 0,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace an existing model.onnx in the output folder.",
        rich_help_panel="Optional arguments")] = False,
    framing: Annotated[bool, typer.Option(
        "--framing/--no-framing", help="Deploy with person framing (tryon.framing): copy the selfie-segmentation, "
        "BlazePose lite and BlazeFace models built by `tryon setup` next to the student and write the framing "
        "rules into the manifest, so every runtime crops the person's upper body as the student was trained. "
        "Without it the whole photo is letterboxed (for synthetic test inputs).",
        rich_help_panel="Optional arguments")] = True,
    garment_mask: Annotated[bool, typer.Option(
        "--garment-mask/--no-garment-mask", help="Deploy the learned garment segmenter (garment_seg.onnx, 0.6 MB, "
        "non-commercial research weights) with the student, so the widget cuts an uploaded garment photo out as "
        "Python does: its flood fill where that is sure, the segmenter where it is not (white on white, tinted or "
        "graded paper). Without it the widget uses its flood fill alone.",
        rich_help_panel="Optional arguments")] = True,
    live: Annotated[bool, typer.Option(
        "--live/--no-live", help="Also export live mode's two graphs (tryon.export.live): the garment pyramid, run "
        "once per garment, and the student on it without the flip ensemble, run on every webcam frame (about twice "
        "as fast). Appearance-flow students only; other models skip it.",
        rich_help_panel="Optional arguments")] = True,
    students: Annotated[list[str] | None, typer.Option(
        "--student", metavar="CATEGORY=SUBFOLDER", help="Deploy another category's student with this one: its "
        "export in that sub-folder of OUT (e.g. bottoms=bottoms). The widget switches to it for that category's "
        "garments and downloads it only then. Repeatable. Without --model/--checkpoint: only record it in OUT's "
        "manifest.", rich_help_panel="Optional arguments")] = None,
    models_dir: Annotated[Path | None, typer.Option(
        "--models-dir", help="Folder of the models `tryon setup` built (default: $TRYON_MODELS_DIR or "
        "~/.cache/tryon/models).", file_okay=False, rich_help_panel="Optional arguments")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the manifest as JSON instead of a table.", rich_help_panel="Optional arguments")] = False,
) -> None:
    """Export a try-on model to ONNX for onnxruntime-web: legacy exporter, onnxsim, checker, parity vs PyTorch.

    Writes OUT/model.onnx and OUT/manifest.json atomically, and only when every output agrees with PyTorch within
    --atol on procedural image-like inputs.
    """
    if model is None and checkpoint is None:
        if students:  # only deploy other categories' students with the student already exported in OUT
            manifest = _attach(out, students)
            typer.echo(f"{out / 'manifest.json'}: students {manifest.students}")
            return
        raise UsageError("give --model NAME or --checkpoint FILE (or only --student to add students to OUT)")
    h, w = parse_size(size)

    import torch
    from rich.console import Console
    from rich.logging import RichHandler
    from rich.table import Table

    from tryon.cli.tables import print_table
    from tryon.export import checkpoint_categories, export_model, model_from_checkpoint, procedural_inputs
    from tryon.manifest import DEFAULT_CATEGORIES
    from tryon.models import create_model, is_model, list_models

    console = Console(stderr=True)
    logger = logging.getLogger("tryon.export")
    handler = RichHandler(console=console, show_time=False, show_path=False)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        torch.manual_seed(seed)
        if checkpoint is not None:
            net, variant = model_from_checkpoint(checkpoint, name=model)
            categories = checkpoint_categories(checkpoint)  # what it was trained on, never given by hand
            extra = {"checkpoint": str(checkpoint)}
        else:
            if not is_model(model.split(".")[0]):
                raise UsageError(f"--model {model!r} is not registered; choose one of: {', '.join(list_models())}")
            net, variant = create_model(model.split(".")[0]), model
            categories = DEFAULT_CATEGORIES
            extra = {"weights": "random (no checkpoint)", "seed": seed}
        with console.status(f"exporting {variant} at {h}x{w}"):
            result = export_model(net, out, name=name or variant, size=(h, w), opset=opset, simplify=not no_simplify,
                                  atol=atol, inputs=procedural_inputs((h, w), seed=seed), version=version,
                                  extra=extra, strict_webgpu=strict_webgpu, overwrite=force, categories=categories)
        if framing:
            from tryon.framing import attach_framing

            result = dataclasses.replace(result, manifest=attach_framing(out, models_dir=models_dir))
        if garment_mask:
            from tryon.garment.segmenter import attach_segmenter

            with console.status("exporting the garment segmenter"):
                result = dataclasses.replace(result, manifest=attach_segmenter(out))
        if live:
            from tryon.export.live import attach_live
            from tryon.models.afn_student import AFNStudent

            if isinstance(net, AFNStudent):
                with console.status("exporting live mode's graphs"):
                    result = dataclasses.replace(result, manifest=attach_live(out, net, atol=atol, seed=seed))
            else:
                logger.info("no live-mode graphs: %s is not an appearance-flow student", variant)
        if students:
            result = dataclasses.replace(result, manifest=_attach(out, students))
    finally:
        logger.removeHandler(handler)
    if as_json:
        typer.echo(json.dumps(result.manifest.to_dict(), indent=2))
        return
    table = Table(title=f"{result.manifest.name} → {result.onnx_path}")
    table.add_column("output")
    table.add_column("shape")
    table.add_column("max abs vs PyTorch", justify="right")
    for spec in result.manifest.outputs:
        table.add_row(spec.name, "x".join(map(str, spec.shape)), f"{result.max_abs[spec.name]:.2e}")
    print_table(table)
    f = result.manifest.files[0]
    metrics = result.manifest.metrics
    Console().print(f"{f.path}: {f.bytes / 1e6:.2f} MB, sha256 {f.sha256[:12]}…, opset {result.manifest.opset}, "
                    f"{sum(result.ops.values())} nodes, {metrics.get('params', 0) / 1e6:.2f} M params, "
                    f"{metrics.get('gmacs', float('nan')):.2f} GMAC")
    if result.issues:
        Console(stderr=True).print(f"[yellow]{len(result.issues)} WebGPU hazards: "
                                   f"{'; '.join(i.detail for i in result.issues[:3])}")


def _attach(out: Path, students: list[str]):
    """``--student CATEGORY=SUBFOLDER`` values -> :func:`tryon.manifest.attach_students` on ``out``."""
    from tryon.manifest import attach_students

    pairs = [s.partition("=") for s in students]
    if any(not cat or not sep or not sub for cat, sep, sub in pairs):
        raise UsageError(f"--student takes CATEGORY=SUBFOLDER (e.g. bottoms=bottoms), got {students!r}")
    return attach_students(out, {c: sub for c, _, sub in pairs})


def register(app: typer.Typer) -> None:
    """Add ``tryon export`` to the app."""
    app.command("export")(export)
