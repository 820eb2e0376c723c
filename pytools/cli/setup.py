"""``tryon setup``: fetch, convert and verify the model files (MediaPipe via npm, BodyPix from a folder)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register", "setup"]


def setup(
    models_dir: Annotated[Path | None, typer.Option(
        "--models-dir", help="Folder to write the models to (default: $TRYON_MODELS_DIR or ~/.cache/tryon/models).",
        file_okay=False)] = None,
    bodypix_from: Annotated[Path | None, typer.Option(
        "--bodypix-from", help="Folder holding bodypix_mobilenetv1_x050_stride16.onnx (default: $TRYON_BODYPIX_DIR, "
        "else ../shared/models/bodypix next to the repository).", file_okay=False)] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Rebuild every model even when the recorded sha256 matches.")] = False,
) -> None:
    """Build the model files: npm-pack the MediaPipe packages, convert .tflite to ONNX, copy BodyPix.

    Idempotent: files whose sha256 matches manifest.json are kept; npm tarballs are cached in the models
    folder's .cache so a rerun needs no network. BodyPix is optional: without it a warning says where to get it.
    """
    from rich.console import Console
    from rich.logging import RichHandler
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tryon.assets import build_models

    console = Console(stderr=True)
    logger = logging.getLogger("tryon.assets")
    handler = RichHandler(console=console, show_time=False, show_path=False)
    logger.addHandler(handler)
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console, transient=True) as progress:
            task = progress.add_task("setup", total=None)
            result = build_models(models_dir, bodypix_from=bodypix_from, force=force,
                                  on_step=lambda msg: progress.update(task, description=msg))
    finally:
        logger.removeHandler(handler)
    for name, status in result["status"].items():
        console.print(f"{name:<28} {status}")
    console.print(f"models folder: {result['dir']}")


def register(app: typer.Typer) -> None:
    """Add ``tryon setup`` to the app."""
    app.command("setup")(setup)
